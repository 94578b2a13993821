package import Intake
package import Logging
import Query
package import Scenario
package import ServiceLifecycle
package import Telemetry

/// A sink built from its address: the service to run in a `ServiceGroup`, and where it really listens.
package struct ConfiguredSink: Sendable {
    /// Which sink.
    package var kind: SinkKind
    /// The address asked for (port 0: any free port).
    package var address: ListenAddress
    /// The server; run it in the same `ServiceGroup` as the OTLP receivers.
    package var service: any Service
    /// The address once listening (fails if it could not listen).
    package var boundAddress: BoundAddress

    /// Builds every sink that `addresses` names, in ``SinkKind`` order, all storing into `store` and recording
    /// what they accept (as OTLP) to `recorder` when given. What `otelbench receive` and `otelbench run` share.
    ///
    /// ```swift
    /// let sinks = ConfiguredSink.make([.jaegerThrift: .init(host: "127.0.0.1", port: 0)], store: store, recorder: nil)
    /// let group = ServiceGroup(services: [otlpGRPC, otlpHTTP] + sinks.map(\.service), logger: logger)
    /// ```
    ///
    /// - Parameters:
    ///   - addresses: where each wanted sink listens; sinks not named are not built.
    ///   - maxRequestBytes: the largest request body each sink that reads bodies accepts (after decompression).
    ///   - security: TLS and the bearer token of every sink, the query APIs included.
    ///   - store: where accepted telemetry goes; sinks count it under their own ``IntakeChannel``.
    ///   - recorder: the recording that accepted spans and samples are appended to as OTLP/JSON lines.
    package static func make(
        _ addresses: [SinkKind: ListenAddress],
        maxRequestBytes: Int = 64 << 20,
        security: ListenerSecurity = .plaintext,
        store: TelemetryStore,
        recorder: RecordingWriter?,
        logger: Logger
    ) -> [ConfiguredSink] {
        addresses.sorted { $0.key < $1.key }.map { kind, address in
            let receiving = ReceiverConfiguration(address: address, maxRequestBytes: maxRequestBytes, security: security)
            let service: any Service
            let bound: BoundAddress
            switch kind {
            case .jaegerGRPC:
                let sink = JaegerGRPCSink(configuration: receiving, store: store, recorder: recorder, logger: logger)
                (service, bound) = (sink, sink.boundAddress)
            case .jaegerThrift:
                let sink = JaegerThriftHTTPSink(configuration: receiving, store: store, recorder: recorder, logger: logger)
                (service, bound) = (sink, sink.boundAddress)
            case .jaegerQuery:
                let api = JaegerQueryAPI(configuration: .init(address: address, security: security), store: store, logger: logger)
                (service, bound) = (api, api.boundAddress)
            case .prometheus:
                let receiver = RemoteWriteReceiver(
                    configuration: receiving,
                    store: store,
                    recorder: recorder,
                    readAPI: PrometheusQueryAPI(store: store),
                    logger: logger
                )
                (service, bound) = (receiver, receiver.boundAddress)
            case .exposition:
                let endpoint = PrometheusExposition(configuration: .init(address: address, security: security), store: store, logger: logger)
                (service, bound) = (endpoint, endpoint.boundAddress)
            case .elasticsearch:
                let sink = ElasticsearchSink(configuration: receiving, store: store, recorder: recorder, logger: logger)
                (service, bound) = (sink, sink.boundAddress)
            }
            return ConfiguredSink(kind: kind, address: address, service: service, boundAddress: bound)
        }
    }
}

public import Logging
public import ServiceLifecycle
public import Telemetry

/// The sinks that can run beside the OTLP receivers, each started only when given an address: by
/// `otelbench receive`'s flags or by a scenario's `intake:` keys.
public enum SinkKind: String, CaseIterable, Sendable, Hashable, Comparable {
    /// Jaeger api_v2 gRPC `PostSpans` (``JaegerGRPCSink``).
    case jaegerGRPC = "jaeger_grpc"
    /// Jaeger Thrift over HTTP (``JaegerThriftHTTPSink``).
    case jaegerThrift = "jaeger_thrift"
    /// Jaeger's query API over every stored trace (``JaegerQueryAPI``).
    case jaegerQuery = "jaeger_query"
    /// Prometheus remote write (``RemoteWriteReceiver``).
    case prometheus
    /// The exposition of received OTLP metrics for Prometheus to scrape (``PrometheusExposition``).
    case exposition
    /// Elasticsearch's document API for logs (``ElasticsearchSink``).
    case elasticsearch

    /// The scenario key under `intake:` (`jaeger_grpc`, ...).
    public var scenarioKey: String { rawValue }

    /// The `otelbench receive` flag (`--jaeger-grpc`, ...).
    public var flag: String { "--" + rawValue.replacingOccurrences(of: "_", with: "-") }

    /// The protocol's usual address, for help texts.
    public var usualAddress: ListenAddress {
        let port = switch self {
        case .jaegerGRPC: 14250
        case .jaegerThrift: 14268
        case .jaegerQuery: 16686
        case .prometheus: 9090
        case .exposition: 9464
        case .elasticsearch: 9200
        }
        return ListenAddress(host: "127.0.0.1", port: port)
    }

    /// A short name with the endpoint at `address`, for `otelbench run`'s progress line
    /// (`Jaeger Thrift http://127.0.0.1:14268/api/traces`).
    public func endpoint(_ address: ListenAddress) -> String {
        switch self {
        case .jaegerGRPC: "Jaeger gRPC \(address)"
        case .jaegerThrift: "Jaeger Thrift http://\(address)/api/traces"
        case .jaegerQuery: "Jaeger query http://\(address)/api/traces"
        case .prometheus: "Prometheus remote write http://\(address)/api/v1/write"
        case .exposition: "Prometheus exposition http://\(address)/metrics"
        case .elasticsearch: "Elasticsearch http://\(address)/_bulk"
        }
    }

    /// The line `otelbench receive` prints once the sink listens at `address`.
    public func announcement(_ address: ListenAddress) -> String {
        switch self {
        case .jaegerGRPC: "Jaeger gRPC (PostSpans) listening on \(address)"
        case .jaegerThrift: "Jaeger Thrift listening on http://\(address)/api/traces"
        case .jaegerQuery: "Jaeger query API on http://\(address)/api/traces"
        case .prometheus: "Prometheus remote write listening on http://\(address)/api/v1/write"
        case .exposition: "Prometheus exposition of OTLP metrics on http://\(address)/metrics"
        case .elasticsearch: "Elasticsearch document API listening on http://\(address) (POST /_bulk, /{index}/_doc)"
        }
    }

    /// In declaration order (the order `receive` announces them and `run` lists them).
    public static func < (lhs: SinkKind, rhs: SinkKind) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }
}

/// A sink built from its address: the service to run in a `ServiceGroup`, and where it really listens.
public struct ConfiguredSink: Sendable {
    /// Which sink.
    public var kind: SinkKind
    /// The address asked for (port 0: any free port).
    public var address: ListenAddress
    /// The server; run it in the same `ServiceGroup` as the OTLP receivers.
    public var service: any Service
    /// The address once listening (fails if it could not listen).
    public var boundAddress: BoundAddress

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
    ///   - store: where accepted telemetry goes; sinks count it under their own ``IntakeChannel``.
    ///   - recorder: the recording that accepted spans and samples are appended to as OTLP/JSON lines.
    public static func make(
        _ addresses: [SinkKind: ListenAddress], maxRequestBytes: Int = 64 << 20, store: TelemetryStore, recorder: RecordingWriter?,
        logger: Logger
    ) -> [ConfiguredSink] {
        addresses.sorted { $0.key < $1.key }.map { kind, address in
            let receiving = ReceiverConfiguration(address: address, maxRequestBytes: maxRequestBytes)
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
                let api = JaegerQueryAPI(configuration: .init(address: address), store: store, logger: logger)
                (service, bound) = (api, api.boundAddress)
            case .prometheus:
                let receiver = RemoteWriteReceiver(configuration: receiving, store: store, recorder: recorder, logger: logger)
                (service, bound) = (receiver, receiver.boundAddress)
            case .exposition:
                let endpoint = PrometheusExposition(configuration: .init(address: address), store: store, logger: logger)
                (service, bound) = (endpoint, endpoint.boundAddress)
            case .elasticsearch:
                let sink = ElasticsearchSink(configuration: receiving, store: store, recorder: recorder, logger: logger)
                (service, bound) = (sink, sink.boundAddress)
            }
            return ConfiguredSink(kind: kind, address: address, service: service, boundAddress: bound)
        }
    }
}

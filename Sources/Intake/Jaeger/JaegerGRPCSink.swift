package import GRPCCore
package import Logging
import OTelBenchProtos
import Scenario
package import Telemetry

/// Jaeger's collector gRPC endpoint: `jaeger.api_v2.CollectorService/PostSpans`, the protocol of the
/// Jaeger exporters (`opentelemetry-exporter-jaeger-proto-grpc`, the Collector's `jaeger` exporter).
/// Default address 127.0.0.1:14250 (`--jaeger-grpc`).
///
/// A batch is stored whole or not at all: an undecodable message or any invalid span (wrong id length,
/// zero id, negative time) is INVALID_ARGUMENT naming the span; over the memory limit it is UNAVAILABLE.
///
/// ```swift
/// let sink = JaegerGRPCSink(configuration: .init(address: .init(host: "127.0.0.1", port: 0)), store: store)
/// try await ServiceGroup(services: [sink], logger: logger).run()
/// ```
package typealias JaegerGRPCSink = GRPCReceiver<JaegerGRPCEndpoint>

extension GRPCReceiver where Endpoint == JaegerGRPCEndpoint {
    /// Creates the sink; accepted spans go into `store` and, as OTLP, into `recorder` when given.
    package init(
        configuration: Configuration = .loopback(port: 14250),
        store: TelemetryStore,
        recorder: RecordingWriter? = nil,
        logger: Logger = Logger(label: "otelbench.jaeger-grpc")
    ) {
        self.init(configuration: configuration, endpoint: JaegerGRPCEndpoint(), admission: Admission(store: store, recorder: recorder, logger: logger))
    }
}

/// `PostSpans`.
package struct JaegerGRPCEndpoint: GRPCEndpoint {
    package static var defaultPort: Int { 14250 }

    package init() {}

    package func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>, admission: Admission, maxRequestBytes: Int) {
        router.registerIntake(
            Jaeger_ApiV2_CollectorService.Method.PostSpans.descriptor,
            specName: "jaeger.api_v2.PostSpansRequest",
            maxRequestBytes: maxRequestBytes,
            admission: admission,
            channel: .jaegerGRPC,
            signal: .traces
        ) { (request: Sized<Jaeger_ApiV2_PostSpansRequest>) async throws(Refusal) -> Jaeger_ApiV2_PostSpansResponse in
            try await JaegerIngest.admit(
                request.message.batch,
                bytes: request.byteCount,
                wireBytes: request.wireByteCount,
                channel: .jaegerGRPC,
                through: admission
            )
            return Jaeger_ApiV2_PostSpansResponse()
        }
    }
}

/// The path every Jaeger batch takes once decoded, whichever protocol brought it.
enum JaegerIngest {
    /// Admits a batch and stores it whole, or refuses it whole: an invalid span refuses the batch
    /// (``Refusal/Code/invalidArgument``, naming up to five spans).
    ///
    /// - Parameter wireBytes: the batch's size on the wire (``IntakeCounts/wireBytesAccepted``).
    static func admit(_ batch: Jaeger_ApiV2_Batch, bytes: Int, wireBytes: Int, channel: IntakeChannel, through admission: Admission) async throws(Refusal) {
        try await admission.admit(.traces, on: channel, bytes: bytes, wireBytes: wireBytes) { ticket throws(Refusal) in
            let converted = JaegerConversion.spans(batch, channel: channel)
            guard converted.problems.isEmpty else {
                let shown = converted.problems.prefix(5).joined(separator: "; ")
                let more = converted.problems.count > 5 ? "; and \(converted.problems.count - 5) more" : ""
                throw Refusal(
                    .invalidArgument,
                    "batch refused whole, \(converted.problems.count) of \(batch.spans.count) spans are invalid: \(shown)\(more)"
                )
            }
            ticket.accept(Batch(spans: converted.spans), recording: .converted)
        }
    }
}

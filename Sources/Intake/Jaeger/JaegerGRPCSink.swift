package import GRPCCore
package import Logging
import OTelBenchProtos
package import Scenario
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

    package func accounting(ofMethodAt path: String) -> (channel: IntakeChannel, signal: Signal)? {
        path == "/" + Jaeger_ApiV2_CollectorService.Method.PostSpans.descriptor.fullyQualifiedMethod ? (.jaegerGRPC, .traces) : nil
    }

    package func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>, admission: Admission, maxRequestBytes: Int) {
        router.registerIntake(
            Jaeger_ApiV2_CollectorService.Method.PostSpans.descriptor,
            deserializer: JaegerSpansWireDeserializer(maxBytes: maxRequestBytes),
            admission: admission,
            channel: .jaegerGRPC,
            signal: .traces
        ) { (request: Sized<JaegerBatchSpans>) async throws(Refusal) -> Jaeger_ApiV2_PostSpansResponse in
            try await JaegerIngest.admit(
                request.message,
                bytes: request.byteCount,
                wireBytes: request.wireByteCount,
                channel: .jaegerGRPC,
                through: admission,
                reservation: request.reservation
            )
            return Jaeger_ApiV2_PostSpansResponse()
        }
    }
}

/// Converts a `PostSpansRequest` message straight from its bytes (``JaegerProtoWireDecoder``), keeping the message
/// size for the memory limiter: a message over `maxBytes` is RESOURCE_EXHAUSTED, an undecodable one
/// INVALID_ARGUMENT, each naming the problem, as ``SizedProtobufDeserializer`` answers the other methods.
struct JaegerSpansWireDeserializer: SizedMessageDeserializer {
    /// The request message's name in api_v2, for errors.
    static let specName = "jaeger.api_v2.PostSpansRequest"

    let maxBytes: Int

    var specName: String { Self.specName }

    func decode<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> JaegerBatchSpans {
        try bytes.withUnsafeBytes { try JaegerProtoWireDecoder.spans($0, channel: .jaegerGRPC) }
    }
}

extension ReceiverDecoding {
    /// Decodes and converts one gRPC `PostSpansRequest` message as the Jaeger gRPC sink does
    /// (`JaegerSpansWireDeserializer`, straight from the bytes with ``JaegerProtoWireDecoder``).
    ///
    /// - Throws: `RPCError`, as the call would end.
    package static func grpcJaegerSpans(_ bytes: [UInt8], maxBytes: Int) throws -> JaegerBatchSpans {
        try JaegerSpansWireDeserializer(maxBytes: maxBytes).deserialize(bytes).message
    }
}

/// The path every Jaeger batch takes once decoded and converted, whichever protocol brought it.
enum JaegerIngest {
    /// Admits a batch and stores it whole, or refuses it whole: an invalid span refuses the batch
    /// (``Refusal/Code/invalidArgument``, naming up to five spans).
    ///
    /// - Parameters:
    ///   - wireBytes: the batch's size on the wire (``IntakeCounts/wireBytesAccepted``).
    ///   - reservation: room the gRPC stream reserved for the batch as it arrived (``Sized/reservation``), which
    ///     admission takes over.
    static func admit(
        _ batch: JaegerBatchSpans,
        bytes: Int,
        wireBytes: Int,
        channel: IntakeChannel,
        through admission: Admission,
        reservation: Reservation? = nil
    ) async throws(Refusal) {
        try await admission.admit(.traces, on: channel, bytes: bytes, wireBytes: wireBytes, reservation: reservation) { ticket throws(Refusal) in
            guard batch.problems.isEmpty else {
                let shown = batch.problems.prefix(5).joined(separator: "; ")
                let more = batch.problems.count > 5 ? "; and \(batch.problems.count - 5) more" : ""
                throw Refusal(
                    .invalidArgument,
                    "batch refused whole, \(batch.problems.count) of \(batch.spanCount) spans are invalid: \(shown)\(more)"
                )
            }
            ticket.accept(Batch(spans: batch.spans), recording: .converted)
        }
    }
}

import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
public import Logging
import OTelBenchProtos
public import ServiceLifecycle
import SwiftProtobuf
public import Telemetry

/// Jaeger's collector gRPC endpoint: `jaeger.api_v2.CollectorService/PostSpans`, the protocol of the
/// Jaeger exporters (`opentelemetry-exporter-jaeger-proto-grpc`, the Collector's `jaeger` exporter).
///
/// A batch is stored whole or not at all: an undecodable message or any invalid span (wrong id length,
/// zero id, negative time) is INVALID_ARGUMENT naming the span; over the memory limit it is UNAVAILABLE.
///
/// ```swift
/// let sink = JaegerGRPCSink(configuration: .init(address: .init(host: "127.0.0.1", port: 0)), store: store)
/// try await ServiceGroup(services: [sink], logger: logger).run()
/// ```
public struct JaegerGRPCSink: Service {
    /// Address and size limit; default 127.0.0.1:14250 (`--jaeger-grpc`), 64 MiB.
    public typealias Configuration = ReceiverConfiguration

    public let configuration: Configuration
    /// The address once listening (the real port when asked for port 0).
    public let boundAddress = BoundAddress()
    let store: TelemetryStore
    let recorder: RecordingWriter?
    let logger: Logger

    /// Creates the sink; accepted spans go into `store` and, as OTLP, into `recorder` when given.
    public init(
        configuration: Configuration = .loopback(port: 14250), store: TelemetryStore, recorder: RecordingWriter? = nil,
        logger: Logger = Logger(label: "otelbench.jaeger-grpc")
    ) {
        self.configuration = configuration
        self.store = store
        self.recorder = recorder
        self.logger = logger
    }

    public func run() async throws {
        try await GRPCListener.serve(
            [JaegerCollectorService(store: store, recorder: recorder, maxRequestBytes: configuration.maxRequestBytes, logger: logger)],
            address: configuration.address, maxRequestBytes: configuration.maxRequestBytes, bound: boundAddress
        )
    }
}

/// `PostSpans`, registered by hand so that the deserializer can report the message size to the memory limiter.
struct JaegerCollectorService: RegistrableRPCService {
    let store: TelemetryStore
    let recorder: RecordingWriter?
    let maxRequestBytes: Int
    let logger: Logger

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        let store = store
        let recorder = recorder
        let logger = logger
        router.registerHandler(
            forMethod: Jaeger_ApiV2_CollectorService.Method.PostSpans.descriptor,
            deserializer: SizedProtobufDeserializer<Jaeger_ApiV2_PostSpansRequest>(specName: "jaeger.api_v2.PostSpansRequest", maxBytes: maxRequestBytes),
            serializer: ProtobufSerializer<Jaeger_ApiV2_PostSpansResponse>()
        ) { streamingRequest, _ in
            let request: ServerRequest<Sized<Jaeger_ApiV2_PostSpansRequest>>
            do {
                request = try await ServerRequest(stream: streamingRequest)
            } catch {
                store.countRejectedRequest(channel: .jaegerGRPC, signal: .traces)
                throw error
            }
            do throws(JaegerIngest.Refusal) {
                try JaegerIngest.store(
                    request.message.message.batch, bytes: request.message.byteCount, channel: .jaegerGRPC, into: store,
                    recorder: recorder, logger: logger
                )
            } catch {
                logger.debug("jaeger-grpc: refused a batch: \(error.message)")
                switch error.reason {
                case .overloaded: throw RPCError(code: .unavailable, message: error.message)
                case .invalid: throw RPCError(code: .invalidArgument, message: error.message)
                }
            }
            return StreamingServerResponse(single: ServerResponse(message: Jaeger_ApiV2_PostSpansResponse()))
        }
    }
}

/// The path every Jaeger batch takes once decoded, whichever protocol brought it.
enum JaegerIngest {
    /// Why a batch was refused.
    struct Refusal: Error {
        enum Reason {
            /// Over the store's memory limit: retry later.
            case overloaded
            /// Invalid spans: fix the sender.
            case invalid
        }

        var reason: Reason
        var message: String
    }

    /// Converts and stores a batch whole, or refuses it whole (and counts the refusal).
    static func store(
        _ batch: Jaeger_ApiV2_Batch, bytes: Int, channel: IntakeChannel, into store: TelemetryStore,
        recorder: RecordingWriter?, logger: Logger
    ) throws(Refusal) {
        guard store.reserve(bytes: bytes) else {
            store.countRejectedRequest(channel: channel, signal: .traces)
            throw Refusal(reason: .overloaded, message: OTLPIngestor.overloadMessage(limit: store.limits.maxStoredBytes))
        }
        let converted = JaegerConversion.spans(batch, channel: channel)
        guard converted.problems.isEmpty else {
            store.release(bytes: bytes)
            store.countRejectedRequest(channel: channel, signal: .traces)
            let shown = converted.problems.prefix(5).joined(separator: "; ")
            let more = converted.problems.count > 5 ? "; and \(converted.problems.count - 5) more" : ""
            throw Refusal(
                reason: .invalid,
                message: "batch refused whole, \(converted.problems.count) of \(batch.spans.count) spans are invalid: \(shown)\(more)"
            )
        }
        let accepted = Batch(spans: converted.spans)
        store.store(accepted, channel: channel, signal: .traces, rejectedItems: 0, reservedBytes: bytes)
        if let problem = SinkRecording.record(accepted, to: recorder) { logger.error("\(problem)") }
    }
}

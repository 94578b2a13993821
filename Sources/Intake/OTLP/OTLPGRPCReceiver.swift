public import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import OTelBenchProtos
public import Logging
public import ServiceLifecycle
public import Telemetry

/// OTLP/gRPC receiver: `TraceService/Export`, `MetricsService/Export` and `LogsService/Export` on one
/// HTTP/2 port, accepting gzip- and deflate-compressed messages (the Collector compresses by default).
///
/// Too-large messages (after decompression) are refused with RESOURCE_EXHAUSTED, undecodable ones with
/// INVALID_ARGUMENT, and requests over the store's memory limit with UNAVAILABLE, which OTLP exporters retry.
///
/// grpc-swift-nio-transport enforces its own payload limit by resetting the stream (clients then see
/// UNAVAILABLE and retry a request that can never succeed), so the transport's limit is set to
/// ``transportLimit(for:)`` and the real limit is checked here, where the answer can be RESOURCE_EXHAUSTED
/// with a message. Only messages past the transport's wider limit get the reset.
public struct OTLPGRPCReceiver: Service {
    /// Receiver settings.
    public struct Configuration: Sendable {
        /// Where to listen. Default `127.0.0.1:4317` (`--otlp-grpc`).
        public var address: ListenAddress
        /// Largest message accepted, after decompression. Default 64 MiB (`--max-request-bytes`).
        public var maxRequestBytes: Int

        public init(address: ListenAddress = .init(host: "127.0.0.1", port: 4317), maxRequestBytes: Int = 64 << 20) {
            self.address = address
            self.maxRequestBytes = maxRequestBytes
        }
    }

    public let configuration: Configuration
    /// The address once listening (the real port when asked for port 0).
    public let boundAddress = BoundAddress()
    let ingestor: OTLPIngestor
    let logger: Logger

    public init(configuration: Configuration = .init(), ingestor: OTLPIngestor, logger: Logger = Logger(label: "otelbench.otlp-grpc")) {
        self.configuration = configuration
        self.ingestor = ingestor
        self.logger = logger
    }

    public func run() async throws {
        let address = configuration.address
        let socketAddress: GRPCNIOTransportCore.SocketAddress =
            address.host.contains(":")
            ? .ipv6(host: address.host, port: address.port)
            : .ipv4(host: address.host == "localhost" ? "127.0.0.1" : address.host, port: address.port)
        let maxRequestBytes = configuration.maxRequestBytes
        let transport = HTTP2ServerTransport.Posix(
            address: socketAddress,
            transportSecurity: .plaintext,
            config: .defaults { config in
                config.rpc.maxRequestPayloadSize = Self.transportLimit(for: maxRequestBytes)
                config.compression.enabledAlgorithms = [.gzip, .deflate]
            }
        )
        let server = GRPCServer(transport: transport, services: [OTLPGRPCServices(ingestor: ingestor, maxRequestBytes: maxRequestBytes)])
        let bound = boundAddress
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                do {
                    let listening = try await transport.listeningAddress
                    let port = listening.ipv4?.port ?? listening.ipv6?.port ?? 0
                    bound.resolve(.success(ListenAddress(host: address.host, port: port)))
                } catch {
                    bound.resolve(.failure(error))
                }
            }
            try await withGracefulShutdownHandler {
                try await server.serve()
            } onGracefulShutdown: {
                server.beginGracefulShutdown()
            }
        }
    }

    /// The transport's payload limit for a receiver limit: four times it, and at least 1 MiB more.
    static func transportLimit(for maxRequestBytes: Int) -> Int {
        let (fourTimes, overflow) = maxRequestBytes.multipliedReportingOverflow(by: 4)
        return overflow ? Int.max : max(fourTimes, maxRequestBytes + (1 << 20))
    }
}

/// The three OTLP collector services, registered by hand rather than through the generated service
/// protocols so that the deserializer can report the message size to the memory limiter.
struct OTLPGRPCServices: RegistrableRPCService {
    let ingestor: OTLPIngestor
    let maxRequestBytes: Int

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        register(
            Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest.self,
            method: Opentelemetry_Proto_Collector_Trace_V1_TraceService.Method.Export.descriptor,
            with: &router
        )
        register(
            Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest.self,
            method: Opentelemetry_Proto_Collector_Metrics_V1_MetricsService.Method.Export.descriptor,
            with: &router
        )
        register(
            Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest.self,
            method: Opentelemetry_Proto_Collector_Logs_V1_LogsService.Method.Export.descriptor,
            with: &router
        )
    }

    private func register<Export: OTLPExportRequest, Transport: ServerTransport>(
        _ type: Export.Type, method: MethodDescriptor, with router: inout RPCRouter<Transport>
    ) {
        let ingestor = ingestor
        router.registerHandler(
            forMethod: method,
            deserializer: SizedProtobufDeserializer<Export>(maxBytes: maxRequestBytes),
            serializer: ProtobufSerializer<Export.Response>()
        ) { streamingRequest, _ in
            let request: ServerRequest<Sized<Export>>
            do {
                request = try await ServerRequest(stream: streamingRequest)
            } catch {
                ingestor.store.countRejectedRequest(channel: .otlpGRPC, signal: Export.signal)
                throw error
            }
            let bytes = request.message.byteCount
            guard ingestor.store.reserve(bytes: bytes) else {
                ingestor.store.countRejectedRequest(channel: .otlpGRPC, signal: Export.signal)
                throw RPCError(code: .unavailable, message: OTLPIngestor.overloadMessage(limit: ingestor.store.limits.maxStoredBytes))
            }
            let response = ingestor.ingest(request.message.message, channel: .otlpGRPC, reservedBytes: bytes)
            return StreamingServerResponse(single: ServerResponse(message: response))
        }
    }
}

/// A decoded message and the size of its encoding.
struct Sized<Message: Sendable>: Sendable {
    var message: Message
    var byteCount: Int
}

/// Decodes protobuf and keeps the message size; an undecodable message is INVALID_ARGUMENT naming the problem.
struct SizedProtobufDeserializer<Message: OTLPExportRequest>: MessageDeserializer {
    private let inner = ProtobufDeserializer<Message>()
    let maxBytes: Int

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Sized<Message> {
        guard serializedMessageBytes.count <= maxBytes else {
            throw RPCError(
                code: .resourceExhausted,
                message: "\(Message.specName) of \(serializedMessageBytes.count) bytes is over the \(maxBytes)-byte limit (--max-request-bytes)"
            )
        }
        do {
            return Sized(message: try inner.deserialize(serializedMessageBytes), byteCount: serializedMessageBytes.count)
        } catch let error as RPCError {
            let cause = error.cause.map { "\($0)" } ?? error.message
            throw RPCError(code: .invalidArgument, message: "message is not a valid protobuf \(Message.specName): \(cause)")
        }
    }
}

import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import OTelBenchProtos
public import Logging
public import ServiceLifecycle
import Telemetry

/// OTLP/gRPC receiver: `TraceService/Export`, `MetricsService/Export` and `LogsService/Export` on one
/// HTTP/2 port, accepting gzip- and deflate-compressed messages (the Collector compresses by default).
///
/// Too-large messages (after decompression) are refused with RESOURCE_EXHAUSTED, undecodable ones with
/// INVALID_ARGUMENT, and requests over the store's memory limit with UNAVAILABLE, which OTLP exporters retry.
/// (See ``GRPCListener`` for how the size limit is enforced.)
public struct OTLPGRPCReceiver: Service {
    /// Address and size limit; default 127.0.0.1:4317 (`--otlp-grpc`), 64 MiB.
    public typealias Configuration = ReceiverConfiguration

    public let configuration: Configuration
    /// The address once listening (the real port when asked for port 0).
    public let boundAddress = BoundAddress()
    let ingestor: OTLPIngestor
    let logger: Logger

    public init(configuration: Configuration = .loopback(port: 4317), ingestor: OTLPIngestor, logger: Logger = Logger(label: "otelbench.otlp-grpc")) {
        self.configuration = configuration
        self.ingestor = ingestor
        self.logger = logger
    }

    public func run() async throws {
        try await GRPCListener.serve(
            [OTLPGRPCServices(ingestor: ingestor, maxRequestBytes: configuration.maxRequestBytes)],
            address: configuration.address, maxRequestBytes: configuration.maxRequestBytes, bound: boundAddress
        )
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
            deserializer: SizedProtobufDeserializer<Export>(specName: Export.specName, maxBytes: maxRequestBytes),
            serializer: ProtobufSerializer<Export.Response>()
        ) { streamingRequest, _ in
            let request: ServerRequest<Sized<Export>>
            do {
                request = try await ServerRequest(stream: streamingRequest)
            } catch {
                ingestor.store.countRejectedRequest(channel: .otlpGRPC, signal: Export.signal)
                throw error
            }
            let fault = await ingestor.injectedFault(for: Export.signal)
            if let fault, fault.response != .partialSuccess {
                ingestor.store.countRejectedRequest(channel: .otlpGRPC, signal: Export.signal)
                throw RPCError(code: fault.response == .tooManyRequests ? .resourceExhausted : .unavailable, message: FaultInjector.message)
            }
            let bytes = request.message.byteCount
            guard ingestor.store.reserve(bytes: bytes) else {
                ingestor.store.countRejectedRequest(channel: .otlpGRPC, signal: Export.signal)
                throw RPCError(code: .unavailable, message: OTLPIngestor.overloadMessage(limit: ingestor.store.limits.maxStoredBytes))
            }
            let response =
                fault?.response == .partialSuccess
                ? ingestor.refuseAsPartialSuccess(request.message.message, channel: .otlpGRPC, reservedBytes: bytes)
                : ingestor.ingest(request.message.message, channel: .otlpGRPC, reservedBytes: bytes)
            return StreamingServerResponse(single: ServerResponse(message: response))
        }
    }
}

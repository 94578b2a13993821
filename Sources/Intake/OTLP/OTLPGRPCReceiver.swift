package import GRPCCore
import GRPCProtobuf
package import Logging
import OTelBenchProtos
package import Scenario
package import Telemetry

/// OTLP/gRPC receiver: `TraceService/Export`, `MetricsService/Export` and `LogsService/Export` on one
/// HTTP/2 port, accepting gzip- and deflate-compressed messages (the Collector compresses by default).
///
/// Too-large messages (after decompression) are refused with RESOURCE_EXHAUSTED, undecodable ones with
/// INVALID_ARGUMENT, and requests over the store's memory limit with UNAVAILABLE, which OTLP exporters retry.
/// (See ``GRPCListener`` for how the size limit is enforced.) Default address 127.0.0.1:4317 (`--otlp-grpc`).
package typealias OTLPGRPCReceiver = GRPCReceiver<OTLPGRPCEndpoint>

extension GRPCReceiver where Endpoint == OTLPGRPCEndpoint {
    /// Creates the receiver; requests go through `ingestor`, which also logs for it (`logger` is not used:
    /// the gRPC server logs nothing of its own).
    package init(configuration: Configuration = .loopback(port: 4317), ingestor: OTLPIngestor, logger: Logger = Logger(label: "otelbench.otlp-grpc")) {
        self.init(configuration: configuration, endpoint: OTLPGRPCEndpoint(), admission: ingestor)
    }
}

/// The three OTLP collector services.
package struct OTLPGRPCEndpoint: GRPCEndpoint {
    package static var defaultPort: Int { 4317 }

    package init() {}

    package func accounting(ofMethodAt path: String) -> (channel: IntakeChannel, signal: Signal)? {
        switch path {
        case "/" + Opentelemetry_Proto_Collector_Trace_V1_TraceService.Method.Export.descriptor.fullyQualifiedMethod: (.otlpGRPC, .traces)
        case "/" + Opentelemetry_Proto_Collector_Metrics_V1_MetricsService.Method.Export.descriptor.fullyQualifiedMethod: (.otlpGRPC, .metrics)
        case "/" + Opentelemetry_Proto_Collector_Logs_V1_LogsService.Method.Export.descriptor.fullyQualifiedMethod: (.otlpGRPC, .logs)
        default: nil
        }
    }

    package func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>, admission: Admission, maxRequestBytes: Int) {
        registerTraces(with: &router, admission: admission, maxRequestBytes: maxRequestBytes)
        register(
            Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest.self,
            method: Opentelemetry_Proto_Collector_Metrics_V1_MetricsService.Method.Export.descriptor,
            with: &router,
            admission: admission,
            maxRequestBytes: maxRequestBytes
        )
        register(
            Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest.self,
            method: Opentelemetry_Proto_Collector_Logs_V1_LogsService.Method.Export.descriptor,
            with: &router,
            admission: admission,
            maxRequestBytes: maxRequestBytes
        )
    }

    private func register<Export: OTLPExportRequest, Transport: ServerTransport>(
        _ type: Export.Type,
        method: MethodDescriptor,
        with router: inout RPCRouter<Transport>,
        admission: Admission,
        maxRequestBytes: Int
    ) {
        router.registerIntake(
            method,
            specName: Export.specName,
            maxRequestBytes: maxRequestBytes,
            admission: admission,
            channel: .otlpGRPC,
            signal: Export.signal,
            keepsBytes: admission.recorder != nil
        ) { (request: Sized<Export>) async throws(Refusal) -> Export.Response in
            // Serialized again only while it is wanted: swift-protobuf writes the same message as the same bytes.
            let export =
                admission.wantsExportIdentity
                ? (try? request.message.serializedBytes() as [UInt8]).map { $0.withUnsafeBytes(ExportIdentity.init(protobuf:)) } : nil
            // Kept while a recording is written, which then writes them rather than encoding the message again.
            let protobuf: (@Sendable () -> [UInt8])? = request.bytes.map { bytes in { @Sendable in bytes } }
            return try await admission.admit(
                Export.signal,
                on: .otlpGRPC,
                bytes: request.byteCount,
                wireBytes: request.wireByteCount,
                partialSuccess: true,
                export: export,
                reservation: request.reservation
            ) { ticket in
                ticket.answer(request.message, protobuf: protobuf)
            }
        }
    }

    /// Registers `TraceService/Export` with a deserializer that converts the message straight from its bytes
    /// (``OTLPTraceWireDecoder``), refusing what ``GRPCCore/RPCRouter/registerIntake(_:specName:maxRequestBytes:admission:channel:signal:handler:)``
    /// refuses, in the same words, and counting every refusal once.
    private func registerTraces<Transport: ServerTransport>(with router: inout RPCRouter<Transport>, admission: Admission, maxRequestBytes: Int) {
        typealias Request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
        router.registerHandler(
            forMethod: Opentelemetry_Proto_Collector_Trace_V1_TraceService.Method.Export.descriptor,
            deserializer: TraceWireDeserializer(maxBytes: maxRequestBytes, keepsBytes: admission.recorder != nil, admission: admission),
            serializer: ProtobufSerializer<Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse>()
        ) { streamingRequest, _ in
            // The token and the intake's requests in flight are checked before the message is read: a refused
            // request stores nothing, and an overloaded intake refuses instead of queueing.
            try admission.enterBeforeReading(
                authorization: streamingRequest.metadata[stringValues: "authorization"].first(where: { _ in true }),
                channel: .otlpGRPC,
                signal: .traces
            )
            defer { admission.leaveInFlight() }
            let message: Sized<TraceWireDeserializer.Decoded>
            do {
                message = try await ServerRequest(stream: streamingRequest).message
            } catch {
                admission.countRefusal(error, channel: .otlpGRPC, signal: .traces)
                throw error
            }
            do throws(Refusal) {
                let decoded = message.message
                let response = try await admission.admit(
                    .traces,
                    on: .otlpGRPC,
                    bytes: message.byteCount,
                    wireBytes: message.wireByteCount,
                    partialSuccess: true,
                    export: decoded.export,
                    reservation: message.reservation
                ) { ticket in
                    ticket.answerTraces(decoded.converted) { [bytes = message.bytes] in bytes ?? [] }
                }
                return StreamingServerResponse(single: ServerResponse(message: response))
            } catch {
                admission.countRefusal(error, channel: .otlpGRPC, signal: .traces)
                throw error
            }
        }
    }
}

/// Converts an `ExportTraceServiceRequest` message straight from its bytes (``OTLPTraceWireDecoder``), keeping the
/// message size for the memory limiter: a message over `maxBytes` is RESOURCE_EXHAUSTED, an undecodable one
/// INVALID_ARGUMENT, each naming the problem, as ``SizedProtobufDeserializer`` answers the other methods.
struct TraceWireDeserializer: SizedMessageDeserializer {
    /// The converted request.
    struct Decoded: Sendable {
        var converted: ConversionResult
        /// The exporter and batch, when the admission wants them (``Admission/wantsExportIdentity``).
        var export: ExportIdentity? = nil
    }

    let maxBytes: Int
    /// Whether to keep the message's bytes (for the recording).
    let keepsBytes: Bool
    /// Asked, for each message, whether to read its ``ExportIdentity``; `nil`: never.
    var admission: Admission? = nil

    let specName = "ExportTraceServiceRequest"

    func decode<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> Decoded {
        // The spans decoded take memory before admission sees them: the stream reserved for them as the message
        // arrived (Sized.reservation, which admission takes over).
        try bytes.withUnsafeBytes { bytes in
            Decoded(
                converted: try OTLPTraceWireDecoder.traces(bytes, channel: .otlpGRPC),
                export: admission?.wantsExportIdentity == true ? ExportIdentity(protobuf: bytes) : nil
            )
        }
    }
}

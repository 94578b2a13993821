package import GRPCCore
package import Logging
import OTelBenchProtos
import Scenario
import Telemetry

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

    package func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>, admission: Admission, maxRequestBytes: Int) {
        register(
            Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest.self,
            method: Opentelemetry_Proto_Collector_Trace_V1_TraceService.Method.Export.descriptor,
            with: &router,
            admission: admission,
            maxRequestBytes: maxRequestBytes
        )
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
            signal: Export.signal
        ) { (request: Sized<Export>) async throws(Refusal) -> Export.Response in
            try await admission.admit(Export.signal, on: .otlpGRPC, bytes: request.byteCount, partialSuccess: true) { ticket in
                ticket.answer(request.message)
            }
        }
    }
}

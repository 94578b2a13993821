package import OTelBenchProtos
package import Scenario
package import SwiftProtobuf
package import Telemetry

/// What the receivers need to know of each OTLP export request type, so that one code path serves
/// traces, metrics and logs on every protocol.
package protocol OTLPExportRequest: SwiftProtobuf.Message, Sendable {
    /// The matching `Export…ServiceResponse`.
    associatedtype Response: SwiftProtobuf.Message & Sendable

    /// The signal the request carries.
    static var signal: Signal { get }
    /// The message's name in the OTLP specification, for error messages.
    static var specName: String { get }
    /// Validates and converts the request into the store's model.
    func converted(channel: IntakeChannel) -> ConversionResult
    /// The request as a recording keeps it.
    var recorded: RecordedRequest { get }
    /// A response, with `partial_success` filled in when items were rejected.
    static func response(rejectedItems: Int, errorMessage: String) -> Response
}

extension Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest: OTLPExportRequest {
    package static var signal: Signal { .traces }
    package static var specName: String { "ExportTraceServiceRequest" }
    package func converted(channel: IntakeChannel) -> ConversionResult { OTLPConversion.traces(self, channel: channel) }
    package var recorded: RecordedRequest { .traces(self) }
    package static func response(rejectedItems: Int, errorMessage: String) -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse {
        var response = Response()
        if rejectedItems > 0 || !errorMessage.isEmpty {
            response.partialSuccess.rejectedSpans = Int64(rejectedItems)
            response.partialSuccess.errorMessage = errorMessage
        }
        return response
    }
}

extension Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest: OTLPExportRequest {
    package static var signal: Signal { .metrics }
    package static var specName: String { "ExportMetricsServiceRequest" }
    package func converted(channel: IntakeChannel) -> ConversionResult { OTLPConversion.metrics(self, channel: channel) }
    package var recorded: RecordedRequest { .metrics(self) }
    package static func response(rejectedItems: Int, errorMessage: String) -> Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceResponse {
        var response = Response()
        if rejectedItems > 0 || !errorMessage.isEmpty {
            response.partialSuccess.rejectedDataPoints = Int64(rejectedItems)
            response.partialSuccess.errorMessage = errorMessage
        }
        return response
    }
}

extension Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest: OTLPExportRequest {
    package static var signal: Signal { .logs }
    package static var specName: String { "ExportLogsServiceRequest" }
    package func converted(channel: IntakeChannel) -> ConversionResult { OTLPConversion.logs(self, channel: channel) }
    package var recorded: RecordedRequest { .logs(self) }
    package static func response(rejectedItems: Int, errorMessage: String) -> Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse {
        var response = Response()
        if rejectedItems > 0 || !errorMessage.isEmpty {
            response.partialSuccess.rejectedLogRecords = Int64(rejectedItems)
            response.partialSuccess.errorMessage = errorMessage
        }
        return response
    }
}

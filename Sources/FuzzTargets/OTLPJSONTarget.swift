import Intake
import OTelBenchProtos
import SwiftProtobuf
import Telemetry

/// OTLP/JSON requests as the OTLP/HTTP receiver decodes them (``OTLPJSON/decode(_:from:)``, hex trace and span
/// ids): a decoded request encodes (``OTLPJSON/encode(_:)``) and decodes again to the same message and model.
enum OTLPJSONTarget {
    /// The first byte picks the signal (its value modulo 3: traces, metrics, logs); the rest is the JSON.
    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        guard let selector = bytes.first else { return }
        let json = bytes.dropFirst()
        switch selector % 3 {
        case 0: try roundTrip(Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest.self, json)
        case 1: try roundTrip(Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest.self, json)
        default: try roundTrip(Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest.self, json)
        }
    }

    private static func roundTrip<Request: OTLPExportRequest>(_ type: Request.Type, _ json: ArraySlice<UInt8>) throws(InvariantViolation) {
        guard let request = try? OTLPJSON.decode(Request.self, from: json) else { return }
        let encoded: [UInt8]
        let again: Request
        do {
            encoded = try OTLPJSON.encode(request)
            again = try OTLPJSON.decode(Request.self, from: encoded)
        } catch {
            throw InvariantViolation(message: "a decoded OTLP/JSON \(Request.specName) does not encode and decode again: \(error)")
        }
        try require(
            (try? again.serializedBytes() as [UInt8]) == (try? request.serializedBytes() as [UInt8]),
            "OTLP/JSON \(Request.specName) changes in an encode and decode"
        )
        try OTLPProtobufTargets.requireSameConversion(
            request.converted(channel: .otlpHTTPJSON),
            again.converted(channel: .otlpHTTPJSON),
            "an OTLP/JSON request and its re-encoding"
        )
    }
}

import Intake
import OTelBenchProtos
import SwiftProtobuf
import Telemetry

/// OTLP protobuf requests through the receivers' own decode paths.
///
/// Traces: OTLP/HTTP and OTLP/gRPC convert straight from the bytes (``OTLPTraceWireDecoder``), which promises
/// exactly what swift-protobuf's decoding followed by ``OTLPConversion/traces(_:channel:)`` gives, and to refuse
/// exactly what swift-protobuf refuses: checked both ways on every input; and ``OTLPJSONTranscoder`` writes, from
/// the bytes of every request taken, the OTLP/JSON the generated encoder writes for it (for logs too). Metrics and logs: the HTTP receiver's
/// and the gRPC receiver's decoders agree, and the converted model survives a re-encode and decode.
enum OTLPProtobufTargets {
    /// A limit well above any input libFuzzer makes, so that only the decoding decides.
    static let maxBytes = 16 << 20

    static func traces(_ bytes: [UInt8]) throws(InvariantViolation) {
        typealias Request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
        let generated = Result { try Request(serializedBytes: bytes) }
        let http = Result { () throws(ProtobufWireError) in try OTLPTraceWireDecoder.traces(bytes, channel: .otlpHTTPProtobuf) }
        let grpc = Result { try ReceiverDecoding.grpcTraces(bytes, maxBytes: maxBytes) }
        switch (generated, http) {
        case (.success(let request), .success(let converted)):
            let expected = OTLPConversion.traces(request, channel: .otlpHTTPProtobuf)
            try requireSameConversion(expected, converted, "the wire decoder and swift-protobuf + OTLPConversion")
            let spans = request.resourceSpans.reduce(0) { $0 + $1.scopeSpans.reduce(0) { $0 + $1.spans.count } }
            try require(
                converted.batch.itemCount + converted.rejectedItems == spans,
                "\(spans) spans came, \(converted.batch.itemCount) were accepted and \(converted.rejectedItems) rejected: a span was lost or counted twice"
            )
            try roundTrip(request, converted: expected) { $0.converted(channel: .otlpHTTPProtobuf) }
            try requireSameJSON(bytes, .traces(request))
        case (.failure, .failure):
            break
        case (.success, .failure(let error)):
            throw InvariantViolation(message: "swift-protobuf decodes the request, the wire decoder refuses it: \(error)")
        case (.failure(let error), .success):
            throw InvariantViolation(message: "the wire decoder accepts the request, swift-protobuf refuses it: \(error)")
        }
        switch (http, grpc) {
        case (.success(let viaHTTP), .success(let viaGRPC)):
            // The same spans, but for the channel they came on.
            let asGRPC = viaHTTP.batch.spans.map { span in
                var span = span
                span.channel = .otlpGRPC
                return span
            }
            try require(same(asGRPC, viaGRPC.batch.spans), "OTLP/HTTP and OTLP/gRPC convert the same request to different spans")
        case (.failure, .failure): break
        default: throw InvariantViolation(message: "OTLP/HTTP and OTLP/gRPC disagree on whether the request decodes: \(http) / \(grpc)")
        }
    }

    static func metrics(_ bytes: [UInt8]) throws(InvariantViolation) {
        try export(Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest.self, bytes) { request in
            request.resourceMetrics.reduce(0) { $0 + $1.scopeMetrics.reduce(0) { $0 + $1.metrics.reduce(0) { $0 + dataPoints(of: $1) } } }
        }
    }

    static func logs(_ bytes: [UInt8]) throws(InvariantViolation) {
        if let request = try? Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest(serializedBytes: bytes) {
            try requireSameJSON(bytes, .logs(request))
        }
        try export(Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest.self, bytes) { request in
            request.resourceLogs.reduce(0) { $0 + $1.scopeLogs.reduce(0) { $0 + $1.logRecords.count } }
        }
    }

    /// What a JSON recording holds of `bytes`, transcoded (``OTLPJSONTranscoder``), is exactly the generated encoder's
    /// JSON of `decoded`, the message swift-protobuf decodes them to.
    static func requireSameJSON(_ bytes: [UInt8], _ decoded: RecordedRequest) throws(InvariantViolation) {
        let transcoded = Result { () throws(ProtobufWireError) in try OTLPJSONTranscoder.json(bytes, signal: decoded.signal) }
        let encoded = Result { try decoded.generatedEncoderJSON() }
        switch (transcoded, encoded) {
        case (.success(let mine), .success(let theirs)):
            try require(
                mine == theirs,
                "the transcoded OTLP/JSON differs from swift-protobuf's:\n\(String(decoding: mine, as: UTF8.self))\n\(String(decoding: theirs, as: UTF8.self))"
            )
        case (.failure(let error), _): throw InvariantViolation(message: "the transcoder refuses a request swift-protobuf decodes: \(error)")
        case (_, .failure(let error)): throw InvariantViolation(message: "swift-protobuf cannot encode a request it decoded as JSON: \(error)")
        }
    }

    /// The data points a metric carries, whatever its type.
    static func dataPoints(of metric: Opentelemetry_Proto_Metrics_V1_Metric) -> Int {
        switch metric.data {
        case .gauge(let gauge): gauge.dataPoints.count
        case .sum(let sum): sum.dataPoints.count
        case .histogram(let histogram): histogram.dataPoints.count
        case .exponentialHistogram(let histogram): histogram.dataPoints.count
        case .summary(let summary): summary.dataPoints.count
        case nil: 0
        }
    }

    /// Decodes as OTLP/HTTP (`Export(serializedBytes:)`) and OTLP/gRPC (the receivers' deserializer) do, converts,
    /// and checks the accounting (every item that came is accepted or rejected, once: `itemsSent` counts them) and
    /// a round trip.
    private static func export<Request: OTLPExportRequest>(
        _ type: Request.Type,
        _ bytes: [UInt8],
        itemsSent: (Request) -> Int
    ) throws(InvariantViolation) {
        let http = Result { try Request(serializedBytes: bytes) }
        let grpc = Result { try ReceiverDecoding.grpcMessage(Request.self, bytes, specName: Request.specName, maxBytes: maxBytes) }
        switch (http, grpc) {
        case (.success(let viaHTTP), .success(let viaGRPC)):
            try require(
                (try? viaHTTP.serializedBytes() as [UInt8]) == (try? viaGRPC.serializedBytes() as [UInt8]),
                "OTLP/HTTP and OTLP/gRPC decode the same bytes to different \(Request.specName)s"
            )
        case (.failure, .failure): return
        default: throw InvariantViolation(message: "OTLP/HTTP and OTLP/gRPC disagree on whether the \(Request.specName) decodes: \(http) / \(grpc)")
        }
        guard case .success(let request) = http else { return }
        let converted = request.converted(channel: .otlpHTTPProtobuf)
        try require(
            converted.batch.itemCount + converted.rejectedItems == itemsSent(request),
            "\(itemsSent(request)) items came, \(converted.batch.itemCount) were accepted and \(converted.rejectedItems) rejected: an item was lost or counted twice"
        )
        try roundTrip(request, converted: converted) { $0.converted(channel: .otlpHTTPProtobuf) }
    }

    /// Encodes `request`, decodes it again, and checks that the bytes and the converted model are the same.
    static func roundTrip<Request: SwiftProtobuf.Message>(
        _ request: Request,
        converted: ConversionResult,
        convert: (Request) -> ConversionResult
    ) throws(InvariantViolation) {
        let encoded: [UInt8]
        let again: Request
        do {
            encoded = try request.serializedBytes()
            again = try Request(serializedBytes: encoded)
        } catch {
            throw InvariantViolation(message: "a decoded \(Request.protoMessageName) does not re-encode and decode: \(error)")
        }
        try require((try? again.serializedBytes() as [UInt8]) == encoded, "re-encoding a decoded \(Request.protoMessageName) changes its bytes")
        try requireSameConversion(converted, convert(again), "a request and its re-encoding")
    }

    static func requireSameConversion(_ lhs: ConversionResult, _ rhs: ConversionResult, _ what: String) throws(InvariantViolation) {
        try require(same(lhs.batch.spans, rhs.batch.spans), "\(what) give different spans")
        try require(same(lhs.batch.logs, rhs.batch.logs), "\(what) give different log records")
        try require(same(lhs.batch.series, rhs.batch.series), "\(what) give different series")
        try require(lhs.rejectedItems == rhs.rejectedItems, "\(what) reject \(lhs.rejectedItems) and \(rhs.rejectedItems) items")
        try require(lhs.problems == rhs.problems, "\(what) name different problems: \(lhs.problems) / \(rhs.problems)")
    }
}

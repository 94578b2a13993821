package import Foundation
package import OTelBenchProtos

/// Builds synthetic OTLP export requests, as telemetrygen does: deterministic for a given seed, so
/// benchmarks and tests can send the same payload every run.
///
/// ```swift
/// var factory = OTLPPayloadFactory(seed: 42)
/// let request = factory.traces(spanCount: 512, attributesPerSpan: 10)
/// ```
package struct OTLPPayloadFactory: Sendable {
    private var state: UInt64

    /// Creates a factory; the same seed gives the same ids.
    package init(seed: UInt64 = 0x5eed) { state = seed == 0 ? 0x9e37_79b9_7f4a_7c15 : seed }

    /// The next pseudo-random number (xorshift64*: fast and reproducible, not for secrets).
    package mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_f491_4f6c_dd1d
    }

    /// `count` fresh bytes, never all zero.
    package mutating func randomBytes(_ count: Int) -> Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            withUnsafeBytes(of: next().bigEndian) { bytes.append(contentsOf: $0.prefix(count - bytes.count)) }
        }
        if bytes.allSatisfy({ $0 == 0 }) { bytes[bytes.count - 1] = 1 }
        return Data(bytes)
    }

    /// One resource with `spanCount` spans in traces of `spansPerTrace` (the first span of each trace is its
    /// root, the others its children), each with `attributesPerSpan` string attributes.
    package mutating func traces(
        spanCount: Int,
        attributesPerSpan: Int = 10,
        spansPerTrace: Int = 8,
        serviceName: String = "otelbench-generate"
    ) -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest {
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        var spans: [Opentelemetry_Proto_Trace_V1_Span] = []
        spans.reserveCapacity(spanCount)
        var traceID = Data()
        var rootID = Data()
        for index in 0..<spanCount {
            var span = Opentelemetry_Proto_Trace_V1_Span()
            if index % max(1, spansPerTrace) == 0 {
                traceID = randomBytes(16)
                span.spanID = randomBytes(8)
                rootID = span.spanID
                span.kind = .server
            } else {
                span.spanID = randomBytes(8)
                span.parentSpanID = rootID
                span.kind = .internal
            }
            span.traceID = traceID
            span.name = index % max(1, spansPerTrace) == 0 ? "GET /tasks" : "repository.load"
            span.startTimeUnixNano = now + UInt64(index) * 1000
            span.endTimeUnixNano = span.startTimeUnixNano + 250_000
            span.attributes = (0..<attributesPerSpan).map { attribute in
                Self.keyValue("attribute.\(attribute)", .stringValue("value-\(attribute)-\(index % 100)"))
            }
            span.status.code = .ok
            spans.append(span)
        }
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.scope.name = "otelbench"
        scopeSpans.spans = spans
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resourceSpans.resource.attributes = [Self.keyValue("service.name", .stringValue(serviceName))]
        resourceSpans.scopeSpans = [scopeSpans]
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        request.resourceSpans = [resourceSpans]
        return request
    }

    /// One resource with `seriesCount` points of the cumulative counter `metricName`, one per series: series
    /// `firstSeries`, `firstSeries + 1`, ... (label `series`), wrapping around at `seriesModulo`.
    package mutating func metrics(
        seriesCount: Int,
        firstSeries: Int = 0,
        seriesModulo: Int = .max,
        metricName: String = "otelbench_generated",
        serviceName: String = "otelbench-generate"
    ) -> Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest {
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        var sum = Opentelemetry_Proto_Metrics_V1_Sum()
        sum.isMonotonic = true
        sum.aggregationTemporality = .cumulative
        sum.dataPoints = (0..<seriesCount).map { index in
            var point = Opentelemetry_Proto_Metrics_V1_NumberDataPoint()
            point.attributes = [Self.keyValue("series", .stringValue("s\((firstSeries + index) % max(1, seriesModulo))"))]
            point.timeUnixNano = now
            point.startTimeUnixNano = now - 1_000_000_000
            point.value = .asInt(Int64(next() % 1000))
            return point
        }
        var metric = Opentelemetry_Proto_Metrics_V1_Metric()
        metric.name = metricName
        metric.unit = "1"
        metric.sum = sum
        var scopeMetrics = Opentelemetry_Proto_Metrics_V1_ScopeMetrics()
        scopeMetrics.scope.name = "otelbench"
        scopeMetrics.metrics = [metric]
        var resourceMetrics = Opentelemetry_Proto_Metrics_V1_ResourceMetrics()
        resourceMetrics.resource.attributes = [Self.keyValue("service.name", .stringValue(serviceName))]
        resourceMetrics.scopeMetrics = [scopeMetrics]
        var request = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest()
        request.resourceMetrics = [resourceMetrics]
        return request
    }

    /// One resource with `count` INFO log records, each in a fresh trace context.
    package mutating func logs(count: Int, serviceName: String = "otelbench-generate") -> Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest {
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        var scopeLogs = Opentelemetry_Proto_Logs_V1_ScopeLogs()
        scopeLogs.scope.name = "otelbench"
        scopeLogs.logRecords = (0..<count).map { index in
            var record = Opentelemetry_Proto_Logs_V1_LogRecord()
            record.timeUnixNano = now + UInt64(index)
            record.observedTimeUnixNano = record.timeUnixNano
            record.severityNumber = .info
            record.severityText = "INFO"
            record.body.stringValue = "generated log record \(index)"
            record.traceID = randomBytes(16)
            record.spanID = randomBytes(8)
            return record
        }
        var resourceLogs = Opentelemetry_Proto_Logs_V1_ResourceLogs()
        resourceLogs.resource.attributes = [Self.keyValue("service.name", .stringValue(serviceName))]
        resourceLogs.scopeLogs = [scopeLogs]
        var request = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest()
        request.resourceLogs = [resourceLogs]
        return request
    }

    /// An OTLP key-value.
    package static func keyValue(_ key: String, _ value: Opentelemetry_Proto_Common_V1_AnyValue.OneOf_Value) -> Opentelemetry_Proto_Common_V1_KeyValue {
        var keyValue = Opentelemetry_Proto_Common_V1_KeyValue()
        keyValue.key = key
        keyValue.value.value = value
        return keyValue
    }
}

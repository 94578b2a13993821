import Foundation
package import OTelBenchProtos

/// Decoded, validated items of one OTLP export request, and what was wrong with the rest.
package struct ConversionResult: Sendable {
    /// The items that passed validation.
    package var batch: Batch
    /// Items refused (spans, data points, log records), reported to the sender as partial success.
    package var rejectedItems: Int
    /// What was wrong with each refused item, first ones first.
    package var problems: [String]

    /// One line for OTLP's `partial_success.error_message`: the first problems and how many more.
    package var errorMessage: String {
        guard !problems.isEmpty else { return "" }
        let shown = problems.prefix(5).joined(separator: "; ")
        return problems.count > 5 ? "\(shown); and \(problems.count - 5) more" : shown
    }
}

/// Turns OTLP protobuf messages into the store's model, validating ids as the OTLP specification asks.
///
/// A span whose trace id is not 16 bytes or is all zero, whose span id is not 8 bytes or is all zero,
/// or whose parent span id is neither empty nor a valid 8-byte id, is rejected; so is a link with such ids.
/// A log record's trace and span ids are optional but, when present, must have the right length.
/// A histogram point whose bucket counts do not match its bounds (or its count) is rejected.
package enum OTLPConversion {
    private typealias TraceProto = Opentelemetry_Proto_Trace_V1_Span

    /// Converts an `ExportTraceServiceRequest`.
    package static func traces(
        _ request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest,
        channel: IntakeChannel
    ) -> ConversionResult {
        var result = ConversionResult(batch: Batch(), rejectedItems: 0, problems: [])
        for (resourceIndex, resourceSpans) in request.resourceSpans.enumerated() {
            let resource = Resource(attributes: attributes(resourceSpans.resource.attributes))
            for (scopeIndex, scopeSpans) in resourceSpans.scopeSpans.enumerated() {
                let scope = scopeOf(scopeSpans.scope)
                for (spanIndex, proto) in scopeSpans.spans.enumerated() {
                    switch span(proto, resource: resource, scope: scope, channel: channel) {
                    case .success(let span):
                        result.batch.spans.append(span)
                    case .failure(let problem):
                        result.rejectedItems += 1
                        result.problems.append(
                            "resourceSpans[\(resourceIndex)].scopeSpans[\(scopeIndex)].spans[\(spanIndex)] "
                                + "(\"\(proto.name)\"): \(problem.message)"
                        )
                    }
                }
            }
        }
        return result
    }

    /// Converts an `ExportMetricsServiceRequest`, grouping points into series.
    package static func metrics(
        _ request: Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest,
        channel: IntakeChannel
    ) -> ConversionResult {
        var result = ConversionResult(batch: Batch(), rejectedItems: 0, problems: [])
        var indexByKey: [SeriesKey: Int] = [:]
        for (resourceIndex, resourceMetrics) in request.resourceMetrics.enumerated() {
            let resource = Resource(attributes: attributes(resourceMetrics.resource.attributes))
            for (scopeIndex, scopeMetrics) in resourceMetrics.scopeMetrics.enumerated() {
                let scope = scopeOf(scopeMetrics.scope)
                for (metricIndex, metric) in scopeMetrics.metrics.enumerated() {
                    let path = "resourceMetrics[\(resourceIndex)].scopeMetrics[\(scopeIndex)].metrics[\(metricIndex)]"
                    let converted = points(of: metric)
                    if metric.name.isEmpty {
                        // Every point is rejected, the ones with a problem of their own too (each counted once).
                        result.rejectedItems += converted.points.count + converted.problems.count
                        result.problems.append("\(path): metric name is empty")
                        continue
                    }
                    guard let kind = converted.kind else {
                        result.problems.append("\(path) (\"\(metric.name)\"): no data (gauge, sum, histogram, ...) is set")
                        continue
                    }
                    for problem in converted.problems {
                        result.rejectedItems += 1
                        result.problems.append("\(path) (\"\(metric.name)\"): \(problem)")
                    }
                    for (pointAttributes, point) in converted.points {
                        let key = SeriesKey(metricName: metric.name, attributes: pointAttributes, resource: resource)
                        if let index = indexByKey[key] {
                            result.batch.series[index].points.append(point)
                        } else {
                            indexByKey[key] = result.batch.series.count
                            result.batch.series.append(
                                MetricSeries(
                                    key: key,
                                    kind: kind,
                                    unit: metric.unit,
                                    description: metric.description_p,
                                    scope: scope,
                                    points: [point],
                                    channel: channel
                                )
                            )
                        }
                    }
                }
            }
        }
        return result
    }

    /// Converts an `ExportLogsServiceRequest`.
    package static func logs(
        _ request: Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest,
        channel: IntakeChannel
    ) -> ConversionResult {
        var result = ConversionResult(batch: Batch(), rejectedItems: 0, problems: [])
        for (resourceIndex, resourceLogs) in request.resourceLogs.enumerated() {
            let resource = Resource(attributes: attributes(resourceLogs.resource.attributes))
            for (scopeIndex, scopeLogs) in resourceLogs.scopeLogs.enumerated() {
                let scope = scopeOf(scopeLogs.scope)
                for (recordIndex, proto) in scopeLogs.logRecords.enumerated() {
                    let path = "resourceLogs[\(resourceIndex)].scopeLogs[\(scopeIndex)].logRecords[\(recordIndex)]"
                    let traceID: TraceID?
                    let spanID: SpanID?
                    do {
                        traceID = try optionalTraceID(proto.traceID, field: "trace_id")
                        spanID = try optionalSpanID(proto.spanID, field: "span_id")
                    } catch {
                        result.rejectedItems += 1
                        result.problems.append("\(path): \(error.message)")
                        continue
                    }
                    result.batch.logs.append(
                        LogRecord(
                            timeUnixNano: proto.timeUnixNano,
                            observedTimeUnixNano: proto.observedTimeUnixNano,
                            severityNumber: proto.severityNumber.rawValue,
                            severityText: proto.severityText,
                            body: proto.hasBody ? value(proto.body) : .empty,
                            attributes: attributes(proto.attributes),
                            traceID: traceID,
                            spanID: spanID,
                            flags: proto.flags,
                            eventName: proto.eventName,
                            resource: resource,
                            scope: scope,
                            channel: channel
                        )
                    )
                }
            }
        }
        return result
    }

    // MARK: Spans

    /// Why one item is rejected.
    struct Problem: Error {
        var message: String
    }

    private static func span(
        _ proto: TraceProto,
        resource: Resource,
        scope: InstrumentationScope,
        channel: IntakeChannel
    ) -> Result<Span, Problem> {
        do {
            let traceID = try requiredTraceID(proto.traceID, field: "trace_id")
            let spanID = try requiredSpanID(proto.spanID, field: "span_id")
            let parentSpanID = try proto.parentSpanID.isEmpty ? nil : requiredSpanID(proto.parentSpanID, field: "parent_span_id")
            let links = try proto.links.enumerated().map { index, link in
                SpanLink(
                    traceID: try requiredTraceID(link.traceID, field: "links[\(index)].trace_id"),
                    spanID: try requiredSpanID(link.spanID, field: "links[\(index)].span_id"),
                    traceState: link.traceState,
                    attributes: attributes(link.attributes)
                )
            }
            return .success(
                Span(
                    traceID: traceID,
                    spanID: spanID,
                    parentSpanID: parentSpanID,
                    traceState: proto.traceState,
                    flags: proto.flags,
                    name: proto.name,
                    kind: SpanKind(rawValue: proto.kind.rawValue) ?? .unspecified,
                    startTimeUnixNano: proto.startTimeUnixNano,
                    endTimeUnixNano: proto.endTimeUnixNano,
                    attributes: attributes(proto.attributes),
                    droppedAttributesCount: proto.droppedAttributesCount,
                    events: proto.events.map {
                        SpanEvent(timeUnixNano: $0.timeUnixNano, name: $0.name, attributes: attributes($0.attributes))
                    },
                    links: links,
                    status: SpanStatus(
                        code: SpanStatus.Code(rawValue: proto.status.code.rawValue) ?? .unset,
                        message: proto.status.message
                    ),
                    resource: resource,
                    scope: scope,
                    channel: channel
                )
            )
        } catch let problem as Problem {
            return .failure(problem)
        } catch {
            return .failure(Problem(message: "\(error)"))
        }
    }

    private static func requiredTraceID(_ data: Data, field: String) throws(Problem) -> TraceID {
        guard let id = TraceID(bytes: data) else { throw wrongLength(field, count: data.count, want: 16) }
        guard !id.isZero else { throw allZero(field) }
        return id
    }

    private static func requiredSpanID(_ data: Data, field: String) throws(Problem) -> SpanID {
        guard let id = SpanID(bytes: data) else { throw wrongLength(field, count: data.count, want: 8) }
        guard !id.isZero else { throw allZero(field) }
        return id
    }

    /// The problem of a required id of `count` bytes instead of `want` (shared with ``OTLPTraceWireDecoder``).
    static func wrongLength(_ field: String, count: Int, want: Int) -> Problem {
        Problem(message: "\(field) has \(count) bytes, want \(want)")
    }

    /// The problem of a required id that is all zero (shared with ``OTLPTraceWireDecoder``).
    static func allZero(_ field: String) -> Problem {
        Problem(message: "\(field) is all zero, which W3C Trace Context calls invalid")
    }

    private static func optionalTraceID(_ data: Data, field: String) throws(Problem) -> TraceID? {
        if data.isEmpty { return nil }
        guard let id = TraceID(bytes: data) else { throw Problem(message: "\(field) has \(data.count) bytes, want 16 or none") }
        return id.isZero ? nil : id
    }

    private static func optionalSpanID(_ data: Data, field: String) throws(Problem) -> SpanID? {
        if data.isEmpty { return nil }
        guard let id = SpanID(bytes: data) else { throw Problem(message: "\(field) has \(data.count) bytes, want 8 or none") }
        return id.isZero ? nil : id
    }

    // MARK: Metrics

    private struct ConvertedPoints {
        var kind: MetricKind?
        var points: [(Attributes, MetricPoint)] = []
        var problems: [String] = []
    }

    private static func points(of metric: Opentelemetry_Proto_Metrics_V1_Metric) -> ConvertedPoints {
        var converted = ConvertedPoints()
        switch metric.data {
        case .gauge(let gauge):
            converted.kind = .gauge
            converted.points = gauge.dataPoints.map { (attributes($0.attributes), .number(numberPoint($0))) }
        case .sum(let sum):
            converted.kind = .sum(isMonotonic: sum.isMonotonic, temporality: temporality(sum.aggregationTemporality))
            converted.points = sum.dataPoints.map { (attributes($0.attributes), .number(numberPoint($0))) }
        case .histogram(let histogram):
            converted.kind = .histogram(temporality: temporality(histogram.aggregationTemporality))
            for (index, proto) in histogram.dataPoints.enumerated() {
                if let problem = histogramProblem(proto) {
                    converted.problems.append("dataPoints[\(index)]: \(problem)")
                    continue
                }
                let point = HistogramPoint(
                    startTimeUnixNano: proto.startTimeUnixNano,
                    timeUnixNano: proto.timeUnixNano,
                    count: proto.count,
                    sum: proto.hasSum ? proto.sum : nil,
                    min: proto.hasMin ? proto.min : nil,
                    max: proto.hasMax ? proto.max : nil,
                    explicitBounds: proto.explicitBounds,
                    bucketCounts: proto.bucketCounts,
                    flags: proto.flags
                )
                converted.points.append((attributes(proto.attributes), .histogram(point)))
            }
        case .exponentialHistogram(let histogram):
            converted.kind = .exponentialHistogram(temporality: temporality(histogram.aggregationTemporality))
            converted.points = histogram.dataPoints.map { proto in
                let point = ExponentialHistogramPoint(
                    startTimeUnixNano: proto.startTimeUnixNano,
                    timeUnixNano: proto.timeUnixNano,
                    count: proto.count,
                    sum: proto.hasSum ? proto.sum : nil,
                    min: proto.hasMin ? proto.min : nil,
                    max: proto.hasMax ? proto.max : nil,
                    scale: proto.scale,
                    zeroCount: proto.zeroCount,
                    zeroThreshold: proto.zeroThreshold,
                    positive: .init(offset: proto.positive.offset, bucketCounts: proto.positive.bucketCounts),
                    negative: .init(offset: proto.negative.offset, bucketCounts: proto.negative.bucketCounts),
                    flags: proto.flags
                )
                return (attributes(proto.attributes), .exponentialHistogram(point))
            }
        case .summary(let summary):
            converted.kind = .summary
            converted.points = summary.dataPoints.map { proto in
                let point = SummaryPoint(
                    startTimeUnixNano: proto.startTimeUnixNano,
                    timeUnixNano: proto.timeUnixNano,
                    count: proto.count,
                    sum: proto.sum,
                    quantiles: proto.quantileValues.map { .init(quantile: $0.quantile, value: $0.value) },
                    flags: proto.flags
                )
                return (attributes(proto.attributes), .summary(point))
            }
        case nil:
            converted.kind = nil
        }
        return converted
    }

    private static func histogramProblem(_ point: Opentelemetry_Proto_Metrics_V1_HistogramDataPoint) -> String? {
        let bounds = point.explicitBounds
        if point.bucketCounts.isEmpty { return nil }
        if point.bucketCounts.count != bounds.count + 1 {
            return "\(point.bucketCounts.count) bucket counts for \(bounds.count) explicit bounds, want \(bounds.count + 1)"
        }
        if zip(bounds, bounds.dropFirst()).contains(where: { !($0 < $1) }) {
            return "explicit bounds \(bounds) are not strictly increasing"
        }
        // Checked, not wrapping: counts whose sum wraps around to `count` would pass, and every reader that adds
        // them up (cumulative `le` buckets) would then overflow.
        var total: UInt64 = 0
        for bucketCount in point.bucketCounts {
            let (sum, overflow) = total.addingReportingOverflow(bucketCount)
            if overflow { return "bucket counts add up to more than \(UInt64.max), the most a count holds" }
            total = sum
        }
        if total != point.count { return "bucket counts add up to \(total) but count is \(point.count)" }
        return nil
    }

    private static func numberPoint(_ proto: Opentelemetry_Proto_Metrics_V1_NumberDataPoint) -> NumberPoint {
        let value: NumberValue =
            switch proto.value {
            case .asInt(let value): .int(value)
            case .asDouble(let value): .double(value)
            case nil: .double(0)
            }
        return NumberPoint(
            startTimeUnixNano: proto.startTimeUnixNano,
            timeUnixNano: proto.timeUnixNano,
            value: value,
            flags: proto.flags
        )
    }

    private static func temporality(_ proto: Opentelemetry_Proto_Metrics_V1_AggregationTemporality) -> AggregationTemporality {
        AggregationTemporality(rawValue: proto.rawValue) ?? .unspecified
    }

    // MARK: Common

    private static func scopeOf(_ proto: Opentelemetry_Proto_Common_V1_InstrumentationScope) -> InstrumentationScope {
        InstrumentationScope(name: proto.name, version: proto.version, attributes: attributes(proto.attributes))
    }

    /// Converts OTLP key-values to attributes (a repeated key keeps its last value).
    package static func attributes(_ keyValues: [Opentelemetry_Proto_Common_V1_KeyValue]) -> Attributes {
        var result = Attributes(minimumCapacity: keyValues.count)
        for keyValue in keyValues { result[keyValue.key] = value(keyValue.value) }
        return result
    }

    /// Converts an OTLP `AnyValue`.
    package static func value(_ proto: Opentelemetry_Proto_Common_V1_AnyValue) -> AttributeValue {
        switch proto.value {
        case .stringValue(let value): .string(value)
        case .boolValue(let value): .bool(value)
        case .intValue(let value): .int(value)
        case .doubleValue(let value): .double(value)
        case .bytesValue(let value): .bytes(Array(value))
        case .arrayValue(let array): .array(array.values.map(value))
        case .kvlistValue(let list): .keyValueList(attributes(list.values))
        // An index into the profiles signal's string table; traces, metrics and logs have no such table.
        case .stringValueStrindex, nil: .empty
        }
    }
}

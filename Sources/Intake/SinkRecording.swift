package import Foundation
package import OTelBenchProtos
import PromQL
import SwiftProtobuf
package import Telemetry

/// What the Jaeger, Prometheus and Elasticsearch sinks accepted, as OTLP requests for the `--record` file
/// (and a run's `recording.jsonl`), so that a recording holds everything a run received whatever protocol
/// brought it, and replays through the same conversion as OTLP (spans keep ids, references, attributes,
/// events, status, resource and scope; remote-write samples become gauge points with their labels as
/// attributes; Elasticsearch documents become log records as the sink mapped them).
package enum SinkRecording {
    /// Appends `batch` to `recorder`, if there is one; a failure to write is reported, never fatal to intake.
    package static func record(_ batch: Batch, to recorder: RecordingWriter?) -> String? {
        guard let recorder else { return nil }
        do {
            if !batch.spans.isEmpty { try recorder.append(.traces(traces(batch.spans))) }
            if !batch.series.isEmpty { try recorder.append(.metrics(metrics(batch.series))) }
            if !batch.logs.isEmpty { try recorder.append(.logs(logs(batch.logs))) }
            return nil
        } catch {
            return "recording to \(recorder.path) failed: \(error)"
        }
    }

    /// Spans as an OTLP request, one `ResourceSpans` per resource and one `ScopeSpans` per scope, in order.
    package static func traces(_ spans: [Span]) -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest {
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        request.resourceSpans = grouped(spans, resource: \.resource, scope: \.scope).map { resource, scopes in
            var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            resourceSpans.resource.attributes = keyValues(resource.attributes)
            resourceSpans.scopeSpans = scopes.map { scope, members in
                var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
                scopeSpans.scope = proto(scope)
                scopeSpans.spans = members.map(proto)
                return scopeSpans
            }
            return resourceSpans
        }
        return request
    }

    /// `items` by resource, then by scope, each in the order first seen.
    package static func grouped<Item>(
        _ items: [Item],
        resource: (Item) -> Resource,
        scope: (Item) -> InstrumentationScope
    ) -> [(Resource, [(InstrumentationScope, [Item])])] {
        var resources: [(Resource, [(InstrumentationScope, [Item])])] = []
        var resourceIndex: [Resource: Int] = [:]
        var scopeIndex: [Resource: [InstrumentationScope: Int]] = [:]
        for item in items {
            let (itemResource, itemScope) = (resource(item), scope(item))
            let resourcePosition =
                resourceIndex[itemResource]
                ?? {
                    resources.append((itemResource, []))
                    resourceIndex[itemResource] = resources.count - 1
                    return resources.count - 1
                }()
            if let scopePosition = scopeIndex[itemResource]?[itemScope] {
                resources[resourcePosition].1[scopePosition].1.append(item)
            } else {
                scopeIndex[itemResource, default: [:]][itemScope] = resources[resourcePosition].1.count
                resources[resourcePosition].1.append((itemScope, [item]))
            }
        }
        return resources
    }

    private static func proto(_ scope: InstrumentationScope) -> Opentelemetry_Proto_Common_V1_InstrumentationScope {
        var message = Opentelemetry_Proto_Common_V1_InstrumentationScope()
        message.name = scope.name
        message.version = scope.version
        message.attributes = keyValues(scope.attributes)
        return message
    }

    /// Number series as OTLP gauges (one metric per series, one point per sample), under a scope named for
    /// the channel that brought them (`otelbench.prometheus-remote-write`), so that a replay still knows them
    /// for Prometheus' own series (``PrometheusView/isNativePrometheus(_:)``); other kinds are not produced by
    /// the sinks and are left out.
    package static func metrics(_ series: [MetricSeries]) -> Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest {
        var scopes: [Opentelemetry_Proto_Metrics_V1_ScopeMetrics] = []
        var scopeIndex: [IntakeChannel: Int] = [:]
        for one in series {
            let position: Int
            if let known = scopeIndex[one.channel] {
                position = known
            } else {
                var scopeMetrics = Opentelemetry_Proto_Metrics_V1_ScopeMetrics()
                scopeMetrics.scope.name = PrometheusView.recordingScopePrefix + one.channel.name
                position = scopes.count
                scopeIndex[one.channel] = position
                scopes.append(scopeMetrics)
            }
            var metric = Opentelemetry_Proto_Metrics_V1_Metric()
            metric.name = one.name
            metric.unit = one.unit
            metric.description_p = one.description
            metric.gauge.dataPoints = one.points.compactMap { point in
                guard case .number(let number) = point else { return nil }
                var dataPoint = Opentelemetry_Proto_Metrics_V1_NumberDataPoint()
                dataPoint.attributes = keyValues(one.key.attributes)
                dataPoint.timeUnixNano = number.timeUnixNano
                dataPoint.startTimeUnixNano = number.startTimeUnixNano
                switch number.value {
                case .int(let value): dataPoint.asInt = value
                case .double(let value): dataPoint.asDouble = value
                }
                return dataPoint
            }
            scopes[position].metrics.append(metric)
        }
        var resourceMetrics = Opentelemetry_Proto_Metrics_V1_ResourceMetrics()
        resourceMetrics.scopeMetrics = scopes
        var request = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest()
        request.resourceMetrics = [resourceMetrics]
        return request
    }

    /// Log records as an OTLP request, one `ResourceLogs` per resource and one `ScopeLogs` per scope, in order.
    package static func logs(_ records: [LogRecord]) -> Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest {
        var request = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest()
        request.resourceLogs = grouped(records, resource: \.resource, scope: \.scope).map { resource, scopes in
            var resourceLogs = Opentelemetry_Proto_Logs_V1_ResourceLogs()
            resourceLogs.resource.attributes = keyValues(resource.attributes)
            resourceLogs.scopeLogs = scopes.map { scope, members in
                var scopeLogs = Opentelemetry_Proto_Logs_V1_ScopeLogs()
                scopeLogs.scope = proto(scope)
                scopeLogs.logRecords = members.map(proto)
                return scopeLogs
            }
            return resourceLogs
        }
        return request
    }

    private static func proto(_ record: LogRecord) -> Opentelemetry_Proto_Logs_V1_LogRecord {
        var proto = Opentelemetry_Proto_Logs_V1_LogRecord()
        proto.timeUnixNano = record.timeUnixNano
        proto.observedTimeUnixNano = record.observedTimeUnixNano
        proto.severityNumber = Opentelemetry_Proto_Logs_V1_SeverityNumber(rawValue: record.severityNumber) ?? .unspecified
        proto.severityText = record.severityText
        if record.body != .empty { proto.body = anyValue(record.body) }
        proto.attributes = keyValues(record.attributes)
        if let traceID = record.traceID { proto.traceID = Data(traceID.bytes) }
        if let spanID = record.spanID { proto.spanID = Data(spanID.bytes) }
        proto.flags = record.flags
        proto.eventName = record.eventName
        return proto
    }

    private static func proto(_ span: Span) -> Opentelemetry_Proto_Trace_V1_Span {
        var proto = Opentelemetry_Proto_Trace_V1_Span()
        proto.traceID = Data(span.traceID.bytes)
        proto.spanID = Data(span.spanID.bytes)
        if let parent = span.parentSpanID { proto.parentSpanID = Data(parent.bytes) }
        proto.traceState = span.traceState
        proto.flags = span.flags
        proto.name = span.name
        proto.kind = Opentelemetry_Proto_Trace_V1_Span.SpanKind(rawValue: span.kind.rawValue) ?? .unspecified
        proto.startTimeUnixNano = span.startTimeUnixNano
        proto.endTimeUnixNano = span.endTimeUnixNano
        proto.attributes = keyValues(span.attributes)
        proto.droppedAttributesCount = span.droppedAttributesCount
        proto.events = span.events.map { event in
            var protoEvent = Opentelemetry_Proto_Trace_V1_Span.Event()
            protoEvent.timeUnixNano = event.timeUnixNano
            protoEvent.name = event.name
            protoEvent.attributes = keyValues(event.attributes)
            return protoEvent
        }
        proto.links = span.links.map { link in
            var protoLink = Opentelemetry_Proto_Trace_V1_Span.Link()
            protoLink.traceID = Data(link.traceID.bytes)
            protoLink.spanID = Data(link.spanID.bytes)
            protoLink.traceState = link.traceState
            protoLink.attributes = keyValues(link.attributes)
            return protoLink
        }
        proto.status.code = Opentelemetry_Proto_Trace_V1_Status.StatusCode(rawValue: span.status.code.rawValue) ?? .unset
        proto.status.message = span.status.message
        return proto
    }

    private static func keyValues(_ attributes: Attributes) -> [Opentelemetry_Proto_Common_V1_KeyValue] {
        attributes.sorted { $0.key < $1.key }.map { key, value in
            var keyValue = Opentelemetry_Proto_Common_V1_KeyValue()
            keyValue.key = key
            keyValue.value = anyValue(value)
            return keyValue
        }
    }

    private static func anyValue(_ value: AttributeValue) -> Opentelemetry_Proto_Common_V1_AnyValue {
        var proto = Opentelemetry_Proto_Common_V1_AnyValue()
        switch value {
        case .string(let text): proto.stringValue = text
        case .bool(let flag): proto.boolValue = flag
        case .int(let number): proto.intValue = number
        case .double(let number): proto.doubleValue = number
        case .bytes(let bytes): proto.bytesValue = Data(bytes)
        case .array(let values): proto.arrayValue.values = values.map(anyValue)
        case .keyValueList(let values): proto.kvlistValue.values = keyValues(values)
        case .empty: break
        }
        return proto
    }
}

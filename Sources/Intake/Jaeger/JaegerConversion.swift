import Foundation
package import OTelBenchProtos
import SwiftProtobuf
package import Telemetry

extension IntakeChannel {
    /// Jaeger api_v2 `CollectorService/PostSpans` over gRPC.
    package static let jaegerGRPC = IntakeChannel("jaeger-grpc")
    /// jaeger.thrift `Batch` over HTTP (`POST /api/traces`).
    package static let jaegerThrift = IntakeChannel("jaeger-thrift-http")
}

/// Turns Jaeger api_v2 spans (from gRPC, or decoded from Thrift) into the store's spans, as the
/// OpenTelemetry Collector's Jaeger receiver does:
///
/// - trace id: 16 bytes (Thrift's `traceIdHigh` then `traceIdLow`); span id: 8 bytes; neither all zero.
/// - the first `CHILD_OF` reference within the same trace is the parent; every other reference is a link
///   whose `opentracing.ref_type` attribute says `child_of` or `follows_from`.
/// - tags by type become attributes (string, bool, int64, float64, binary), except `span.kind` (kind),
///   `otel.status_code`/`otel.status_description`/`error` (status), `otel.library.*`/`otel.scope.*`
///   (scope) and `w3c.tracestate`.
/// - logs become events named by their `event` field; the process becomes the resource, its service name
///   `service.name`; Jaeger's sampled flag (bit 0) becomes the W3C sampled flag.
///
/// The sinks do not build the api_v2 model: they decode straight into the store's spans
/// (``JaegerProtoWireDecoder``, ``JaegerThriftDecoder``) by these rules (``JaegerSpanAssembly``), and are checked
/// against this conversion of the generated messages.
package enum JaegerConversion {
    /// Converts every span of a batch; a span may carry its own process, which then wins over the batch's.
    ///
    /// - Returns: the spans, or the problems (one per invalid span, naming it): a batch with any invalid span
    ///   is refused whole, so that a sender's retry can never store a span twice.
    package static func spans(
        _ batch: Jaeger_ApiV2_Batch,
        channel: IntakeChannel
    ) -> (spans: [Span], problems: [String]) {
        var spans: [Span] = []
        var problems: [String] = []
        spans.reserveCapacity(batch.spans.count)
        let batchResource = resource(batch.process)
        for (index, proto) in batch.spans.enumerated() {
            let spanResource = proto.hasProcess ? resource(proto.process) : batchResource
            switch span(proto, resource: spanResource, channel: channel) {
            case .success(let span): spans.append(span)
            case .failure(let problem): problems.append("spans[\(index)] (\"\(proto.operationName)\"): \(problem.message)")
            }
        }
        return (spans, problems)
    }

    typealias Problem = JaegerSpanProblem

    private static func span(_ proto: Jaeger_ApiV2_Span, resource: Resource, channel: IntakeChannel) -> Result<Span, Problem> {
        guard let traceID = TraceID(bytes: proto.traceID) else {
            return .failure(Problem(message: "traceId has \(proto.traceID.count) bytes, want 16"))
        }
        guard !traceID.isZero else { return .failure(Problem(message: "traceId is all zero")) }
        guard let spanID = SpanID(bytes: proto.spanID) else {
            return .failure(Problem(message: "spanId has \(proto.spanID.count) bytes, want 8"))
        }
        guard !spanID.isZero else { return .failure(Problem(message: "spanId is all zero")) }
        guard let start = nanoseconds(proto.startTime.seconds, proto.startTime.nanos) else {
            return .failure(Problem(message: "startTime \(proto.startTime.seconds)s is out of range: send times \(UnixTime.rangeText)"))
        }
        guard let duration = nanoseconds(proto.duration.seconds, proto.duration.nanos) else {
            return .failure(Problem(message: "duration \(proto.duration.seconds)s is negative or out of range"))
        }
        var parent: SpanID?
        var links: [SpanLink] = []
        for (index, reference) in proto.references.enumerated() {
            guard let referenceTrace = TraceID(bytes: reference.traceID), let referenceSpan = SpanID(bytes: reference.spanID) else {
                return .failure(
                    Problem(message: "references[\(index)] has ids of \(reference.traceID.count) and \(reference.spanID.count) bytes, want 16 and 8")
                )
            }
            if parent == nil, reference.refType == .childOf, referenceTrace == traceID {
                parent = referenceSpan
                continue
            }
            let type = reference.refType == .followsFrom ? "follows_from" : "child_of"
            links.append(SpanLink(traceID: referenceTrace, spanID: referenceSpan, attributes: [JaegerSpecialTag.referenceType: .string(type)]))
        }
        var attributes = self.attributes(proto.tags)
        let kind = JaegerSpanAssembly.spanKind(attributes.removeValue(forKey: JaegerSpecialTag.spanKind))
        var status = SpanStatus()
        let statusCode = attributes.removeValue(forKey: JaegerSpecialTag.statusCode)?.description.uppercased()
        let statusDescription = attributes.removeValue(forKey: JaegerSpecialTag.statusDescription)
        let errorTag = attributes.removeValue(forKey: JaegerSpecialTag.error)
        let errorFlagged = errorTag == .bool(true) || errorTag == .string("true")
        switch statusCode {
        case "ERROR": status.code = .error
        case "OK": status.code = .ok
        default: status.code = errorFlagged ? .error : .unset
        }
        if status.code == .error, let statusDescription { status.message = statusDescription.description }
        // `error=false` says nothing about the status: keep it as it was sent.
        if let errorTag, !errorFlagged { attributes[JaegerSpecialTag.error] = errorTag }
        var scope = InstrumentationScope()
        if let name = attributes.removeValue(forKey: JaegerSpecialTag.scopeName) ?? attributes.removeValue(forKey: JaegerSpecialTag.libraryName) {
            scope.name = name.description
        }
        if let version = attributes.removeValue(forKey: JaegerSpecialTag.scopeVersion) ?? attributes.removeValue(forKey: JaegerSpecialTag.libraryVersion) {
            scope.version = version.description
        }
        attributes.removeValue(forKey: JaegerSpecialTag.libraryName)
        attributes.removeValue(forKey: JaegerSpecialTag.libraryVersion)
        let traceState = attributes.removeValue(forKey: JaegerSpecialTag.traceState)?.description ?? ""
        let events = proto.logs.map { log -> SpanEvent in
            var fields = self.attributes(log.fields)
            let name = fields.removeValue(forKey: JaegerSpecialTag.event)?.description ?? ""
            return SpanEvent(timeUnixNano: nanoseconds(log.timestamp.seconds, log.timestamp.nanos) ?? 0, name: name, attributes: fields)
        }
        let (end, overflow) = start.addingReportingOverflow(duration)
        guard !overflow, end <= UnixTime.latest else {
            return .failure(Problem(message: "startTime + duration is out of range: the span must end \(UnixTime.rangeText)"))
        }
        return .success(
            Span(
                traceID: traceID,
                spanID: spanID,
                parentSpanID: parent,
                traceState: traceState,
                flags: proto.flags & 0x01,
                name: proto.operationName,
                kind: kind,
                startTimeUnixNano: start,
                endTimeUnixNano: end,
                attributes: attributes,
                events: events,
                links: links,
                status: status,
                resource: resource,
                scope: scope,
                channel: channel
            )
        )
    }

    /// The resource of a Jaeger process: its tags, and `service.name` from its service name.
    static func resource(_ process: Jaeger_ApiV2_Process) -> Resource {
        var attributes = self.attributes(process.tags)
        if !process.serviceName.isEmpty { attributes["service.name"] = .string(process.serviceName) }
        return Resource(attributes: attributes)
    }

    static func attributes(_ tags: [Jaeger_ApiV2_KeyValue]) -> Attributes {
        var attributes: Attributes = [:]
        for tag in tags {
            switch tag.vType {
            case .string, .UNRECOGNIZED: attributes[tag.key] = .string(tag.vStr)
            case .bool: attributes[tag.key] = .bool(tag.vBool)
            case .int64: attributes[tag.key] = .int(tag.vInt64)
            case .float64: attributes[tag.key] = .double(tag.vFloat64)
            case .binary: attributes[tag.key] = .bytes(Array(tag.vBinary))
            }
        }
        return attributes
    }

    /// Seconds and nanoseconds as nanoseconds since the epoch; `nil` when negative or after ``UnixTime/latest``.
    private static func nanoseconds(_ seconds: Int64, _ nanos: Int32) -> UInt64? {
        UnixTime.nanoseconds(seconds: seconds, nanos: Int64(nanos))
    }
}

import Foundation
import Intake
import Telemetry

/// A store span as Jaeger's query API shows it: OTLP fields written back as Jaeger tags and references,
/// as Jaeger's own OTLP translation does.
struct JaegerSpanView {
    /// One tag: key, Jaeger type name, JSON value, and the value as text (what `tags=` searches compare).
    struct Tag {
        var key: String
        var type: String
        var value: JSONValue
        var text: String

        var json: JSONValue { .object([("key", .string(key)), ("type", .string(type)), ("value", value)]) }
    }

    let span: Span
    let tags: [Tag]
    let processTags: [Tag]
    let logs: [(timestampMicros: UInt64, fields: [Tag])]

    init(_ span: Span) {
        self.span = span
        var tags = span.attributes.sorted { $0.key < $1.key }.map { Self.tag($0.key, $0.value) }
        if !span.scope.name.isEmpty { tags.append(Self.tag(JaegerSpecialTag.scopeName, .string(span.scope.name))) }
        if !span.scope.version.isEmpty { tags.append(Self.tag(JaegerSpecialTag.scopeVersion, .string(span.scope.version))) }
        switch span.kind {
        case .client, .server, .producer, .consumer, .internal: tags.append(Self.tag(JaegerSpecialTag.spanKind, .string(span.kind.description)))
        case .unspecified: break
        }
        switch span.status.code {
        case .ok: tags.append(Self.tag(JaegerSpecialTag.statusCode, .string("OK")))
        case .error:
            tags.append(Self.tag(JaegerSpecialTag.statusCode, .string("ERROR")))
            tags.append(Self.tag(JaegerSpecialTag.error, .bool(true)))
            if !span.status.message.isEmpty {
                tags.append(Self.tag(JaegerSpecialTag.statusDescription, .string(span.status.message)))
            }
        case .unset: break
        }
        if !span.traceState.isEmpty { tags.append(Self.tag(JaegerSpecialTag.traceState, .string(span.traceState))) }
        self.tags = tags
        self.processTags = span.resource.attributes.filter { $0.key != "service.name" }.sorted { $0.key < $1.key }.map { Self.tag($0.key, $0.value) }
        self.logs = span.events.map { event in
            var fields: [Tag] = []
            if !event.name.isEmpty { fields.append(Self.tag(JaegerSpecialTag.event, .string(event.name))) }
            fields += event.attributes.sorted { $0.key < $1.key }.map { Self.tag($0.key, $0.value) }
            return (event.timeUnixNano / 1000, fields)
        }
    }

    var serviceName: String { span.resource.serviceName }
    var startMicros: UInt64 { span.startTimeUnixNano / 1000 }
    var durationMicros: UInt64 { span.durationNanos / 1000 }

    /// Whether the span, its process or one of its logs has `key` with the value `text`, as Jaeger's search matches tags.
    func hasTag(_ key: String, _ text: String) -> Bool {
        tags.contains { $0.key == key && $0.text == text }
            || processTags.contains { $0.key == key && $0.text == text }
            || logs.contains { $0.fields.contains { $0.key == key && $0.text == text } }
    }

    /// The span's references: the parent as `CHILD_OF`, then each link (`FOLLOWS_FROM` unless it came from a `CHILD_OF`).
    var references: [JSONValue] {
        var references: [JSONValue] = []
        if let parent = span.parentSpanID {
            references.append(Self.reference("CHILD_OF", trace: span.traceID, span: parent))
        }
        for link in span.links {
            let type = link.attributes.string(JaegerSpecialTag.referenceType) == "child_of" ? "CHILD_OF" : "FOLLOWS_FROM"
            references.append(Self.reference(type, trace: link.traceID, span: link.spanID))
        }
        return references
    }

    func json(processID: String) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("traceID", .string(JaegerJSON.traceIDString(span.traceID))),
            ("spanID", .string(span.spanID.hex)),
        ]
        let flags = span.flags & 0x01
        if flags != 0 { members.append(("flags", .unsigned(UInt64(flags)))) }
        members += [
            ("operationName", .string(span.name)),
            ("references", .array(references)),
            ("startTime", .unsigned(startMicros)),
            ("duration", .unsigned(durationMicros)),
            ("tags", .array(tags.map(\.json))),
            ("logs", .array(logs.map { .object([("timestamp", .unsigned($0.timestampMicros)), ("fields", .array($0.fields.map(\.json)))]) })),
            ("processID", .string(processID)),
            ("warnings", .null),
        ]
        return .object(members)
    }

    private static func reference(_ type: String, trace: TraceID, span: SpanID) -> JSONValue {
        .object([("refType", .string(type)), ("traceID", .string(JaegerJSON.traceIDString(trace))), ("spanID", .string(span.hex))])
    }

    static func tag(_ key: String, _ value: AttributeValue) -> Tag {
        switch value {
        case .string(let text): Tag(key: key, type: "string", value: .string(text), text: text)
        case .bool(let flag): Tag(key: key, type: "bool", value: .bool(flag), text: flag ? "true" : "false")
        case .int(let number): Tag(key: key, type: "int64", value: .int(number), text: String(number))
        case .double(let number): Tag(key: key, type: "float64", value: .double(number), text: JaegerJSON.formatFloat(number))
        case .bytes(let bytes):
            Tag(key: key, type: "binary", value: .string(Data(bytes).base64EncodedString()), text: HexCoding.encode(bytes))
        case .array, .keyValueList, .empty: Tag(key: key, type: "string", value: .string(value.description), text: value.description)
        }
    }
}

/// Jaeger's JSON shapes: `{data, total, limit, offset, errors}` around traces in the UI model.
enum JaegerJSON {
    /// Jaeger's text form of a trace id: 16 lower-case hex digits when the high half is zero, 32 otherwise.
    static func traceIDString(_ id: TraceID) -> String {
        id.high == 0 ? SpanID(value: id.low).hex : id.hex
    }

    /// Parses a trace id as Jaeger does: 1 to 32 hex digits, the last 16 the low half.
    static func parseTraceID(_ text: Substring) -> TraceID? {
        guard !text.isEmpty, text.utf8.count <= 32, text.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        let padded = String(repeating: "0", count: 32 - text.utf8.count) + text
        return TraceID(hex: padded)
    }

    static func formatFloat(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }

    /// One trace: spans by start time, processes deduplicated as `p1`, `p2`, ….
    static func trace(_ spans: [Span]) -> JSONValue {
        let views = spans.map(JaegerSpanView.init).sorted { ($0.startMicros, $0.span.spanID) < ($1.startMicros, $1.span.spanID) }
        var processIDs: [[UInt8]: String] = [:]
        var processes: [(String, JSONValue)] = []
        var spanJSON: [JSONValue] = []
        for view in views {
            let process = JSONValue.object([
                ("serviceName", .string(view.serviceName)),
                ("tags", .array(view.processTags.map(\.json))),
            ])
            let key = process.serialized
            let processID: String
            if let known = processIDs[key] {
                processID = known
            } else {
                processID = "p\(processes.count + 1)"
                processIDs[key] = processID
                processes.append((processID, process))
            }
            spanJSON.append(view.json(processID: processID))
        }
        return .object([
            ("traceID", .string(views.first.map { traceIDString($0.span.traceID) } ?? "")),
            ("spans", .array(spanJSON)),
            ("processes", .object(processes)),
            ("warnings", .null),
        ])
    }

    /// The envelope of every answer.
    static func envelope(data: JSONValue, total: Int, errors: [(code: Int, message: String)] = []) -> JSONValue {
        .object([
            ("data", data),
            ("total", .int(Int64(total))),
            ("limit", .int(0)),
            ("offset", .int(0)),
            ("errors", errors.isEmpty ? .null : .array(errors.map { .object([("code", .int(Int64($0.code))), ("msg", .string($0.message))]) })),
        ])
    }
}

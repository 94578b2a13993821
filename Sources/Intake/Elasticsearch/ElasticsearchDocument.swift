import Foundation
package import Telemetry

extension IntakeChannel {
    /// Elasticsearch document APIs (`_bulk`, `_doc`, `_create`).
    package static let elasticsearch = IntakeChannel("elasticsearch")
}

/// A JSON value as parsed from a document, keeping integers, doubles and booleans apart.
enum DocumentValue: Decodable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([DocumentValue])
    case object([String: DocumentValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([DocumentValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: DocumentValue].self))
        }
    }

    /// Parses one JSON text.
    static func parse(_ bytes: some Collection<UInt8>) throws -> DocumentValue {
        try JSONDecoder().decode(DocumentValue.self, from: Data(bytes))
    }

    var attributeValue: AttributeValue {
        switch self {
        case .null: .empty
        case .bool(let value): .bool(value)
        case .int(let value): .int(value)
        case .double(let value): .double(value)
        case .string(let value): .string(value)
        case .array(let values): .array(values.map(\.attributeValue))
        case .object(let members): .keyValueList(members.mapValues(\.attributeValue))
        }
    }

    var text: String? {
        switch self {
        case .string(let value): value
        case .int(let value): String(value)
        case .double(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        default: nil
        }
    }
}

/// Why a document could not become a log record, in Elasticsearch's terms.
struct DocumentProblem: Error {
    var type: String
    var reason: String
}

/// Turns a log document, as the OpenTelemetry Collector's `elasticsearch` exporter and ECS-style log shippers
/// write them, into a store log record.
///
/// - time: `@timestamp` (RFC 3339, any fraction and offset, or epoch milliseconds), else `timestamp`.
/// - body: `body.text`, `Body`, `body` or `message`; severity: `SeverityText`/`severity_text`/`log.level`,
///   `SeverityNumber`/`severity_number`; ids: `TraceId`/`trace_id`/`trace.id`, `SpanId`/`span_id`/`span.id` (hex).
/// - resource: `Resource` or `resource.attributes` objects, flattened with dots, and `service.name`.
/// - attributes: `Attributes`/`attributes` flattened, and every other field (flattened), plus
///   `elasticsearch.index` naming the index the document was written to.
enum ElasticsearchDocument {
    static let timeFields = ["@timestamp", "timestamp", "Timestamp"]
    static let bodyFields = ["body.text", "Body", "body", "message"]
    static let severityTextFields = ["SeverityText", "severity_text", "log.level", "level"]
    static let severityNumberFields = ["SeverityNumber", "severity_number"]
    static let traceFields = ["TraceId", "trace_id", "trace.id"]
    static let spanFields = ["SpanId", "span_id", "span.id"]
    static let resourceFields = ["Resource", "resource.attributes", "resource"]
    static let attributeFields = ["Attributes", "attributes"]

    static func logRecord(_ document: DocumentValue, index: String, observedAt: UInt64) throws(DocumentProblem) -> LogRecord {
        guard case .object(let nested) = document else {
            throw DocumentProblem(type: "document_parsing_exception", reason: "[1:1] failed to parse: the document must be a JSON object")
        }
        var fields = flatten(nested)
        var record = LogRecord(observedTimeUnixNano: observedAt, channel: .elasticsearch)
        if let (field, value) = take(timeFields, from: &fields) {
            guard let nanos = timestamp(value) else {
                throw DocumentProblem(
                    type: "document_parsing_exception",
                    reason:
                        "failed to parse field [\(field)] of type [date]: '\(value.text ?? "?")' is not RFC 3339 (2024-05-01T12:00:00.123Z) or epoch milliseconds \(UnixTime.rangeText)"
                )
            }
            record.timeUnixNano = nanos
        }
        if let (_, value) = take(bodyFields, from: &fields) { record.body = value.attributeValue }
        if let (_, value) = take(severityTextFields, from: &fields) { record.severityText = value.text ?? "" }
        if let (field, value) = take(severityNumberFields, from: &fields) {
            guard case .int(let number) = value, (0...24).contains(number) else {
                throw DocumentProblem(type: "document_parsing_exception", reason: "field [\(field)] must be an integer from 0 to 24 (OTLP SeverityNumber)")
            }
            record.severityNumber = Int(number)
        }
        if let (field, value) = take(traceFields, from: &fields) {
            guard let text = value.text, let traceID = TraceID(hex: text) else {
                throw DocumentProblem(type: "document_parsing_exception", reason: "field [\(field)] must be 32 hex digits (a trace id)")
            }
            record.traceID = traceID
        }
        if let (field, value) = take(spanFields, from: &fields) {
            guard let text = value.text, let spanID = SpanID(hex: text) else {
                throw DocumentProblem(type: "document_parsing_exception", reason: "field [\(field)] must be 16 hex digits (a span id)")
            }
            record.spanID = spanID
        }
        var resource: Attributes = [:]
        for prefix in resourceFields {
            for key in fields.keys where key.hasPrefix(prefix + ".") {
                resource[String(key.dropFirst(prefix.count + 1))] = fields.removeValue(forKey: key)?.attributeValue
            }
        }
        if let (_, value) = take(["service.name"], from: &fields), let name = value.text { resource["service.name"] = .string(name) }
        record.resource = Resource(attributes: resource)
        var attributes: Attributes = [:]
        for prefix in attributeFields {
            for key in fields.keys where key.hasPrefix(prefix + ".") {
                attributes[String(key.dropFirst(prefix.count + 1))] = fields.removeValue(forKey: key)?.attributeValue
            }
        }
        for (key, value) in fields { attributes[key] = value.attributeValue }
        attributes["elasticsearch.index"] = .string(index)
        record.attributes = attributes
        return record
    }

    /// `{"a": {"b": 1}}` → `["a.b": 1]`; arrays and scalars stay as they are. A body object is kept whole.
    static func flatten(_ object: [String: DocumentValue], prefix: String = "") -> [String: DocumentValue] {
        var out: [String: DocumentValue] = [:]
        for (key, value) in object {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            if case .object(let members) = value, !(prefix.isEmpty && (key == "Body" || key == "body") && members["text"] == nil) {
                out.merge(flatten(members, prefix: path)) { _, new in new }
            } else {
                out[path] = value
            }
        }
        return out
    }

    private static func take(_ names: [String], from fields: inout [String: DocumentValue]) -> (String, DocumentValue)? {
        for name in names {
            if let value = fields.removeValue(forKey: name) { return (name, value) }
        }
        return nil
    }

    /// Nanoseconds since the epoch of an RFC 3339 timestamp or epoch milliseconds.
    static func timestamp(_ value: DocumentValue) -> UInt64? {
        switch value {
        case .int(let millis): return UnixTime.nanoseconds(millis: millis)
        case .double(let millis) where millis >= 0 && millis * 1e6 < Double(UnixTime.latest): return UInt64(millis * 1e6)
        case .string(let text):
            if text.utf8.allSatisfy({ (48...57).contains($0) }), !text.isEmpty {
                return UInt64(text).flatMap { UnixTime.nanoseconds(millis: $0) }
            }
            return rfc3339(text)
        default: return nil
        }
    }

    /// `2024-05-01T12:00:00.123456789Z` or with an offset such as `+02:00`; nanosecond precision kept.
    static func rfc3339(_ text: String) -> UInt64? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == UInt8(ascii: " "),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var position = 19
        var nanos = 0
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            var digits = 0
            while position < bytes.count, (48...57).contains(bytes[position]) {
                if digits < 9 { nanos = nanos * 10 + Int(bytes[position] - 48) }
                digits += 1
                position += 1
            }
            guard digits > 0 else { return nil }
            if digits < 9 { for _ in digits..<9 { nanos *= 10 } }
        }
        guard position < bytes.count else { return nil }
        var offsetSeconds = 0
        switch bytes[position] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard position + 1 == bytes.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard position + 6 == bytes.count, bytes[position + 3] == UInt8(ascii: ":"),
                let hours = number(position + 1..<position + 3), let minutes = number(position + 4..<position + 6)
            else { return nil }
            offsetSeconds = (hours * 3600 + minutes * 60) * (bytes[position] == UInt8(ascii: "+") ? 1 : -1)
        default: return nil
        }
        // Days from the civil date (proleptic Gregorian), Howard Hinnant's algorithm.
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return UnixTime.nanoseconds(seconds: Int64(seconds), nanos: Int64(nanos))
    }
}

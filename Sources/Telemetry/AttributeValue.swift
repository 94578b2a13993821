/// The value of an OpenTelemetry attribute (OTLP `AnyValue`).
///
/// Not `indirect`: every payload is stored inline (24 bytes a value), so a string, number or boolean attribute
/// takes no allocation of its own. The recursive cases need no box either: an array's and a dictionary's storage
/// are already on the heap.
package enum AttributeValue: Hashable, Sendable, CustomStringConvertible {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case bytes([UInt8])
    case array([AttributeValue])
    case keyValueList([String: AttributeValue])
    /// An `AnyValue` with no value set.
    case empty

    /// The value as Prometheus would print it in a label, and as people read it.
    package var description: String {
        switch self {
        case .string(let value): value
        case .bool(let value): value ? "true" : "false"
        case .int(let value): String(value)
        case .double(let value): String(value)
        case .bytes(let value): HexCoding.encode(value)
        case .array(let values): "[" + values.map(\.quotedDescription).joined(separator: ",") + "]"
        case .keyValueList(let values):
            "{"
                + values.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value.quotedDescription)" }
                .joined(separator: ",") + "}"
        case .empty: ""
        }
    }

    private var quotedDescription: String {
        if case .string(let value) = self { return "\"\(value)\"" }
        return description
    }

    /// The name of the value's type, as the OTLP `AnyValue` field is called.
    package var typeName: String {
        switch self {
        case .string: "string"
        case .bool: "bool"
        case .int: "int"
        case .double: "double"
        case .bytes: "bytes"
        case .array: "array"
        case .keyValueList: "kvlist"
        case .empty: "empty"
        }
    }
}

/// Attributes by key. OTLP forbids duplicate keys; where a sender repeats one, the last value wins.
package typealias Attributes = [String: AttributeValue]

extension Attributes {
    /// The string value of `key`, if it is a string attribute.
    package func string(_ key: String) -> String? {
        if case .string(let value) = self[key] { return value }
        return nil
    }
}

/// Prometheus' rules for metric and label names, for everything that reads or checks them (remote write,
/// scrapes, rule files).
package enum PrometheusNames {
    /// Whether `name` is a valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
    package static func isMetricName<C: Collection<UInt8>>(_ name: C) -> Bool {
        guard let first = name.first, isNameStart(first) || first == UInt8(ascii: ":") else { return false }
        return name.dropFirst().allSatisfy { isNameStart($0) || isDigit($0) || $0 == UInt8(ascii: ":") }
    }

    /// Whether `name` is a valid label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
    package static func isLabelName<C: Collection<UInt8>>(_ name: C) -> Bool {
        guard let first = name.first, isNameStart(first) else { return false }
        return name.dropFirst().allSatisfy { isNameStart($0) || isDigit($0) }
    }

    package static func isMetricName(_ name: String) -> Bool { isMetricName(name.utf8) }

    package static func isLabelName(_ name: String) -> Bool { isLabelName(name.utf8) }

    /// A letter or `_`.
    package static func isNameStart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "_")
    }

    package static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}

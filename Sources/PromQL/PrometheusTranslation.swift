/// OTLP → Prometheus names, as the OpenTelemetry Collector's `prometheus` exporter writes them with
/// metric suffixes on (its default).
///
/// Metric names: the OTLP name split into words at every character that is not a letter or digit;
/// the unit's words appended unless already there (`ms` → `milliseconds`, `By` → `bytes`, `s` → `seconds`,
/// `{requests}` annotations dropped, `x/y` → `x_per_y`, `1` → nothing); `_total` for monotonic sums (an
/// existing `total` word moved to the end); `_ratio` for gauges of unit `1`; the namespace in front;
/// words joined by `_`; a leading digit prefixed with `_`.
/// Label names: invalid characters become `_`; a leading digit gets `key_` in front, a single leading
/// underscore `key`.
package enum PrometheusTranslation {
    /// The Prometheus metric name of an OTLP metric.
    package static func metricName(_ name: String, unit: String, kind: MetricKindForNaming, namespace: String = "") -> String {
        var words = splitWords(name)
        let (mainUnit, perUnit) = unitWords(unit)
        if !mainUnit.isEmpty, !containsSequence(words, mainUnit) { words += mainUnit }
        if !perUnit.isEmpty, !containsSequence(words, ["per"] + perUnit) { words += ["per"] + perUnit }
        switch kind {
        case .counter:
            words.removeAll { $0 == "total" }
            words.append("total")
        case .gauge where unit == "1":
            if words.last != "ratio" { words.append("ratio") }
        default: break
        }
        let namespaceWords = splitWords(namespace)
        var result = (namespaceWords + words).joined(separator: "_")
        if let first = result.utf8.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) { result = "_" + result }
        return result
    }

    /// What decides a metric's suffixes.
    package enum MetricKindForNaming: Sendable {
        case counter
        case gauge
        case histogram
        case summary
    }

    /// A Prometheus label name for an OTLP attribute key.
    package static func labelName(_ key: String) -> String {
        guard !key.isEmpty else { return key }
        var sanitized = String(decoding: key.utf8.map { isAlphanumeric($0) || $0 == UInt8(ascii: "_") ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
        if let first = sanitized.utf8.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) {
            sanitized = "key_" + sanitized
        } else if sanitized.hasPrefix("_"), !sanitized.hasPrefix("__") {
            sanitized = "key" + sanitized
        }
        return sanitized
    }

    static let unitNames: [String: String] = [
        "d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds", "us": "microseconds",
        "ns": "nanoseconds", "By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes",
        "TiBy": "tibibytes", "KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes",
        "m": "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts", "g": "grams", "Cel": "celsius",
        "Hz": "hertz", "1": "", "%": "percent",
    ]

    static let perUnitNames: [String: String] = [
        "s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year",
    ]

    /// The words the unit adds, before and after `per`.
    static func unitWords(_ unit: String) -> (main: [String], per: [String]) {
        let parts = unit.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        func clean(_ part: String, names: [String: String]) -> [String] {
            let trimmed = String(part.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
            guard !trimmed.isEmpty, !trimmed.contains("{") else { return [] }
            return splitWords(names[trimmed] ?? trimmed)
        }
        let main = parts.first.map { clean($0, names: unitNames) } ?? []
        let per = parts.count > 1 ? clean(parts[1], names: perUnitNames) : []
        return (main, per)
    }

    static func splitWords(_ text: String) -> [String] {
        text.utf8.split { !isAlphanumeric($0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    private static func containsSequence(_ words: [String], _ sequence: [String]) -> Bool {
        guard !sequence.isEmpty, sequence.count <= words.count else { return false }
        return (0...(words.count - sequence.count)).contains { Array(words[$0..<$0 + sequence.count]) == sequence }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

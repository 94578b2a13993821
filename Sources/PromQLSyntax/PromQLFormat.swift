/// Numbers, durations and strings written as Prometheus writes them.
package enum PromQLFormat {
    /// A float as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes it (Prometheus' API and `le` labels):
    /// the shortest digits that read back exactly, never an exponent; `NaN`, `+Inf`, `-Inf`.
    package static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        // Swift's description has the shortest round-trip digits. Without an exponent (most values) it is
        // Go's text but for a trailing ".0"; else the exponent is spelled out below. (The query API writes
        // one number per point: the slow path alone took most of an instant query's encoding.)
        let text = "\(value)"
        if !text.utf8.contains(UInt8(ascii: "e")) { return text.hasSuffix(".0") ? String(text.dropLast(2)) : text }
        return spelledOut(text)
    }

    /// Swift's shortest round-trip text of a finite, non-zero double (`1.5e-07`, `12.0`) with the exponent
    /// spelled out and no trailing zeros, as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes it.
    static func spelledOut(_ description: String) -> String {
        var text = description
        var negative = false
        if text.hasPrefix("-") {
            negative = true
            text.removeFirst()
        }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        var integerDigits = String(parts[0])
        var fractionDigits = parts.count > 1 ? String(parts[1]) : ""
        if fractionDigits.allSatisfy({ $0 == "0" }) { fractionDigits = "" }
        var digits = integerDigits + fractionDigits
        var point = integerDigits.count + exponent
        // Strip leading zeros of the digit string, keeping the decimal point where it belongs.
        while digits.count > 1, digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.count > 1, digits.last == "0", point < digits.count { digits.removeLast() }
        if point <= 0 {
            integerDigits = "0"
            fractionDigits = String(repeating: "0", count: -point) + digits
        } else if point >= digits.count {
            integerDigits = digits + String(repeating: "0", count: point - digits.count)
            fractionDigits = ""
        } else {
            integerDigits = String(digits.prefix(point))
            fractionDigits = String(digits.dropFirst(point))
        }
        while fractionDigits.last == "0" { fractionDigits.removeLast() }
        return (negative ? "-" : "") + integerDigits + (fractionDigits.isEmpty ? "" : "." + fractionDigits)
    }

    /// A duration as Prometheus prints one: `1h30m`, `5m`, `250ms`; `0s` for zero.
    package static func duration(_ duration: Duration) -> String {
        let signed = milliseconds(duration)
        guard signed != 0 else { return "0s" }
        var text = signed < 0 ? "-" : ""
        var milliseconds = signed.magnitude
        let units: [(String, UInt64)] = [
            ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1),
        ]
        for (unit, size) in units where milliseconds >= size {
            text += "\(milliseconds / size)\(unit)"
            milliseconds %= size
        }
        return text
    }

    /// Whole milliseconds in a duration, clamped to Int64 (durations from PromQL are at most ~292 years).
    package static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (total, sumOverflow) = whole.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        return sumOverflow ? (whole < 0 ? .min : .max) : total
    }

    /// A label value or string escaped for `"…"`: backslash, double quote and newline. Scalar by scalar: a backslash
    /// followed by a combining mark is one `Character` that is not `"\\"`, and would be left unescaped.
    package static func escape(_ value: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\"": out.append(contentsOf: "\\\"".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }
}

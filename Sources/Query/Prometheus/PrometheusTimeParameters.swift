import Foundation
import PromQLSyntax

/// A time parameter as Prometheus' API holds one: a Go `time.Time` (seconds and nanoseconds since the Unix
/// epoch). Prometheus accepts any float of seconds — `1e18` as well as `1700000000.5` — and converts it the
/// way Go does, wrapping on overflow instead of failing; OTelBench does the same, so that hostile times are
/// answered as Prometheus answers them, never with a trap.
struct PrometheusTime: Sendable, Hashable {
    var seconds: Int64
    /// 0..<1_000_000_000.
    var nanoseconds: Int64

    /// Go's `time.Unix(seconds, nanoseconds)`: nanoseconds outside a second are carried into the seconds.
    init(seconds: Int64, nanoseconds: Int64) {
        var (seconds, nanoseconds) = (seconds, nanoseconds)
        if nanoseconds < 0 || nanoseconds >= 1_000_000_000 {
            let carry = nanoseconds / 1_000_000_000
            seconds = seconds &+ carry
            nanoseconds -= carry * 1_000_000_000
            if nanoseconds < 0 {
                nanoseconds += 1_000_000_000
                seconds = seconds &- 1
            }
        }
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// What the query engine evaluates at: Go's `t.UnixNano() / 1e6`, wrapping past the year 2262 as Go's does.
    var milliseconds: Int64 { (seconds &* 1_000_000_000 &+ nanoseconds) / 1_000_000 }

    /// What the series and label endpoints select by: Prometheus' `timestamp.FromTime`, seconds × 1000 plus
    /// the milliseconds of the fraction, wrapping as Go's arithmetic does.
    var storageMilliseconds: Int64 { seconds &* 1000 &+ nanoseconds / 1_000_000 }

    /// Seconds since Go's internal epoch (year 1), wrapping, which is what Go compares times by.
    private var internalSeconds: Int64 { seconds &+ 62_135_596_800 }

    /// Go's `t.Before(u)`.
    func isBefore(_ other: PrometheusTime) -> Bool {
        internalSeconds < other.internalSeconds || (internalSeconds == other.internalSeconds && nanoseconds < other.nanoseconds)
    }

    /// Go's `t.Sub(u)` in nanoseconds: saturated at the Int64 bounds instead of overflowing.
    func nanoseconds(since other: PrometheusTime) -> Int64 {
        let difference = (Int128(seconds) - Int128(other.seconds)) * 1_000_000_000 + Int128(nanoseconds - other.nanoseconds)
        return Int64(clamping: difference)
    }

    /// Unix seconds with a fraction (Go's `strconv.ParseFloat`, then `math.Modf` and rounding to
    /// milliseconds), or RFC 3339.
    static func parse(_ text: String) -> PrometheusTime? {
        if let value = goFloat(text) {
            let whole = value.rounded(.towardZero)
            let fraction = ((value - whole) * 1000).rounded(.toNearestOrAwayFromZero) / 1000
            return PrometheusTime(seconds: GoConversion.int64(whole), nanoseconds: GoConversion.int64(fraction * 1e9))
        }
        // Go's time parser reads 4-digit years only; Prometheus names its own boundary times.
        if text == "-292273086-05-16T16:47:06Z" { return PrometheusTime(seconds: Int64.min / 1000 + 62_135_596_801, nanoseconds: 0) }
        if text == "292277025-08-18T07:12:54.999999999Z" { return PrometheusTime(seconds: Int64.max / 1000 - 62_135_596_801, nanoseconds: 999_999_999) }
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) {
                let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
                let whole = (milliseconds / 1000).rounded(.down)
                return PrometheusTime(seconds: Int64(whole), nanoseconds: Int64(milliseconds - whole * 1000) * 1_000_000)
            }
        }
        return nil
    }

    /// A step or duration parameter in nanoseconds: float seconds (refused when they overflow Int64
    /// nanoseconds, as Prometheus does) or a PromQL duration (`15s`).
    static func parseDuration(_ text: String) -> Result<Int64, DurationError> {
        if let seconds = goFloat(text) {
            let nanoseconds = seconds * 1e9
            // Prometheus' bounds, compared as floats: 2^63 itself passes and converts to Int64.min.
            guard !(nanoseconds > Double(Int64.max) || nanoseconds < Double(Int64.min)) else { return .failure(.overflows) }
            return .success(GoConversion.int64(nanoseconds))
        }
        if let duration = PromQLParser.duration(text) { return .success(PromQLFormat.milliseconds(duration) * 1_000_000) }
        return .failure(.unreadable)
    }

    enum DurationError: Error {
        case unreadable
        case overflows
    }

    /// Go's `strconv.ParseFloat(text, 64)`: decimal or hexadecimal floats, `Inf`, `NaN`; values out of range
    /// are errors rather than infinities.
    static func goFloat(_ text: String) -> Double? {
        guard !text.isEmpty, !text.contains(where: \.isWhitespace), let value = Double(text) else { return nil }
        // Go reads hexadecimal floats only with a binary exponent: 0x1p4, not 0x10.
        if text.lowercased().contains("x"), !text.lowercased().contains("p") { return nil }
        if value.isInfinite, !text.lowercased().contains("inf") { return nil }
        if value.isNaN, text.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "+-")) != "nan" { return nil }
        return value
    }
}

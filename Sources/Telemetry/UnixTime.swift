/// Checked conversions of times from the wire into the store's nanoseconds since 1970 (OTLP's `fixed64`).
///
/// The store takes times from 1970 to ``latest`` (2262-04-11T23:47:16.854775807Z): the most nanoseconds a signed
/// 64-bit integer holds, as OTLP consumers (Go's `time.Time`, the Collector) and Prometheus' millisecond
/// arithmetic read them. Every conversion here returns `nil` outside that range instead of trapping on overflow,
/// so that a receiver can refuse the item with a message.
///
/// ```swift
/// UnixTime.nanoseconds(millis: 1_700_000_000_000)  // 1_700_000_000_000_000_000
/// UnixTime.nanoseconds(millis: .max)               // nil
/// ```
package enum UnixTime {
    /// The latest time the store takes, in nanoseconds since 1970.
    package static let latest = UInt64(Int64.max)
    /// ``latest`` in RFC 3339, for messages.
    package static let latestText = "2262-04-11T23:47:16.854775807Z"
    /// What every out-of-range message says the range is.
    package static let rangeText = "from 1970 to \(latestText)"

    /// `millis` since 1970 as nanoseconds, or `nil` before 1970 or after ``latest``.
    package static func nanoseconds(millis: Int64) -> UInt64? {
        guard millis >= 0 else { return nil }
        return scaled(UInt64(millis), by: 1_000_000)
    }

    /// `millis` since 1970 as nanoseconds, or `nil` after ``latest``.
    package static func nanoseconds(millis: UInt64) -> UInt64? { scaled(millis, by: 1_000_000) }

    /// `micros` since 1970 as nanoseconds, or `nil` before 1970 or after ``latest``.
    package static func nanoseconds(micros: Int64) -> UInt64? {
        guard micros >= 0 else { return nil }
        return scaled(UInt64(micros), by: 1000)
    }

    /// `seconds` and `nanos` (a protobuf `Timestamp` or `Duration`) as nanoseconds, or `nil` when either is
    /// negative or the sum is after ``latest``.
    package static func nanoseconds(seconds: Int64, nanos: Int64) -> UInt64? {
        guard seconds >= 0, nanos >= 0, let whole = scaled(UInt64(seconds), by: 1_000_000_000) else { return nil }
        let (sum, overflow) = whole.addingReportingOverflow(UInt64(nanos))
        return overflow || sum > latest ? nil : sum
    }

    private static func scaled(_ value: UInt64, by factor: UInt64) -> UInt64? {
        let (product, overflow) = value.multipliedReportingOverflow(by: factor)
        return overflow || product > latest ? nil : product
    }
}

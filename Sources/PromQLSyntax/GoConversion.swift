import Foundation

/// Go's numeric conversions as Prometheus (a Go program, built for amd64) performs them, for answers that
/// agree with it at the extremes instead of trapping: Go converts out-of-range floats without complaint and
/// wraps integer overflow.
package enum GoConversion {
    /// Go's `int64(value)` on amd64: truncated toward zero; NaN, infinities and values outside Int64 become
    /// `Int64.min` (the CPU's "integer indefinite"), never a trap.
    package static func int64(_ value: Double) -> Int64 {
        Int64(exactly: value.rounded(.towardZero)) ?? .min
    }

    /// Go's `fmt.Sprintf("%f", value)`: six decimals, `NaN`, `+Inf`, `-Inf`.
    package static func formatFixed(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        return String(format: "%f", value)
    }
}

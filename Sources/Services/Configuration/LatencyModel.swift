import Foundation

/// How long one operation takes, in simulated seconds: a fixed value, a uniform range, or a log-normal
/// distribution given by its median and 99th percentile.
///
/// Every draw is simulated time; the service sleeps `draw × timeScale` of wall time (see ``SimulatedClock``).
package enum LatencyModel: Sendable, Hashable, CustomStringConvertible {
    /// Always this many seconds.
    case fixed(seconds: Double)
    /// Uniform between `min` and `max` seconds.
    case uniform(min: Double, max: Double)
    /// Log-normal with this median and 99th percentile, in seconds (`p99 >= median > 0`).
    case logNormal(median: Double, p99: Double)

    /// No latency at all.
    package static let none = LatencyModel.fixed(seconds: 0)

    /// The z-score of the 99th percentile of the standard normal distribution.
    static let z99 = 2.326_347_874_040_840_8

    /// Checks the parameters; the message says what to change.
    package func validate() throws(ConfigurationError) {
        switch self {
        case .fixed(let seconds):
            guard seconds.isFinite, seconds >= 0 else { throw ConfigurationError("fixed latency must be >= 0 seconds (got \(seconds))") }
        case .uniform(let min, let max):
            guard min.isFinite, max.isFinite, min >= 0, max >= min else {
                throw ConfigurationError("uniform latency needs 0 <= min <= max (got min \(min), max \(max))")
            }
        case .logNormal(let median, let p99):
            guard median.isFinite, p99.isFinite, median > 0, p99 >= median else {
                throw ConfigurationError("lognormal latency needs 0 < median <= p99 (got median \(median), p99 \(p99))")
            }
        }
    }

    /// Draws one latency in seconds.
    package func sample(using generator: inout some RandomNumberGenerator) -> Double {
        switch self {
        case .fixed(let seconds):
            return seconds
        case .uniform(let min, let max):
            return min == max ? min : Double.random(in: min...max, using: &generator)
        case .logNormal(let median, let p99):
            // ln X ~ N(mu, sigma): mu = ln(median), and p99 = exp(mu + z99 * sigma).
            let mu = Foundation.log(median)
            let sigma = (Foundation.log(p99) - mu) / Self.z99
            return Foundation.exp(mu + sigma * Self.standardNormal(using: &generator))
        }
    }

    /// The model's exact quantile `q` (0 < q < 1), for documentation and tests.
    package func quantile(_ q: Double) -> Double {
        switch self {
        case .fixed(let seconds): return seconds
        case .uniform(let min, let max): return min + (max - min) * q
        case .logNormal(let median, let p99):
            let mu = Foundation.log(median)
            let sigma = (Foundation.log(p99) - mu) / Self.z99
            return Foundation.exp(mu + sigma * Self.inverseStandardNormal(q))
        }
    }

    /// Box–Muller.
    static func standardNormal(using generator: inout some RandomNumberGenerator) -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &generator)
        let u2 = Double.random(in: 0..<1, using: &generator)
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
    static func inverseStandardNormal(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        if p < low {
            let q = (-2 * Foundation.log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - low {
            let q = (-2 * Foundation.log(1 - p)).squareRoot()
            return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let q = p - 0.5
        let r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }

    package var description: String {
        switch self {
        case .fixed(let seconds): return "fixed \(seconds)s"
        case .uniform(let min, let max): return "uniform \(min)s..\(max)s"
        case .logNormal(let median, let p99): return "lognormal median \(median)s p99 \(p99)s"
        }
    }
}

/// A configuration value that cannot work, with what to change.
package struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong and how to fix it.
    package var message: String
    /// Creates an error.
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

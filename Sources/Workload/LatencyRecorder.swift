package import Histogram

/// Latencies in microseconds in an HDR histogram (1 µs to 1 hour, 3 significant digits): exact percentiles
/// within the histogram's precision. One per worker, merged at the end, so the hot path takes no lock.
package struct LatencyRecorder: Sendable, Codable {
    /// The histogram, in microseconds.
    package private(set) var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1,
        highestTrackableValue: 3_600_000_000,
        numberOfSignificantValueDigits: .three
    )

    package init() {}

    /// Records one latency (clamped to the histogram's range rather than trapping).
    package mutating func record(_ duration: Duration) {
        let micros = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        _ = histogram.record(UInt64(min(max(micros, 1), 3_600_000_000)))
    }

    /// Forgets every latency, keeping the histogram's storage (to reuse it for the next window).
    package mutating func reset() { histogram.reset() }

    /// Adds another worker's latencies.
    package mutating func merge(_ other: LatencyRecorder) { histogram.add(other.histogram) }

    /// Number of latencies recorded.
    package var count: UInt64 { histogram.totalCount }

    /// The latency at `percentile` (0–100), in milliseconds; 0 when nothing was recorded.
    package func milliseconds(atPercentile percentile: Double) -> Double {
        count == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000
    }

    /// The usual percentiles, in milliseconds.
    package var summary: LatencySummary {
        LatencySummary(
            count: Int(count),
            p50: milliseconds(atPercentile: 50),
            p90: milliseconds(atPercentile: 90),
            p99: milliseconds(atPercentile: 99),
            p999: milliseconds(atPercentile: 99.9),
            max: count == 0 ? 0 : Double(histogram.max) / 1000,
            mean: count == 0 ? 0 : histogram.mean / 1000
        )
    }
}

/// Latency percentiles in milliseconds.
package struct LatencySummary: Codable, Sendable, Hashable {
    package var count: Int
    package var p50: Double
    package var p90: Double
    package var p99: Double
    package var p999: Double
    package var max: Double
    package var mean: Double
}

/// Quantile arithmetic with the semantics people compare against.
public enum Quantiles {
    /// The nearest-rank quantile of samples (the smallest sample with at least `q` of all samples at or below
    /// it, as HDR histograms report); `nil` without samples.
    public static func nearestRank(_ q: Double, of samples: [Double]) -> Double? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// One cumulative bucket: observations `<= upperBound`.
    public struct Bucket: Sendable, Hashable {
        public var upperBound: Double
        public var cumulativeCount: Double
        public init(upperBound: Double, cumulativeCount: Double) {
            self.upperBound = upperBound
            self.cumulativeCount = cumulativeCount
        }
    }

    /// Prometheus' `histogram_quantile` (promql/quantile.go `bucketQuantile`, 2.x), step for step: buckets
    /// with the same bound are merged, cumulative counts made monotonic, the rank found among the finite
    /// buckets; the `+Inf` bucket answers with the highest finite bound, the lowest bucket starts at 0 (when
    /// its bound is positive), and within a bucket the value is interpolated linearly. NaN without a `+Inf`
    /// bucket or with fewer than two buckets (and, by 0/0, with no observations); -Inf/+Inf for q < 0 / q > 1.
    public static func histogramQuantile(_ q: Double, buckets unsorted: [Bucket]) -> Double {
        if q.isNaN { return .nan }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        var buckets: [Bucket] = []
        for bucket in unsorted.sorted(by: { $0.upperBound < $1.upperBound }) {
            if let last = buckets.last, last.upperBound == bucket.upperBound {
                buckets[buckets.count - 1].cumulativeCount += bucket.cumulativeCount
            } else {
                buckets.append(bucket)
            }
        }
        guard buckets.count >= 2, buckets.last?.upperBound == .infinity else { return .nan }
        for index in buckets.indices.dropFirst() where buckets[index].cumulativeCount < buckets[index - 1].cumulativeCount {
            buckets[index].cumulativeCount = buckets[index - 1].cumulativeCount
        }
        var rank = q * buckets[buckets.count - 1].cumulativeCount
        let finite = buckets.count - 1
        let index = buckets[..<finite].firstIndex { $0.cumulativeCount >= rank } ?? finite
        if index == finite { return buckets[finite - 1].upperBound }
        if index == 0 && buckets[0].upperBound <= 0 { return buckets[0].upperBound }
        var start = 0.0
        let end = buckets[index].upperBound
        var count = buckets[index].cumulativeCount
        if index > 0 {
            start = buckets[index - 1].upperBound
            count -= buckets[index - 1].cumulativeCount
            rank -= buckets[index - 1].cumulativeCount
        }
        return start + (end - start) * (rank / count)
    }
}

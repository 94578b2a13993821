/// Quantile arithmetic with the semantics people compare against (`histogram_quantile` is
/// ``PromQLFunctions/bucketQuantile(_:buckets:)``).
package enum Quantiles {
    /// The nearest-rank quantile of samples (the smallest sample with at least `q` of all samples at or below
    /// it, as HDR histograms report); `nil` without samples.
    package static func nearestRank(_ q: Double, of samples: [Double]) -> Double? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

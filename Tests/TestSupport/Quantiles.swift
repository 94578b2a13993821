/// The nearest-rank quantile over every sample: the straightforward reference the checks' streaming histograms are
/// compared with (`histogram_quantile` is ``PromQLFunctions/bucketQuantile(_:buckets:)``).
package enum Quantiles {
    /// The nearest-rank quantile of samples (the smallest sample with at least `q` of all samples at or below
    /// it, as HDR histograms report); `nil` without samples.
    package static func nearestRank(_ q: Double, of samples: [Double]) -> Double? {
        nearestRank(q, ofSorted: samples.sorted())
    }

    /// ``nearestRank(_:of:)`` of samples already in ascending order (many quantiles of one sort).
    package static func nearestRank(_ q: Double, ofSorted sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

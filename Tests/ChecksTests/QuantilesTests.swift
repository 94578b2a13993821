import Checks
import Testing

@Suite struct QuantilesTests {
    private let buckets = [
        Quantiles.Bucket(upperBound: 0.1, cumulativeCount: 10), Quantiles.Bucket(upperBound: 0.5, cumulativeCount: 30),
        Quantiles.Bucket(upperBound: 1, cumulativeCount: 40), Quantiles.Bucket(upperBound: .infinity, cumulativeCount: 40),
    ]

    @Test(arguments: [(0.5, 0.3), (0.99, 0.98), (1.0, 1.0), (0.1, 0.04), (0.25, 0.1)])
    func interpolatesWithinTheBucketLikePrometheus(q: Double, expected: Double) {
        #expect(abs(Quantiles.histogramQuantile(q, buckets: buckets) - expected) < 1e-12)
    }

    @Test func rankInTheInfBucketAnswersTheHighestFiniteBound() {
        var withTail = buckets
        withTail[3].cumulativeCount = 50
        #expect(Quantiles.histogramQuantile(0.99, buckets: withTail) == 1)
    }

    @Test func edgeCases() {
        #expect(Quantiles.histogramQuantile(0.5, buckets: Array(buckets.dropLast())).isNaN, "no +Inf bucket")
        #expect(Quantiles.histogramQuantile(0.5, buckets: [buckets[3]]).isNaN, "one bucket")
        #expect(Quantiles.histogramQuantile(-0.1, buckets: buckets) == -.infinity)
        #expect(Quantiles.histogramQuantile(1.1, buckets: buckets) == .infinity)
        #expect(Quantiles.histogramQuantile(0.5, buckets: buckets.map { .init(upperBound: $0.upperBound, cumulativeCount: 0) }).isNaN, "no observations")
        // Non-monotonic counts are made monotonic first: the 0.5 bucket's 5 becomes 10.
        let broken = [Quantiles.Bucket(upperBound: 0.1, cumulativeCount: 10), .init(upperBound: 0.5, cumulativeCount: 5), .init(upperBound: .infinity, cumulativeCount: 20)]
        #expect(Quantiles.histogramQuantile(0.5, buckets: broken) == 0.1)
    }

    @Test func nearestRankMatchesHDRReporting() {
        let samples = (1...1000).map(Double.init)
        #expect(Quantiles.nearestRank(0.99, of: samples) == 990)
        #expect(Quantiles.nearestRank(0.999, of: samples) == 999)
        #expect(Quantiles.nearestRank(1, of: samples) == 1000)
        #expect(Quantiles.nearestRank(0.5, of: []) == nil)
    }
}

import Checks
import PromQL
import TestSupport
import Testing

@Suite struct QuantilesTests {
    private let buckets = [
        PromQLFunctions.Bucket(upperBound: 0.1, count: 10), PromQLFunctions.Bucket(upperBound: 0.5, count: 30),
        PromQLFunctions.Bucket(upperBound: 1, count: 40), PromQLFunctions.Bucket(upperBound: .infinity, count: 40),
    ]

    @Test(arguments: [(0.5, 0.3), (0.99, 0.98), (1.0, 1.0), (0.1, 0.04), (0.25, 0.1)])
    func interpolatesWithinTheBucketLikePrometheus(q: Double, expected: Double) {
        #expect(abs(PromQLFunctions.bucketQuantile(q, buckets: buckets) - expected) < 1e-12)
    }

    @Test func rankInTheInfBucketAnswersTheHighestFiniteBound() {
        var withTail = buckets
        withTail[3].count = 50
        #expect(PromQLFunctions.bucketQuantile(0.99, buckets: withTail) == 1)
    }

    @Test func edgeCases() {
        #expect(PromQLFunctions.bucketQuantile(0.5, buckets: Array(buckets.dropLast())).isNaN, "no +Inf bucket")
        #expect(PromQLFunctions.bucketQuantile(0.5, buckets: [buckets[3]]).isNaN, "one bucket")
        #expect(PromQLFunctions.bucketQuantile(-0.1, buckets: buckets) == -.infinity)
        #expect(PromQLFunctions.bucketQuantile(1.1, buckets: buckets) == .infinity)
        #expect(PromQLFunctions.bucketQuantile(0.5, buckets: buckets.map { .init(upperBound: $0.upperBound, count: 0) }).isNaN, "no observations")
        // Non-monotonic counts are made monotonic first: the 0.5 bucket's 5 becomes 10.
        let broken = [PromQLFunctions.Bucket(upperBound: 0.1, count: 10), .init(upperBound: 0.5, count: 5), .init(upperBound: .infinity, count: 20)]
        #expect(PromQLFunctions.bucketQuantile(0.5, buckets: broken) == 0.1)
    }

    @Test func nearestRankMatchesHDRReporting() {
        let samples = (1...1000).map(Double.init)
        #expect(Quantiles.nearestRank(0.99, of: samples) == 990)
        #expect(Quantiles.nearestRank(0.999, of: samples) == 999)
        #expect(Quantiles.nearestRank(1, of: samples) == 1000)
        #expect(Quantiles.nearestRank(0.5, of: []) == nil)
    }
}

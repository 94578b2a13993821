import Synchronization
import Testing
import Workload

/// Latency percentiles per second: each window's points are exact percentiles of what completed in it, windows
/// close as the clock passes them, and long runs get wider windows.
@Suite struct LatencyOverTimeTests {
    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        let start = ContinuousClock.now
        private let offset = Mutex(Duration.zero)
        func advance(to time: Duration) { offset.withLock { $0 = time } }
        var now: ContinuousClock.Instant { start + offset.withLock { $0 } }
    }

    @Test func eachSecondFoldsIntoItsOwnPercentiles() {
        let clock = ManualClock()
        let timeline = LatencyTimeline(start: clock.start, windowSeconds: 1, now: { clock.now })
        // Second 0: 1…100 ms for "a"; second 2: ten of 500 ms for "a" and one of 7 ms for "b".
        for ms in 1...100 { timeline.record("a", latency: .milliseconds(ms)) }
        clock.advance(to: .milliseconds(2500))
        for _ in 0..<10 { timeline.record("a", latency: .milliseconds(500)) }
        timeline.record("b", latency: .milliseconds(7))
        let result = timeline.finish()
        #expect(result.windowSeconds == 1)
        let a = result.requests["a"] ?? []
        #expect(a.map(\.second) == [0, 2])
        #expect(a.map(\.count) == [100, 10])
        // HDR precision: three significant digits.
        #expect(abs(a[0].p50 - 50) < 0.1 && abs(a[0].p90 - 90) < 0.1 && abs(a[0].p99 - 99) < 0.1, "\(a[0])")
        #expect(abs(a[1].p50 - 500) < 0.5 && abs(a[1].p99 - 500) < 0.5, "\(a[1])")
        #expect(result.requests["b"]?.map(\.second) == [2])
        #expect(result.requests["b"]?.first?.count == 1)
        // Finishing twice adds nothing: the folded histograms were emptied.
        #expect(timeline.finish() == result)
    }

    @Test func aWindowClosesOnlyWhenALaterOneBegins() {
        let clock = ManualClock()
        let timeline = LatencyTimeline(start: clock.start, windowSeconds: 1, now: { clock.now })
        timeline.record("a", latency: .milliseconds(10))
        clock.advance(to: .milliseconds(999))
        timeline.record("a", latency: .milliseconds(30))
        clock.advance(to: .seconds(1))
        timeline.record("a", latency: .milliseconds(20))
        let points = timeline.finish().requests["a"] ?? []
        #expect(points.map(\.second) == [0, 1])
        #expect(points.map(\.count) == [2, 1])
        #expect(abs(points[0].p99 - 30) < 0.05 && abs(points[1].p50 - 20) < 0.05, "\(points)")
    }

    @Test func longRunsGetWiderWindows() {
        #expect(LatencyOverTime.windowSeconds(forPlanned: .seconds(15)) == 1)
        #expect(LatencyOverTime.windowSeconds(forPlanned: .seconds(3600)) == 1)
        #expect(LatencyOverTime.windowSeconds(forPlanned: .seconds(3601)) == 2)
        #expect(LatencyOverTime.windowSeconds(forPlanned: .seconds(24 * 3600)) == 24)
        let clock = ManualClock()
        let timeline = LatencyTimeline(start: clock.start, windowSeconds: 5, now: { clock.now })
        for second in 0..<20 {
            clock.advance(to: .seconds(second))
            timeline.record("a", latency: .milliseconds(second + 1))
        }
        let points = timeline.finish().requests["a"] ?? []
        #expect(points.map(\.second) == [0, 5, 10, 15])
        #expect(points.allSatisfy { $0.count == 5 })
    }

    @Test func shardsAddCountsAndKeepTheHighestPercentiles() {
        let one = LatencyOverTime(requests: ["a": [.init(second: 0, count: 3, p50: 1, p90: 2, p99: 3)]])
        let two = LatencyOverTime(
            requests: ["a": [.init(second: 0, count: 1, p50: 4, p90: 1, p99: 2), .init(second: 1, count: 2, p50: 1, p90: 1, p99: 1)]]
        )
        let merged = LatencyOverTime.merging([one, two])
        #expect(merged.requests["a"] == [.init(second: 0, count: 4, p50: 4, p90: 2, p99: 3), .init(second: 1, count: 2, p50: 1, p90: 1, p99: 1)])
    }
}

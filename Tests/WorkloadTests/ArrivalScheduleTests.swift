import Foundation
import Scenario
import Testing
import Workload

@Suite struct ArrivalScheduleTests {
    @Test func constantIsEvenlySpaced() throws {
        var random = SeededRandom(seed: 1)
        let times = try #require(ArrivalSchedule.constant(rate: 50).sendTimes(over: .seconds(2), random: &random))
        #expect(times.count == 100)
        #expect(abs(times[1] - times[0] - 0.02) < 1e-9)
        #expect(times.last! < 2)
    }

    @Test func rampSendsTheAreaUnderTheRateAndSpeedsUp() throws {
        var random = SeededRandom(seed: 1)
        let times = try #require(ArrivalSchedule.ramp(from: 10, to: 100).sendTimes(over: .seconds(10), random: &random))
        #expect(times.count == 550)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 })
        let firstSecond = times.filter { $0 < 1 }.count
        let lastSecond = times.filter { $0 >= 9 }.count
        #expect((14...15).contains(firstSecond), "rate 10→19 in the first second: about 14.5")
        #expect((95...96).contains(lastSecond), "rate 91→100 in the last second: about 95.5")
    }

    @Test func poissonGapsAreExponential() throws {
        var random = SeededRandom(seed: 7)
        let times = try #require(ArrivalSchedule.poisson(rate: 1000).sendTimes(over: .seconds(20), random: &random))
        let gaps = zip(times, times.dropFirst()).map { $1 - $0 }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let variance = gaps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(gaps.count)
        #expect(abs(Double(times.count) - 20_000) < 20_000 * 0.03, "count \(times.count)")
        #expect(abs(mean - 0.001) < 0.001 * 0.03, "mean gap \(mean)")
        // An exponential distribution's standard deviation equals its mean.
        #expect(abs(variance.squareRoot() / mean - 1) < 0.05)
        // Memorylessness: P(gap > 2/rate) = e^-2.
        let beyond = Double(gaps.filter { $0 > 0.002 }.count) / Double(gaps.count)
        #expect(abs(beyond - exp(-2)) < 0.01)
    }

    @Test func closedLoopHasNoSchedule() {
        var random = SeededRandom(seed: 1)
        #expect(ArrivalSchedule.closed(users: 3, thinkTime: .zero).sendTimes(over: .seconds(1), random: &random) == nil)
    }
}

import Foundation
package import Scenario

/// Reproducible pseudo-random numbers for schedules and request mixes (SplitMix64).
package struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    package mutating func unitInterval() -> Double { Double(next() >> 11 &+ 1) / Double(1 << 53) }
}

extension ArrivalSchedule {
    /// The rate the schedule calls for `elapsed` into a phase of `duration` (nil for closed-loop users).
    package func rate(at elapsed: Duration, of duration: Duration) -> Double? {
        switch self {
        case .constant(let rate), .poisson(let rate): return rate
        case .ramp(let from, let to):
            let fraction = min(1, max(0, (elapsed / duration)))
            return from + (to - from) * fraction
        case .closed: return nil
        }
    }

    /// The intended send times of an open-loop schedule over `duration`, in seconds from the phase start;
    /// `nil` for a closed-loop schedule (its users send when their previous answer is in). All of them at once:
    /// the driver uses ``arrivals(over:random:)``, which makes them one by one.
    package func sendTimes(over duration: Duration, random: inout SeededRandom) -> [Double]? {
        arrivals(over: duration, random: random).map(Array.init)
    }

    /// The intended send times, made one at a time as they are needed (a phase of any length holds none ahead);
    /// `nil` for a closed-loop schedule.
    ///
    /// - constant: k / rate.
    /// - ramp: the rate moves linearly, so arrivals up to t are N(t) = from·t + (to − from)·t² / (2T); the k-th
    ///   arrival is the root of N(t) = k.
    /// - poisson: exponential gaps with mean 1 / rate, drawn from `random`.
    package func arrivals(over duration: Duration, random: SeededRandom) -> ArrivalTimes? {
        if case .closed = self { return nil }
        return ArrivalTimes(schedule: self, total: duration.inSeconds, random: random)
    }
}

/// The send times of an open-loop schedule, in seconds from the phase start, computed as they are taken.
package struct ArrivalTimes: Sequence, IteratorProtocol, Sendable {
    let schedule: ArrivalSchedule
    let total: Double
    var random: SeededRandom
    var index = 0
    var poissonTime: Double?

    /// How many times a fixed schedule makes (an estimate for poisson: rate × duration).
    package var expectedCount: Int {
        switch schedule {
        case .constant(let rate), .poisson(let rate): Int((rate * total).rounded(.down))
        case .ramp(let from, let to): Int(((from + to) / 2 * total).rounded(.down))
        case .closed: 0
        }
    }

    package mutating func next() -> Double? {
        defer { index += 1 }
        switch schedule {
        case .constant(let rate):
            return index < expectedCount ? Double(index) / rate : nil
        case .ramp(let from, let to):
            guard index < expectedCount else { return nil }
            let slope = (to - from) / total
            let target = Double(index)
            if abs(slope) < 1e-12 { return target / from }
            // slope/2 · t² + from · t − k = 0, the positive root.
            return (-from + (from * from + 2 * slope * target).squareRoot()) / slope
        case .poisson(let rate):
            let t = (poissonTime ?? 0) + -log(random.unitInterval()) / rate
            poissonTime = t
            return t < total ? t : nil
        case .closed:
            return nil
        }
    }
}

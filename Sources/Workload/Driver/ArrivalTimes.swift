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
    /// `nil` for a closed-loop schedule (its users send when their previous answer is in).
    ///
    /// - constant: k / rate.
    /// - ramp: the rate moves linearly, so arrivals up to t are N(t) = from·t + (to − from)·t² / (2T); the k-th
    ///   arrival is the root of N(t) = k.
    /// - poisson: exponential gaps with mean 1 / rate.
    package func sendTimes(over duration: Duration, random: inout SeededRandom) -> [Double]? {
        let total = duration.inSeconds
        var times: [Double] = []
        switch self {
        case .constant(let rate):
            let count = Int((rate * total).rounded(.down))
            times = (0..<count).map { Double($0) / rate }
        case .ramp(let from, let to):
            let slope = (to - from) / total
            let count = Int(((from + to) / 2 * total).rounded(.down))
            times.reserveCapacity(count)
            for k in 0..<count {
                let target = Double(k)
                if abs(slope) < 1e-12 {
                    times.append(target / from)
                } else {
                    // slope/2 · t² + from · t − k = 0, the positive root.
                    let t = (-from + (from * from + 2 * slope * target).squareRoot()) / slope
                    times.append(t)
                }
            }
        case .poisson(let rate):
            var t = -log(random.unitInterval()) / rate
            while t < total {
                times.append(t)
                t += -log(random.unitInterval()) / rate
            }
        case .closed:
            return nil
        }
        return times
    }
}

import Foundation
import Scenario
import Workload

/// Compares a run with an earlier one (``Baseline``): a request's client p99 growing by more than the allowed
/// fraction, or the run's throughput falling by more, is a regression.
///
/// Throughput is successful completions (outcome `ok`) per second of the phases' elapsed time, not requests
/// sent: in an open-loop phase the sending follows the schedule, so a failing server would barely move it.
/// A baseline written before summaries had outcomes falls back to requests sent per second, with a note.
///
/// Noise-tolerant by construction: a p99 change under 1 ms, or a request with fewer than 20 samples in either
/// run, is not judged (the percentile of a handful of requests is noise), and throughput is compared over the
/// whole run rather than per phase.
///
/// Subjects: the request name of each p99 rule.
package struct BaselineCheck: Check {
    package var baseline: Baseline
    /// How much a request's p99 may grow, as a fraction (`regression.p99_increase`).
    package var p99Increase: Double
    /// How much throughput may fall, as a fraction (`regression.throughput_decrease`).
    package var throughputDecrease: Double

    package init(baseline: Baseline, p99Increase: Double, throughputDecrease: Double) {
        self.baseline = baseline
        self.p99Increase = p99Increase
        self.throughputDecrease = throughputDecrease
    }

    package var kind: RuleResult.Kind { .regression }

    /// One rule per request name judged in both runs, then `throughput`; nothing without the driver's report.
    package func evaluate(_ run: RunData) -> [RuleResult] {
        guard let current = run.driver else { return [] }
        var results: [RuleResult] = []
        let before = Self.p99ByRequest(
            counts: baseline.phases.map { $0.requests.mapValues(\.count) },
            curveP99s: (baseline.latencyCurves ?? [:]).compactMapValues { $0.first { $0.percentile == 99 }?.milliseconds },
            phaseP99s: baseline.phases.map { $0.requests.mapValues(\.latency.p99) }
        )
        // The current run's curve is the summary's: the p99 of every request of that name, over every phase.
        let after = Self.p99ByRequest(
            counts: current.phases.map { $0.requests.mapValues(\.count) },
            curveP99s: current.latencies().compactMapValues { $0.count == 0 ? nil : $0.milliseconds(atPercentile: 99) },
            phaseP99s: current.phases.map { $0.requests.mapValues(\.latency.p99) }
        )
        for (name, now) in after.sorted(by: { $0.key < $1.key }) {
            guard let then = before[name], then.count >= 20, now.count >= 20 else { continue }
            let limit = then.p99 * (1 + p99Increase)
            let regressed = now.p99 > limit && now.p99 - then.p99 >= 1
            results.append(
                RuleResult(
                    kind: .regression,
                    name: "p99 of \(name)",
                    verdict: regressed ? .fail : .pass,
                    measured: String(format: "p99 = %.2f ms (baseline %.2f ms, %+.0f%%)", now.p99, then.p99, (now.p99 / max(then.p99, 1e-9) - 1) * 100),
                    expected: String(format: "at most +%.0f%% (%.2f ms)", p99Increase * 100, limit),
                    subjects: [.request(name: name)]
                )
            )
        }
        let completions = baseline.phases.map(\.completed)
        let thenRate: Double
        let nowRate: Double
        var evidence: [String] = []
        let unit: String
        if completions.allSatisfy({ $0 != nil }) {
            thenRate = Self.rate(zip(baseline.phases, completions).map { ($1 ?? 0, $0.elapsedSeconds) })
            nowRate = Self.rate(current.phases.map { (Self.completed($0), $0.elapsed.inSeconds) })
            unit = "successful requests/s"
            evidence.append("successful completions (outcome ok) per second of the phases' elapsed time, in both runs")
        } else {
            thenRate = Self.rate(baseline.phases.map { ($0.sent, $0.elapsedSeconds) })
            nowRate = Self.rate(current.phases.map { ($0.sentCount, $0.elapsed.inSeconds) })
            unit = "requests/s"
            evidence.append(
                "the baseline has no request outcomes (an older summary.json): compared requests sent per second, "
                    + "which in an open-loop phase follows the schedule, not the server"
            )
        }
        if thenRate > 0 {
            let floor = thenRate * (1 - throughputDecrease)
            results.append(
                RuleResult(
                    kind: .regression,
                    name: "throughput",
                    verdict: nowRate < floor ? .fail : .pass,
                    measured: String(format: "%.1f \(unit) (baseline %.1f, %+.0f%%)", nowRate, thenRate, (nowRate / thenRate - 1) * 100),
                    expected: String(format: "at least -%.0f%% (%.1f/s)", throughputDecrease * 100, floor),
                    evidence: evidence
                )
            )
        }
        return results
    }

    /// The p99 (ms) of each request name over the whole run (from its latency curve), with its sample count; a
    /// run without a curve for the name falls back to the p99 of the phase with the most samples.
    static func p99ByRequest(
        counts: [[String: Int]],
        curveP99s: [String: Double],
        phaseP99s: [[String: Double]]
    ) -> [String: (count: Int, p99: Double)] {
        var total: [String: Int] = [:]
        for phase in counts { total.merge(phase, uniquingKeysWith: +) }
        var result: [String: (count: Int, p99: Double)] = [:]
        for (name, count) in total {
            if let p99 = curveP99s[name] {
                result[name] = (count, p99)
            } else if let best = zip(counts, phaseP99s).max(by: { ($0.0[name] ?? 0) < ($1.0[name] ?? 0) }), let p99 = best.1[name] {
                result[name] = (count, p99)
            }
        }
        return result
    }

    /// A phase's requests answered successfully, from the driver's per-name outcomes.
    static func completed(_ phase: PhaseReport) -> Int {
        phase.requests.values.reduce(0) { $0 + ($1.outcomes[RequestOutcome.ok.rawValue] ?? 0) }
    }

    static func rate(_ phases: [(sent: Int, seconds: Double)]) -> Double {
        let seconds = phases.reduce(0) { $0 + $1.seconds }
        return seconds > 0 ? Double(phases.reduce(0) { $0 + $1.sent }) / seconds : 0
    }
}

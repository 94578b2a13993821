public import Foundation
public import Checks

/// Compares a run with an earlier `summary.json`: a request's client p99 growing by more than the allowed
/// fraction, or the run's throughput falling by more, is a regression.
///
/// Noise-tolerant by construction: a p99 change under 1 ms, or a request with fewer than 20 samples in either
/// run, is not judged (the percentile of a handful of requests is noise), and throughput is compared over the
/// whole run rather than per phase.
public enum BaselineCheck {
    /// The fields of a summary the comparison needs (older summaries decode too).
    struct BaselineSummary: Decodable {
        struct Phase: Decodable {
            var sent: Int
            var elapsedSeconds: Double
            var requests: [String: Request]
        }
        struct Request: Decodable {
            struct Latency: Decodable { var p99: Double }
            var count: Int
            var latency: Latency
        }
        struct CurvePoint: Decodable {
            var percentile: Double
            var milliseconds: Double
        }
        var scenario: String
        var phases: [Phase]
        var latencyCurves: [String: [CurvePoint]]?
    }

    /// Reads a baseline file.
    ///
    /// - Throws: an error naming the file when it is not a run summary.
    public static func load(path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BaselineError(message: "cannot read --baseline \(path)")
        }
        do {
            _ = try JSONDecoder().decode(BaselineSummary.self, from: data)
        } catch {
            throw BaselineError(message: "--baseline \(path) is not an otelbench summary.json: \(error)")
        }
        return data
    }

    public static func evaluate(current: RunSummary, baseline data: Data, p99Increase: Double, throughputDecrease: Double) -> [RuleResult] {
        guard let baseline = try? JSONDecoder().decode(BaselineSummary.self, from: data) else { return [] }
        var results: [RuleResult] = []
        let before = p99ByRequest(
            counts: baseline.phases.map { $0.requests.mapValues(\.count) },
            curves: (baseline.latencyCurves ?? [:]).mapValues { $0.map { ($0.percentile, $0.milliseconds) } },
            phaseP99s: baseline.phases.map { $0.requests.mapValues(\.latency.p99) }
        )
        let after = p99ByRequest(
            counts: current.phases.map { $0.requests.mapValues(\.count) },
            curves: current.latencyCurves.mapValues { $0.map { ($0.percentile, $0.milliseconds) } },
            phaseP99s: current.phases.map { $0.requests.mapValues(\.latency.p99) }
        )
        for (name, now) in after.sorted(by: { $0.key < $1.key }) {
            guard let then = before[name], then.count >= 20, now.count >= 20 else { continue }
            let limit = then.p99 * (1 + p99Increase)
            let regressed = now.p99 > limit && now.p99 - then.p99 >= 1
            results.append(RuleResult(
                kind: .regression, name: "p99 of \(name)", verdict: regressed ? .fail : .pass,
                measured: String(format: "p99 = %.2f ms (baseline %.2f ms, %+.0f%%)", now.p99, then.p99, (now.p99 / max(then.p99, 1e-9) - 1) * 100),
                expected: String(format: "at most +%.0f%% (%.2f ms)", p99Increase * 100, limit)
            ))
        }
        let thenRate = rate(baseline.phases.map { ($0.sent, $0.elapsedSeconds) })
        let nowRate = rate(current.phases.map { ($0.sent, $0.elapsedSeconds) })
        if thenRate > 0 {
            let floor = thenRate * (1 - throughputDecrease)
            results.append(RuleResult(
                kind: .regression, name: "throughput", verdict: nowRate < floor ? .fail : .pass,
                measured: String(format: "%.1f requests/s (baseline %.1f, %+.0f%%)", nowRate, thenRate, (nowRate / thenRate - 1) * 100),
                expected: String(format: "at least -%.0f%% (%.1f/s)", throughputDecrease * 100, floor)
            ))
        }
        return results
    }

    /// The p99 of each request name over the whole run (from its latency curve), with its sample count; a
    /// summary without curves falls back to the p99 of the phase with the most samples.
    static func p99ByRequest(
        counts: [[String: Int]], curves: [String: [(percentile: Double, milliseconds: Double)]], phaseP99s: [[String: Double]]
    ) -> [String: (count: Int, p99: Double)] {
        var total: [String: Int] = [:]
        for phase in counts { total.merge(phase, uniquingKeysWith: +) }
        var result: [String: (count: Int, p99: Double)] = [:]
        for (name, count) in total {
            if let p99 = curves[name]?.first(where: { $0.percentile == 99 })?.milliseconds {
                result[name] = (count, p99)
            } else if let best = zip(counts, phaseP99s).max(by: { ($0.0[name] ?? 0) < ($1.0[name] ?? 0) }), let p99 = best.1[name] {
                result[name] = (count, p99)
            }
        }
        return result
    }

    static func rate(_ phases: [(sent: Int, seconds: Double)]) -> Double {
        let seconds = phases.reduce(0) { $0 + $1.seconds }
        return seconds > 0 ? Double(phases.reduce(0) { $0 + $1.sent }) / seconds : 0
    }
}

/// A baseline file that cannot be used; the message names it.
public struct BaselineError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

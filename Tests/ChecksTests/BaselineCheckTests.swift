import Checks
import Foundation
import Telemetry
import TestSupport
import Testing
import Workload

/// The baseline comparison as a check: an earlier summary's p99s and throughput against this run's driver report.
@Suite struct BaselineCheckTests {
    /// A summary.json as a run writes it, reduced to what matters here (every other field is ignored).
    /// `outcomes: false` writes a summary from before request outcomes existed.
    private func baseline(p99: Double, count: Int, sent: Int, elapsed: Double, curve: Bool = true, outcomes: Bool = true) throws -> Baseline {
        let curves = curve ? #", "latencyCurves": {"live": [{"percentile": 50, "milliseconds": 1}, {"percentile": 99, "milliseconds": \#(p99)}]}"# : ""
        let outcomeField = outcomes ? #" "outcomes": {"ok": \#(count)},"# : ""
        let json = """
            {"schema": "otelbench.run-summary/v1", "scenario": "smoke", "passed": true,
             "phases": [{"name": "steady", "sent": \(sent), "elapsedSeconds": \(elapsed), "scheduled": \(sent),
                         "requests": {"live": {"count": \(count),\(outcomeField)
                                               "latency": {"count": \(count), "p50": 1, "p90": 2, "p99": \(p99 * 2), "p999": 3, "max": 4, "mean": 1}}}}]\(curves)}
            """
        return try JSONDecoder().decode(Baseline.self, from: Data(json.utf8))
    }

    /// This run: `count` requests named `live`, the slowest 1% at `slowMilliseconds`, over `seconds`; the last
    /// `failed` of them answered 503.
    private func run(count: Int, fastMilliseconds: Double, slowMilliseconds: Double, seconds: Int, failed: Int = 0) throws -> RunData {
        let sent = (0..<count).map { index in
            SentRequest(
                name: "live",
                phase: "steady",
                intendedOffsetSeconds: 0,
                sentOffsetSeconds: 0,
                latencySeconds: (index < count * 98 / 100 ? fastMilliseconds : slowMilliseconds) / 1000,
                outcome: .ok,
                status: 200,
                traceID: String(format: "%032x", index + 1),
                spanID: "b7ad6b7169203331",
                sampled: true,
                tracestate: nil,
                invalidCase: nil,
                propagated: true
            )
        }
        let report = try JSONDecoder().decode(
            RequestReport.self,
            from: Data(
                """
                {"count": \(count), "outcomes": {"ok": \(count - failed), "5xx": \(failed)}, "latency": {"count": \(count), "p50": 1, "p90": 1, "p99": 1, "p999": 1, "max": 1, "mean": 1}}
                """.utf8
            )
        )
        let phase = PhaseReport(
            name: "steady",
            plannedDuration: .seconds(seconds),
            elapsed: .seconds(seconds),
            scheduled: count,
            droppedSlots: 0,
            requests: ["live": report],
            latencies: DriverReport(replaying: sent).phases[0].latencies,
            sentCount: sent.count,
            timeline: [:]
        )
        return RunData(store: TelemetryStore(), driver: DriverReport(phases: [phase]))
    }

    @Test func slowerAndLessThroughputAreRegressions() throws {
        let check = BaselineCheck(baseline: try baseline(p99: 10, count: 100, sent: 100, elapsed: 10), p99Increase: 0.2, throughputDecrease: 0.1)
        #expect(check.kind == .regression)
        let results = check.evaluate(try run(count: 100, fastMilliseconds: 5, slowMilliseconds: 50, seconds: 20))
        #expect(
            results == [
                RuleResult(
                    kind: .regression,
                    name: "p99 of live",
                    verdict: .fail,
                    measured: "p99 = 50.00 ms (baseline 10.00 ms, +400%)",
                    expected: "at most +20% (12.00 ms)",
                    subjects: [.request(name: "live")]
                ),
                RuleResult(
                    kind: .regression,
                    name: "throughput",
                    verdict: .fail,
                    measured: "5.0 successful requests/s (baseline 10.0, -50%)",
                    expected: "at least -10% (9.0/s)",
                    evidence: ["successful completions (outcome ok) per second of the phases' elapsed time, in both runs"]
                ),
            ]
        )
    }

    @Test func withinTheLimitsBothHold() throws {
        let check = BaselineCheck(baseline: try baseline(p99: 50, count: 100, sent: 190, elapsed: 10), p99Increase: 0.2, throughputDecrease: 0.1)
        let results = check.evaluate(try run(count: 100, fastMilliseconds: 5, slowMilliseconds: 55, seconds: 5))
        #expect(results.map(\.verdict) == [.pass, .pass], "\(results)")
        #expect(results[0].measured == "p99 = 55.00 ms (baseline 50.00 ms, +10%)")
    }

    /// Fewer than 20 samples in either run is noise: the request is not judged; throughput still is.
    @Test func aHandfulOfRequestsIsNotJudged() throws {
        let check = BaselineCheck(baseline: try baseline(p99: 10, count: 19, sent: 19, elapsed: 1), p99Increase: 0.2, throughputDecrease: 0.1)
        let results = check.evaluate(try run(count: 100, fastMilliseconds: 5, slowMilliseconds: 500, seconds: 5))
        #expect(results.map(\.name) == ["throughput"])
    }

    /// A summary without latency curves (older runs) is compared by the p99 of its busiest phase.
    @Test func olderSummariesFallBackToThePhaseP99() throws {
        let check = BaselineCheck(baseline: try baseline(p99: 10, count: 100, sent: 100, elapsed: 10, curve: false), p99Increase: 0.2, throughputDecrease: 0.1)
        let results = check.evaluate(try run(count: 100, fastMilliseconds: 5, slowMilliseconds: 50, seconds: 10))
        #expect(results.first?.measured == "p99 = 50.00 ms (baseline 20.00 ms, +150%)")
    }

    /// An open-loop phase sends on schedule whatever the server does: a server answering half the requests
    /// with 503 keeps the sending rate, and throughput (successful completions per second) halves.
    @Test func throughputCountsSuccessfulCompletionsNotSends() throws {
        let check = BaselineCheck(baseline: try baseline(p99: 10, count: 100, sent: 100, elapsed: 10), p99Increase: 0.2, throughputDecrease: 0.1)
        let failing = check.evaluate(try run(count: 100, fastMilliseconds: 10, slowMilliseconds: 10, seconds: 10, failed: 50))
        let throughput = failing.first { $0.name == "throughput" }
        #expect(throughput?.verdict == .fail, "\(failing)")
        #expect(throughput?.measured == "5.0 successful requests/s (baseline 10.0, -50%)")
        // An older summary without outcomes can only be compared by sends, and says so.
        let older = BaselineCheck(
            baseline: try baseline(p99: 10, count: 100, sent: 100, elapsed: 10, outcomes: false),
            p99Increase: 0.2,
            throughputDecrease: 0.1
        )
        let fallback = older.evaluate(try run(count: 100, fastMilliseconds: 10, slowMilliseconds: 10, seconds: 10, failed: 50)).first {
            $0.name == "throughput"
        }
        #expect(fallback?.verdict == .pass)
        #expect(fallback?.measured == "10.0 requests/s (baseline 10.0, +0%)")
        #expect(fallback?.evidence.first?.contains("no request outcomes") == true)
    }

    @Test func withoutTheDriversReportNothingIsJudged() throws {
        let check = BaselineCheck(baseline: try baseline(p99: 10, count: 100, sent: 100, elapsed: 10), p99Increase: 0.2, throughputDecrease: 0.1)
        #expect(check.evaluate(RunData(store: TelemetryStore(), driver: nil)).isEmpty)
    }

    @Test func unusableFilesAreNamed() throws {
        let missing = "/nonexistent-\(UUID().uuidString).json"
        #expect(throws: BaselineError.self) { try Baseline.load(path: missing) }
        do throws(BaselineError) { _ = try Baseline.load(path: missing) } catch { #expect(error.message == "cannot read --baseline \(missing)") }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("baseline-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(#"{"scenario": "smoke"}"#.utf8).write(to: file)
        do throws(BaselineError) {
            _ = try Baseline.load(path: file.path)
            Issue.record("a summary without phases loaded")
        } catch {
            #expect(error.message.hasPrefix("--baseline \(file.path) is not an otelbench summary.json: "), "\(error.message)")
        }
    }
}

import Foundation
import TestSupport
import Testing

/// `otelbench run` as CI runs it: the built binary, a shipped scenario, exit codes and reports.
@Suite(.serialized) struct RunCommandTests {
    struct RunOutcome {
        var status: Int32
        var output: String
        var summary: [String: Any]
        var failingRules: [(kind: String, name: String)]
        var folder: URL
    }

    private func run(_ scenario: String, durationScale: String = "0.5", extra: [String] = []) async throws -> RunOutcome {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        let result = try await runProcess(
            try otelbenchExecutable(),
            [
                "run", repositoryRoot.appendingPathComponent(scenario).path, "--report-dir", folder.path, "--quiet", "--duration-scale", durationScale,
            ] + extra,
            timeout: .seconds(120)
        )
        let data = (try? Data(contentsOf: folder.appendingPathComponent("summary.json"))) ?? Data()
        let summary = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        let rules = summary["rules"] as? [[String: Any]] ?? []
        let failing = rules.filter { $0["verdict"] as? String != "pass" }.map { ($0["kind"] as? String ?? "", $0["name"] as? String ?? "") }
        return RunOutcome(status: result.status, output: result.stdout + result.stderr, summary: summary, failingRules: failing, folder: folder)
    }

    @Test func smokeScenarioPassesEveryRuleAndWritesTheReports() async throws {
        let outcome = try await run("Scenarios/cf-core-smoke.yaml")
        defer { try? FileManager.default.removeItem(at: outcome.folder) }
        #expect(outcome.status == 0, "\(outcome.output)")
        #expect(outcome.failingRules.isEmpty, "\(outcome.failingRules)")
        #expect(outcome.summary["schema"] as? String == "otelbench.run-summary/v1")
        #expect(outcome.summary["passed"] as? Bool == true)
        let rules = outcome.summary["rules"] as? [[String: Any]] ?? []
        #expect(rules.count >= 20)
        #expect(rules.contains { $0["name"] as? String == "rollback p99 (seed SLO)" })
        #expect(rules.contains { $0["name"] as? String == "liveness p99.9 (seed SLO)" })
        #expect(outcome.output.contains("PASSED"))
        let junit = try String(contentsOf: outcome.folder.appendingPathComponent("junit.xml"), encoding: .utf8)
        #expect(junit.contains(#"<testsuite name="slo""#))
        #expect(junit.contains(#"failures="0""#))
        let markdown = try String(contentsOf: outcome.folder.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(markdown.hasPrefix("# otelbench: cf-core-smoke — passed"))
        let phases = outcome.summary["phases"] as? [[String: Any]] ?? []
        #expect(phases.map { $0["name"] as? String } == ["warm-up", "steady", "users"])
        // Open-loop phases say how late their sends left (one sample per request); closed-loop users do not.
        for phase in phases {
            let lateness = phase["sendLateness"] as? [String: Any]
            if phase["name"] as? String == "users" {
                #expect(lateness == nil)
            } else {
                #expect(lateness?["count"] as? Int == phase["sent"] as? Int && lateness?["p99"] is Double, "\(phase)")
            }
        }
        let html = try String(contentsOf: outcome.folder.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("Client latency by percentile") && !html.contains("<script"))
    }

    /// The HTML report is one self-contained file that a browser renders: headless Chromium screenshots it.
    @Test func htmlReportOfAFailingRunRendersInChromium() async throws {
        let outcome = try await run("Scenarios/faults/drop_traceparent.yaml")
        defer { try? FileManager.default.removeItem(at: outcome.folder) }
        // A failing run exits 1 and says so (every fault scenario's rules are pinned in-process by HarnessTests).
        #expect(outcome.status == 1, "\(outcome.output)")
        // The trace assertions that need the propagated context fail with it.
        #expect(Set(outcome.failingRules.map(\.kind)) == ["propagation", "traces"], "failing: \(outcome.failingRules)")
        #expect(outcome.output.contains("FAILED"))
        let html = try String(contentsOf: outcome.folder.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("First broken trace"), "the waterfall of the broken trace is drawn")
        #expect(html.contains("aria-label=\"trace waterfall\""))
        #expect(html.contains("aria-label=\"series per metric\""))
        #expect(html.contains("aria-label=\"requests per second\""))
        let chromium = URL(fileURLWithPath: "/usr/bin/chromium")
        try #require(FileManager.default.isExecutableFile(atPath: chromium.path), "chromium is missing: run scripts/install-test-deps.sh")
        let screenshot = outcome.folder.appendingPathComponent("report.png")
        let result = try await runProcess(
            chromium,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--screenshot=\(screenshot.path)", "--window-size=1280,2000",
                outcome.folder.appendingPathComponent("report.html").absoluteString,
            ],
            timeout: .seconds(90)
        )
        #expect(result.status == 0, "\(result.stderr.suffix(500))")
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4e, 0x47]), "a PNG")
        // Width and height from the IHDR chunk.
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }
        let height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1280 && height == 2000)
        #expect(png.count > 100_000, "a page with tables and plots, not a blank one (\(png.count) bytes)")
    }

    /// `check` judges a run's recording again, with no workload: the same telemetry-side verdict.
    @Test func checkReJudgesARecordingOfARun() async throws {
        // Full length: a halved run can have too few rollbacks in the 5 m rate window for the alert to fire.
        let outcome = try await run("Scenarios/faults/slow_rollbacks.yaml", durationScale: "1")
        defer { try? FileManager.default.removeItem(at: outcome.folder) }
        #expect(outcome.status == 1)
        let recording = outcome.folder.appendingPathComponent("recording.jsonl")
        #expect(FileManager.default.fileExists(atPath: recording.path))
        let reports = outcome.folder.appendingPathComponent("check")
        let result = try await runProcess(
            try otelbenchExecutable(),
            [
                "check", "--recording", recording.path, "--scenario", repositoryRoot.appendingPathComponent("Scenarios/faults/slow_rollbacks.yaml").path,
                "--report-dir", reports.path,
            ]
        )
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("✗ slo: rollback p99 (seed SLO)"))
        #expect(result.stdout.contains("✓ slo: liveness p99.9 (seed SLO)"))
        #expect(result.stdout.contains("not judged without the workload's records"))
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: reports.appendingPathComponent("summary.json"))) as? [String: Any]
        let failing = (summary?["rules"] as? [[String: Any]] ?? []).filter { $0["verdict"] as? String != "pass" }.map { $0["name"] as? String }
        #expect(failing == ["rollback p99 (seed SLO)", "rollback p99 (seed SLO as PromQL)", "RollbackTooSlow"])

        // Cut mid-entry (as a killed run leaves it), the recording is read up to the cut, which is named.
        let bytes = try Data(contentsOf: recording)
        let cut = outcome.folder.appendingPathComponent("cut.jsonl")
        try bytes.prefix(bytes.count - 40).write(to: cut)
        let partial = try await runProcess(
            try otelbenchExecutable(),
            [
                "check", "--recording", cut.path, "--scenario", repositoryRoot.appendingPathComponent("Scenarios/faults/slow_rollbacks.yaml").path,
                "--report-dir", outcome.folder.appendingPathComponent("check-cut").path,
            ]
        )
        #expect(partial.status == 1, "\(partial.stdout)\(partial.stderr)")
        #expect(partial.stderr.contains("note: ") && partial.stderr.contains("before it"), "\(partial.stderr)")
    }

    /// Recorded as length-delimited protobuf (one file per signal), zstd-compressed, a run's recording judged
    /// again gives the run's own verdict for every rule that needs no workload records.
    @Test(arguments: [("proto", "zstd"), ("json", "gzip")])
    func checkGivesTheRunsVerdictsFromEveryRecordingFormat(format: String, compression: String) async throws {
        let outcome = try await run(
            "Scenarios/faults/slow_rollbacks.yaml",
            durationScale: "1",
            extra: ["--record-format", format, "--record-compression", compression]
        )
        defer { try? FileManager.default.removeItem(at: outcome.folder) }
        let files = try FileManager.default.contentsOfDirectory(atPath: outcome.folder.path).filter { $0.hasPrefix("recording") }.sorted()
        #expect(files == (format == "proto" ? ["recording.metrics.binpb", "recording.traces.binpb"] : ["recording.json.frames"]))
        let reports = outcome.folder.appendingPathComponent("check")
        let result = try await runProcess(
            try otelbenchExecutable(),
            ["check", "--scenario", repositoryRoot.appendingPathComponent("Scenarios/faults/slow_rollbacks.yaml").path, "--report-dir", reports.path]
                + files.flatMap { ["--recording", outcome.folder.appendingPathComponent($0).path] }
        )
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: reports.appendingPathComponent("summary.json"))) as? [String: Any]
        func verdicts(_ summary: [String: Any]?) -> [String: String] {
            Dictionary((summary?["rules"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0["verdict"] as? String ?? "") }) { first, _ in first
            }
        }
        let checked = verdicts(summary)
        let ran = verdicts(outcome.summary)
        #expect(checked.count >= 20, "\(checked)")
        for (name, verdict) in checked { #expect(ran[name] == verdict, "\(name): check \(verdict), run \(ran[name] ?? "-")") }
    }

    /// Ctrl-C (here SIGTERM, trapped the same way) stops the workload; the run still settles, reports what
    /// ran, says it was interrupted, and fails.
    @Test func interruptedRunStillReports() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = try ChildProcess(
            try otelbenchExecutable(),
            [
                "run", repositoryRoot.appendingPathComponent("Scenarios/cf-core-load.yaml").path, "--report-dir", folder.path,
            ]
        )
        _ = try await process.waitForOutput(timeout: .seconds(60), onStandardError: true) { $0.contains("warm-up") ? true : nil }
        let status = try await process.terminate(timeout: .seconds(60))
        #expect(status == 1, "\(process.stderr)")
        #expect(process.stderr.contains("interrupted: settling and reporting what ran"))
        #expect(process.stdout.contains("(interrupted)"))
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("summary.json"))) as? [String: Any]
        #expect(summary?["interrupted"] as? Bool == true)
        let phases = summary?["phases"] as? [[String: Any]] ?? []
        #expect((phases.first?["sent"] as? Int ?? 0) > 0, "what ran is reported")
        #expect(phases.count < 5, "the load scenario's later phases never started")
    }

    /// A run compared with a baseline that was much faster fails only the regression rules.
    @Test func baselineRegressionsFailTheRun() async throws {
        let first = try await run("Scenarios/cf-core-smoke.yaml")
        defer { try? FileManager.default.removeItem(at: first.folder) }
        #expect(first.status == 0)
        var baseline = first.summary
        baseline["phases"] = (first.summary["phases"] as? [[String: Any]] ?? []).map { phase in
            var phase = phase
            phase["sent"] = (phase["sent"] as? Int ?? 0) * 3
            phase["requests"] = (phase["requests"] as? [String: [String: Any]] ?? [:]).mapValues { request in
                var request = request
                // Throughput is successful completions per second: the baseline completed three times as many.
                request["outcomes"] = (request["outcomes"] as? [String: Int] ?? [:]).mapValues { $0 * 3 }
                var latency = request["latency"] as? [String: Any] ?? [:]
                latency["p99"] = (latency["p99"] as? Double ?? 0) / 100
                request["latency"] = latency
                return request
            }
            return phase
        }
        baseline["latencyCurves"] = (first.summary["latencyCurves"] as? [String: [[String: Double]]] ?? [:]).mapValues { curve in
            curve.map { ["percentile": $0["percentile"] ?? 0, "milliseconds": ($0["milliseconds"] ?? 0) / 100] }
        }
        let baselineURL = first.folder.appendingPathComponent("baseline.json")
        try JSONSerialization.data(withJSONObject: baseline).write(to: baselineURL)
        let second = try await run("Scenarios/cf-core-smoke.yaml", extra: ["--baseline", baselineURL.path])
        defer { try? FileManager.default.removeItem(at: second.folder) }
        #expect(second.status == 1, "\(second.output)")
        #expect(Set(second.failingRules.map(\.kind)) == ["regression"], "\(second.failingRules)")
        #expect(second.failingRules.contains { $0.name == "throughput" })
        #expect(second.failingRules.contains { $0.name.hasPrefix("p99 of ") }, "requests with 20 or more samples are judged")
    }

    @Test(arguments: [
        (["run", "/nonexistent.yaml"], "cannot read the file"),
        (["run", "Scenarios/cf-core-smoke.yaml", "--baseline", "/nonexistent.json"], "cannot read --baseline /nonexistent.json"),
        (["run", "Scenarios/cf-core-smoke.yaml", "--duration-scale", "0"], "--duration-scale must be > 0"),
        (["run", "Scenarios/cf-core-smoke.yaml", "--target", "tasks"], "--target must be NAME=URL"),
    ])
    func badInputExitsTwo(arguments: [String], phrase: String) async throws {
        let result = try await runProcess(
            try otelbenchExecutable(),
            arguments.map { $0.hasPrefix("Scenarios/") ? repositoryRoot.appendingPathComponent($0).path : $0 }
        )
        #expect(result.status == 2)
        #expect(result.stderr.contains(phrase), "\(result.stderr)")
    }
}

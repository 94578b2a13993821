import Foundation
import Scenario
import TestSupport
import Testing
import Workload

/// The scenario's `scrape:` section: loading with line/column errors, and `otelbench run` (the built
/// binary) scraping targets and judging their expositions.
@Suite(.serialized) struct ScrapeScenarioTests {
    static let workload = """
        name: scrape-check
        services:
          builtin: {time_scale: 0.001}
        workload:
          phases:
            - {name: steady, duration: 2s, arrival: constant, rate: 5}
          requests:
            - {name: live, service: tasks, path: /health/live}
        """

    @Test func scrapeSectionLoadsWithDefaultsAndVariables() throws {
        let text =
            Self.workload + """

                scrape:
                  interval: 1s
                  targets:
                    - url: http://127.0.0.1:9100/metrics
                      job: node
                      sample_limit: 10000
                      label_limit: 30
                    - {url: "${EXPORTER}/metrics"}
                """
        let scenario = try ScenarioLoader.parse(text, file: "s.yaml", environment: ["EXPORTER": "http://10.0.0.1:8080"])
        #expect(scenario.scrape.interval == .seconds(1))
        #expect(scenario.scrape.timeout == .seconds(1), "the timeout defaults to 10s, shortened to the interval")
        #expect(
            scenario.scrape.targets == [
                ScrapeTarget(url: "http://127.0.0.1:9100/metrics", job: "node", sampleLimit: 10000, labelLimit: 30),
                ScrapeTarget(url: "http://10.0.0.1:8080/metrics"),
            ]
        )
        #expect(try ScenarioLoader.parse(Self.workload + "\nrules: {propagation: true}\n", file: "s.yaml").scrape.targets.isEmpty)
    }

    @Test func scrapeSectionMistakesNameLineColumnAndField() {
        let text =
            Self.workload + """

                scrape:
                  interval: 1s
                  timeout: 2s
                  targets:
                    - url: ftp://127.0.0.1/metrics
                    - {url: "http://a/metrics", sample_limt: 5}
                    - {job: x}
                    - {url: "http://b/metrics", label_limit: -1}
                """
        do {
            _ = try ScenarioLoader.parse(text, file: "s.yaml")
            Issue.record("a broken scrape section loaded")
        } catch {
            let lines = error.errors.map(\.description)
            func reported(_ line: Int, _ field: String, _ message: String) -> Bool {
                lines.contains { $0.hasPrefix("s.yaml:\(line):") && $0.contains(": \(field): \(message)") }
            }
            #expect(reported(11, "scrape.timeout", "timeout 2.0 seconds is longer than the interval 1.0 seconds"), "\(lines)")
            #expect(reported(13, "scrape.targets[0].url", "'ftp://127.0.0.1/metrics' is not an http:// or https:// URL"), "\(lines)")
            #expect(reported(14, "scrape.targets[1].sample_limt", "unknown key 'sample_limt' (did you mean 'sample_limit'?)"), "\(lines)")
            #expect(lines.contains("s.yaml:15:7: scrape.targets[2]: missing required key 'url'"), "\(lines)")
            #expect(reported(16, "scrape.targets[3].label_limit", "-1 is out of range: must be 0...10000"), "\(lines)")
            #expect(lines.count == 5, "\(lines)")
        }
    }

    /// The built binary scrapes a clean and a broken target while the workload runs; the clean one
    /// passes its exposition rule, the broken one fails it with each problem and its line as evidence.
    @Test func runScrapesTargetsAndFailsTheExpositionRuleOfABadOne() async throws {
        let binary = repositoryRoot.appendingPathComponent(".build/debug/otelbench").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestFailure("\(binary) is missing: run `swift build --build-tests` first")
        }
        let good = "# HELP jobs_processed_total Jobs.\n# TYPE jobs_processed_total counter\njobs_processed_total 3\n"
        let bad = CannedAnswer.badExposition
        try await withExpositionServer(["/good": CannedAnswer(body: good), "/bad": CannedAnswer(body: bad)]) { server in
            try await withTemporaryDirectory { directory in
                let scenario =
                    Self.workload + """

                        scrape:
                          interval: 500ms
                          timeout: 500ms
                          targets:
                            - {url: "${GOOD_URL}", job: good}
                            - {url: "\(server.url("/bad"))", job: bad, sample_limit: 100}
                        settle: {timeout: 3s, quiet: 500ms}
                        """
                let file = directory.appendingPathComponent("scrape.yaml")
                try Data(scenario.utf8).write(to: file)
                let reports = directory.appendingPathComponent("reports")
                let outcome = try await runToCompletion(
                    binary,
                    ["run", file.path, "--report-dir", reports.path, "--quiet"],
                    environment: ["GOOD_URL": server.url("/good")],
                    timeout: .seconds(120)
                )
                #expect(outcome.status == 1, "\(outcome.output)")
                let data = try Data(contentsOf: reports.appendingPathComponent("summary.json"))
                let summary = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
                let rules = (summary["rules"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "exposition" }
                #expect(rules.count == 2, "\(summary["rules"] ?? "")")
                let goodRule = rules.first { $0["name"] as? String == "good \(server.url("/good"))" }
                let badRule = rules.first { $0["name"] as? String == "bad \(server.url("/bad"))" }
                #expect(goodRule?["verdict"] as? String == "pass", "\(goodRule ?? [:])")
                #expect(badRule?["verdict"] as? String == "fail", "\(badRule ?? [:])")
                let evidence = badRule?["evidence"] as? [String] ?? []
                #expect(evidence.contains(#"lint: line 1: http_requests counter metrics should have "_total" suffix"#), "\(evidence)")
                #expect(evidence.contains { $0.hasPrefix("consistency: line 8: ") }, "\(evidence)")
                #expect(badRule?["measured"] as? String == "3 problems (\(Self.scrapes(badRule)) scrapes, text 0.0.4)", "\(badRule ?? [:])")
                #expect(server.count("/good") >= 3 && server.count("/bad") >= 3, "scraped at the interval while the workload ran")
                #expect(outcome.output.contains("✗ exposition: bad"), "\(outcome.output)")
                let junit = try String(contentsOf: reports.appendingPathComponent("junit.xml"), encoding: .utf8)
                #expect(junit.contains(#"<testsuite name="exposition""#))
                // The scraped samples are in the recording too.
                let recording = try String(contentsOf: reports.appendingPathComponent("recording.jsonl"), encoding: .utf8)
                #expect(recording.contains("jobs_processed_total"))
            }
        }
    }

    static func scrapes(_ rule: [String: Any]?) -> String {
        let measured = rule?["measured"] as? String ?? ""
        guard let open = measured.firstIndex(of: "("), let space = measured[open...].firstIndex(of: " ") else { return "?" }
        return String(measured[measured.index(after: open)..<space])
    }
}

import Checks
import Foundation
import PromQL
import PromQLSyntax
import Scenario
import TestSupport
import Testing
import Workload

/// Alerting rules judged by `promtool test rules` (Debian's Prometheus 2.42): our evaluator's firing alerts,
/// labels and annotations at several times are written as the test's expectations, and promtool, running
/// Prometheus' own rule manager over the same input series, must agree.
@Suite struct AlertRulesTests {
    static let rules = """
        groups:
          - name: slos
            rules:
              - record: operation:rollback_duration_seconds_bucket:rate2m
                expr: sum by (le, operation) (rate(rollback_duration_seconds_bucket[2m]))
              - alert: RollbackTooSlow
                expr: histogram_quantile(0.99, operation:rollback_duration_seconds_bucket:rate2m) > 180
                for: 3m
                labels:
                  severity: page
                  team: "migrations-{{ $labels.operation }}"
                annotations:
                  summary: "rollback p99 for {{ $labels.operation }} is {{ $value | humanize }}s"
              - alert: PhaseFailing
                expr: sum by (phase) (increase(phase_failure_total[5m])) > 2
                labels:
                  severity: ticket
              - alert: CoverageLow
                expr: test_coverage_percentage_percent < 95
                for: 2m
              - alert: NoData
                expr: absent(task_create_total)
        """

    /// promtool's input series notation; one value per minute from time 0.
    static let series: [(String, [Double?])] = {
        var series: [(String, [Double?])] = []
        let bounds = ["60", "120", "180", "300", "+Inf"]
        for operation in ["migrate", "restore"] {
            // Rollbacks get slow from minute 10 for restore: the mass moves to the 300 s bucket.
            var cumulative = Array(repeating: 0.0, count: bounds.count)
            var values = Array(repeating: [Double?](), count: bounds.count)
            for minute in 0..<30 {
                let slow = operation == "restore" && (10..<20).contains(minute)
                let added: [Double] = slow ? [0, 1, 0, 6, 0] : [3, 2, 1, 0, 0]
                var running = 0.0
                for bucket in bounds.indices {
                    running += added[bucket]
                    cumulative[bucket] += running
                    values[bucket].append(cumulative[bucket])
                }
            }
            for (bucket, bound) in bounds.enumerated() {
                series.append(("rollback_duration_seconds_bucket{operation=\"\(operation)\", le=\"\(bound)\"}", values[bucket]))
            }
        }
        series.append(("phase_failure_total{phase=\"schema\"}", (0..<30).map { Double($0 < 12 ? 0 : ($0 - 12) * 2) }))
        series.append(("phase_failure_total{phase=\"data\"}", (0..<30).map { minute in minute == 7 ? nil : Double(minute / 10) }))
        series.append(("test_coverage_percentage_percent{suite=\"unit\"}", (0..<30).map { minute in (5..<9).contains(minute) ? 90 : 97 }))
        series.append(("task_create_total", (0..<30).map { minute in minute < 25 ? Double(minute) : nil }))
        return series
    }()

    static let evaluationTimes = [4, 9, 12, 13, 15, 22, 27, 29]

    static func engine() throws -> PromQLEngine {
        PromQLEngine(
            series: try series.map { text, values in
                guard case .vectorSelector(let selector) = try PromQLParser.parse(text) else { throw PromQLError(message: "not a selector", offset: 0) }
                let labels = Labels(selector.matchers.map { ($0.name, $0.value) })
                let samples = values.enumerated().compactMap { minute, value in value.map { Sample(timestamp: Int64(minute) * 60_000, value: $0) } }
                return Series(labels: labels, samples: samples)
            }
        )
    }

    @Test func firingAlertsAgreeWithPromtool() async throws {
        let promtool = URL(fileURLWithPath: "/usr/bin/promtool")
        guard FileManager.default.isExecutableFile(atPath: promtool.path) else {
            Issue.record("/usr/bin/promtool is missing: run scripts/install-test-deps.sh")
            return
        }
        let file = try PrometheusRuleFile.parse(Self.rules, file: "rules.yaml")
        let engine = try Self.engine()
        var tests: [String] = []
        var firingSeen = 0
        for minute in Self.evaluationTimes {
            // Prometheus' rule manager evaluates every interval from time 0; so do we, up to the minute.
            let times = (0...minute).map { Int64($0) * 60_000 }
            let evaluation = AlertEvaluator(file: file, defaultInterval: .seconds(60)).run(engine, times: times)
            for name in file.alertNames {
                let firing = evaluation.instances.filter { $0.name == name && $0.firedAt != nil && $0.resolvedAt == nil }
                firingSeen += firing.count
                var test = "      - eval_time: \(minute)m\n        alertname: \(name)\n        exp_alerts:"
                if firing.isEmpty { test += " []" }
                for alert in firing {
                    let labels = alert.labels.pairs.filter { $0.name != "alertname" }.map { "\($0.name): \(quoted($0.value))" }
                    let annotations = alert.annotations.sorted { $0.key < $1.key }.map { "\($0.key): \(quoted($0.value))" }
                    test += "\n          - exp_labels: {\(labels.joined(separator: ", "))}"
                    test += "\n            exp_annotations: {\(annotations.joined(separator: ", "))}"
                }
                tests.append(test)
            }
        }
        #expect(firingSeen >= 6, "the data should make every alert fire at some time; \(firingSeen) firing")
        let inputSeries = Self.series.map { name, values in
            "      - series: \(quoted(name))\n        values: \(quoted(values.map { $0.map { PromQLFormat.number($0) } ?? "_" }.joined(separator: " ")))"
        }
        let unitTest = """
            rule_files: [rules.yaml]
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
            \(inputSeries.joined(separator: "\n"))
                alert_rule_test:
            \(tests.joined(separator: "\n"))
            """
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("alerts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.rules.write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        try unitTest.write(to: directory.appendingPathComponent("test.yaml"), atomically: true, encoding: .utf8)
        let result = try await runProcess(promtool, ["test", "rules", directory.appendingPathComponent("test.yaml").path])
        #expect(result.status == 0, "promtool disagrees:\n\(result.stdout)\(result.stderr)")
    }

    /// The verdicts a scenario gets: silent alerts pass, a firing one fails unless expected, and an expected
    /// one that never fires fails.
    /// Evaluated as the run goes — each time over the data that has arrived so far, some way behind its newest
    /// sample — then completed at the end, the rules give exactly what one evaluation at the end gives.
    @Test(arguments: [1, 7, 13] as [Int64])
    func evaluatingAsTheRunGoesEqualsEvaluatingAtTheEnd(chunkMinutes: Int64) throws {
        let file = try PrometheusRuleFile.parse(Self.rules, file: "rules.yaml")
        let engine = try Self.engine()
        let evaluator = AlertEvaluator(file: file, defaultInterval: .seconds(60))
        let whole = evaluator.run(engine)
        var progress = AlertEvaluator.Progress()
        let first = try #require(engine.earliestTimestamp)
        let last = try #require(engine.latestTimestamp)
        let lag: Int64 = 2 * 60_000
        var arrived = first + chunkMinutes * 60_000 + 17
        while arrived < last {
            // What had arrived by then: every sample up to `arrived`; evaluated up to `lag` behind it.
            let soFar = PromQLEngine(series: engine.series.map { Series(labels: $0.labels, samples: $0.samples.filter { $0.timestamp <= arrived }) })
            evaluator.advance(&progress, engine: soFar, through: arrived - lag)
            arrived += chunkMinutes * 60_000
        }
        evaluator.complete(&progress, engine: engine)
        let chunked = evaluator.finish(progress, engine: engine)
        func describe(_ evaluation: AlertEvaluator.Evaluation) -> [String] {
            evaluation.instances.map { "\($0.name) \($0.labels) \($0.activeAt) \($0.firedAt ?? -1) \($0.resolvedAt ?? -1) \($0.value) \($0.annotations)" }
                + [
                    "steps \(evaluation.steps) start \(evaluation.start)", "\(evaluation.errors)", "\(evaluation.sawSeries.sorted())",
                    "\(evaluation.unmatchedSelectors)",
                ]
        }
        #expect(describe(chunked) == describe(whole))
        #expect(whole.instances.contains { $0.firedAt != nil }, "the data makes alerts fire")
    }

    @Test func verdictsFollowExpectAlerts() throws {
        let file = try PrometheusRuleFile.parse(Self.rules, file: "rules.yaml")
        let (results, timeline) = AlertCheck(file: file, expected: ["CoverageLow"], interval: .seconds(60)).evaluate(engine: try Self.engine())
        let byName = Dictionary(uniqueKeysWithValues: results.map { ($0.name, $0) })
        #expect(byName.count == 4)
        #expect(byName["RollbackTooSlow"]?.verdict == .fail)
        #expect(byName["RollbackTooSlow"]?.measured.contains("operation=\"restore\"") == true)
        #expect(byName["RollbackTooSlow"]?.evidence.first?.contains("pending +11.0m") == false, "offsets are in seconds")
        #expect(
            byName["RollbackTooSlow"]?.evidence.contains {
                $0.contains("firing +") && $0.contains("resolved +") && $0.contains("summary: rollback p99 for restore is")
            } == true
        )
        #expect(byName["CoverageLow"]?.verdict == .pass, "expected, and it fired")
        // The instance that fired is the subject, by its alert labels.
        let fired: RuleResult.Subject = .series(labels: [
            "alertname": "RollbackTooSlow", "operation": "restore", "severity": "page", "team": "migrations-restore",
        ])
        #expect(byName["RollbackTooSlow"]?.subjects == [fired])
        #expect(byName["CoverageLow"]?.subjects.isEmpty == false)
        let restore = timeline.instances.first { $0.name == "RollbackTooSlow" && $0.labels.contains("restore") }
        #expect(restore?.firingSeconds.map { $0 - restore!.pendingSeconds } == 180, "fires after its for: 3m")
        #expect(restore?.resolvedSeconds != nil)
        // Without any data the alerts saw nothing: that is no evidence either way, not a pass.
        let silent = AlertCheck(file: file, interval: .seconds(60)).evaluate(engine: PromQLEngine(series: [])).results
        #expect(silent.first { $0.name == "RollbackTooSlow" }?.verdict == .noData)
        let missing = AlertCheck(file: file, expected: ["RollbackTooSlow"], interval: .seconds(60)).evaluate(engine: PromQLEngine(series: [])).results
        #expect(missing.first { $0.name == "RollbackTooSlow" }?.verdict == .noData)
        let allowed = AlertCheck(file: file, silent: ["RollbackTooSlow"], interval: .seconds(60)).evaluate(engine: PromQLEngine(series: [])).results
        #expect(allowed.first { $0.name == "RollbackTooSlow" }?.verdict == .pass, "silent_alerts allows an alert to see nothing")
    }

    /// A misspelt metric keeps an alert silent whatever the service does: that alert is `no_data`, naming the
    /// selector, while an alert whose comparison merely filters its series out (the healthy case) still passes.
    @Test func anAlertThatNeverSeesASeriesIsNoData() throws {
        let rules = """
            groups:
              - name: g
                rules:
                  - alert: Misspelt
                    expr: sum(rate(phase_failure_totl[5m])) > 0
                  - alert: WrongLabel
                    expr: test_coverage_percentage_percent{suite="unti"} < 95
                  - alert: Quiet
                    expr: test_coverage_percentage_percent < 50
                  - alert: Missing
                    expr: absent(no_such_metric)
                  - alert: AllowedSilent
                    expr: no_such_metric > 1
            """
        let file = try PrometheusRuleFile.parse(rules, file: "rules.yaml")
        let check = AlertCheck(file: file, expected: ["Missing"], silent: ["AllowedSilent"], interval: .seconds(60))
        let byName = Dictionary(uniqueKeysWithValues: check.evaluate(engine: try Self.engine()).results.map { ($0.name, $0) })
        #expect(byName["Misspelt"]?.verdict == .noData)
        #expect(byName["Misspelt"]?.measured.contains("phase_failure_totl") == true)
        #expect(byName["Misspelt"]?.evidence.contains { $0.contains("silent_alerts") } == true)
        #expect(byName["WrongLabel"]?.verdict == .noData)
        #expect(byName["WrongLabel"]?.measured.contains("suite=\"unti\"") == true)
        #expect(byName["Quiet"]?.verdict == .pass, "its series exist; the comparison filters them out")
        #expect(byName["Missing"]?.verdict == .pass, "absent() returned a series and the alert fired, as expected")
        #expect(byName["AllowedSilent"]?.verdict == .pass)
        #expect(byName["AllowedSilent"]?.measured.contains("allowed by silent_alerts") == true)
    }

    private func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

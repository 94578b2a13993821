import Foundation
import Harness
import TestSupport
import Testing

/// Every shipped scenario, run in-process through the Harness, judges the same rules with the same verdicts
/// as the binary did before the layout change (`Golden/verdicts-e73b735.tsv`, taken with `otelbench run` at
/// e73b735). A rule that disappears, changes kind, or flips its verdict fails here.
@Suite(.serialized) struct GoldenVerdictTests {
    /// One line of the table.
    struct Row: Hashable, CustomStringConvertible {
        var kind: String
        var name: String
        var verdict: String
        var description: String { "\(kind): \(name) = \(verdict)" }
    }

    /// Scenarios whose verdicts depend on the machine's load (the load scenario is a stress test; the sinks
    /// scenario's eight seconds give too few rollbacks for a stable p99) or on what staging answers: their
    /// rule names and kinds are compared, not their verdicts.
    static let namesOnly: Set<String> = ["cf-core-load.yaml", "cf-core-sinks.yaml", "cf-core-staging.yaml"]

    /// Single rules whose verdict follows the machine's load: the liveness scenario sends 300 requests/s, and a
    /// rollback's recorded duration includes its wall-clock time, which a busy machine stretches past the alert's
    /// threshold. Their names and kinds are still compared.
    /// swift-otel's gRPC exporter waits a random time before a retry (grpc-swift's full jitter), so whether its
    /// second wait is longer than its first is chance (about three runs in four).
    static let loadSensitive: Set<String> = [
        "faults/slow_liveness.yaml alert: RollbackTooSlow",
        "exporter-retry-grpc.yaml retry: exporter retry: cf_core.services.tasks otlp-grpc traces: backoff",
    ]

    /// Shortened as when the table was taken; every other scenario runs full length.
    static let durationScale: [String: Double] = ["cf-core-load.yaml": 0.05, "cf-core-staging.yaml": 0.05]

    /// Staging's URLs point at a closed loopback port, as when the table was taken.
    static let stagingEnvironment = [
        "TASKS_URL": "http://127.0.0.1:9", "PROJECTS_URL": "http://127.0.0.1:9", "SPRINTS_URL": "http://127.0.0.1:9",
        "MIGRATIONS_URL": "http://127.0.0.1:9", "OTELBENCH_INTAKE_GRPC": "127.0.0.1:0", "OTELBENCH_INTAKE_HTTP": "127.0.0.1:0",
    ]

    static let table: [String: [Row]] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/verdicts-e73b735.tsv")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        var rows: [String: [Row]] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4 else { continue }
            rows[fields[0], default: []].append(Row(kind: fields[1], name: fields[2], verdict: fields[3]))
        }
        return rows
    }()

    /// Every shipped scenario file, relative to `Scenarios/`.
    static var shippedScenarios: [String] {
        let root = repositoryRoot.appendingPathComponent("Scenarios")
        let top = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        let faults = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("faults").path)) ?? []
        return (top.filter { $0.hasSuffix(".yaml") } + faults.filter { $0.hasSuffix(".yaml") }.map { "faults/\($0)" }).sorted()
    }

    @Test func theTableCoversEveryShippedScenario() {
        #expect(Set(Self.table.keys) == Set(Self.shippedScenarios))
        #expect(Self.table.count == 18)
    }

    @Test(arguments: shippedScenarios)
    func sameRulesAndVerdictsAsBeforeTheLayoutChange(_ file: String) async throws {
        let golden = try #require(Self.table[file], "no golden rows for \(file)")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("golden-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var options = ScenarioRun.Options(reportDirectory: folder.path, durationScale: Self.durationScale[file] ?? 1)
        options.stopsOnSignal = false
        let run = try ScenarioRun(
            scenarioPath: repositoryRoot.appendingPathComponent("Scenarios/\(file)").path,
            options: options,
            environment: file == "cf-core-staging.yaml" ? Self.stagingEnvironment : ProcessInfo.processInfo.environment
        )
        let outcome = try await run.run()
        let actual =
            outcome.summary.rules.map { Row(kind: $0.kind.rawValue, name: $0.name, verdict: $0.verdict.rawValue) }
            + [Row(kind: "exit", name: "", verdict: outcome.passed ? "0" : "1")]
        // A load-sensitive rule's verdict is taken from the run itself, so only its name and kind are compared.
        let expected = golden.map { row in
            var row = row
            if Self.loadSensitive.contains("\(file) \(row.kind): \(row.name)") {
                row.verdict = actual.first { $0.kind == row.kind && $0.name == row.name }?.verdict ?? row.verdict
            }
            return row
        }
        if Self.namesOnly.contains(file) {
            let names = { (rows: [Row]) in rows.filter { $0.kind != "exit" }.map { "\($0.kind): \($0.name)" } }
            #expect(names(actual) == names(expected), "\(file)")
        } else {
            #expect(actual == expected, "\(file): \(Set(actual).symmetricDifference(expected))")
        }
        // What a failing run shows: JUnit failures, and an alert that fired on the report's timeline.
        if !outcome.passed && !Self.namesOnly.contains(file) {
            let junit = try String(contentsOf: folder.appendingPathComponent("junit.xml"), encoding: .utf8)
            #expect(junit.contains("<failure message="))
            if expected.contains(where: { $0.kind == "alert" && $0.verdict == "fail" }) {
                let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
                #expect(html.contains("aria-label=\"alert timeline\"") && html.contains("firing from"))
                #expect(outcome.summary.alerts?.instances.contains { $0.firingSeconds != nil } == true)
            }
        }
    }
}

import Checks
import CollectorLint
import Foundation
import Scenario
import Telemetry
import TestSupport
import Testing

/// The seed's Collector configuration (Scenarios/collector/cf-core-collector.yaml, copied from the cf_core OTLP
/// roadmap) and the clean one beside it, linted exactly; and the same lint as a scenario rule.
@Suite struct SeedConfigurationTests {
    static let seed = repositoryRoot.appendingPathComponent("Scenarios/collector/cf-core-collector.yaml").path
    static let clean = repositoryRoot.appendingPathComponent("Scenarios/collector/clean-collector.yaml").path

    static let seedFindings = [
        "53:3: error [removed-component] exporters.jaeger: the jaeger exporter was removed in v0.85.0 (judged for v0.90.0) "
            + "(fix: Jaeger takes OTLP natively: replace it with an otlp exporter to the Jaeger collector's OTLP gRPC port, e.g. otlp/jaeger: {endpoint: jaeger-collector:4317})",
        "61:5: warning [deprecated-setting] exporters.elasticsearch.index: 'index' is deprecated (elasticsearch exporter README: DEPRECATED, please use logs_index) "
            + "(fix: use logs_index (or traces_index / metrics_index for those signals))",
        "63:22: error [undefined-component] exporters.elasticsearch.auth.authenticator: the authenticator 'basicauth' is not defined under extensions:, "
            + "so the Collector cannot start this component "
            + "(fix: define it under extensions: (e.g. basicauth: {client_auth: {username: ..., password: ...}}) and list it in service.extensions)",
    ]

    @Test func theSeedConfigurationHasExactlyTheseFindings() throws {
        // The roadmap deploys otel/opentelemetry-collector-contrib:0.90.0.
        let report = try CollectorConfigLint(version: CollectorVersion("0.90.0")).lint(file: Self.seed)
        #expect(report.findings.map(\.description) == Self.seedFindings)
        #expect(report.errors.count == 2 && report.warnings.count == 1)
    }

    @Test func theCleanConfigurationHasNone() throws {
        for version in ["0.90.0", "0.136.0"] {
            let report = try CollectorConfigLint(version: CollectorVersion(version)).lint(file: Self.clean)
            #expect(report.findings.isEmpty, "\(version): \(report.findings.map(\.description))")
        }
    }

    /// A scenario that names `config` in `rules.collector_config`, written beside a copy of it.
    func scenario(in directory: URL, rule: String) throws -> String {
        let text = """
            name: collector lint
            services: {targets: {tasks: "http://127.0.0.1:9"}}
            workload:
              phases: [{name: steady, duration: 1s, arrival: constant, rate: 1}]
              requests: [{name: list, service: tasks, path: /tasks}]
            rules:
              collector_config: \(rule)
            """
        let path = directory.appendingPathComponent("scenario.yaml").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func theScenarioRuleFailsOnTheSeedWithEveryFindingInItsEvidence() async throws {
        try await withTemporaryDirectory { directory in
            try FileManager.default.copyItem(atPath: Self.seed, toPath: directory.appendingPathComponent("seed.yaml").path)
            let path = try scenario(in: directory, rule: "{file: seed.yaml, collector_version: 0.90.0}")
            let loaded = try ScenarioLoader.load(path: path, environment: [:])
            let rule = try #require(loaded.rules.collectorConfig)
            #expect(rule.collectorVersion == "0.90.0")
            let book = RuleBook(loaded, taxonomy: nil, withWorkloadRecords: false)
            let results = book.evaluate(RunData(store: TelemetryStore(), driver: nil)).results.filter { $0.kind == .collectorConfig }
            #expect(results.count == 1)
            let result = try #require(results.first)
            #expect(result.verdict == .fail)
            #expect(result.name == "Collector configuration seed.yaml")
            #expect(result.measured == "2 errors, 1 warning")
            // Errors first, then warnings, each with its line and fix.
            let ordered = [Self.seedFindings[0], Self.seedFindings[2], Self.seedFindings[1]]
            #expect(result.evidence == ordered.map { "\(rule.file):\($0)" })
        }
    }

    @Test func theScenarioRulePassesOnTheCleanConfiguration() async throws {
        try await withTemporaryDirectory { directory in
            let path = try scenario(in: directory, rule: Self.clean)
            let result = CollectorConfigCheck(rule: try #require(ScenarioLoader.load(path: path, environment: [:]).rules.collectorConfig)).result()
            #expect(result.verdict == .pass)
            #expect(result.measured == "0 errors, 0 warnings")
            #expect(result.expected == "no error findings for otelcol-contrib v0.136.0")
        }
    }

    @Test(arguments: [
        ("missing.yaml", "rules.collector_config", "does not exist"),
        ("{file: x.yaml, collector_version: latest}", "rules.collector_config.collector_version", "'latest' is not a Collector version"),
        ("{path: x.yaml}", "rules.collector_config.path", "unknown key 'path'"),
        ("[a, b]", "rules.collector_config", "expected a string"),
    ])
    func invalidValuesNameTheScenarioLineAndField(_ rule: String, _ field: String, _ message: String) async throws {
        try await withTemporaryDirectory { directory in
            let path = try scenario(in: directory, rule: rule)
            do throws(FileErrors) {
                _ = try ScenarioLoader.load(path: path, environment: [:])
                Issue.record("\(rule) loaded")
            } catch {
                let located = try #require(error.errors.first { $0.path == field }, "\(error)")
                #expect(located.file == path)
                #expect(located.line == 7)
                #expect(located.message.contains(message), "\(located.message)")
            }
        }
    }
}

import Foundation
import Harness
import Reporting
import Scenario
import TestSupport
import Testing

/// The built-in services run as a process under test (`otelbench services`, one process serving four services on
/// `${PORT:tasks}` … `${PORT:migrations}`, exporting where the OTEL_* environment says) are judged as they are in
/// the run's own process: the same rules, the same verdicts, for the healthy smoke scenario and for a fault.
@Suite(.serialized) struct BuiltinServicesAsProcessTests {
    /// `scenario` with its `services.builtin` section replaced by the same services as a process.
    static func asProcess(_ scenario: String, faults: [String], folder: URL) throws -> String {
        let source = repositoryRoot.appendingPathComponent(scenario)
        var text = try String(contentsOf: source, encoding: .utf8)
        let start = try #require(text.range(of: "services:\n  builtin:\n"))
        let end = try #require(text.range(of: "\nintake:", range: start.upperBound..<text.endIndex))
        let servicesConfiguration = try #require(
            text[start.upperBound..<end.lowerBound].split(separator: "\n").first { $0.contains("config:") }?.split(separator: ":").last
        ).trimmingCharacters(in: .whitespaces)
        let configuration = source.deletingLastPathComponent().appendingPathComponent(servicesConfiguration).standardizedFileURL.path
        let ports = ["tasks", "projects", "sprints", "migrations"].flatMap { ["--port", "\"\($0)=${PORT:\($0)}\""] }
        let command =
            ["\"\(try otelbenchExecutable().path)\"", "services"] + ports
            + ["--config", configuration, "--time-scale", "\"0.001\""] + faults.flatMap { ["--fault", $0] }
        text.replaceSubrange(
            start.lowerBound..<end.lowerBound,
            with: """
                services:
                  processes:
                    - name: cf-core
                      command: [\(command.joined(separator: ", "))]
                      otlp_protocol: grpc
                      env: {OTEL_METRIC_EXPORT_INTERVAL: "500"}
                      ready: {http: /health/live, timeout: 60s}
                      stop: {signal: TERM, grace: 15s}
                """
        )
        // Rule files and the taxonomy stay where the original scenario names them.
        for key in ["alert_rules: ", "taxonomy: "] {
            guard let line = text.range(of: key) else { continue }
            let lineEnd = text[line.upperBound...].firstIndex(of: "\n") ?? text.endIndex
            let relative = String(text[line.upperBound..<lineEnd])
            text.replaceSubrange(line.upperBound..<lineEnd, with: source.deletingLastPathComponent().appendingPathComponent(relative).standardizedFileURL.path)
        }
        // So do the dashboards the report draws (`report: {dashboards: [dashboards/...]}`).
        let dashboards = source.deletingLastPathComponent().appendingPathComponent("dashboards").standardizedFileURL.path
        for prefix in ["[", " "] { text = text.replacingOccurrences(of: "\(prefix)dashboards/", with: "\(prefix)\(dashboards)/") }
        let path = folder.appendingPathComponent(source.lastPathComponent).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The rules about health-check latency, which the services measure at wall speed (every simulated latency is
    /// scaled, a health check is not): on a loaded 2-core machine they may fail in either run.
    static let wallSpeedRules: Set<String> = [
        "liveness p99.9 (seed SLO)", "liveness p99.9 (seed SLO as PromQL)", "liveness p99.9 seen by the client", "LivenessSlow",
        "liveness server spans last under 1s",
    ]

    static func verdicts(_ scenario: String, folder: URL) async throws -> [String: String] {
        var options = ScenarioRun.Options(reportDirectory: folder.appendingPathComponent("reports-\(UUID().uuidString)").path)
        options.stopsOnSignal = false
        let outcome = try await ScenarioRun(scenarioPath: scenario, options: options).run()
        var verdicts: [String: String] = [:]
        for rule in outcome.summary.rules where rule.kind != .processes { verdicts[rule.name] = rule.verdict.rawValue }
        return verdicts
    }

    @Test(arguments: [
        ("Scenarios/cf-core-smoke.yaml", [String]()),
        ("Scenarios/faults/drop_traceparent.yaml", ["drop_traceparent"]),
    ])
    func verdictsMatchTheInProcessRun(_ scenario: String, faults: [String]) async throws {
        try await withTemporaryDirectory { folder in
            let inProcess = try await Self.verdicts(repositoryRoot.appendingPathComponent(scenario).path, folder: folder)
            let asProcess = try await Self.verdicts(try Self.asProcess(scenario, faults: faults, folder: folder), folder: folder)
            #expect(!inProcess.isEmpty)
            #expect(Set(asProcess.keys) == Set(inProcess.keys), "the same rules")
            // Liveness is real work at wall speed: its latency rules judge the machine's load, not the services.
            for name in inProcess.keys.sorted() where !Self.wallSpeedRules.contains(name) {
                #expect(asProcess[name] == inProcess[name], "\(scenario): \(name)")
            }
            if faults.isEmpty {
                #expect(inProcess.filter { !Self.wallSpeedRules.contains($0.key) }.values.allSatisfy { $0 == "pass" }, "\(inProcess)")
            } else {
                #expect(asProcess["W3C trace context"] == "fail", "\(asProcess)")
            }
        }
    }
}

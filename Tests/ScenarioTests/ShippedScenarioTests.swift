import Foundation
import Scenario
import TestSupport
import Testing

/// Every shipped scenario is valid, by our loader and by the JSON Schema editors use; the schema rejects mistakes.
@Suite struct ShippedScenarioTests {
    static let staging = [
        "TASKS_URL": "https://tasks.staging.example", "PROJECTS_URL": "https://projects.staging.example",
        "SPRINTS_URL": "https://sprints.staging.example", "MIGRATIONS_URL": "https://migrations.staging.example",
        "OTELBENCH_INTAKE_GRPC": "127.0.0.1:4317", "OTELBENCH_INTAKE_HTTP": "127.0.0.1:4318",
    ]

    static var scenarioFiles: [String] {
        let root = repositoryRoot.appendingPathComponent("Scenarios")
        let top = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        let faults = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("faults").path)) ?? []
        return (top.filter { $0.hasSuffix(".yaml") } + faults.filter { $0.hasSuffix(".yaml") }.map { "faults/\($0)" }).sorted()
    }

    @Test func shipsTheScenariosTheREADMENames() {
        let files = Self.scenarioFiles
        for name in ["cf-core-smoke.yaml", "cf-core-load.yaml", "cf-core-staging.yaml", "faults/slow_rollbacks.yaml", "faults/drop_traceparent.yaml"] {
            #expect(files.contains(name), "Scenarios/\(name) is missing")
        }
        #expect(files.filter { $0.hasPrefix("faults/") }.count == 11, "one scenario per fault mode")
    }

    /// The W3C scenario tests propagation alone; every other shipped scenario is cf_core's.
    static let w3cScenario = "w3c-trace-context.yaml"
    /// The exporter retry scenarios judge the built-in services' OTLP exporters alone (`rules.retry`).
    static let exporterScenarios: Set<String> = ["exporter-retry.yaml", "exporter-retry-grpc.yaml"]

    @Test(arguments: scenarioFiles.filter { $0 != w3cScenario && !exporterScenarios.contains($0) })
    func loads(_ file: String) throws {
        let scenario = try ScenarioLoader.load(path: repositoryRoot.appendingPathComponent("Scenarios/\(file)").path, environment: Self.staging)
        // The seed's two SLOs are in every cf_core scenario.
        let names = scenario.rules.slos.map(\.name)
        #expect(names.contains("rollback p99 (seed SLO)"), "\(file)")
        #expect(names.contains("liveness p99.9 (seed SLO)"), "\(file)")
        #expect(names.contains("rollback p99 (seed SLO as PromQL)"), "\(file)")
        #expect(scenario.rules.alertRules?.alertNames == ["RollbackTooSlow", "LivenessSlow"], "\(file)")
    }

    /// The W3C scenario sends every case of the suite but the two the built-in services cannot pass (their
    /// SDK's older tracestate grammar; the scenario's header says so), each by its own request name.
    @Test func theW3CScenarioSendsEveryCase() throws {
        let scenario = try ScenarioLoader.load(path: repositoryRoot.appendingPathComponent("Scenarios/\(Self.w3cScenario)").path)
        let sent = Set(scenario.workload.requests.compactMap(\.trace.invalid))
        #expect(Set(TraceContextCase.allCases).subtracting(sent) == [.tracestateAtSignKeys, .tracestateTenantKey])
        for request in scenario.workload.requests { #expect(request.trace.invalid.map { $0.rawValue == request.name } ?? true, "\(request.name)") }
        #expect(scenario.rules.propagation && scenario.rules.accountingTolerance == 0)
    }

    /// The shipped alert rules are a rule file Prometheus itself accepts.
    @Test func promtoolAcceptsTheShippedAlertRules() async throws {
        let promtool = URL(fileURLWithPath: "/usr/bin/promtool")
        guard FileManager.default.isExecutableFile(atPath: promtool.path) else {
            Issue.record("/usr/bin/promtool is missing: run scripts/install-test-deps.sh")
            return
        }
        let result = try await runProcess(promtool, ["check", "rules", repositoryRoot.appendingPathComponent("Scenarios/alerts/cf-core.yaml").path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("SUCCESS: 2 rules found"))
    }

    @Test func stagingNamesTheMissingVariable() {
        #expect {
            try ScenarioLoader.load(path: repositoryRoot.appendingPathComponent("Scenarios/cf-core-staging.yaml").path, environment: [:])
        } throws: { error in
            "\(error)".contains("environment variable TASKS_URL is not set")
        }
    }

    @Test func jsonSchemaAcceptsEveryShippedScenarioAndRejectsMistakes() async throws {
        let script = """
            import json, sys, glob, yaml, jsonschema
            schema = json.load(open(sys.argv[1] + "/scenario.schema.json"))
            jsonschema.Draft202012Validator.check_schema(schema)
            files = sorted(glob.glob(sys.argv[1] + "/*.yaml") + glob.glob(sys.argv[1] + "/faults/*.yaml"))
            for name in files:
                jsonschema.validate(yaml.safe_load(open(name)), schema)
            bad = yaml.safe_load(open(sys.argv[1] + "/cf-core-smoke.yaml"))
            bad["workload"]["phases"][0]["arrival"] = "constnat"
            try:
                jsonschema.validate(bad, schema)
                sys.exit("a misspelt arrival passed the schema")
            except jsonschema.ValidationError:
                pass
            print(len(files))
            """
        let result = try await runProcess(try testVenvPython(), ["-c", script, repositoryRoot.appendingPathComponent("Scenarios").path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == Self.scenarioFiles.count)
    }
}

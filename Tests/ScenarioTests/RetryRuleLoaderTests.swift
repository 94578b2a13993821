import Scenario
import TestSupport
import Testing

/// `rules.retry` and the faults it judges (`intake.faults` with `service` and `400`): read as written, and every
/// mistake reported with its file, line and field.
@Suite struct RetryRuleLoaderTests {
    @Test func readsTheRuleAndServiceFaults() throws {
        let yaml =
            ScenarioLoaderTests.base + """
                intake:
                  faults:
                    - {service: billing, signal: traces, sequence: [503, 400, ok], retry_after: 2s}
                rules:
                  retry: {services: [billing], expect: [delivered, retried], backoff_tolerance: 0.25}

                """
        let scenario = try ScenarioLoader.parse(yaml, file: "ok.yaml")
        #expect(scenario.rules.retry == RetryRule(services: ["billing"], points: [.retried, .delivered], backoffTolerance: 0.25))
        let fault = try #require(scenario.intake.faults.first)
        #expect(fault.service == "billing")
        #expect(fault.sequence == [.serviceUnavailable, .badRequest, .ok])
        #expect(try ScenarioLoader.parse(ScenarioLoaderTests.base + "rules: {retry: true}\n", file: "ok.yaml").rules.retry == RetryRule())
    }

    @Test(arguments: [
        ("rules: {retry: maybe}\n", "bad.yaml:8:16: rules.retry: expected true or false"),
        ("rules: {retry: {service: [x]}}\n", "rules.retry.service: unknown key 'service' (did you mean 'services'?)"),
        ("rules: {retry: {services: []}}\n", "rules.retry.services: name at least one service"),
        ("rules: {retry: {expect: [retries]}}\n", "rules.retry.expect[0]"),
        ("rules: {retry: {expect: []}}\n", "rules.retry.expect: name at least one point"),
        ("rules: {retry: {backoff_tolerance: 1.5}}\n", "rules.retry.backoff_tolerance"),
        ("rules: {retry: false}\n", "a scenario needs at least one rule"),
        ("intake: {faults: [{sequence: [418]}]}\nrules: {retry: true}\n", "intake.faults[0].sequence[0]"),
    ])
    func mistakeIsReported(_ rules: String, _ expected: String) {
        #expect {
            try ScenarioLoader.parse(ScenarioLoaderTests.base + rules, file: "bad.yaml")
        } throws: { error in
            let found = "\(error)".contains(expected)
            if !found { Issue.record("expected \(expected)\ngot \(error)") }
            return found
        }
    }
}

/// The shipped exporter retry scenarios script the refusals their rule judges, against the tasks service's exporter.
@Suite struct ShippedRetryScenarioTests {
    @Test(arguments: ["exporter-retry.yaml", "exporter-retry-grpc.yaml"])
    func scriptsEveryKindOfRefusal(_ file: String) throws {
        let scenario = try ScenarioLoader.load(path: repositoryRoot.appendingPathComponent("Scenarios/\(file)").path)
        #expect(scenario.rules.retry == RetryRule(services: ["cf_core.services.tasks"]))
        let faults = scenario.intake.faults
        #expect(faults.allSatisfy { $0.service == "cf_core.services.tasks" && $0.signal == .traces })
        #expect(faults.flatMap(\.sequence) == [.serviceUnavailable, .serviceUnavailable, .serviceUnavailable, .ok, .tooManyRequests, .ok, .badRequest])
        #expect(faults[1].retryAfter == .seconds(3))
    }
}

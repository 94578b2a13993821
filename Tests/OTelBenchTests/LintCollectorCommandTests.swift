import Foundation
import TestSupport
import Testing

/// `otelbench lint-collector` end to end: the built binary on the shipped configurations and on broken files, its
/// verdict in the exit code (0 clean, 1 findings, 2 missing or not YAML), its findings by line with their fixes.
@Suite(.serialized) struct LintCollectorCommandTests {
    static let seed = repositoryRoot.appendingPathComponent("Scenarios/collector/cf-core-collector.yaml").path
    static let clean = repositoryRoot.appendingPathComponent("Scenarios/collector/clean-collector.yaml").path

    @Test func theSeedConfigurationHasFindingsAndTheCleanOneNone() async throws {
        let binary = try otelbenchExecutable()
        let seed = try await runProcess(binary, ["lint-collector", "--collector-version", "0.90.0", Self.seed])
        #expect(seed.status == 1, "\(seed.output)")
        let lines = seed.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 6, "\(seed.output)")
        #expect(lines.first == "\(Self.seed):53:3: error [removed-component] exporters.jaeger: the jaeger exporter was removed in v0.85.0 (judged for v0.90.0)")
        #expect(lines.dropFirst().first?.hasPrefix("    fix: Jaeger takes OTLP natively") == true)
        #expect(seed.stdout.contains("\(Self.seed):63:22: error [undefined-component] exporters.elasticsearch.auth.authenticator"))
        #expect(seed.stderr.contains("2 errors, 1 warning for otelcol-contrib v0.90.0"), "\(seed.output)")

        let clean = try await runProcess(binary, ["lint-collector", Self.clean])
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.stdout.isEmpty)
    }

    @Test func jsonFormatCarriesTheSameFindings() async throws {
        let binary = try otelbenchExecutable()
        let outcome = try await runProcess(binary, ["lint-collector", "--format", "json", Self.seed])
        #expect(outcome.status == 1, "\(outcome.output)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        #expect(object["collector_version"] as? String == "0.136.0")
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(findings.map { $0["check"] as? String } == ["removed-component", "deprecated-setting", "undefined-component"])
        #expect(findings.map { $0["line"] as? Int } == [53, 61, 63])
    }

    @Test func unreadableFilesAndBadVersionsAreExitTwo() async throws {
        let binary = try otelbenchExecutable()
        let missing = try await runProcess(binary, ["lint-collector", "/nonexistent/otel-collector.yaml"])
        #expect(missing.status == 2, "\(missing.output)")
        #expect(missing.stderr.contains("/nonexistent/otel-collector.yaml: cannot read the file"), "\(missing.output)")
        try await withTemporaryDirectory { directory in
            let broken = directory.appendingPathComponent("broken.yaml")
            try Data("receivers:\n  otlp:\n    protocols: [grpc\nexporters: {}\n".utf8).write(to: broken)
            let invalid = try await runProcess(binary, ["lint-collector", broken.path])
            #expect(invalid.status == 2, "\(invalid.output)")
            #expect(invalid.stderr.contains("\(broken.path):4:"), "\(invalid.output)")
            #expect(invalid.stderr.contains("YAML syntax"), "\(invalid.output)")
        }
        let old = try await runProcess(binary, ["lint-collector", "--collector-version", "0.70.0", Self.clean])
        #expect(old.status == 2, "\(old.output)")
        #expect(old.stderr.contains("older than the component table's v0.80.0"), "\(old.output)")
        let garbled = try await runProcess(binary, ["lint-collector", "--collector-version", "latest", Self.clean])
        #expect(garbled.status == 2, "\(garbled.output)")
        #expect(garbled.stderr.contains("--collector-version must look like 0.90.0"), "\(garbled.output)")
    }
}

import Foundation
import Scenario
import Services
import TestSupport
import Testing

@Suite struct LatencyModelTests {
    @Test func logNormalHasTheGivenMedianAndP99() {
        let model = LatencyModel.logNormal(median: 40, p99: 120)
        #expect(abs(model.quantile(0.5) - 40) < 1e-6)
        #expect(abs(model.quantile(0.99) - 120) < 1e-4)
    }

    @Test func samplesFollowTheModel() {
        var generator = SystemRandomNumberGenerator()
        let model = LatencyModel.logNormal(median: 2, p99: 10)
        let samples = (0..<20_000).map { _ in model.sample(using: &generator) }.sorted()
        let median = samples[samples.count / 2]
        let p99 = samples[samples.count * 99 / 100]
        #expect(abs(median - 2) / 2 < 0.05, "median \(median)")
        #expect(abs(p99 - 10) / 10 < 0.15, "p99 \(p99)")
        let uniform = (0..<1000).map { _ in LatencyModel.uniform(min: 1, max: 2).sample(using: &generator) }
        #expect(uniform.allSatisfy { (1...2).contains($0) })
        #expect(LatencyModel.fixed(seconds: 3).sample(using: &generator) == 3)
    }

    @Test func slowFaultModelsCrossTheirSLOs() throws {
        var configuration = ServicesConfiguration(taxonomy: try cfCoreTaxonomy())
        // Healthy: every rollback operation's p99 within 180 s; liveness p99.9 within 50 ms.
        for operation in ["rollback.git_restore", "rollback.db_restore", "rollback.shim_restore"] {
            #expect(configuration.behaviour(of: operation, service: .migrations).latency.quantile(0.99) < 180)
            // Even the slowest of thousands stays under 120 s, the bucket bound below 180 s (with the taxonomy's
            // bounds and with wrong_buckets' doubled ones), so no short run's interpolated p99 reaches 180 s.
            #expect(configuration.behaviour(of: operation, service: .migrations).latency.quantile(0.9999) < 120)
        }
        #expect(configuration.behaviour(of: "health.live", service: .migrations).latency.quantile(0.999) < 0.050)
        try configuration.faults[.migrations, default: .none].enable("slow_rollbacks")
        try configuration.faults[.migrations, default: .none].enable("slow-liveness")
        #expect(configuration.behaviour(of: "rollback.db_restore", service: .migrations).latency.quantile(0.99) > 180)
        let liveness = configuration.behaviour(of: "health.live", service: .migrations).latency
        #expect(liveness.quantile(0.999) > 0.050)
        #expect(liveness.quantile(0.99) < 0.050)
    }
}

@Suite struct ConfigurationFileTests {
    @Test func appliesEverySetting() throws {
        var configuration = ServicesConfiguration(taxonomy: try cfCoreTaxonomy())
        try configuration.apply(
            configurationYAML: """
                time_scale: 0.01
                environment: staging
                service_version: 2.0.0
                random_seed: 9
                otlp:
                  endpoint: http://127.0.0.1:9999
                  protocol: http
                  metrics_export_interval_ms: 250
                operations:
                  rollback.db_restore:
                    latency: {type: lognormal, median: 40, p99: 120}
                    error_rate: 0.25
                  tasks.create:
                    latency: {type: uniform, min: 0.001, max: 0.002}
                faults:
                  projects: [drop_traceparent]
                  all: [drop_spans=0.1]
                """
        )
        #expect(configuration.timeScale == 0.01)
        #expect(configuration.deploymentEnvironment == "staging")
        #expect(configuration.serviceVersion == "2.0.0")
        #expect(configuration.randomSeed == 9)
        #expect(configuration.export.endpoint == "http://127.0.0.1:9999")
        #expect(configuration.export.transport == .http)
        #expect(configuration.export.metricsExportInterval == .milliseconds(250))
        #expect(configuration.operations["rollback.db_restore"] == OperationBehaviour(latency: .logNormal(median: 40, p99: 120), errorRate: 0.25))
        #expect(configuration.operations["tasks.create"]?.latency == .uniform(min: 0.001, max: 0.002))
        #expect(configuration.faults[.projects]?.dropTraceparent == true)
        #expect(configuration.faults[.tasks]?.dropTraceparent == false)
        #expect(CFCoreService.allCases.allSatisfy { configuration.faults[$0]?.dropSpanFraction == 0.1 })
        try configuration.validate()
    }

    static let badFiles: [(yaml: String, message: String)] = [
        ("time_scale: fast\n", "c.yaml:1: time_scale: expected a number (got fast)"),
        ("speed: 1\n", "c.yaml:1: speed: unknown setting"),
        ("operations:\n  tasks.fly: {error_rate: 0.1}\n", "c.yaml:2: operations.tasks.fly: unknown operation"),
        ("operations:\n  tasks.create:\n    error_rate: 2\n", "c.yaml:3: operations.tasks.create.error_rate: must be between 0 and 1 (got 2.0)"),
        (
            "operations:\n  tasks.create:\n    latency: {type: lognormal, median: 5, p99: 1}\n",
            "c.yaml:3: operations.tasks.create.latency: lognormal latency needs 0 < median <= p99"
        ),
        (
            "operations:\n  tasks.create:\n    latency: {type: normal}\n",
            "c.yaml:3: operations.tasks.create.latency.type: expected fixed, uniform or lognormal (got normal)"
        ),
        ("faults:\n  tasks: [explode]\n", "c.yaml:2: faults.tasks: unknown fault explode"),
        ("faults:\n  billing: [drop_tracestate]\n", "c.yaml:2: faults.billing: unknown setting"),
        ("otlp:\n  protocol: udp\n", "c.yaml:2: otlp.protocol: expected grpc or http (got udp)"),
    ]

    @Test(arguments: badFiles)
    func errorsNameFileLineAndSetting(_ bad: (yaml: String, message: String)) throws {
        var configuration = ServicesConfiguration(taxonomy: try cfCoreTaxonomy())
        do {
            try configuration.apply(configurationYAML: bad.yaml, file: "c.yaml")
            Issue.record("accepted: \(bad.yaml)")
        } catch {
            #expect(error.message.hasPrefix(bad.message), "\(error.message)")
        }
    }

    @Test func shippedExampleIsValid() throws {
        let taxonomyPath = try #require(MetricTaxonomy.locateCFCore(currentDirectory: FileManager.default.currentDirectoryPath, executablePath: #filePath))
        let root = URL(fileURLWithPath: taxonomyPath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var configuration = ServicesConfiguration(taxonomy: try cfCoreTaxonomy())
        try configuration.apply(configurationFile: root.appendingPathComponent("Scenarios/services/cf-core-example.yaml").path)
        try configuration.validate()
        #expect(configuration.randomSeed == 42)
        #expect(configuration.operations["git.commit"]?.latency == .uniform(min: 0.2, max: 1.5))
        #expect(configuration.faults.values.allSatisfy { $0 == .none })
    }

    @Test func validateRejectsImpossibleValues() throws {
        var configuration = ServicesConfiguration(taxonomy: try cfCoreTaxonomy())
        configuration.timeScale = 0
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        configuration.timeScale = 0.001
        configuration.snapshotDatabaseType = "oracle"
        #expect { try configuration.validate() } throws: { error in
            (error as? ConfigurationError)?.message == "snapshot_db_type must be one of postgresql, sqlite, duckdb (got oracle)"
        }
    }
}

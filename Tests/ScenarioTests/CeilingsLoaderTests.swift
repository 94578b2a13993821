import Foundation
import Scenario
import Testing

/// `rules.ceilings`: CPU limits in percent of one core and memory in binary units, per process under test by
/// its name; every mistake named with file, line, column and field.
@Suite struct CeilingsLoaderTests {
    /// A scenario with one process, `billing`, and `ceilings` (indented under `rules:`) as its only rule.
    static func scenario(ceilings: String) -> String {
        """
        name: ceilings
        services:
          processes:
            - name: billing
              command: [/bin/sh, -c, "exec sleep 60"]
            - name: ledger
              command: [/bin/sh, -c, "exec sleep 60"]
        workload:
          phases:
            - {name: p, duration: 1s, arrival: constant, rate: 1}
          requests:
            - {name: r, service: billing, path: /}
        rules:
          ceilings:
        \(ceilings)

        """
    }

    @Test func limitsAreReadInTheirUnits() throws {
        let yaml = Self.scenario(
            ceilings: """
                    billing: {cpu_average: 50%, cpu_p99: 150%, rss_peak: 200MiB}
                    ledger: {rss_peak: 1.5GiB}
                """
        )
        let scenario = try ScenarioLoader.parse(yaml, file: "c.yaml")
        #expect(scenario.rules.ceilings.count == 2)
        let billing = try #require(scenario.rules.ceilings.first { $0.process == "billing" })
        #expect(billing == ResourceCeiling(process: "billing", cpuAveragePercent: 50, cpuP99Percent: 150, rssPeakBytes: 200 * 1024 * 1024))
        let ledger = try #require(scenario.rules.ceilings.first { $0.process == "ledger" })
        #expect(ledger.rssPeakBytes == 1.5 * 1024 * 1024 * 1024)
        #expect(ledger.cpuAveragePercent == nil && ledger.cpuP99Percent == nil)
        #expect(!scenario.rules.isEmpty, "ceilings alone are a rule")
    }

    static let mistakes: [(String, String)] = [
        (
            "    bililng: {cpu_average: 50%}",
            "c.yaml:15:14: rules.ceilings.bililng: unknown process 'bililng' (did you mean 'billing'?); services.processes has billing, ledger"
        ),
        ("    billing: {cpu_average: 50}", "c.yaml:15:28: rules.ceilings.billing.cpu_average: '50' is not a CPU limit: write percent of one core with %"),
        ("    billing: {cpu_p99: 0%}", "c.yaml:15:24: rules.ceilings.billing.cpu_p99: 0% allows no CPU at all"),
        ("    billing: {rss_peak: 200MB}", "c.yaml:15:25: rules.ceilings.billing.rss_peak: '200MB' is not a memory size: write a number with KiB, MiB, GiB"),
        ("    billing: {rss_peak: lots}", "c.yaml:15:25: rules.ceilings.billing.rss_peak: 'lots' is not a memory size"),
        ("    billing: {cpu_averge: 50%}", "c.yaml:15:15: rules.ceilings.billing.cpu_averge: unknown key 'cpu_averge' (did you mean 'cpu_average'?)"),
        ("    billing: {}", "c.yaml:15:14: rules.ceilings.billing: give at least one limit: cpu_average, cpu_p99, rss_peak"),
        ("    billing: 50%", "c.yaml:15:14: rules.ceilings.billing: expected a mapping with keys cpu_average, cpu_p99, rss_peak"),
    ]

    @Test(arguments: mistakes)
    func mistakesNameFileLineAndField(ceilings: String, expected: String) {
        #expect {
            try ScenarioLoader.parse(Self.scenario(ceilings: ceilings), file: "c.yaml")
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test func ceilingsWithoutProcessesAreAMistake() {
        let yaml = """
            name: builtin
            services:
              builtin: {}
            workload:
              phases:
                - {name: p, duration: 1s, arrival: constant, rate: 1}
              requests:
                - {name: r, service: tasks, path: /}
            rules:
              propagation: true
              ceilings:
                tasks: {rss_peak: 100MiB}

            """
        #expect {
            try ScenarioLoader.parse(yaml, file: "b.yaml")
        } throws: { error in
            "\(error)".contains("b.yaml:12:5: rules.ceilings: ceilings limit processes the run starts, and the scenario starts none")
        }
    }

    static let percents: [(String, Double)] = [("50%", 50), ("250%", 250), ("12.5 %", 12.5)]

    @Test(arguments: percents)
    func percentsParse(text: String, value: Double) {
        #expect(ResourceCeiling.parsePercent(text) == value)
    }

    @Test(arguments: ["50", "%", "half", "50 percent"])
    func notPercents(text: String) {
        #expect(ResourceCeiling.parsePercent(text) == nil)
    }

    static let sizes: [(String, Double)] = [("512KiB", 524_288), ("200MiB", 209_715_200), ("1.5GiB", 1_610_612_736)]

    @Test(arguments: sizes)
    func sizesParse(text: String, bytes: Double) {
        #expect(ResourceCeiling.parseBytes(text) == bytes)
    }

    @Test(arguments: ["200MB", "200", "MiB", "2TiB"])
    func notSizes(text: String) {
        #expect(ResourceCeiling.parseBytes(text) == nil)
    }
}

import Checks
import Scenario
import Telemetry
import TestSupport
import Testing

/// `rules.ceilings` judged over a process's one-second samples: one rule per limit, the average weighted by
/// the time each sample covers, the p99 by nearest rank, the peak memory; a process without samples fails.
@Suite struct ResourceCeilingCheckTests {
    static let mebibyte = 1024.0 * 1024

    /// 10%, 30%, then 200% of a core; 10, 20, then 15 MiB.
    static let usage = ProcessResourceUsage(
        name: "billing",
        samples: [
            .init(second: 1, cpuPercent: 10, rssBytes: 10 << 20),
            .init(second: 2, cpuPercent: 30, rssBytes: 20 << 20, processes: 2),
            .init(second: 3, cpuPercent: 200, rssBytes: 15 << 20),
        ]
    )

    static func run(_ usage: ProcessResourceUsage?) -> RunData {
        var run = RunData(store: TelemetryStore(), driver: nil)
        if let usage { run.processResources = [usage.name: usage] }
        return run
    }

    @Test func theFiguresComeFromEverySample() throws {
        #expect(Self.usage.cpuAveragePercent == 80)
        #expect(Self.usage.cpuP99Percent == 200, "nearest rank: with fewer than 100 samples, the highest")
        #expect(Self.usage.percentile(0.5) == 30)
        #expect(Self.usage.rssPeakBytes == 20 << 20)
        #expect(Self.usage.rssPeak?.second == 2)
        #expect(Self.usage.mostProcesses == 2)
        // A late tick covers more time and weighs more: 100% for 1 s, then 0% for 2 s.
        let late = ProcessResourceUsage(name: "p", samples: [.init(second: 1, cpuPercent: 100, rssBytes: 1), .init(second: 3, cpuPercent: 0, rssBytes: 1)])
        #expect(abs((late.cpuAveragePercent ?? 0) - 100.0 / 3) < 1e-9)
        let none = ProcessResourceUsage(name: "p", samples: [])
        #expect(none.cpuAveragePercent == nil && none.cpuP99Percent == nil && none.rssPeakBytes == nil)
    }

    @Test func aLongSeriesIsThinnedKeepingItsPeakAndItsAverage() {
        let samples = (1...1000).map { second in
            ProcessResourceUsage.Sample(second: Double(second), cpuPercent: second == 500 ? 400 : 20, rssBytes: UInt64(second == 777 ? 900 : 100) << 20)
        }
        let usage = ProcessResourceUsage(name: "long", samples: samples)
        let points = usage.downsampled(toAtMost: 100)
        #expect(points.count == 100)
        #expect(points.last?.second == 1000)
        #expect(points.map(\.rssBytes).max() == 900 << 20, "the memory peak survives")
        let thinned = ProcessResourceUsage(name: "long", samples: points)
        #expect(abs((thinned.cpuAveragePercent ?? 0) - (usage.cpuAveragePercent ?? 0)) < 1e-9, "the area under the CPU curve is kept")
        #expect(usage.downsampled(toAtMost: 5000).count == 1000, "a short series is kept whole")
    }

    @Test func eachLimitIsARuleOfItsOwn() throws {
        let ceiling = ResourceCeiling(process: "billing", cpuAveragePercent: 100, cpuP99Percent: 150, rssPeakBytes: 16 * Self.mebibyte)
        let results = ResourceCeilingCheck(ceiling: ceiling).evaluate(Self.run(Self.usage))
        #expect(results.map(\.name) == ["billing: CPU average", "billing: CPU p99 of one-second samples", "billing: RSS peak"])
        #expect(results.map(\.verdict) == [.pass, .fail, .fail])
        #expect(results.allSatisfy { $0.kind == .ceilings && $0.subjects == [.process(name: "billing")] })
        #expect(results.map(\.measured) == ["80.0%", "200.0%", "20.0 MiB"])
        #expect(results.map(\.expected) == ["≤ 100.0%", "≤ 150.0%", "≤ 16.0 MiB"])
        let overview = "process billing: CPU average 80.0%, p99 200.0%, RSS peak 20.0 MiB at 2.0 s; 3 one-second samples over 3.0 s"
        #expect(results[0].evidence.first?.hasPrefix(overview) == true, "\(results[0].evidence)")
        #expect(results[1].evidence.contains("1 of 3 samples above 150.0%; highest: 200.0% at 3.0 s"), "\(results[1].evidence)")
        #expect(results[2].evidence.contains("RSS first passed 16.0 MiB at 2.0 s (20.0 MiB)"), "\(results[2].evidence)")
    }

    @Test(arguments: [nil, ProcessResourceUsage(name: "billing", samples: [])])
    func aProcessWithoutSamplesFailsEveryLimit(usage: ProcessResourceUsage?) {
        let ceiling = ResourceCeiling(process: "billing", cpuAveragePercent: 1000, rssPeakBytes: 1024 * Self.mebibyte)
        let results = ResourceCeilingCheck(ceiling: ceiling).evaluate(Self.run(usage))
        #expect(results.count == 2)
        #expect(results.allSatisfy { $0.verdict == .fail && $0.measured == "no sample" })
        #expect(results.allSatisfy { $0.evidence.first?.hasPrefix("process billing has no resource sample") == true })
    }

    @Test func theRuleBookJudgesCeilingsOnlyInARun() throws {
        let yaml = """
            name: ceilings
            services:
              processes:
                - {name: billing, command: [/bin/sh, -c, "exec sleep 60"]}
            workload:
              phases:
                - {name: p, duration: 1s, arrival: constant, rate: 1}
              requests:
                - {name: r, service: billing, path: /}
            rules:
              ceilings:
                billing: {rss_peak: 100MiB}

            """
        let scenario = try ScenarioLoader.parse(yaml, file: "c.yaml")
        let run = RuleBook(scenario, taxonomy: nil, withWorkloadRecords: true)
        #expect(run.checks.contains { $0 is ResourceCeilingCheck })
        let recording = RuleBook(scenario, taxonomy: nil, withWorkloadRecords: false)
        #expect(!recording.checks.contains { $0 is ResourceCeilingCheck })
        #expect(recording.skipped.contains("resource ceilings of billing"))
    }
}

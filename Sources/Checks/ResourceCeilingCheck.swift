import Foundation
package import Scenario

/// One process's CPU and memory against its ceiling (`rules.ceilings.NAME`): one rule per limit it sets — the
/// CPU average over the run, the p99 of its one-second CPU samples, the peak resident memory. A process with no
/// sample (it ended before the first, or never started) fails every limit: its use is unknown, not within.
///
/// ```swift
/// var run = RunData(store: store, driver: nil)
/// run.processResources = ["billing": usage]
/// let results = ResourceCeilingCheck(ceiling: ResourceCeiling(process: "billing", rssPeakBytes: 200 * 1024 * 1024)).evaluate(run)
/// ```
package struct ResourceCeilingCheck: Check {
    package let ceiling: ResourceCeiling
    package var kind: RuleResult.Kind { .ceilings }

    package init(ceiling: ResourceCeiling) { self.ceiling = ceiling }

    package func evaluate(_ run: RunData) -> [RuleResult] {
        let name = ceiling.process
        let usage = run.processResources[name] ?? ProcessResourceUsage(name: name, samples: [])
        var limits: [(rule: String, limit: Double, measured: Double?, text: (Double) -> String)] = []
        if let limit = ceiling.cpuAveragePercent { limits.append(("CPU average", limit, usage.cpuAveragePercent, Self.percent)) }
        if let limit = ceiling.cpuP99Percent { limits.append(("CPU p99 of one-second samples", limit, usage.cpuP99Percent, Self.percent)) }
        if let limit = ceiling.rssPeakBytes { limits.append(("RSS peak", limit, usage.rssPeakBytes.map { Double($0) }, formatBytes)) }
        let overview = Self.overview(usage)
        return limits.map { limit in
            let expected = "≤ \(limit.text(limit.limit))"
            guard let measured = limit.measured else {
                return RuleResult(
                    kind: .ceilings,
                    name: "\(name): \(limit.rule)",
                    verdict: .fail,
                    measured: "no sample",
                    expected: expected,
                    evidence: [
                        "process \(name) has no resource sample: it ended (or never started) before its first one-second sample, "
                            + "so its use cannot be shown to be within the ceiling; see its processes rule and its logs"
                    ],
                    subjects: [.process(name: name)]
                )
            }
            let holds = measured <= limit.limit
            var evidence = [overview]
            if !holds { evidence += Self.excess(of: limit.rule, usage: usage, limit: limit.limit) }
            return RuleResult(
                kind: .ceilings,
                name: "\(name): \(limit.rule)",
                verdict: holds ? .pass : .fail,
                measured: limit.text(measured),
                expected: expected,
                evidence: evidence,
                subjects: [.process(name: name)]
            )
        }
    }

    /// `process billing: CPU average 12.3%, p99 45.0%, RSS peak 48.2 MiB at 3.0 s; 8 one-second samples over 8.0 s`.
    static func overview(_ usage: ProcessResourceUsage) -> String {
        let average = usage.cpuAveragePercent.map(percent) ?? "?"
        let p99 = usage.cpuP99Percent.map(percent) ?? "?"
        let peak = usage.rssPeak.map { "\(formatBytes(Double($0.rssBytes))) at \(seconds($0.second))" } ?? "?"
        let span = usage.samples.last.map { seconds($0.second) } ?? "0 s"
        let tree = usage.mostProcesses > 1 ? "; with its descendants, up to \(usage.mostProcesses) processes at once" : ""
        return "process \(usage.name): CPU average \(average), p99 \(p99), RSS peak \(peak); "
            + "\(usage.samples.count) one-second samples over \(span)\(tree)"
    }

    /// The samples past a limit, for the evidence: how many, and the worst ones with their times.
    static func excess(of rule: String, usage: ProcessResourceUsage, limit: Double) -> [String] {
        if rule.hasPrefix("RSS") {
            guard let first = usage.samples.first(where: { Double($0.rssBytes) > limit }) else { return [] }
            return ["RSS first passed \(formatBytes(limit)) at \(seconds(first.second)) (\(formatBytes(Double(first.rssBytes))))"]
        }
        let over = usage.samples.filter { $0.cpuPercent > limit }
        let worst = over.sorted { $0.cpuPercent > $1.cpuPercent }.prefix(3).map { "\(percent($0.cpuPercent)) at \(seconds($0.second))" }
        guard !over.isEmpty else { return [] }
        return ["\(over.count) of \(usage.samples.count) samples above \(percent(limit)); highest: \(worst.joined(separator: ", "))"]
    }

    /// `12.3%` (of one core).
    static func percent(_ value: Double) -> String { String(format: "%.1f%%", value) }

    static func seconds(_ value: Double) -> String { String(format: "%.1f s", value) }
}

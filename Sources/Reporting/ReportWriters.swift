import Checks
import Foundation

/// JUnit XML: one test suite per rule kind, one test case per rule, failures carrying the evidence.
package enum JUnitReport {
    package static func xml(_ summary: RunSummary) -> String {
        var lines = [#"<?xml version="1.0" encoding="UTF-8"?>"#]
        let failures = summary.rules.filter { !$0.passed }.count
        lines.append(#"<testsuites name="otelbench \#(escape(summary.scenario))" tests="\#(summary.rules.count)" failures="\#(failures)">"#)
        for kind in RuleResult.Kind.allCases {
            let rules = summary.rules.filter { $0.kind == kind }
            guard !rules.isEmpty else { continue }
            lines.append(#"  <testsuite name="\#(kind.rawValue)" tests="\#(rules.count)" failures="\#(rules.filter { !$0.passed }.count)">"#)
            for rule in rules {
                let name = escape(rule.name)
                if rule.passed {
                    lines.append(#"    <testcase classname="\#(kind.rawValue)" name="\#(name)"/>"#)
                } else {
                    let message = escape("\(rule.measured), expected \(rule.expected)")
                    let body = escape(rule.evidence.joined(separator: "\n"))
                    lines.append(#"    <testcase classname="\#(kind.rawValue)" name="\#(name)">"#)
                    lines.append(#"      <failure message="\#(message)" type="\#(rule.verdict.rawValue)">\#(body)</failure>"#)
                    lines.append("    </testcase>")
                }
            }
            lines.append("  </testsuite>")
        }
        lines.append("</testsuites>")
        return lines.joined(separator: "\n") + "\n"
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for character in text.unicodeScalars {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\n", "\t", "\r": result.unicodeScalars.append(character)
            default:
                // XML 1.0 forbids other control characters.
                if character.value < 0x20 { result += "?" } else { result.unicodeScalars.append(character) }
            }
        }
        return result
    }
}

/// Markdown for pull-request comments, and the terminal summary in the spirit of k6's.
package enum TextReport {
    package static func markdown(_ summary: RunSummary) -> String {
        var lines = ["# otelbench: \(summary.scenario) — \(summary.passed ? "passed" : "FAILED")", ""]
        if summary.interrupted { lines += ["**Interrupted**: the workload was stopped early; the results cover what ran.", ""] }
        lines += ["| | rule | measured | expected |", "| --- | --- | --- | --- |"]
        for rule in summary.rules {
            lines.append("| \(rule.passed ? "✅" : "❌") | \(rule.kind.rawValue): \(cell(rule.name)) | \(cell(rule.measured)) | \(cell(rule.expected)) |")
        }
        let failing = summary.rules.filter { !$0.passed && !$0.evidence.isEmpty }
        if !failing.isEmpty {
            lines += ["", "## Evidence"]
            for rule in failing {
                lines += ["", "### \(rule.kind.rawValue): \(rule.name)", ""] + rule.evidence.map { "- \($0)" }
            }
        }
        lines += [
            "", "## Workload", "", "| phase | sent / scheduled | rate | dropped | request | p50 | p99 | p99.9 | errors |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for phase in summary.phases {
            for (name, request) in phase.requests.sorted(by: { $0.key < $1.key }) {
                let errors = request.count - (request.outcomes["ok"] ?? 0)
                lines.append(
                    String(
                        format: "| %@ | %d / %d | %.1f/s | %d | %@ | %.2f ms | %.2f ms | %.2f ms | %d |",
                        phase.name,
                        phase.sent,
                        phase.scheduled,
                        phase.achievedRate,
                        phase.droppedSlots,
                        name,
                        request.latency.p50,
                        request.latency.p99,
                        request.latency.p999,
                        errors
                    )
                )
            }
        }
        if let processes = summary.processes {
            lines += processesTable(processes)
        }
        if let estimate = summary.estimate { lines += estimateTable(estimate) }
        if let shards = summary.shards {
            lines += [
                "", "## Shards", "", "The merged figures above are these shards' together.", "",
                "| shard | status | host | sent / scheduled | rate | dropped | failed | p50 | p99 |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            ]
            for shard in shards {
                let status = shard.status.rawValue.replacingOccurrences(of: "_", with: " ") + (shard.detail.map { ": \(cell($0))" } ?? "")
                lines.append(
                    "| \(shard.index)/\(shard.count) | \(status) | \(shard.host ?? "") | \(shard.sent) / \(shard.scheduled) | "
                        + String(format: "%.1f/s | %d | %d | %.2f ms | %.2f ms |", shard.achievedRate, shard.droppedSlots, shard.failed, shard.p50, shard.p99)
                )
            }
        }
        lines += ["", "## Telemetry received", "", "```", summary.intake.text, "```", ""]
        return lines.joined(separator: "\n")
    }

    /// `✓ slo: rollback p99 — p99 = 12.3 s (< 180 s)` lines and a verdict.
    package static func terminal(_ summary: RunSummary) -> String {
        var lines: [String] = []
        for rule in summary.rules {
            lines.append("\(rule.passed ? "✓" : "✗") \(rule.kind.rawValue): \(rule.name) — \(rule.measured) (\(rule.expected))")
            if !rule.passed { lines += rule.evidence.prefix(3).map { "    \($0)" } }
        }
        let failed = summary.rules.filter { !$0.passed }.count
        lines.append(
            summary.passed
                ? "PASSED: \(summary.rules.count) rules hold"
                : "FAILED: \(failed) of \(summary.rules.count) rules\(summary.interrupted ? " (interrupted)" : "")"
        )
        return lines.joined(separator: "\n")
    }

    static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }

    /// `## Processes under test`: each process's CPU and memory against its ceilings.
    static func processesTable(_ processes: [RunSummary.ProcessEntry]) -> [String] {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0) } ?? "–" }
        func limit(_ value: Double?, _ text: (Double) -> String) -> String { value.map { " (≤ \(text($0)))" } ?? "" }
        var lines = [
            "", "## Processes under test", "", "CPU in % of one core, from one-second samples of each process and its descendants.", "",
            "| process | samples | CPU average | CPU p99 | RSS peak |", "| --- | --- | --- | --- | --- |",
        ]
        for process in processes {
            let ceiling = process.ceiling
            lines.append(
                "| \(cell(process.name)) | \(process.sampleCount) | \(percent(process.cpuAveragePercent))\(limit(ceiling?.cpuAveragePercent) { percent($0) }) | "
                    + "\(percent(process.cpuP99Percent))\(limit(ceiling?.cpuP99Percent) { percent($0) }) | "
                    + "\(process.rssPeakBytes.map { formatBytes(Double($0)) } ?? "–")\(limit(ceiling?.rssPeakBytes, formatBytes)) |"
            )
        }
        return lines
    }
}

import CollectorLint
import Foundation
package import Scenario

/// `rules.collector_config`: lints an OpenTelemetry Collector configuration (``CollectorConfigLint``) as one rule.
/// It fails when the lint finds an error (a component the Collector would refuse, a pipeline that cannot carry its
/// signal, a configuration that does not parse); warnings (deprecations, unused components, best practices) leave
/// it passing but are listed in its evidence with their lines and fixes, errors first.
package struct CollectorConfigCheck: Check {
    package var rule: CollectorConfigRule

    package init(rule: CollectorConfigRule) {
        self.rule = rule
    }

    package var kind: RuleResult.Kind { .collectorConfig }

    package func evaluate(_ run: RunData) -> [RuleResult] { [result()] }

    /// The verdict, which depends on the file alone.
    package func result() -> RuleResult {
        let name = "Collector configuration \(URL(fileURLWithPath: rule.file).lastPathComponent)"
        let table = ComponentTable.shipped
        var version = table.newest
        if let text = rule.collectorVersion {
            guard let parsed = CollectorVersion(text) else {
                return RuleResult(kind: .collectorConfig, name: name, verdict: .fail, measured: "not linted", expected: "a Collector version such as 0.90.0")
            }
            version = parsed
        }
        let expected = "no error findings for otelcol-contrib \(version)"
        guard version >= table.oldest else {
            return RuleResult(
                kind: .collectorConfig,
                name: name,
                verdict: .noData,
                measured: "not linted",
                expected: expected,
                evidence: ["the component table describes \(table.oldest) to \(table.newest): judge for one of those (collector_version)"]
            )
        }
        let report: CollectorLintReport
        do throws(CollectorConfigUnreadable) {
            report = try CollectorConfigLint(table: table, version: version).lint(file: rule.file)
        } catch {
            return RuleResult(kind: .collectorConfig, name: name, verdict: .fail, measured: "unreadable", expected: expected, evidence: ["\(error)"])
        }
        let errors = report.errors
        let warnings = report.warnings
        var evidence = (errors + warnings).map { "\(report.file):\($0)" }
        if version > table.newest {
            evidence.append("note: the component table ends at \(table.newest); removals after it are not known")
        }
        return RuleResult(
            kind: .collectorConfig,
            name: name,
            verdict: errors.isEmpty ? .pass : .fail,
            measured: "\(errors.count) \(errors.count == 1 ? "error" : "errors"), \(warnings.count) \(warnings.count == 1 ? "warning" : "warnings")",
            expected: expected,
            evidence: evidence
        )
    }
}

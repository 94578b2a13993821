import Foundation
package import PromQL
import PromQLSyntax
package import Scenario

/// SLOs written as PromQL comparisons (`expr:`), evaluated over the received metrics under their
/// Prometheus names at the newest sample, as a Prometheus alert would see them at the end of the run.
///
/// Subjects: the series that fail (at most 10), or the series shown when every one holds.
package struct ExpressionSLOCheck: Check {
    package var rule: SLORule

    package init(rule: SLORule) {
        self.rule = rule
    }

    package var kind: RuleResult.Kind { .slo }

    package func evaluate(_ run: RunData) -> [RuleResult] { [result(engine: run.prometheus)] }

    /// Holds when the comparison keeps every series: each one of the left-hand side is shown with its value;
    /// no series at all is `no_data`.
    package func result(engine: PromQLEngine) -> RuleResult {
        let text = rule.expression ?? ""
        func result(
            _ verdict: RuleResult.Verdict,
            _ measured: String,
            _ evidence: [String] = [],
            subjects: [RuleResult.Subject] = []
        ) -> RuleResult {
            RuleResult(kind: .slo, name: rule.name, verdict: verdict, measured: measured, expected: text, evidence: evidence, subjects: subjects)
        }
        let parsed: PromQLExpression
        do throws(PromQLError) { parsed = try PromQLParser.parse(text) } catch { return result(.fail, "invalid PromQL: \(error)") }
        guard case .binary(var comparison) = parsed.unwrapped, comparison.op.isComparison else {
            return result(.fail, "expr must be a comparison")
        }
        guard let time = engine.latestTimestamp else {
            return result(.noData, "no data", ["no metrics were received, so the expression cannot hold"])
        }
        // The same comparison with `bool` says, series by series, whether it holds; the left side says the value.
        comparison.returnBool = true
        let verdicts: QueryValue
        let measured: QueryValue
        do throws(PromQLError) {
            verdicts = try engine.instantQuery(.binary(comparison), at: time)
            measured = try engine.instantQuery(comparison.lhs, at: time)
        } catch {
            return result(.fail, "evaluation failed: \(error.message)")
        }
        let at = "at \(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(time) / 1000))) (newest sample)"
        switch (verdicts, measured) {
        case (.scalar(let holds), .scalar(let value)):
            return result(holds == 1 ? .pass : .fail, PromQLFormat.number(value), [at])
        case (.vector(let elements), _):
            guard !elements.isEmpty else {
                return result(
                    .noData,
                    "no series",
                    ["\(comparison.lhs) returned nothing \(at): check the metric names (OTLP names appear as Prometheus names: _total, unit suffixes, _bucket)"]
                )
            }
            var values: [Labels: Double] = [:]
            if case .vector(let left) = measured { for element in left { values[element.labels.droppingMetricName] = element.value } }
            if case .scalar(let value) = measured { for element in elements { values[element.labels] = value } }
            let rows = elements.map { (labels: $0.labels, holds: $0.value == 1, value: values[$0.labels]) }.sorted { !$0.holds && $1.holds }
            let failing = rows.filter { !$0.holds }
            let shown = (failing.first ?? rows[0])
            let describe = { (row: (labels: Labels, holds: Bool, value: Double?)) in
                "\(row.labels.pairs.isEmpty ? "{}" : row.labels.description)\(row.value.map { " = \(String(format: "%.6g", $0))" } ?? "")"
            }
            return result(
                failing.isEmpty ? .pass : .fail,
                "\(describe(shown))\(rows.count > 1 ? " (\(failing.isEmpty ? "all" : "\(failing.count) of") \(rows.count) series\(failing.isEmpty ? " hold" : " fail"))" : "")",
                [at] + rows.prefix(10).map { "\(describe($0)) \($0.holds ? "✓" : "✗")" },
                subjects: (failing.isEmpty ? [shown] : Array(failing.prefix(10))).map { .series(labels: $0.labels.dictionary) }
            )
        default:
            return result(.fail, "the comparison did not give a scalar or vector")
        }
    }
}

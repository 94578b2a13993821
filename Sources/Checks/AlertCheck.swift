import Foundation
package import PromQL
import PromQLSyntax
package import Scenario
import Synchronization

/// Prometheus alerting rules evaluated over a run: which alerts would have fired, when, with which labels.
///
/// Subjects: the label sets of the instances that fired (at most 10 per rule).
package struct AlertCheck: Check {
    /// The rule file (`alert_rules:`).
    package var file: PrometheusRuleFile
    /// Alerts that must fire (`expect_alerts:`); every other alert must stay silent.
    package var expected: [String]
    /// Alerts allowed to see no series at all (`silent_alerts:`); any other alert that does is `no_data`.
    package var silent: [String]
    /// How often the rules are evaluated, unless their group sets an interval.
    package var interval: Duration
    /// The evaluation so far, advanced as the run goes (``advance(_:)``) and completed when judging.
    private let progress = SharedProgress()

    /// How far behind the newest sample the evaluation stays while the run goes on, so that samples still on
    /// their way (an export interval, a retry) are in before their step is evaluated.
    package static let lag: Duration = .seconds(60)

    package init(file: PrometheusRuleFile, expected: [String] = [], silent: [String] = [], interval: Duration) {
        self.file = file
        self.expected = expected
        self.silent = silent
        self.interval = interval
    }

    /// Evaluates the steps up to ``lag`` behind the newest sample: what the run's clock has passed, so that
    /// judging at the end has only the last steps left.
    package func advance(_ run: RunData) {
        let engine = run.prometheus
        guard let newest = engine.latestTimestamp else { return }
        let evaluator = AlertEvaluator(file: file, defaultInterval: interval)
        progress.state.withLock { evaluator.advance(&$0, engine: engine, through: newest - PromQLFormat.milliseconds(Self.lag)) }
    }

    package var kind: RuleResult.Kind { .alert }

    package func evaluate(_ run: RunData) -> [RuleResult] { evaluate(engine: run.prometheus).results }

    /// Adds the results and the alert timeline, from one evaluation.
    package func judge(_ run: RunData, into judgement: inout RuleBook.Judgement) {
        let evaluated = evaluate(engine: run.prometheus)
        judgement.results += evaluated.results
        judgement.alerts = evaluated.timeline
    }

    /// One rule result per alerting rule: it passes when it never fired, or, when named in `expected`, when it
    /// fired. An alert that never saw data — its expression returned no series at any evaluation and one of its
    /// selectors selects no series in the whole run — is `no_data` (a misspelt metric cannot pass), unless it
    /// is named in `silent`. Evidence: every alert instance with when it went pending and firing (relative to the first
    /// sample), its labels and annotations.
    package func evaluate(engine: PromQLEngine) -> (results: [RuleResult], timeline: AlertTimeline) {
        let evaluator = AlertEvaluator(file: file, defaultInterval: interval)
        let evaluation = progress.state.withLock { progress in
            evaluator.complete(&progress, engine: engine)
            return evaluator.finish(progress, engine: engine)
        }
        let start = evaluation.start
        func offset(_ time: Int64) -> String { String(format: "+%.1fs", Double(time - start) / 1000) }
        func seconds(_ time: Int64) -> Double { Double(time - start) / 1000 }
        let timeline = AlertTimeline(
            evaluatedSeconds: Double(max(0, evaluation.steps - 1)) * Double(PromQLFormat.milliseconds(evaluation.interval)) / 1000,
            instances: evaluation.instances.prefix(200).map { instance in
                AlertTimeline.Instance(
                    name: instance.name,
                    labels: instance.labels.removing(["alertname"]).description,
                    pendingSeconds: seconds(instance.activeAt),
                    firingSeconds: instance.firedAt.map(seconds),
                    resolvedSeconds: instance.resolvedAt.map(seconds)
                )
            }
        )
        let results = file.groups.flatMap(\.rules).compactMap { rule -> RuleResult? in
            guard case .alert(let name) = rule.kind else { return nil }
            let instances = evaluation.instances.filter { $0.name == name }
            let fired = instances.filter { $0.firedAt != nil }
            let mustFire = expected.contains(name)
            let unmatched = evaluation.unmatchedSelectors[name] ?? []
            let blind = !unmatched.isEmpty && !evaluation.sawSeries.contains(name)
            var verdict: RuleResult.Verdict = fired.isEmpty == !mustFire ? .pass : .fail
            if blind, !silent.contains(name) { verdict = .noData }
            let measured: String
            if blind {
                measured =
                    "saw no series in \(evaluation.steps) evaluations: nothing matches \(unmatched.joined(separator: ", "))"
                    + (silent.contains(name) ? " (allowed by silent_alerts)" : "")
            } else if let first = fired.min(by: { $0.firedAt! < $1.firedAt! }) {
                measured = "fired at \(offset(first.firedAt!)) for \(first.labels.description)\(fired.count > 1 ? " and \(fired.count - 1) more" : "")"
            } else if let pending = instances.first {
                measured = "pending from \(offset(pending.activeAt)), never fired (for: \(PromQLFormat.duration(rule.holdDuration)))"
            } else if evaluation.errors[name] != nil {
                measured = "could not be evaluated"
            } else {
                measured = "never fired"
            }
            var evidence = instances.prefix(10).map { instance in
                var line = "\(instance.labels.description): pending \(offset(instance.activeAt))"
                if let firedAt = instance.firedAt { line += ", firing \(offset(firedAt))" }
                if let resolvedAt = instance.resolvedAt { line += ", resolved \(offset(resolvedAt))" }
                line += ", value \(PromQLFormat.number(instance.value))"
                if !instance.annotations.isEmpty {
                    line += "; " + instance.annotations.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
                }
                return line
            }
            if let error = evaluation.errors[name] { evidence.append("evaluation error: \(error)") }
            if blind {
                evidence.append(
                    "no series matches \(unmatched.joined(separator: ", ")) in the whole run: a misspelt metric or label? "
                        + "(an alert meant to see nothing goes in silent_alerts)"
                )
            }
            evidence.append("\(evaluation.steps) evaluations every \(PromQLFormat.duration(evaluation.interval)) over the run; \(file.file):\(rule.line)")
            return RuleResult(
                kind: .alert,
                name: name,
                verdict: evaluation.errors[name] != nil ? .fail : verdict,
                measured: measured,
                expected: (mustFire ? "fires (expect_alerts)" : "does not fire") + (silent.contains(name) ? "; may see no series (silent_alerts)" : ""),
                evidence: evidence,
                subjects: fired.prefix(10).map { .series(labels: $0.labels.dictionary) }
            )
        }
        return (results, timeline)
    }
}

/// An alert check's evaluation so far, shared by the copies of the check.
private final class SharedProgress: Sendable {
    let state = Mutex(AlertEvaluator.Progress())
}

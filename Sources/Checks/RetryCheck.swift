package import Scenario
package import Telemetry

/// The `rules.retry` rule: how each OTLP exporter (resource and channel) reacted to intake's refusals, judged by
/// ``RetryJudge`` from the store's ``ExportLedger``, which intake fills while this check follows it.
///
/// ```swift
/// let check = RetryCheck(rule: RetryRule())
/// check.attach(to: store)          // before intake starts: intake records every OTLP request from now on
/// // ... the run, with intake.faults refusing some requests ...
/// let results = check.evaluate(RunData(store: store, driver: nil))
/// ```
package struct RetryCheck: Check {
    package let rule: RetryRule

    package init(rule: RetryRule) { self.rule = rule }

    package var kind: RuleResult.Kind { .retry }

    /// Has intake record every OTLP exporter's requests and answers from now on.
    package func attach(to store: TelemetryStore) { store.exports.follow() }

    package func evaluate(_ run: RunData) -> [RuleResult] {
        RetryJudge(rule: rule).judge(run.store.exports.timelines, droppedExporterRequests: run.store.exports.droppedExporterRequests)
    }
}

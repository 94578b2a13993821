package import Telemetry

/// One family of rules judged over what a run produced: SLOs, propagation, cardinality, a taxonomy,
/// accounting, alerting rules, expositions, a baseline. The ``RuleBook`` chooses the checks a scenario's
/// `rules:` call for and runs each once, after the run has settled.
///
/// ```swift
/// let check = CardinalityCheck(limit: 1000)
/// for result in check.evaluate(RunData(store: store, driver: nil)) where !result.passed {
///     print(result.name, result.measured, result.subjects)
/// }
/// ```
package protocol Check: Sendable {
    /// The kind of every result it gives.
    var kind: RuleResult.Kind { get }

    /// Judges the run: one result per rule, with its evidence and subjects.
    func evaluate(_ run: RunData) -> [RuleResult]

    /// Starts following `store`'s telemetry as it arrives, for a check that judges from an aggregate it keeps
    /// (span durations, say) rather than from what the store retains. The default does nothing.
    func attach(to store: TelemetryStore)

    /// Does, while the run goes on, the part of judging that the data so far allows (an alert check evaluates
    /// the steps the run's clock has passed), so that little is left at the end. The default does nothing.
    func advance(_ run: RunData)

    /// Judges the run into `judgement`: its results, and whatever else the report shows of it (an alert check's
    /// timeline). The default adds ``evaluate(_:)``'s results.
    func judge(_ run: RunData, into judgement: inout RuleBook.Judgement)
}

extension Check {
    package func attach(to store: TelemetryStore) {}

    package func advance(_ run: RunData) {}

    package func judge(_ run: RunData, into judgement: inout RuleBook.Judgement) {
        judgement.results += evaluate(run)
    }
}

package import Scenario
package import Telemetry

/// The rule book: which checks a scenario's `rules:` call for, each judged over what the run produced.
/// What `run` and `check` share.
///
/// ```swift
/// let book = RuleBook(scenario, taxonomy: taxonomy, withWorkloadRecords: true)
/// book.attach(to: store)
/// // ... the run ...
/// let judgement = book.evaluate(RunData(store: store, driver: report, requests: ledger))
/// print(judgement.results.allSatisfy(\.passed))
/// ```
package struct RuleBook: Sendable {
    /// What the checks found.
    package struct Judgement: Sendable {
        /// Every rule's result, in the order of the scenario's rules (SLOs, alerts, propagation, cardinality,
        /// taxonomy, accounting, resource ceilings, expositions, then the baseline's regressions).
        package var results: [RuleResult] = []
        /// Rules the scenario has that were not judged, by name (see ``RuleBook/skipped``).
        package var skipped: [String] = []
        /// When the scenario's alerts went pending, fired and resolved (nil without `alert_rules`).
        package var alerts: AlertTimeline?
    }

    /// The checks, in the order their results are reported.
    package private(set) var checks: [any Check] = []
    /// Without the workload's own records (`check` over a recording), the rules that need them — client-side
    /// SLOs, propagation, accounting, resource ceilings, expositions, a baseline — are left out and named here.
    package private(set) var skipped: [String] = []

    /// Chooses the checks for `scenario`'s rules.
    ///
    /// - Parameters:
    ///   - taxonomy: the loaded `rules.taxonomy` file; without it no taxonomy check is made.
    ///   - baseline: an earlier run to compare with (`--baseline`), judged with the scenario's `regression:` limits.
    ///   - withWorkloadRecords: whether the run has the driver's requests and the scraper's findings.
    package init(_ scenario: Scenario, taxonomy: MetricTaxonomy?, baseline: Baseline? = nil, withWorkloadRecords: Bool) {
        let rules = scenario.rules
        for slo in rules.slos {
            if case .client = slo.source, !withWorkloadRecords {
                skipped.append(slo.name)
            } else {
                checks.append(slo.source == nil ? ExpressionSLOCheck(rule: slo) as any Check : SLOCheck(rule: slo, workload: scenario.workload))
            }
        }
        if let alertRules = rules.alertRules {
            checks.append(AlertCheck(file: alertRules, expected: rules.expectedAlerts, silent: rules.silentAlerts, interval: rules.alertInterval))
        }
        if rules.propagation {
            if withWorkloadRecords { checks.append(PropagationCheck(requests: scenario.workload.requests)) } else { skipped.append("W3C trace context") }
        }
        if let limit = rules.cardinalityLimit {
            checks.append(CardinalityCheck(limit: limit, perMetric: rules.cardinalityPerMetric))
        }
        if rules.taxonomy != nil, let taxonomy { checks.append(TaxonomyCheck(taxonomy: taxonomy)) }
        // Judged from the spans alone, so a recording is judged as the run was.
        if !rules.traces.isEmpty { checks.append(TraceAssertionCheck(assertions: rules.traces)) }
        if let semconv = rules.semanticConventions { checks.append(SemanticConventionsCheck(rule: semconv)) }
        if let tolerance = rules.accountingTolerance {
            if withWorkloadRecords { checks.append(AccountingCheck(tolerance: tolerance)) } else { skipped.append("nothing lost") }
        }
        // The processes' CPU and memory are sampled while they run; a recording has none of it.
        for ceiling in rules.ceilings {
            if withWorkloadRecords {
                checks.append(ResourceCeilingCheck(ceiling: ceiling))
            } else {
                skipped.append("resource ceilings of \(ceiling.process)")
            }
        }
        // A file the run only reads: judged the same for a run and for a recording.
        if let collectorConfig = rules.collectorConfig { checks.append(CollectorConfigCheck(rule: collectorConfig)) }
        // Intake's answers to each exporter are seen only while the run goes; a recording keeps what was accepted.
        if let retry = rules.retry {
            if withWorkloadRecords { checks.append(RetryCheck(rule: retry)) } else { skipped.append("exporter retry") }
        }
        // The scraper's findings exist only while a run scrapes; a recording keeps the samples, not the text.
        if withWorkloadRecords {
            checks.append(ExpositionCheck())
        } else {
            skipped += scenario.scrape.targets.map { "exposition of \($0.url)" }
        }
        if let baseline {
            let check = BaselineCheck(
                baseline: baseline,
                p99Increase: rules.regressionP99Increase,
                throughputDecrease: rules.regressionThroughputDecrease
            )
            if withWorkloadRecords { checks.append(check) } else { skipped.append("regressions against the baseline") }
        }
    }

    /// Has every check that keeps an aggregate follow `store` from now on: before a run starts, so that they are
    /// fed as telemetry arrives and the store need not keep it.
    package func attach(to store: TelemetryStore) {
        for check in checks { check.attach(to: store) }
    }

    /// Lets every check do what the data so far allows (see ``Check/advance(_:)``); called as the run goes.
    package func advance(_ run: RunData) {
        for check in checks { check.advance(run) }
    }

    /// Runs every check over `run`.
    package func evaluate(_ run: RunData) -> Judgement {
        var judgement = Judgement(skipped: skipped)
        for check in checks { check.judge(run, into: &judgement) }
        return judgement
    }
}

import Checks
import Foundation
import Services
import Workload

/// What `run` and `check` share: finding a scenario's taxonomy and judging its rules.
enum ScenarioRules {
    /// The scenario's `rules.taxonomy` (relative to the scenario file), or, when it names none and
    /// `fallBackToCFCore` allows, the repository's cf_core taxonomy; nil when there is none to use.
    static func taxonomyPath(_ scenario: Scenario, fallBackToCFCore: Bool) -> String? {
        if let path = scenario.rules.taxonomy {
            return path.hasPrefix("/") ? path : URL(fileURLWithPath: scenario.file).deletingLastPathComponent().appendingPathComponent(path).path
        }
        return fallBackToCFCore ? MetricTaxonomy.locateCFCore() : nil
    }

    static func loadTaxonomy(path: String) throws -> MetricTaxonomy {
        do { return try MetricTaxonomy.load(path: path) } catch { throw UsageError("\(error)") }
    }

    /// Judges every rule of `scenario`. Without the workload's own records (`check` over a recording), the
    /// rules that need them — client-side SLOs, propagation, accounting — are left out and named in `skipped`.
    static func evaluate(
        _ scenario: Scenario, taxonomy: MetricTaxonomy?, run: RunData, withWorkloadRecords: Bool
    ) -> (results: [RuleResult], skipped: [String], alerts: AlertTimeline?) {
        let rules = scenario.rules
        var results: [RuleResult] = []
        var skipped: [String] = []
        for slo in rules.slos {
            if case .client = slo.source, !withWorkloadRecords {
                skipped.append(slo.name)
            } else {
                results.append(SLOCheck.evaluate(slo, run: run))
            }
        }
        var alerts: AlertTimeline?
        if let alertRules = rules.alertRules {
            let evaluated = AlertCheck.evaluate(alertRules, expected: rules.expectedAlerts, interval: rules.alertInterval, engine: run.prometheus)
            results += evaluated.results
            alerts = evaluated.timeline
        }
        if rules.propagation {
            if withWorkloadRecords { results.append(PropagationCheck.evaluate(run: run)) } else { skipped.append("W3C trace context") }
        }
        if let limit = rules.cardinalityLimit {
            results += CardinalityCheck.evaluate(limit: limit, perMetric: rules.cardinalityPerMetric, store: run.store)
        }
        if rules.taxonomy != nil, let taxonomy { results += TaxonomyCheck.evaluate(taxonomy: taxonomy, store: run.store) }
        if let tolerance = rules.accountingTolerance {
            if withWorkloadRecords { results.append(AccountingCheck.evaluate(tolerance: tolerance, run: run)) } else { skipped.append("nothing lost") }
        }
        // The scraper's findings exist only while a run scrapes; a recording keeps the samples, not the text.
        if withWorkloadRecords {
            results += ExpositionCheck.evaluate(targets: run.scrapedTargets)
        } else {
            skipped += scenario.scrape.targets.map { "exposition of \($0.url)" }
        }
        return (results, skipped, alerts)
    }
}

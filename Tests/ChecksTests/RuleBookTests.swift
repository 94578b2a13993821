import Checks
import Scenario
import Telemetry
import TestSupport
import Testing
import Workload

/// The rule book turns a scenario's `rules:` into checks, in the order results are reported, and leaves out
/// (by name) what a recording cannot judge.
@Suite struct RuleBookTests {
    /// cf-core-smoke has every kind of rule: structured and `expr:` SLOs, a client SLO, alert rules,
    /// propagation, cardinality, a taxonomy and accounting; a scrape target is added here.
    private func smoke() throws -> Scenario {
        var scenario = try ScenarioLoader.load(path: repositoryRoot.appendingPathComponent("Scenarios/cf-core-smoke.yaml").path)
        scenario.scrape.targets = [ScrapeTarget(url: "http://127.0.0.1:9/metrics", job: "app")]
        return scenario
    }

    private let baseline = Baseline(scenario: "cf-core-smoke", phases: [])

    private func names(_ book: RuleBook) -> [String] { book.checks.map { String(describing: type(of: $0)) } }

    @Test func aRunGetsACheckForEveryRule() throws {
        let book = RuleBook(try smoke(), taxonomy: MetricTaxonomy(metrics: []), baseline: baseline, withWorkloadRecords: true)
        #expect(
            names(book) == [
                "SLOCheck", "SLOCheck", "ExpressionSLOCheck", "ExpressionSLOCheck", "SLOCheck", "AlertCheck", "PropagationCheck",
                "CardinalityCheck", "TaxonomyCheck", "TraceAssertionCheck", "SemanticConventionsCheck", "AccountingCheck", "ExpositionCheck",
                "BaselineCheck",
            ]
        )
        #expect(
            book.checks.map(\.kind) == [
                .slo, .slo, .slo, .slo, .slo, .alert, .propagation, .cardinality, .taxonomy, .traces, .semconv, .accounting, .exposition,
                .regression,
            ]
        )
        #expect(book.skipped.isEmpty)
    }

    @Test func aRecordingSkipsWhatNeedsTheWorkloadsRecords() throws {
        let book = RuleBook(try smoke(), taxonomy: MetricTaxonomy(metrics: []), baseline: baseline, withWorkloadRecords: false)
        #expect(
            names(book) == [
                "SLOCheck", "SLOCheck", "ExpressionSLOCheck", "ExpressionSLOCheck", "AlertCheck", "CardinalityCheck", "TaxonomyCheck",
                "TraceAssertionCheck", "SemanticConventionsCheck",
            ]
        )
        #expect(
            book.skipped == [
                "liveness p99.9 seen by the client", "W3C trace context", "nothing lost", "exposition of http://127.0.0.1:9/metrics",
                "regressions against the baseline",
            ]
        )
    }

    @Test func noTaxonomyNoBaselineNoChecksForThem() throws {
        let book = RuleBook(try smoke(), taxonomy: nil, withWorkloadRecords: true)
        #expect(!book.checks.contains { $0.kind == .taxonomy || $0.kind == .regression })
    }

    /// Over an empty run every check gives its results in order, the skipped rules are named, and the alert
    /// check's timeline comes with them.
    @Test func evaluationRunsEveryCheckInOrder() throws {
        let scenario = try smoke()
        let book = RuleBook(scenario, taxonomy: MetricTaxonomy(metrics: []), withWorkloadRecords: false)
        let judgement = book.evaluate(RunData(store: TelemetryStore(), driver: nil))
        let slos = judgement.results.filter { $0.kind == .slo }.map(\.name)
        #expect(slos == scenario.rules.slos.map(\.name).filter { $0 != "liveness p99.9 seen by the client" })
        #expect(judgement.results.map(\.kind).drop { $0 == .slo }.first == .alert, "alerts follow the SLOs")
        #expect(judgement.results.last { $0.kind == .taxonomy }?.name == "no metrics outside the taxonomy")
        #expect(judgement.results.last { $0.kind == .taxonomy }?.verdict == .pass)
        // The trace assertions, then the semantic conventions, come last; over a run without spans, each is
        // no_data, never a pass.
        let traces = judgement.results.drop { $0.kind != .traces }.prefix { $0.kind == .traces }
        #expect(traces.map(\.name) == scenario.rules.traces.map(\.name) && traces.allSatisfy { $0.verdict == .noData })
        let semconv = judgement.results.filter { $0.kind == .semconv }
        #expect(semconv.count == 2 && semconv.allSatisfy { $0.verdict == .noData })
        #expect(judgement.skipped == book.skipped)
        #expect(judgement.alerts != nil)
        #expect(judgement.results.first { $0.kind == .cardinality }?.verdict == .pass)
    }
}

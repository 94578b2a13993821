package import Scenario
package import Telemetry

/// The scenario's `rules.traces`: selectors and assertions over every trace of the run, as Tracetest's test specs
/// and the Collector testbed's validator have them, one result per assertion.
///
/// The spans are not read back from the store (whose window of ``TelemetryStore/Limits/maxTraces`` may have
/// evicted most of a long run's traces): a ``TraceAssertionJudge`` is fed every span as it arrives, holds each
/// trace only until it has been quiet for a window, judges it and keeps counts and the first few problems. See
/// ``TraceAssertionJudge`` for what it holds per trace and how it bounds its memory.
///
/// What a rule means (``TraceAssertion``): `count` is judged per trace in scope (every trace, or those with a
/// span matching `traces_with`); every other assertion per span matching `select`. The verdict is `no_data` when
/// there was nothing to judge: no trace in scope, or per-span assertions whose selector matched no span in the
/// whole run. A rule that says "every X has a child Y" therefore fails a run that has no X at all.
///
/// ```swift
/// let check = TraceAssertionCheck(assertions: scenario.rules.traces)
/// check.attach(to: store)
/// // ... the run ...
/// for result in check.evaluate(RunData(store: store, driver: nil)) { print(result.name, result.verdict) }
/// ```
package struct TraceAssertionCheck: Check {
    package let assertions: [TraceAssertion]
    /// Where the spans are judged, trace by trace.
    package let judge: TraceAssertionJudge

    package init(assertions: [TraceAssertion], configuration: TraceAssertionJudge.Configuration = .init()) {
        self.assertions = assertions
        judge = TraceAssertionJudge(assertions: assertions, configuration: configuration)
    }

    package var kind: RuleResult.Kind { .traces }

    package func attach(to store: TelemetryStore) { judge.attach(to: store) }

    package func advance(_ run: RunData) { judge.sweep() }

    package func evaluate(_ run: RunData) -> [RuleResult] {
        // Attached before the run, this does nothing; attached now, the judge takes what the store retains.
        attach(to: run.store)
        let outcome = judge.finish()
        return zip(assertions, outcome.tallies).map { assertion, tally in Self.result(assertion, tally: tally, outcome: outcome) }
    }

    /// One assertion's verdict from what the judge counted.
    static func result(_ assertion: TraceAssertion, tally: TraceAssertionJudge.Tally, outcome: TraceAssertionJudge.Outcome) -> RuleResult {
        let expected = expectation(assertion)
        var notes: [String] = []
        if outcome.lateSpans > 0 {
            notes.append("\(outcome.lateSpans) spans arrived after their trace was judged (quiet for the judging window) and were not counted")
        }
        if outcome.judgedEarly > 0 {
            notes.append("\(outcome.judgedEarly) traces were judged before they had been quiet for the window, because too many were open")
        }
        guard tally.traces > 0 else {
            let measured = assertion.scope.map { "no trace had a \($0)" } ?? "no trace arrived"
            return RuleResult(kind: .traces, name: assertion.name, verdict: .noData, measured: measured, expected: expected, evidence: notes)
        }
        if tally.problemCount == 0, assertion.hasSpanAssertions, assertion.count == nil, tally.spans == 0 {
            return RuleResult(
                kind: .traces,
                name: assertion.name,
                verdict: .noData,
                measured: "no \(assertion.select) in \(tally.traces) traces",
                expected: expected,
                evidence: notes
            )
        }
        guard tally.problemCount > 0 else {
            let measured = assertion.hasSpanAssertions ? "\(tally.spans) spans hold in \(tally.traces) traces" : "\(tally.traces) traces hold"
            return RuleResult(kind: .traces, name: assertion.name, verdict: .pass, measured: measured, expected: expected, evidence: notes)
        }
        var evidence = tally.problems.map { "trace \($0.trace): \($0.text)" }
        if tally.problemCount > evidence.count {
            evidence.append("and \(tally.problemCount - evidence.count) more problems (\(tally.problemCount) in \(tally.brokenTraces) traces)")
        }
        var subjects: [RuleResult.Subject] = []
        var seen: Set<String> = []
        for problem in tally.problems where seen.insert(problem.trace).inserted {
            subjects.append(.trace(id: problem.trace, problem: problem.text))
        }
        return RuleResult(
            kind: .traces,
            name: assertion.name,
            verdict: .fail,
            measured: "\(tally.brokenTraces) of \(tally.traces) traces broken (\(tally.problemCount) problems)",
            expected: expected,
            evidence: evidence + notes,
            subjects: subjects
        )
    }

    /// What the assertion asks, as people read it.
    static func expectation(_ assertion: TraceAssertion) -> String {
        var parts: [String] = []
        let scope = assertion.scope.map { "every trace with a \($0)" } ?? "every trace"
        if let count = assertion.count { parts.append("\(scope) has \(count) \(assertion.select)") }
        var each: [String] = []
        if let duration = assertion.duration {
            if let low = duration.min { each.append("lasts at least \(formatSeconds(low.inSeconds))") }
            if let high = duration.max { each.append("lasts at most \(formatSeconds(high.inSeconds))") }
        }
        if !assertion.attributes.isEmpty { each.append("has " + assertion.attributes.map(\.description).joined(separator: ", ")) }
        if !assertion.status.isEmpty { each.append("has status \(assertion.status.map(\.rawValue).joined(separator: " or "))") }
        if let root = assertion.root { each.append(root ? "is a root" : "is not a root") }
        if let child = assertion.child { each.append("has a child \(child)") }
        if let below = assertion.descendant { each.append("has a descendant \(below)") }
        if let parent = assertion.parent { each.append("has a parent \(parent)") }
        if !each.isEmpty {
            let within = assertion.scope.map { " (in traces with a \($0))" } ?? ""
            parts.append("every \(assertion.select)\(within) " + each.joined(separator: ", "))
        }
        return parts.joined(separator: "; ")
    }
}

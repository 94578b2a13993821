import Foundation

/// The verdict of one rule, with the evidence a person needs to see why and the subjects a program needs.
///
/// ```swift
/// let result = PropagationCheck().result(run)
/// if case .trace(let id, let problem)? = result.subjects.first { print(id, problem) }
/// ```
package struct RuleResult: Sendable, Codable, Hashable {
    /// The kinds of rule, one JUnit test suite each.
    package enum Kind: String, Sendable, Codable, CaseIterable {
        case slo, propagation, cardinality, taxonomy, accounting
        /// Prometheus alerting rules (`alert_rules:`).
        case alert
        /// Against a baseline run (`--baseline`).
        case regression
        /// A scraped Prometheus target's exposition (`scrape:`): parses, lints clean, within limits.
        case exposition
        /// A run spread over several machines: every shard ran its part and reported.
        case shards
        /// The user's own services, started as processes (`services.processes`): each ready and running until stopped.
        case processes
        /// The CPU and memory of a process under test against its limits (`rules.ceilings`).
        case ceilings
        /// Assertions over every trace of the run (`rules.traces`): selectors, counts, durations, attributes, structure.
        case traces
        /// Spans against the OpenTelemetry semantic conventions (`rules.semconv`).
        case semconv
        /// An OpenTelemetry Collector configuration linted (`rules.collector_config`): no error-severity finding.
        case collectorConfig = "collector_config"
        /// How OTLP exporters retried intake's refusals (`rules.retry`), exporter by exporter.
        case retry
    }

    package enum Verdict: String, Sendable, Codable {
        case pass, fail
        /// The rule could not be evaluated (no data to judge): a failure for the exit code, said as such.
        case noData = "no_data"
    }

    /// What a rule's verdict is about, as data: the trace a report draws, the series a dashboard links to.
    /// In `summary.json` each is one object keyed by its case: `{"trace": {"id": "…", "problem": "…"}}`.
    package enum Subject: Sendable, Codable, Hashable {
        /// A trace (32 hex digits) and its first problem, as the evidence says it.
        case trace(id: String, problem: String)
        /// A metric, by the name the rule reports it under (Prometheus' name for cardinality, OTLP's for a taxonomy).
        case metric(name: String)
        /// One series by its labels (`__name__` included when the series has one).
        case series(labels: [String: String])
        /// One group of a `by:` rule, by its label values.
        case group(labels: [String: String])
        /// A request name of the workload.
        case request(name: String)
        /// A scraped target, by its exposition URL.
        case target(url: String)
        /// A process under test, by its `name` in `services.processes`.
        case process(name: String)
    }

    package var kind: Kind
    package var name: String
    package var verdict: Verdict
    /// What was measured, as people read it: `p99 = 212.4 s`.
    package var measured: String
    /// What the rule asks: `< 180 s`.
    package var expected: String
    /// Specific items: trace ids with the first broken link, series, counts.
    package var evidence: [String]
    /// What the verdict is about, for programs (bounded like the evidence): empty when the rule names nothing.
    package var subjects: [Subject]

    package init(
        kind: Kind,
        name: String,
        verdict: Verdict,
        measured: String,
        expected: String,
        evidence: [String] = [],
        subjects: [Subject] = []
    ) {
        self.kind = kind
        self.name = name
        self.verdict = verdict
        self.measured = measured
        self.expected = expected
        self.evidence = evidence
        self.subjects = subjects
    }

    package var passed: Bool { verdict == .pass }

    enum CodingKeys: String, CodingKey {
        case kind, name, verdict, measured, expected, evidence, subjects
    }

    /// Summaries written before subjects existed decode with none.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        name = try container.decode(String.self, forKey: .name)
        verdict = try container.decode(Verdict.self, forKey: .verdict)
        measured = try container.decode(String.self, forKey: .measured)
        expected = try container.decode(String.self, forKey: .expected)
        evidence = try container.decode([String].self, forKey: .evidence)
        subjects = try container.decodeIfPresent([Subject].self, forKey: .subjects) ?? []
    }
}

extension Collection<RuleResult> {
    /// The first trace a failing propagation rule names, with its problem: the trace a report draws.
    package var firstBrokenTrace: (id: String, problem: String)? {
        guard let rule = first(where: { $0.kind == .propagation && !$0.passed }) else { return nil }
        for case .trace(let id, let problem) in rule.subjects { return (id, problem) }
        return nil
    }
}

/// Formats seconds the way people read latencies: `850 µs`, `42.1 ms`, `3.20 s`.
package func formatSeconds(_ seconds: Double) -> String {
    if seconds.isNaN { return "NaN" }
    if seconds.isInfinite { return seconds > 0 ? "+Inf" : "-Inf" }
    if abs(seconds) < 0.001 { return String(format: "%.0f µs", seconds * 1e6) }
    if abs(seconds) < 1 { return String(format: "%.1f ms", seconds * 1e3) }
    return String(format: "%.2f s", seconds)
}

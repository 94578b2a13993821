/// The verdict of one rule, with the evidence a person needs to see why.
public struct RuleResult: Sendable, Codable, Hashable {
    /// The kinds of rule, one JUnit test suite each.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case slo, propagation, cardinality, taxonomy, accounting
        /// Prometheus alerting rules (`alert_rules:`).
        case alert
        /// Against a baseline run (`--baseline`).
        case regression
        /// A scraped Prometheus target's exposition (`scrape:`): parses, lints clean, within limits.
        case exposition
    }

    public enum Verdict: String, Sendable, Codable {
        case pass, fail
        /// The rule could not be evaluated (no data to judge): a failure for the exit code, said as such.
        case noData = "no_data"
    }

    public var kind: Kind
    public var name: String
    public var verdict: Verdict
    /// What was measured, as people read it: `p99 = 212.4 s`.
    public var measured: String
    /// What the rule asks: `< 180 s`.
    public var expected: String
    /// Specific items: trace ids with the first broken link, series, counts.
    public var evidence: [String]

    public init(kind: Kind, name: String, verdict: Verdict, measured: String, expected: String, evidence: [String] = []) {
        self.kind = kind
        self.name = name
        self.verdict = verdict
        self.measured = measured
        self.expected = expected
        self.evidence = evidence
    }

    public var passed: Bool { verdict == .pass }
}

/// Formats seconds the way people read latencies: `850 µs`, `42.1 ms`, `3.20 s`.
public func formatSeconds(_ seconds: Double) -> String {
    if seconds.isNaN { return "NaN" }
    if seconds.isInfinite { return seconds > 0 ? "+Inf" : "-Inf" }
    if abs(seconds) < 0.001 { return String(format: "%.0f µs", seconds * 1e6) }
    if abs(seconds) < 1 { return String(format: "%.1f ms", seconds * 1e3) }
    return String(format: "%.2f s", seconds)
}

import Foundation

package import Scenario
import Synchronization
package import Telemetry

/// The scenario's `rules.semconv`: every span (of the named services, or all) against the OpenTelemetry semantic
/// conventions the binary carries (``SemanticConventions``, version ``SemanticConventions/registryVersion``).
/// Two results:
/// - **HTTP spans**: server and client spans with an HTTP method carry the attributes the conventions require
///   (server: `http.request.method`, `url.path`, `url.scheme`; client: `http.request.method`, `server.address`,
///   `server.port`, `url.full`; either `http.response.status_code` or `error.type`; `error.type` after an error),
///   and are not named after their URL path. Recommended attributes and SHOULD-level names are notes, not failures.
///   `no_data` without an HTTP span.
/// - **attributes**: no span carries a deprecated attribute (named with its replacement), and every registered
///   attribute has the registry's type. `no_data` without a span.
///
/// Spans are reviewed as they arrive (``SpanObserver``); what is kept is one line per distinct problem (service,
/// span kind and name, problem) with a count and an example trace, at most ``maxDistinctProblems`` of them, so
/// memory follows the variety of the services' spans, not their number. Metric attributes are not checked.
///
/// ```swift
/// let check = SemanticConventionsCheck(rule: SemanticConventionsRule())
/// check.attach(to: store)
/// let results = check.evaluate(RunData(store: store, driver: nil))
/// ```
package struct SemanticConventionsCheck: Check {
    package let rule: SemanticConventionsRule
    let reviewer: SemanticConventionsReviewer

    /// The most distinct problems (and notes) kept; beyond, only counted.
    static let maxDistinctProblems = 200
    /// Lines of evidence per result.
    static let evidenceLimit = 20

    package init(rule: SemanticConventionsRule) {
        self.rule = rule
        reviewer = SemanticConventionsReviewer(services: Set(rule.services))
    }

    package var kind: RuleResult.Kind { .semconv }

    package func attach(to store: TelemetryStore) { store.attach(reviewer) }

    package func evaluate(_ run: RunData) -> [RuleResult] {
        attach(to: run.store)
        let tallies = reviewer.snapshot
        let version = SemanticConventions.registryVersion
        let scope = rule.services.isEmpty ? "" : " of \(rule.services.joined(separator: ", "))"
        return [
            result(
                name: "HTTP spans (semantic conventions \(version))",
                expected: "HTTP server and client spans\(scope) carry the required attributes and are not named after their URL path",
                judged: tallies.httpSpans,
                noun: "HTTP spans",
                problems: tallies.http,
                notes: tallies.notes
            ),
            result(
                name: "attribute names and types (semantic conventions \(version))",
                expected: "spans\(scope) use no deprecated attribute, and registered attributes have the registry's types",
                judged: tallies.spans,
                noun: "spans",
                problems: tallies.attributes,
                notes: [:]
            ),
        ]
    }

    private func result(
        name: String,
        expected: String,
        judged: Int,
        noun: String,
        problems: [SemanticConventionsReviewer.Key: SemanticConventionsReviewer.Seen],
        notes: [SemanticConventionsReviewer.Key: SemanticConventionsReviewer.Seen]
    ) -> RuleResult {
        let lines = { (found: [SemanticConventionsReviewer.Key: SemanticConventionsReviewer.Seen], prefix: String) in
            found.sorted { ($0.value.count, $1.key.description) > ($1.value.count, $0.key.description) }.prefix(Self.evidenceLimit).map {
                "\(prefix)\($0.key) ×\($0.value.count) (e.g. trace \($0.value.example))"
            }
        }
        let noteLines = lines(notes, "note: ")
        guard judged > 0 else {
            return RuleResult(kind: .semconv, name: name, verdict: .noData, measured: "no \(noun) arrived", expected: expected)
        }
        let failing = problems.values.reduce(0) { $0 + $1.count }
        guard failing > 0 else {
            return RuleResult(kind: .semconv, name: name, verdict: .pass, measured: "\(judged) \(noun) conform", expected: expected, evidence: noteLines)
        }
        var subjects: [RuleResult.Subject] = []
        for (key, seen) in problems.sorted(by: { $0.key.description < $1.key.description }).prefix(Self.evidenceLimit) {
            subjects.append(.trace(id: seen.example, problem: key.description))
        }
        return RuleResult(
            kind: .semconv,
            name: name,
            verdict: .fail,
            measured: "\(problems.count) distinct problems in \(judged) \(noun)",
            expected: expected,
            evidence: lines(problems, "") + noteLines,
            subjects: subjects
        )
    }
}

/// Reviews spans as they arrive and keeps each distinct problem once, with a count and an example trace.
final class SemanticConventionsReviewer: SpanObserver {
    /// A problem of a kind of span.
    struct Key: Hashable, Sendable, CustomStringConvertible {
        var service: String
        var kind: SpanKind
        var name: String
        var problem: String

        var description: String { "\(service) \(kind) \"\(name)\": \(problem)" }
    }

    /// How often it was seen, and a trace that shows it.
    struct Seen: Sendable {
        var count = 0
        var example: String
    }

    struct Tallies: Sendable {
        var spans = 0
        var httpSpans = 0
        var http: [Key: Seen] = [:]
        var attributes: [Key: Seen] = [:]
        var notes: [Key: Seen] = [:]
    }

    let services: Set<String>
    private let tallies = Mutex(Tallies())

    init(services: Set<String>) { self.services = services }

    func observe(spans: [Span]) {
        var reviewed: [(Span, SemanticConventions.Review, Bool)] = []
        for span in spans where services.isEmpty || services.contains(span.resource.serviceName) {
            reviewed.append((span, SemanticConventions.review(span), SemanticConventions.httpRole(span) != nil))
        }
        guard !reviewed.isEmpty else { return }
        tallies.withLock { tallies in
            for (span, review, isHTTP) in reviewed {
                tallies.spans += 1
                if isHTTP { tallies.httpSpans += 1 }
                let key = { (problem: String) in Key(service: span.resource.serviceName, kind: span.kind, name: span.name, problem: problem) }
                for problem in review.failures { Self.note(key(problem), trace: span.traceID, in: &tallies.http) }
                for problem in review.attributes { Self.note(key(problem), trace: span.traceID, in: &tallies.attributes) }
                // Notes are about the instrumentation, not one route: kept once per service and span kind.
                for problem in review.notes {
                    Self.note(Key(service: span.resource.serviceName, kind: span.kind, name: "*", problem: problem), trace: span.traceID, in: &tallies.notes)
                }
            }
        }
    }

    private static func note(_ key: Key, trace: TraceID, in found: inout [Key: Seen]) {
        if found[key] != nil {
            found[key]!.count += 1
        } else if found.count < SemanticConventionsCheck.maxDistinctProblems {
            found[key] = Seen(count: 1, example: trace.hex)
        } else {
            // Beyond the limit, counted under one line so the verdict still fails.
            let overflow = Key(service: "*", kind: key.kind, name: "*", problem: "more distinct problems than are kept")
            found[overflow, default: Seen(example: trace.hex)].count += 1
        }
    }

    var snapshot: Tallies { tallies.withLock { $0 } }
}

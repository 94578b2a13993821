import Foundation
package import Scenario
import Telemetry
import Workload

/// W3C Trace Context propagation, proven request by request from the trace ids the driver chose, as the run's
/// ``RequestLedger`` judged them trace by trace.
///
/// For every request that carried a valid, sampled context: a span of the driver's trace has the driver's
/// span id as parent; every span's parent resolves within the trace; a server span below the first hop has
/// a client span as parent, and every client span has the callee's server span below it; `tracestate` arrives
/// unchanged on every span. For unsampled requests no span may be exported. A W3C test-suite case
/// (`trace: {w3c: NAME}`, ``TraceContextCase``) is judged by its expectation: a case the service must continue
/// is judged as a valid context, with the tracestate the case expects (whitespace removed, several headers
/// joined); a case whose tracestate is invalid must continue the trace with no tracestate on any span; a case
/// whose traceparent is invalid or missing must start a fresh trace (no span may carry the id the invalid
/// header was built around).
///
/// Silence is not proof: an unsampled or restarted request counts only with positive evidence. For a restart,
/// a fresh trace's root server span for that request (its method and `url.path` those of the request's
/// template; each span proves one request); for an unsampled request, an answer and server spans of the same
/// endpoint (or, without the workload's templates, any span) elsewhere in the run. Requests without evidence
/// are named in a failure line; with no request judged at all, the rule is `no_data`.
///
/// Subjects: every broken trace (at most 20) with its first problem.
package struct PropagationCheck: Check {
    /// The workload's request templates, by which requests are matched to the spans that prove them.
    package var requests: [RequestTemplate]

    package init(requests: [RequestTemplate] = []) {
        self.requests = requests
    }

    package var kind: RuleResult.Kind { .propagation }

    package func evaluate(_ run: RunData) -> [RuleResult] { [result(run)] }

    /// The one rule, `W3C trace context`, from what the run's ``RequestLedger`` judged trace by trace.
    package func result(_ run: RunData) -> RuleResult {
        let tallies = (run.requests?.finish() ?? RequestLedger.Tallies()).resolved(templates: requests)
        return Self.result(tallies)
    }

    /// The rule from a ledger's tallies (one run's, or several shards' merged).
    package static func result(_ tallies: RequestLedger.Tallies) -> RuleResult {
        let unproven = tallies.unproven.values.reduce(0) { $0 + $1.count }
        guard tallies.checked > 0 else {
            return RuleResult(
                kind: .propagation,
                name: "W3C trace context",
                verdict: .noData,
                measured: unproven == 0
                    ? "no request carried a trace context"
                    : "no evidence for any of \(unproven) unsampled or invalid-context requests",
                expected: "every request's trace continues in the services' spans",
                evidence: unprovenLines(tallies.unproven)
            )
        }
        var broken: [RuleResult.Subject] = []
        var seen: Set<String> = []
        for problem in tallies.problems where seen.insert(problem.trace).inserted && broken.count < 20 {
            broken.append(.trace(id: problem.trace, problem: problem.text))
        }
        var measured =
            tallies.problemCount == 0 ? "\(tallies.traces) traces intact" : "\(tallies.brokenTraces) of \(tallies.traces) traces broken"
        if unproven > 0 { measured += "; \(unproven) requests without evidence" }
        var evidence = tallies.problems.prefix(20).map(\.text)
        if tallies.problemCount > evidence.count { evidence.append("and \(tallies.problemCount - evidence.count) more problems") }
        if tallies.judgedEarly > 0 {
            evidence.append("\(tallies.judgedEarly) traces were judged before they had been quiet for the window, because too many were open")
        }
        if tallies.lateSpans > 0 {
            evidence.append("\(tallies.lateSpans) spans arrived after their trace was judged (quiet for the judging window) and were not counted")
        }
        return RuleResult(
            kind: .propagation,
            name: "W3C trace context",
            verdict: tallies.problemCount == 0 && unproven == 0 ? .pass : .fail,
            measured: measured,
            expected: "every request's trace continues in the services' spans",
            evidence: evidence + unprovenLines(tallies.unproven),
            subjects: broken
        )
    }

    /// The failure line naming requests whose correct handling left no trace to prove it.
    static func unprovenLines(_ unproven: [String: RequestLedger.Tallies.Named]) -> [String] {
        let total = unproven.values.reduce(0) { $0 + $1.count }
        guard total > 0 else { return [] }
        let names = unproven.sorted { $0.key < $1.key }.map { name, requests in "\(name) ×\(requests.count) (e.g. trace \(requests.example))" }
        return [
            "\(total) unsampled or invalid-context requests without evidence: \(names.joined(separator: ", ")); "
                + "an invalid traceparent needs a fresh trace's server span for the request, an unsampled request an answer "
                + "and other spans of its endpoint"
        ]
    }

    /// Whether a server span is one the request's template would produce: same method and a `url.path` that
    /// fits the template's path (placeholders match anything). A span without those attributes, or a request
    /// without a template, fits.
    static func serves(_ span: Span, _ template: RequestTemplate?) -> Bool {
        guard let template else { return true }
        if let method = span.attributes.string("http.request.method"), method != template.method.uppercased() { return false }
        guard let path = span.attributes.string("url.path") else { return true }
        let pattern = template.path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return fits(path, pattern: pattern)
    }

    /// Whether `text` fits `pattern`, where each `{{...}}` placeholder stands for any text.
    static func fits(_ text: String, pattern: String) -> Bool {
        var literals: [Substring] = []
        var rest = Substring(pattern)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            literals.append(rest[..<open.lowerBound])
            rest = rest[close.upperBound...]
        }
        literals.append(rest)
        guard literals.count > 1 else { return text == pattern }
        var remaining = Substring(text)
        guard remaining.hasPrefix(literals[0]) else { return false }
        remaining = remaining.dropFirst(literals[0].count)
        for literal in literals.dropFirst().dropLast() {
            guard let found = remaining.range(of: literal) else { return false }
            remaining = remaining[found.upperBound...]
        }
        return remaining.hasSuffix(literals[literals.count - 1])
    }

    /// What is wrong with the trace of a request whose context the services must continue: every span of the
    /// driver's trace, linked to the driver's span, each carrying `tracestate`'s list members (the template's, by
    /// default; for a W3C `case`, the case's expectation, where nil means none).
    static func sampledProblems(request: SentRequest, spans: [Span], tracestate expected: String?? = .none, case w3c: TraceContextCase? = nil) -> [String] {
        let prefix = "trace \(request.traceID) (\(request.name)\(w3c.map { ", w3c \($0.rawValue)" } ?? ""))"
        guard !spans.isEmpty else {
            let cause = w3c.map { _ in "the service did not continue the driver's valid traceparent" } ?? "the driver's context was not continued"
            return ["\(prefix): no span arrived; \(cause) (or the spans were lost)"]
        }
        var problems: [String] = []
        let ids = Set(spans.map(\.spanID.hex))
        if !spans.contains(where: { $0.parentSpanID?.hex == request.spanID }) {
            let roots = spans.filter { $0.parentSpanID == nil }
            problems.append(
                "\(prefix): no span has the driver's span id \(request.spanID) as parent\(roots.first.map { "; root span: \(describe($0))" } ?? "")"
            )
        }
        let tracestate: String? = expected ?? request.tracestate
        for span in spans {
            if let parent = span.parentSpanID?.hex, parent != request.spanID, !ids.contains(parent) {
                problems.append("\(prefix): orphan \(describe(span)): parent \(parent) is not in the trace")
            } else if span.parentSpanID == nil, span.kind == .server || span.kind == .client || span.kind == .internal {
                problems.append("\(prefix): \(describe(span)) is a root: its service started a new trace instead of continuing the driver's")
            }
            if span.kind == .server, let parent = span.parentSpanID?.hex, parent != request.spanID,
                let parentSpan = spans.first(where: { $0.spanID.hex == parent }), parentSpan.kind != .client
            {
                problems.append(
                    "\(prefix): server \(describe(span)) has a \(parentSpan.kind) parent \(describe(parentSpan)); a call between services should have a client span as parent"
                )
            }
            if span.kind == .client, !spans.contains(where: { $0.parentSpanID == span.spanID }) {
                problems.append(
                    "\(prefix): client \(describe(span)) has no span below it: the callee did not continue the trace (traceparent dropped on the call?)"
                )
            }
            if let tracestate, members(span.traceState) != members(tracestate) {
                problems.append("\(prefix): \(describe(span)) carries tracestate '\(span.traceState)', expected '\(tracestate)'")
            } else if tracestate == nil, w3c != nil, !members(span.traceState).isEmpty {
                let why = w3c?.expectation == .dropsTracestate ? "the sent tracestate is invalid and must be dropped" : "none was sent"
                problems.append("\(prefix): \(describe(span)) carries tracestate '\(span.traceState)'; \(why)")
            }
        }
        return problems
    }

    /// A W3C case whose traceparent a correct service ignores: no span may continue the trace it names.
    static func restartProblems(_ w3c: TraceContextCase, request: SentRequest, spans: [Span]) -> [String] {
        // Uppercase hex and zero ids are invalid per W3C: continuing them is propagating an invalid header.
        guard let span = spans.first else { return [] }
        return [
            "trace \(request.traceID) (\(request.name), w3c \(w3c.rawValue)): \(spans.count) spans continue the trace of an invalid traceparent, e.g. \(describe(span)); a fresh trace was expected"
        ]
    }

    /// The list members of a `tracestate`, in order: W3C allows optional whitespace around the commas, and
    /// SDKs re-join the list (swift-otel writes ", "), so the list, not the bytes, must arrive unchanged.
    static func members(_ tracestate: String) -> [String] {
        tracestate.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func describe(_ span: Span) -> String {
        "\(span.resource.serviceName) \"\(span.name)\" (\(span.kind), span \(span.spanID))"
    }
}

import Foundation
package import Scenario
import Telemetry
import Workload

/// W3C Trace Context propagation, proven request by request from the trace ids the driver chose.
///
/// For every request that carried a valid, sampled context: a span of the driver's trace has the driver's
/// span id as parent; every span's parent resolves within the trace; a server span below the first hop has
/// a client span as parent, and every client span has the callee's server span below it; `tracestate` arrives unchanged on every span. For unsampled requests no span
/// may be exported; for an invalid `traceparent` the service must start a fresh trace (no span may carry the
/// id the invalid header was built around); an invalid `tracestate` must not travel on.
///
/// Silence is not proof: an unsampled or invalid request counts only with positive evidence. For an invalid
/// `traceparent`, a fresh trace's root server span for that request (its method and `url.path` those of the
/// request's template; each span proves one request); for an invalid `tracestate`, spans of the request's own
/// trace; for an unsampled request, an answer and server spans of the same endpoint (or, without the workload's
/// templates, any span) elsewhere in the run. Requests without evidence are named in a failure line; with no
/// request judged at all, the rule is `no_data`.
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

    /// The one rule, `W3C trace context`.
    package func result(_ run: RunData) -> RuleResult {
        let sent = (run.driver?.sent ?? []).filter { $0.propagated && $0.outcome != .connectionError && $0.outcome != .timeout }
        // Each problem with the trace it is about, which is also the word after "trace " in its text.
        var problems: [(trace: String, text: String)] = []
        var checked = 0
        let templates = Dictionary(requests.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let known = Set(sent.compactMap { TraceID(hex: $0.traceID) })
        // Root server spans of traces the driver did not choose: each can prove one invalid request's fresh trace.
        let unknownTraces: [TraceID] = run.store.traceIDs.filter { !known.contains($0) }
        var freshRoots: [Span] = unknownTraces.flatMap { run.store.spans(inTrace: $0) }.filter { span in
            span.kind == .server && span.parentSpanID == nil
        }
        freshRoots.sort { $0.startTimeUnixNano < $1.startTimeUnixNano }
        let serverSpans = run.store.spans.filter { $0.kind == .server }
        let anySpans = !run.store.traceIDs.isEmpty
        var unproven: [SentRequest] = []
        for request in sent {
            guard let traceID = TraceID(hex: request.traceID) else { continue }
            let spans = run.store.spans(inTrace: traceID)
            let template = templates[request.name]
            let found: [String]
            var proven = true
            if let invalid = request.invalidCase.flatMap(InvalidTraceContextCase.init(rawValue:)) {
                found = Self.invalidCaseProblems(invalid, request: request, spans: spans)
                if found.isEmpty {
                    if invalid.invalidatesTraceparent {
                        if let index = freshRoots.firstIndex(where: { Self.serves($0, template) }) {
                            freshRoots.remove(at: index)
                        } else {
                            proven = false
                        }
                    } else {
                        proven = !spans.isEmpty
                    }
                }
            } else if !request.sampled {
                found =
                    spans.first.map { span in
                        [
                            "trace \(request.traceID) (\(request.name), unsampled): \(spans.count) spans exported, e.g. \(Self.describe(span)); parent-based sampling exports none"
                        ]
                    } ?? []
                if found.isEmpty {
                    proven = template == nil ? anySpans : serverSpans.contains { Self.serves($0, template) }
                }
            } else {
                found = Self.sampledProblems(request: request, spans: spans)
            }
            problems += found.map { (request.traceID, $0) }
            if proven { checked += 1 } else { unproven.append(request) }
        }
        // Traces the services started themselves (after an invalid or missing context): their calls between
        // services must still propagate.
        for traceID in run.store.traceIDs.sorted() where !known.contains(traceID) {
            let spans = run.store.spans(inTrace: traceID)
            for span in spans where span.kind == .client && !spans.contains(where: { $0.parentSpanID == span.spanID }) {
                problems.append(
                    (
                        traceID.hex,
                        "trace \(traceID) (started by a service): client \(Self.describe(span)) has no span below it: the callee did not continue the trace"
                    )
                )
            }
        }
        let traces = Set(sent.map(\.traceID)).count
        guard checked > 0 else {
            return RuleResult(
                kind: .propagation,
                name: "W3C trace context",
                verdict: .noData,
                measured: unproven.isEmpty
                    ? "no request carried a trace context"
                    : "no evidence for any of \(unproven.count) unsampled or invalid-context requests",
                expected: "every request's trace continues in the services' spans",
                evidence: Self.unprovenLines(unproven)
            )
        }
        var broken: [RuleResult.Subject] = []
        var seen: Set<String> = []
        for problem in problems where seen.insert(problem.trace).inserted && broken.count < 20 {
            broken.append(.trace(id: problem.trace, problem: problem.text))
        }
        var measured = problems.isEmpty ? "\(traces) traces intact" : "\(seen.count) of \(traces) traces broken"
        if !unproven.isEmpty { measured += "; \(unproven.count) requests without evidence" }
        return RuleResult(
            kind: .propagation,
            name: "W3C trace context",
            verdict: problems.isEmpty && unproven.isEmpty ? .pass : .fail,
            measured: measured,
            expected: "every request's trace continues in the services' spans",
            evidence: problems.prefix(20).map(\.text) + (problems.count > 20 ? ["and \(problems.count - 20) more problems"] : [])
                + Self.unprovenLines(unproven),
            subjects: broken
        )
    }

    /// The failure line naming requests whose correct handling left no trace to prove it.
    static func unprovenLines(_ unproven: [SentRequest]) -> [String] {
        guard !unproven.isEmpty else { return [] }
        let names = Dictionary(grouping: unproven, by: \.name).sorted { $0.key < $1.key }.map { name, requests in
            "\(name) ×\(requests.count) (e.g. trace \(requests[0].traceID))"
        }
        return [
            "\(unproven.count) unsampled or invalid-context requests without evidence: \(names.joined(separator: ", ")); "
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

    static func sampledProblems(request: SentRequest, spans: [Span]) -> [String] {
        let prefix = "trace \(request.traceID) (\(request.name))"
        guard !spans.isEmpty else { return ["\(prefix): no span arrived; the driver's context was not continued (or the spans were lost)"] }
        var problems: [String] = []
        let ids = Set(spans.map(\.spanID.hex))
        if !spans.contains(where: { $0.parentSpanID?.hex == request.spanID }) {
            let roots = spans.filter { $0.parentSpanID == nil }
            problems.append(
                "\(prefix): no span has the driver's span id \(request.spanID) as parent\(roots.first.map { "; root span: \(describe($0))" } ?? "")"
            )
        }
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
            if let tracestate = request.tracestate, members(span.traceState) != members(tracestate) {
                problems.append("\(prefix): \(describe(span)) carries tracestate '\(span.traceState)', sent '\(tracestate)'")
            }
        }
        return problems
    }

    static func invalidCaseProblems(_ invalid: InvalidTraceContextCase, request: SentRequest, spans: [Span]) -> [String] {
        let prefix = "trace \(request.traceID) (\(request.name), invalid \(invalid.rawValue))"
        if invalid.invalidatesTraceparent {
            // Uppercase hex and zero ids are invalid per W3C: continuing them is propagating an invalid header.
            guard let span = spans.first else { return [] }
            return ["\(prefix): \(spans.count) spans continue the trace of an invalid traceparent, e.g. \(describe(span)); a fresh trace was expected"]
        }
        let invalidState = invalid.headers(traceID: request.traceID, spanID: request.spanID).first { $0.0 == "tracestate" }?.1
        return spans.filter { $0.traceState == invalidState && !$0.traceState.isEmpty }.prefix(1).map {
            "\(prefix): \(describe($0)) forwards the invalid tracestate unchanged"
        }
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

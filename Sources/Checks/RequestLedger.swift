import DequeModule
package import Scenario
import Synchronization
package import Telemetry
package import Workload

/// Joins the requests the driver sends with the spans they cause, trace by trace, as both arrive: what the
/// propagation and accounting rules judge. It keeps a trace only until it has been quiet for
/// ``Configuration/quietWindow`` (and its request has ended), judges it, and keeps the verdict's counts and the
/// first few broken traces: memory follows the request rate, not the run's length.
///
/// The driver tells it of each request (``RequestObserver``); the store feeds it every span (``SpanObserver``).
/// ``finish()`` judges what is still open and gives the ``Tallies``, which merge across ledgers (shards).
///
/// ```swift
/// let ledger = RequestLedger(configuration: .init(templates: scenario.workload.requests))
/// store.attach(ledger)
/// let report = try await WorkloadDriver(workload: scenario.workload, targets: urls, observer: ledger).run()
/// let tallies = ledger.finish()
/// ```
package final class RequestLedger: SpanObserver, RequestObserver {
    /// How long traces are held and how much evidence is kept.
    package struct Configuration: Sendable {
        /// The workload's request templates, by which spans prove unsampled and invalid-context requests.
        package var templates: [RequestTemplate]
        /// A trace is judged once nothing arrived for it for this long (and its request ended). Longer than the
        /// services' export delay, so that every service's spans of a trace are in. Default 10 s.
        package var quietWindow: Duration
        /// Broken traces (and traces without spans) kept as evidence, with their problems. Default 20.
        package var evidenceLimit: Int
        /// The most traces held open: beyond it (spans far faster than the window can hold), the traces quiet the
        /// longest are judged early, and the evidence says how many. Default 100,000.
        package var maxOpenTraces: Int

        package init(
            templates: [RequestTemplate] = [],
            quietWindow: Duration = .seconds(10),
            evidenceLimit: Int = 20,
            maxOpenTraces: Int = 100_000
        ) {
            self.templates = templates
            self.quietWindow = quietWindow
            self.evidenceLimit = evidenceLimit
            self.maxOpenTraces = maxOpenTraces
        }
    }

    /// One trace waiting to be judged.
    struct OpenTrace {
        /// The driver's context, once it said it is sending the request.
        var context: SentTraceContext?
        /// The request, once it ended.
        var request: SentRequest?
        var spans: [Span] = []
        var lastActivity: ContinuousClock.Instant
    }

    struct State {
        var open: [TraceID: OpenTrace] = [:]
        /// Trace ids of the driver's requests already judged, newest last: a span that arrives for one later is
        /// counted as late rather than taken for a trace a service started.
        var judged: Set<TraceID> = []
        var judgedOrder: Deque<TraceID> = []
        var tallies = Tallies()
        var lastSweep: ContinuousClock.Instant
        weak var store: TelemetryStore?
    }

    package let configuration: Configuration
    private let templates: [String: RequestTemplate]
    private let state: Mutex<State>
    /// How many judged driver traces are remembered to recognise late spans.
    private static let judgedMemory = 100_000

    package init(configuration: Configuration = .init()) {
        self.configuration = configuration
        templates = Dictionary(configuration.templates.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        state = Mutex(State(lastSweep: .now))
    }

    /// Follows `store`'s spans (those it retains now, then every new one) and keeps the evidence traces there,
    /// for the report's waterfall. Attaching again does nothing.
    package func attach(to store: TelemetryStore) {
        state.withLock { $0.store = store }
        store.attach(self)
    }

    // MARK: Feeding

    package func sending(_ context: SentTraceContext, name: String) {
        guard let traceID = TraceID(hex: context.traceID) else { return }
        let now = ContinuousClock.now
        state.withLock { state in
            state.open[traceID, default: OpenTrace(lastActivity: now)].context = context
            state.open[traceID]!.lastActivity = now
        }
    }

    package func completed(_ request: SentRequest) {
        let now = ContinuousClock.now
        let evidence = state.withLock { state -> [[Span]] in
            if let traceID = TraceID(hex: request.traceID) {
                state.open[traceID, default: OpenTrace(lastActivity: now)].request = request
                state.open[traceID]!.lastActivity = now
            } else {
                judge(request: request, spans: [], into: &state)
            }
            return sweepIfDue(&state, now: now) + judgeEarlyIfFull(&state)
        }
        keep(evidence)
    }

    package func observe(spans: [Span]) {
        let now = ContinuousClock.now
        let evidence = state.withLock { state -> [[Span]] in
            for span in spans {
                if state.judged.contains(span.traceID) {
                    state.tallies.lateSpans += 1
                    continue
                }
                state.open[span.traceID, default: OpenTrace(lastActivity: now)].spans.append(span)
                state.open[span.traceID]!.lastActivity = now
            }
            return sweepIfDue(&state, now: now) + judgeEarlyIfFull(&state)
        }
        keep(evidence)
    }

    // MARK: Judging

    /// Judges every trace quiet since `now` minus the window whose request (if any) ended.
    package func sweep(now: ContinuousClock.Instant = .now) {
        let evidence = state.withLock { state in sweep(&state, before: now - configuration.quietWindow) }
        keep(evidence)
    }

    /// Judges everything still open (requests that never ended are left out, as the driver reports only what
    /// ended) and returns the tallies so far. Call it after the run has settled; it may be called again.
    package func finish() -> Tallies {
        let (evidence, tallies) = state.withLock { state in
            let evidence = sweep(&state, before: nil)
            return (evidence, state.tallies)
        }
        keep(evidence)
        return tallies
    }

    /// Requests that were answered, sampled and carried a valid context, but whose trace has no span yet: what
    /// settling waits for.
    package var awaitingSpans: Int {
        state.withLock { state in
            state.open.values.reduce(0) { count, trace in
                guard let request = trace.request, Self.expectsSpans(request), trace.spans.isEmpty else { return count }
                return count + 1
            }
        }
    }

    /// Traces held open now (what the ledger's memory follows).
    package var openTraces: Int { state.withLock { $0.open.count } }

    /// Over ``Configuration/maxOpenTraces``: judges the traces quiet the longest (whose request, if any, ended)
    /// until a tenth of the room is free again.
    private func judgeEarlyIfFull(_ state: inout State) -> [[Span]] {
        guard state.open.count > configuration.maxOpenTraces else { return [] }
        let target = configuration.maxOpenTraces - configuration.maxOpenTraces / 10
        let oldest = state.open.filter { $0.value.context == nil || $0.value.request != nil }
            .sorted { $0.value.lastActivity < $1.value.lastActivity }
        guard let cut = oldest.prefix(max(0, state.open.count - target)).last?.value.lastActivity else { return [] }
        let before = state.open.count
        let evidence = sweep(&state, before: cut)
        state.tallies.judgedEarly += before - state.open.count
        return evidence
    }

    private func sweepIfDue(_ state: inout State, now: ContinuousClock.Instant) -> [[Span]] {
        guard now - state.lastSweep >= .seconds(1) else { return [] }
        state.lastSweep = now
        return sweep(&state, before: now - configuration.quietWindow)
    }

    /// Judges open traces quiet since `before` (all of them when nil); returns evidence traces to keep.
    private func sweep(_ state: inout State, before: ContinuousClock.Instant?) -> [[Span]] {
        var evidence: [[Span]] = []
        // The driver's requests in the order they were meant to be sent, then the traces services started, by id.
        let due = state.open.filter { _, trace in before.map { trace.lastActivity <= $0 } ?? true }.sorted { lhs, rhs in
            switch (lhs.value.request, rhs.value.request) {
            case (let left?, let right?): left.intendedOffsetSeconds < right.intendedOffsetSeconds
            case (.some, nil): true
            case (nil, .some): false
            case (nil, nil): lhs.key < rhs.key
            }
        }
        for (traceID, trace) in due {
            if trace.context != nil, trace.request == nil {
                // Sent and not yet ended: wait (at the finish, the driver never reported it).
                if before == nil { state.open[traceID] = nil }
                continue
            }
            state.open[traceID] = nil
            let brokenBefore = state.tallies.brokenTraces
            if let request = trace.request {
                judge(request: request, spans: trace.spans, into: &state)
                state.judged.insert(traceID)
                state.judgedOrder.append(traceID)
                if state.judgedOrder.count > Self.judgedMemory { state.judged.remove(state.judgedOrder.removeFirst()) }
            } else {
                judgeStartedByService(traceID, spans: trace.spans, into: &state)
            }
            if state.tallies.brokenTraces > brokenBefore, brokenBefore < configuration.evidenceLimit, !trace.spans.isEmpty {
                evidence.append(trace.spans)
            }
        }
        return evidence
    }

    private func keep(_ evidence: [[Span]]) {
        guard !evidence.isEmpty, let store = state.withLock({ $0.store }) else { return }
        for spans in evidence { store.retainEvidence(spans) }
    }

    static func expectsSpans(_ request: SentRequest) -> Bool {
        request.propagated && request.sampled && request.outcome != .connectionError && request.outcome != .timeout
            && request.invalidCase.flatMap(TraceContextCase.init(rawValue:)).map { !$0.invalidatesTraceparent } ?? true
    }

    /// One request of the driver, with every span of its trace.
    private func judge(request: SentRequest, spans: [Span], into state: inout State) {
        noteServerSpans(spans, into: &state.tallies)
        if Self.expectsSpans(request) {
            state.tallies.answeredSampled += 1
            if spans.isEmpty {
                state.tallies.missing += 1
                if state.tallies.firstMissing.count < configuration.evidenceLimit {
                    state.tallies.firstMissing.append(.init(traceID: request.traceID, name: request.name))
                }
            }
        }
        guard request.propagated, request.outcome != .connectionError, request.outcome != .timeout else { return }
        state.tallies.traces += 1
        let template = templates[request.name]
        let found: [String]
        if let w3c = request.invalidCase.flatMap(TraceContextCase.init(rawValue:)) {
            switch w3c.expectation {
            case .restart:
                found = PropagationCheck.restartProblems(w3c, request: request, spans: spans)
                if found.isEmpty {
                    // Proven by a fresh trace's root server span for the request, matched at the end.
                    state.tallies.awaitingFreshRoot[request.name, default: .init(example: request.traceID)].count += 1
                } else {
                    state.tallies.checked += 1
                }
            case .continues(let tracestate):
                found = PropagationCheck.sampledProblems(request: request, spans: spans, tracestate: tracestate, case: w3c)
                state.tallies.checked += 1
            case .dropsTracestate:
                found = PropagationCheck.sampledProblems(request: request, spans: spans, tracestate: nil, case: w3c)
                state.tallies.checked += 1
            }
        } else if !request.sampled {
            found =
                spans.first.map { span in
                    [
                        "trace \(request.traceID) (\(request.name), unsampled): \(spans.count) spans exported, e.g. \(PropagationCheck.describe(span)); parent-based sampling exports none"
                    ]
                } ?? []
            if found.isEmpty {
                // Proven by an answer and server spans of the same endpoint elsewhere in the run, seen by the end.
                state.tallies.awaitingEndpointSpans[request.name, default: .init(example: request.traceID)].count += 1
            } else {
                state.tallies.checked += 1
            }
        } else {
            found = PropagationCheck.sampledProblems(request: request, spans: spans)
            state.tallies.checked += 1
        }
        state.tallies.note(problems: found, trace: request.traceID, limit: configuration.evidenceLimit)
    }

    /// A trace the driver did not choose: a service started it (after an invalid or missing context). Its calls
    /// between services must still propagate, and its root server span can prove an invalid request's fresh trace.
    private func judgeStartedByService(_ traceID: TraceID, spans: [Span], into state: inout State) {
        noteServerSpans(spans, into: &state.tallies)
        for span in spans where span.kind == .server && span.parentSpanID == nil {
            let fits = configuration.templates.filter { PropagationCheck.serves(span, $0) }.map(\.name)
            state.tallies.freshRoots[Tallies.Fit(templates: fits), default: 0] += 1
        }
        var found: [String] = []
        for span in spans where span.kind == .client && !spans.contains(where: { $0.parentSpanID == span.spanID }) {
            found.append(
                "trace \(traceID) (started by a service): client \(PropagationCheck.describe(span)) has no span below it: the callee did not continue the trace"
            )
        }
        state.tallies.note(problems: found, trace: traceID.hex, limit: configuration.evidenceLimit)
    }

    /// Which endpoints have had server spans (proof that unsampled requests were answered by a tracing service).
    private func noteServerSpans(_ spans: [Span], into tallies: inout Tallies) {
        guard !spans.isEmpty else { return }
        tallies.anySpans = true
        for span in spans where span.kind == .server {
            for template in configuration.templates where !tallies.endpointsWithServerSpans.contains(template.name) {
                if PropagationCheck.serves(span, template) { tallies.endpointsWithServerSpans.insert(template.name) }
            }
        }
    }
}

extension RequestLedger {
    /// What the ledger judged: counts, and the first few problems as evidence. Two ledgers' tallies merge into
    /// what one ledger that saw both would hold (up to which examples are kept).
    package struct Tallies: Sendable, Codable, Hashable {
        /// A count of requests with one example trace.
        package struct Named: Sendable, Codable, Hashable {
            package var count = 0
            package var example: String
        }

        /// The set of request templates a fresh root server span fits.
        package struct Fit: Sendable, Codable, Hashable {
            package var templates: [String]
        }

        /// A problem found, with the trace it is about.
        package struct Problem: Sendable, Codable, Hashable {
            package var trace: String
            package var text: String
        }

        /// An answered request whose trace has no span.
        package struct Missing: Sendable, Codable, Hashable {
            package var traceID: String
            package var name: String
        }

        // Propagation.
        /// Requests that carried a context and were answered.
        package var traces = 0
        /// Requests whose handling was proven (right or wrong) so far.
        package var checked = 0
        package var problemCount = 0
        package var brokenTraces = 0
        /// The first problems, in the order found; at most one subject per trace is shown.
        package var problems: [Problem] = []
        /// Requests without evidence, by name.
        package var unproven: [String: Named] = [:]
        /// Invalid-traceparent requests waiting for a fresh trace's root span, by name.
        package var awaitingFreshRoot: [String: Named] = [:]
        /// Unsampled requests waiting for server spans of their endpoint (or, without a template, any span), by name.
        package var awaitingEndpointSpans: [String: Named] = [:]
        /// Root server spans of traces the services started, by the templates each fits.
        package var freshRoots: [Fit: Int] = [:]
        package var endpointsWithServerSpans: Set<String> = []
        package var anySpans = false
        /// Spans that arrived after their trace was judged.
        package var lateSpans = 0
        /// Traces judged before their quiet window because too many were open.
        package var judgedEarly = 0

        // Accounting.
        /// Answered, sampled requests with a valid context: each should have spans.
        package var answeredSampled = 0
        package var missing = 0
        package var firstMissing: [Missing] = []

        package init() {}

        mutating func note(problems found: [String], trace: String, limit: Int) {
            guard !found.isEmpty else { return }
            problemCount += found.count
            brokenTraces += 1
            for text in found where problems.count < limit { problems.append(Problem(trace: trace, text: text)) }
        }

        /// Adds another ledger's tallies (another shard, or another part of the run).
        package mutating func merge(_ other: Tallies, evidenceLimit: Int = 20) {
            traces += other.traces
            checked += other.checked
            problemCount += other.problemCount
            brokenTraces += other.brokenTraces
            problems = Array((problems + other.problems).prefix(max(evidenceLimit, problems.count)))
            for (key, value) in other.unproven { unproven[key, default: .init(example: value.example)].count += value.count }
            for (key, value) in other.awaitingFreshRoot { awaitingFreshRoot[key, default: .init(example: value.example)].count += value.count }
            for (key, value) in other.awaitingEndpointSpans { awaitingEndpointSpans[key, default: .init(example: value.example)].count += value.count }
            freshRoots.merge(other.freshRoots, uniquingKeysWith: +)
            endpointsWithServerSpans.formUnion(other.endpointsWithServerSpans)
            anySpans = anySpans || other.anySpans
            lateSpans += other.lateSpans
            judgedEarly += other.judgedEarly
            answeredSampled += other.answeredSampled
            missing += other.missing
            firstMissing = Array((firstMissing + other.firstMissing).prefix(max(evidenceLimit, firstMissing.count)))
        }

        /// The requests still waiting for evidence, settled now that the run is over: each invalid-traceparent
        /// request takes a fresh root span that fits its template (templates in workload order, from the spans
        /// that fit the fewest templates first); each unsampled request is proven if its endpoint had server
        /// spans. What stays unproven is added to ``unproven``.
        package func resolved(templates: [RequestTemplate]) -> Tallies {
            var result = self
            var roots = freshRoots
            let order = templates.map(\.name) + awaitingFreshRoot.keys.sorted().filter { name in !templates.contains { $0.name == name } }
            for name in order {
                guard var waiting = result.awaitingFreshRoot[name] else { continue }
                let hasTemplate = templates.contains { $0.name == name }
                let fitting = roots.keys.filter { !hasTemplate || $0.templates.contains(name) }.sorted {
                    ($0.templates.count, $0.templates.joined(separator: ",")) < ($1.templates.count, $1.templates.joined(separator: ","))
                }
                for fit in fitting where waiting.count > 0 {
                    let taken = min(roots[fit]!, waiting.count)
                    roots[fit]! -= taken
                    waiting.count -= taken
                    result.checked += taken
                }
                if waiting.count > 0 { result.unproven[name, default: .init(example: waiting.example)].count += waiting.count }
            }
            result.awaitingFreshRoot = [:]
            for (name, waiting) in awaitingEndpointSpans {
                let proven = templates.contains { $0.name == name } ? endpointsWithServerSpans.contains(name) : anySpans
                if proven {
                    result.checked += waiting.count
                } else {
                    result.unproven[name, default: .init(example: waiting.example)].count += waiting.count
                }
            }
            result.awaitingEndpointSpans = [:]
            return result
        }
    }
}

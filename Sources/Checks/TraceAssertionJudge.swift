import DequeModule
package import Scenario
import Synchronization
package import Telemetry

/// Judges the scenario's trace assertions trace by trace as spans arrive, in bounded memory: what
/// ``TraceAssertionCheck`` reports.
///
/// **What it holds.** The store feeds it every span (``SpanObserver``). It does not keep the spans: each is
/// reduced on arrival to a compact record (its id, its parent's id, its service, name, kind and duration, one
/// bit per selector of every assertion saying whether the span's own fields match, and the problems the per-span
/// assertions that need only the span found — duration, attributes, status). What needs the whole trace (counts,
/// `root`, `child`, `descendant`, `parent`) is judged from those records when the trace is complete.
///
/// **When a trace is complete.** OTLP has no end-of-trace marker, and the services export spans in batches, so a
/// trace is judged once nothing arrived for it for ``Configuration/quietWindow`` (swept at most once a second, as
/// spans arrive and as the run advances), and every trace still open when the run has settled is judged then
/// (``finish()``). Beyond ``Configuration/maxOpenTraces`` open traces, the ones quiet the longest are judged
/// early and the evidence says how many; a span that arrives for a trace already judged is counted as late, not
/// taken for a new trace with missing parents. Memory therefore follows the span rate times the window, not the
/// length of the run, and is independent of the store's own window (`--max-traces`): a trace the store evicted
/// is judged all the same.
///
/// **What it keeps.** Per assertion: counts, and the first ``Configuration/evidenceLimit`` problems with their
/// trace ids. The spans of the first broken traces are handed to the store as evidence (``TelemetryStore/retainEvidence(_:)``)
/// while the store still has them, so the report can draw them.
///
/// ```swift
/// let judge = TraceAssertionJudge(assertions: scenario.rules.traces)
/// judge.attach(to: store)
/// // ... the run ...
/// let outcome = judge.finish()
/// print(outcome.tallies.map(\.problemCount))
/// ```
package final class TraceAssertionJudge: SpanObserver {
    /// How long traces are held and how much evidence is kept.
    package struct Configuration: Sendable {
        /// A trace is judged once nothing arrived for it for this long: longer than the services' export delay, so
        /// every service's spans of a trace are in. Default 10 s (as the propagation ledger's).
        package var quietWindow: Duration
        /// Problems kept as evidence per assertion (with their trace ids), and broken traces kept for the report.
        /// Default 20.
        package var evidenceLimit: Int
        /// The most traces held open. Default 100,000.
        package var maxOpenTraces: Int

        package init(quietWindow: Duration = .seconds(10), evidenceLimit: Int = 20, maxOpenTraces: Int = 100_000) {
            self.quietWindow = quietWindow
            self.evidenceLimit = evidenceLimit
            self.maxOpenTraces = maxOpenTraces
        }
    }

    /// What one assertion found.
    package struct Tally: Sendable, Hashable {
        /// Traces in scope, judged.
        package var traces = 0
        /// Spans selected in those traces.
        package var spans = 0
        package var brokenTraces = 0
        package var problemCount = 0
        /// The first problems, in the order found.
        package var problems: [Problem] = []
    }

    /// A problem and the trace it is in.
    package struct Problem: Sendable, Hashable {
        /// The trace id, 32 hex digits.
        package var trace: String
        package var text: String
    }

    /// Every assertion's tally, in the assertions' order, and what the judging window did.
    package struct Outcome: Sendable, Hashable {
        package var tallies: [Tally]
        /// Spans that arrived for a trace already judged.
        package var lateSpans = 0
        /// Traces judged before their quiet window because too many were open.
        package var judgedEarly = 0
    }

    /// A span as the judge keeps it.
    struct Record {
        var spanID: SpanID
        var parentID: SpanID?
        var service: String
        var name: String
        var kind: SpanKind
        var durationNanos: UInt64
        /// Bit `i` set: the span's own fields match selector `i` (``CompiledAssertions/selectors``).
        var matches: [UInt64]
        /// Per-span problems that need only the span, by assertion index.
        var localProblems: [(assertion: Int, text: String)]

        func matchesLocally(_ selector: Int) -> Bool { matches[selector >> 6] & (1 << UInt64(selector & 63)) != 0 }

        var described: String { "\(service) \"\(name)\" (\(kind), span \(spanID))" }
    }

    struct OpenTrace {
        var records: [Record] = []
        var lastActivity: ContinuousClock.Instant
    }

    struct State {
        var open: [TraceID: OpenTrace] = [:]
        var judged: Set<TraceID> = []
        var judgedOrder: Deque<TraceID> = []
        var outcome: Outcome
        var lastSweep: ContinuousClock.Instant
        /// Broken traces handed to the store as evidence so far.
        var evidenceTraces = 0
        weak var store: TelemetryStore?
    }

    /// How many judged trace ids are remembered to recognise late spans.
    static let judgedMemory = 100_000

    package let configuration: Configuration
    let compiled: CompiledAssertions
    private let state: Mutex<State>

    package init(assertions: [TraceAssertion], configuration: Configuration = .init()) {
        self.configuration = configuration
        compiled = CompiledAssertions(assertions)
        state = Mutex(State(outcome: Outcome(tallies: Array(repeating: Tally(), count: assertions.count)), lastSweep: .now))
    }

    /// Follows `store` from now on (handed what it retains now); the store also keeps the first broken traces
    /// as evidence. Attaching again does nothing.
    package func attach(to store: TelemetryStore) {
        state.withLock { $0.store = store }
        store.attach(self)
    }

    package func observe(spans: [Span]) {
        let now = ContinuousClock.now
        let records = spans.map { (span: $0, record: compiled.record($0)) }
        let evidence = state.withLock { state -> [TraceID] in
            for (span, record) in records {
                if state.judged.contains(span.traceID) {
                    state.outcome.lateSpans += 1
                    continue
                }
                state.open[span.traceID, default: OpenTrace(lastActivity: now)].records.append(record)
                state.open[span.traceID]!.lastActivity = now
            }
            var evidence: [TraceID] = []
            if now - state.lastSweep >= .seconds(1) {
                state.lastSweep = now
                evidence += sweep(&state, before: now - configuration.quietWindow)
            }
            return evidence + judgeEarlyIfFull(&state)
        }
        keep(evidence)
    }

    /// Judges every trace quiet since `now` minus the window.
    package func sweep(now: ContinuousClock.Instant = .now) {
        let evidence = state.withLock { state in sweep(&state, before: now - configuration.quietWindow) }
        keep(evidence)
    }

    /// Judges every trace still open and returns what was found so far. Call it after the run has settled; it may
    /// be called again.
    package func finish() -> Outcome {
        let (evidence, outcome) = state.withLock { state in (sweep(&state, before: nil), state.outcome) }
        keep(evidence)
        return outcome
    }

    /// Traces held open now (what the judge's memory follows).
    package var openTraces: Int { state.withLock { $0.open.count } }

    private func judgeEarlyIfFull(_ state: inout State) -> [TraceID] {
        guard state.open.count > configuration.maxOpenTraces else { return [] }
        let target = configuration.maxOpenTraces - configuration.maxOpenTraces / 10
        let oldest = state.open.sorted { $0.value.lastActivity < $1.value.lastActivity }
        guard let cut = oldest.prefix(max(0, state.open.count - target)).last?.value.lastActivity else { return [] }
        let before = state.open.count
        let evidence = sweep(&state, before: cut)
        state.outcome.judgedEarly += before - state.open.count
        return evidence
    }

    /// Judges the traces quiet since `before` (all when nil), in order of trace id so verdicts do not depend on
    /// timing; returns the broken traces to keep as evidence.
    private func sweep(_ state: inout State, before: ContinuousClock.Instant?) -> [TraceID] {
        let due = state.open.filter { _, trace in before.map { trace.lastActivity <= $0 } ?? true }.keys.sorted()
        var evidence: [TraceID] = []
        for traceID in due {
            guard let trace = state.open.removeValue(forKey: traceID) else { continue }
            state.judged.insert(traceID)
            state.judgedOrder.append(traceID)
            if state.judgedOrder.count > Self.judgedMemory { state.judged.remove(state.judgedOrder.removeFirst()) }
            let broken = compiled.judge(traceID, records: trace.records, into: &state.outcome.tallies, evidenceLimit: configuration.evidenceLimit)
            if broken, state.evidenceTraces < configuration.evidenceLimit { evidence.append(traceID) }
        }
        return evidence
    }

    /// Hands the spans of broken traces, while the store's window still has them, to the store as evidence, until
    /// ``Configuration/evidenceLimit`` traces are kept (a trace the window already evicted does not count).
    private func keep(_ evidence: [TraceID]) {
        guard !evidence.isEmpty, let store = state.withLock({ $0.store }) else { return }
        for traceID in evidence {
            let spans = store.spans(inTrace: traceID)
            guard !spans.isEmpty else { continue }
            let room = state.withLock { state in
                guard state.evidenceTraces < configuration.evidenceLimit else { return false }
                state.evidenceTraces += 1
                return true
            }
            guard room else { return }
            store.retainEvidence(spans)
        }
    }
}

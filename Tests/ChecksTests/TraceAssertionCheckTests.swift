import Checks
import Foundation
import Scenario
import Telemetry
import Testing

/// `rules.traces`: each selector field and each assertion, passing and failing, structure across services,
/// the evidence a failure gives, `no_data` when nothing was judged, and judging trace by trace in bounded memory.
@Suite struct TraceAssertionCheckTests {
    static let projects = "cf_core.services.projects"
    static let tasks = "cf_core.services.tasks"

    static func span(
        _ trace: Int,
        _ id: Int,
        parent: Int?,
        service: String,
        name: String,
        kind: SpanKind,
        millis: UInt64 = 5,
        attributes: Attributes = [:],
        status: SpanStatus.Code = .unset
    ) -> Span {
        Span(
            traceID: TraceID(high: 0xabc, low: UInt64(trace)),
            spanID: SpanID(value: UInt64(trace) << 16 | UInt64(id)),
            parentSpanID: parent.map { SpanID(value: $0 == 0 ? 0xdead_beef : UInt64(trace) << 16 | UInt64($0)) },
            name: name,
            kind: kind,
            startTimeUnixNano: 1_000_000_000,
            endTimeUnixNano: 1_000_000_000 + millis * 1_000_000,
            attributes: attributes,
            status: SpanStatus(code: status),
            resource: Resource(attributes: ["service.name": .string(service)]),
            channel: .otlpGRPC
        )
    }

    /// A project created with one task, as the built-in services trace it: the projects server span (whose parent is
    /// the driver's, outside the trace), its internal span, a client call, and the tasks server span below it — or,
    /// with `brokenCall`, the tasks server span as a root of its own, as when the call drops `traceparent`.
    static func creation(_ trace: Int, brokenCall: Bool = false, serverMillis: UInt64 = 20) -> [Span] {
        [
            span(
                trace,
                1,
                parent: 0,
                service: projects,
                name: "POST /projects/create_with_tasks",
                kind: .server,
                millis: serverMillis,
                attributes: [
                    "http.request.method": .string("POST"), "http.response.status_code": .int(201), "url.path": .string("/projects/create_with_tasks"),
                ]
            ),
            span(trace, 2, parent: 1, service: projects, name: "projects.create_with_tasks", kind: .internal),
            span(trace, 3, parent: 2, service: projects, name: "POST /tasks", kind: .client, attributes: ["server.address": .string("127.0.0.1")]),
            span(
                trace,
                4,
                parent: brokenCall ? nil : 3,
                service: tasks,
                name: "POST /tasks",
                kind: .server,
                attributes: ["http.response.status_code": .int(201)]
            ),
            span(trace, 5, parent: 4, service: tasks, name: "tasks.create", kind: .internal, status: .ok),
        ]
    }

    /// A liveness check: one tasks server span and its internal span.
    static func liveness(_ trace: Int, status: SpanStatus.Code = .unset) -> [Span] {
        [
            span(trace, 1, parent: 0, service: tasks, name: "GET /health/live", kind: .server, millis: 1, attributes: ["http.response.status_code": .int(200)]),
            span(trace, 2, parent: 1, service: tasks, name: "health.live", kind: .internal, millis: 1, status: status),
        ]
    }

    static func judge(_ assertions: [TraceAssertion], _ spans: [Span]) -> [RuleResult] {
        let check = TraceAssertionCheck(assertions: assertions)
        let store = TelemetryStore()
        check.attach(to: store)
        store.store(Batch(spans: spans), channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 0)
        return check.evaluate(RunData(store: store, driver: nil))
    }

    static func assertion(_ select: SpanSelector, _ configure: (inout TraceAssertion) -> Void) -> TraceAssertion {
        var assertion = TraceAssertion(name: "rule", select: select)
        configure(&assertion)
        return assertion
    }

    // MARK: Selectors

    static let selectorCases: [(String, SpanSelector, Int)] = [
        ("everything", SpanSelector(), 7),
        ("service", SpanSelector(service: tasks), 4),
        ("exact name", SpanSelector(name: "POST /tasks"), 2),
        ("name by regex, anchored", SpanSelector(namePattern: try! TextPattern("POST /.*")), 3),
        ("a regex matches the whole name", SpanSelector(namePattern: try! TextPattern("tasks")), 0),
        ("kind", SpanSelector(kind: .server), 3),
        ("status", SpanSelector(status: .ok), 1),
        ("attribute equals, an int as text", SpanSelector(attributes: [.init(key: "http.response.status_code", test: .equals("201"))]), 2),
        ("attribute matches", SpanSelector(attributes: [.init(key: "url.path", test: .matches(try! TextPattern("/projects/.+")))]), 1),
        ("attribute exists", SpanSelector(attributes: [.init(key: "server.address", test: .exists(true))]), 1),
        ("attribute absent", SpanSelector(kind: .server, attributes: [.init(key: "http.request.method", test: .exists(false))]), 2),
        ("resource attribute", SpanSelector(attributes: [.init(key: "service.name", test: .equals(projects))]), 3),
        ("root", SpanSelector(root: true), 0),
        ("with a child", SpanSelector(kind: .client, structure: [.child(SpanSelector(service: tasks, kind: .server))]), 1),
        ("with a descendant", SpanSelector(kind: .server, structure: [.descendant(SpanSelector(status: .ok))]), 2),
        ("under a parent", SpanSelector(structure: [.parent(SpanSelector(kind: .client))]), 1),
        ("fields together", SpanSelector(service: projects, kind: .server, status: .unset), 1),
    ]

    /// Each selector field picks the spans it should, in a creation trace and a liveness trace.
    @Test(arguments: selectorCases.indices)
    func selectorPicksItsSpans(_ index: Int) throws {
        let (name, selector, expected) = Self.selectorCases[index]
        let always = Self.assertion(selector) { $0.duration = .init(min: .zero) }
        let result = try #require(Self.judge([always], Self.creation(1) + Self.liveness(2)).first)
        if expected == 0 {
            #expect(result.verdict == .noData, "\(name): \(result.measured)")
        } else {
            #expect(result.verdict == .pass && result.measured == "\(expected) spans hold in 2 traces", "\(name): \(result.measured)")
        }
    }

    // MARK: Assertions

    @Test func countIsJudgedPerTraceInScope() throws {
        let scope = SpanSelector(name: "POST /projects/create_with_tasks", kind: .server)
        let oneCall = Self.assertion(SpanSelector(service: Self.projects, kind: .client)) {
            $0.scope = scope
            $0.count = .init(min: 1, max: 1)
        }
        let pass = try #require(Self.judge([oneCall], Self.creation(1) + Self.creation(2) + Self.liveness(3)).first)
        #expect(pass.verdict == .pass && pass.measured == "2 traces hold", "the liveness trace is out of scope: \(pass.measured)")
        // A creation trace without its client span has zero of them, and fails.
        let withoutCall = Self.creation(4).filter { $0.kind != .client }
        let fail = try #require(Self.judge([oneCall], Self.creation(1) + withoutCall).first)
        #expect(fail.verdict == .fail && fail.measured == "1 of 2 traces broken (1 problems)")
        #expect(fail.evidence == ["trace \(TraceID(high: 0xabc, low: 4).hex): 0 client span of \(Self.projects) (expected exactly 1)"])
        #expect(fail.subjects == [.trace(id: TraceID(high: 0xabc, low: 4).hex, problem: "0 client span of \(Self.projects) (expected exactly 1)")])
        // Without a scope every trace counts: the liveness trace has none.
        var everywhere = oneCall
        everywhere.scope = nil
        #expect(Self.judge([everywhere], Self.creation(1) + Self.liveness(3)).first?.verdict == .fail)
        // A maximum: at most one server span per trace fails a trace with two.
        let atMostOne = Self.assertion(SpanSelector(kind: .server)) { $0.count = .init(max: 1) }
        let many = try #require(Self.judge([atMostOne], Self.creation(5)).first)
        #expect(many.verdict == .fail && many.evidence.first?.contains("2 server span (expected at most 1): ") == true)
    }

    @Test func durationBounds() throws {
        let bounded = Self.assertion(SpanSelector(name: "POST /projects/create_with_tasks")) {
            $0.duration = .init(min: .milliseconds(1), max: .milliseconds(50))
        }
        #expect(Self.judge([bounded], Self.creation(1, serverMillis: 49)).first?.verdict == .pass)
        let slow = try #require(Self.judge([bounded], Self.creation(1) + Self.creation(2, serverMillis: 80)).first)
        #expect(slow.verdict == .fail)
        #expect(slow.evidence.first?.hasSuffix("(server, span \(SpanID(value: 2 << 16 | 1))) lasted 80.0 ms, more than 50.0 ms") == true)
        let tooFast = Self.assertion(SpanSelector(kind: .server)) { $0.duration = .init(min: .milliseconds(2)) }
        let fast = try #require(Self.judge([tooFast], Self.liveness(1)).first)
        #expect(fast.verdict == .fail && fast.evidence.first?.hasSuffix("lasted 1.0 ms, less than 2.0 ms") == true)
    }

    @Test func attributeAssertions() throws {
        let server = SpanSelector(kind: .server)
        let holds = Self.assertion(server) {
            $0.attributes = [
                .init(key: "http.response.status_code", test: .matches(try! TextPattern("2\\d\\d"))),
                .init(key: "http.response.status_code", test: .exists(true)),
                .init(key: "error.type", test: .exists(false)),
            ]
        }
        #expect(Self.judge([holds], Self.creation(1) + Self.liveness(2)).first?.verdict == .pass)
        let created = Self.assertion(server) { $0.attributes = [.init(key: "http.response.status_code", test: .equals("201"))] }
        let wrong = try #require(Self.judge([created], Self.creation(1) + Self.liveness(2)).first)
        #expect(wrong.verdict == .fail && wrong.evidence.first?.hasSuffix("http.response.status_code is 200, expected http.response.status_code = 201") == true)
        let routed = Self.assertion(server) { $0.attributes = [.init(key: "http.route", test: .exists(true))] }
        let missing = try #require(Self.judge([routed], Self.liveness(2)).first)
        #expect(missing.verdict == .fail && missing.evidence.first?.hasSuffix("has no http.route") == true)
    }

    @Test func statusAssertion() throws {
        let notError = Self.assertion(SpanSelector(kind: .internal)) { $0.status = [.unset, .ok] }
        #expect(Self.judge([notError], Self.creation(1) + Self.liveness(2)).first?.verdict == .pass)
        let failed = try #require(Self.judge([notError], Self.liveness(3, status: .error)).first)
        #expect(failed.verdict == .fail && failed.evidence.first?.hasSuffix("status error, expected unset or ok") == true)
    }

    // MARK: Structure

    /// "Every create_with_tasks server span has a client descendant calling tasks": holds while the call carries
    /// the context, fails, naming the trace and the span, when the callee starts a trace of its own.
    @Test func everyCreationCallsTasks() throws {
        let callsTasks = Self.assertion(SpanSelector(service: Self.projects, name: "POST /projects/create_with_tasks", kind: .server)) {
            $0.descendant = SpanSelector(kind: .client, structure: [.child(SpanSelector(service: Self.tasks, kind: .server))])
        }
        let pass = try #require(Self.judge([callsTasks], Self.creation(1) + Self.creation(2)).first)
        #expect(pass.verdict == .pass && pass.measured == "2 spans hold in 2 traces")
        let fail = try #require(Self.judge([callsTasks], Self.creation(1) + Self.creation(2, brokenCall: true)).first)
        #expect(fail.verdict == .fail)
        let trace = TraceID(high: 0xabc, low: 2).hex
        #expect(
            fail.evidence == [
                "trace \(trace): \(Self.projects) \"POST /projects/create_with_tasks\" (server, span \(SpanID(value: 2 << 16 | 1))) has no descendant "
                    + "client span with a child server span of \(Self.tasks)"
            ]
        )
        // A direct child is not enough here: the client span is below an internal span.
        let directChild = Self.assertion(callsTasks.select) { $0.child = SpanSelector(kind: .client) }
        #expect(Self.judge([directChild], Self.creation(1)).first?.verdict == .fail)
    }

    /// "No span of tasks is a root", and "every tasks server span has a client parent".
    @Test func rootsAndParents() throws {
        let neverRoot = Self.assertion(SpanSelector(service: Self.tasks)) { $0.root = false }
        #expect(Self.judge([neverRoot], Self.creation(1) + Self.liveness(2)).first?.verdict == .pass)
        let broken = try #require(Self.judge([neverRoot], Self.creation(1, brokenCall: true)).first)
        #expect(broken.verdict == .fail && broken.evidence.first?.hasSuffix("is a root (no parent)") == true)
        let clientParent = Self.assertion(SpanSelector(service: Self.tasks, name: "POST /tasks", kind: .server)) { $0.parent = SpanSelector(kind: .client) }
        #expect(Self.judge([clientParent], Self.creation(1)).first?.verdict == .pass)
        let orphan = try #require(Self.judge([clientParent], Self.creation(1, brokenCall: true)).first)
        #expect(orphan.evidence.first?.hasSuffix("parent is not a client span: its parent is not in the trace") == true)
        let mustBeRoot = Self.assertion(SpanSelector(kind: .server)) { $0.root = true }
        #expect(Self.judge([mustBeRoot], Self.liveness(1)).first?.evidence.first?.contains("is not a root: its parent is 00000000deadbeef") == true)
    }

    // MARK: No evidence

    /// A verdict never passes for lack of evidence.
    @Test func nothingToJudgeIsNoData() throws {
        let neverRoot = Self.assertion(SpanSelector(service: "cf_core.services.billing")) { $0.root = false }
        let noSpan = try #require(Self.judge([neverRoot], Self.creation(1)).first)
        #expect(noSpan.verdict == .noData && noSpan.measured == "no span of cf_core.services.billing in 1 traces")
        let scoped = Self.assertion(SpanSelector()) {
            $0.scope = SpanSelector(name: "GET /sprints")
            $0.count = .init(min: 1)
        }
        let noScope = try #require(Self.judge([scoped], Self.creation(1)).first)
        #expect(noScope.verdict == .noData && noScope.measured == "no trace had a span \"GET /sprints\"")
        #expect(Self.judge([neverRoot], []).first?.measured == "no trace arrived")
        // A count with a maximum judges the traces in scope: none of the spans is a pass, with evidence.
        let noErrors = Self.assertion(SpanSelector(status: .error)) { $0.count = .init(max: 0) }
        #expect(Self.judge([noErrors], Self.creation(1)).first?.verdict == .pass)
    }

    // MARK: Evidence and memory

    /// Evidence names the first problems with their traces and says how many more; the judge sees the traces the
    /// store's window evicted, and keeps the first broken traces' spans in the store after the window let them go.
    @Test func evidenceIsBoundedAndTheBrokenTracesAreKept() throws {
        let neverRoot = Self.assertion(SpanSelector(service: Self.tasks)) { $0.root = false }
        let check = TraceAssertionCheck(assertions: [neverRoot], configuration: .init(quietWindow: .zero))
        let store = TelemetryStore(limits: .init(maxTraces: 5))
        check.attach(to: store)
        let run = RunData(store: store, driver: nil)
        for trace in 1...50 {
            store.store(Batch(spans: Self.creation(trace, brokenCall: true)), channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 0)
            check.advance(run)
        }
        let result = try #require(check.evaluate(run).first)
        #expect(result.verdict == .fail && result.measured == "50 of 50 traces broken (50 problems)")
        #expect(result.evidence.count == 21 && result.evidence.last == "and 30 more problems (50 in 50 traces)")
        #expect(result.subjects.count == 20)
        #expect(result.evidence.first?.hasPrefix("trace \(TraceID(high: 0xabc, low: 1).hex): ") == true)
        #expect(store.totals.retainedTraces == 5)
        #expect(store.spans(inTrace: TraceID(high: 0xabc, low: 1)).count == 5, "kept as evidence")
        #expect(store.spans(inTrace: TraceID(high: 0xabc, low: 30)).isEmpty, "beyond the evidence limit, and evicted")
    }

    /// Judged as traces go quiet, a long run holds only the traces not yet judged, and a span that arrives after its
    /// trace was judged is counted as late rather than judged as a trace of its own.
    @Test func judgingTraceByTraceHoldsOnlyOpenTraces() throws {
        let neverRoot = Self.assertion(SpanSelector(service: Self.tasks)) { $0.root = false }
        let judge = TraceAssertionJudge(assertions: [neverRoot], configuration: .init(quietWindow: .zero))
        var largest = 0
        for trace in 1...2000 {
            judge.observe(spans: Self.creation(trace, brokenCall: trace % 100 == 0))
            judge.sweep()
            largest = max(largest, judge.openTraces)
        }
        #expect(largest <= 1)
        judge.observe(spans: [Self.span(7, 9, parent: nil, service: Self.tasks, name: "late", kind: .internal)])
        let outcome = judge.finish()
        #expect(outcome.tallies[0].traces == 2000 && outcome.tallies[0].brokenTraces == 20 && outcome.lateSpans == 1)
        let result = TraceAssertionCheck(assertions: [neverRoot]).evaluate(RunData(store: TelemetryStore(), driver: nil))
        #expect(result.first?.verdict == .noData, "a fresh check has judged nothing")
    }

    /// Beyond its limit of open traces, the judge judges the ones quiet the longest early, and says so.
    @Test func judgeHoldsAtMostItsLimit() throws {
        let neverRoot = Self.assertion(SpanSelector(service: Self.tasks)) { $0.root = false }
        let judge = TraceAssertionJudge(assertions: [neverRoot], configuration: .init(quietWindow: .seconds(3600), maxOpenTraces: 100))
        var largest = 0
        for trace in 1...1000 {
            judge.observe(spans: Self.creation(trace))
            largest = max(largest, judge.openTraces)
        }
        #expect(largest <= 101)
        let outcome = judge.finish()
        #expect(outcome.tallies[0].traces == 1000 && outcome.judgedEarly > 800)
    }
}

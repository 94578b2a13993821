import Checks
import Foundation
import Scenario
import Telemetry
import TestSupport
import Testing
import Workload

/// Results name what they are about as data: the broken traces, the offending metrics, the worst group.
@Suite struct SubjectTests {
    private let resource = Resource(attributes: ["service.name": .string("cf_core.services.tasks")])
    private let intact = "0af7651916cd43dd8448eb211c80319c", broken = "1af7651916cd43dd8448eb211c80319c", driverSpan = "b7ad6b7169203331"

    private func sent(trace: String) -> SentRequest {
        SentRequest(
            name: "create-task",
            phase: "p",
            intendedOffsetSeconds: 0,
            sentOffsetSeconds: 0,
            latencySeconds: 0.01,
            outcome: .ok,
            status: 200,
            traceID: trace,
            spanID: driverSpan,
            sampled: true,
            tracestate: nil,
            invalidCase: nil,
            propagated: true
        )
    }

    private func span(trace: String, id: String, parent: String?, kind: SpanKind) -> Span {
        Span(
            traceID: TraceID(hex: trace)!,
            spanID: SpanID(hex: id)!,
            parentSpanID: parent.flatMap { SpanID(hex: $0) },
            traceState: "",
            name: "op",
            kind: kind,
            startTimeUnixNano: 0,
            endTimeUnixNano: 1000,
            resource: resource,
            channel: .otlpGRPC
        )
    }

    private func run(_ spans: [Span], _ requests: [SentRequest]) -> RunData {
        RunData.replaying(spans: spans, requests: requests)
    }

    /// The broken trace is the subject, with its first problem as the evidence says it; the intact one is not.
    @Test func propagationNamesTheBrokenTrace() throws {
        let data = run(
            [
                span(trace: intact, id: "1111111111111111", parent: driverSpan, kind: .server),
                // The broken trace: its server span continues, but its client call is never answered by a callee span,
                // and an orphan points at a parent that never arrived.
                span(trace: broken, id: "2111111111111111", parent: driverSpan, kind: .server),
                span(trace: broken, id: "2222222222222222", parent: "2111111111111111", kind: .client),
                span(trace: broken, id: "2333333333333333", parent: "9999999999999999", kind: .server),
            ],
            [sent(trace: intact), sent(trace: broken)]
        )
        let result = PropagationCheck().result(data)
        #expect(result.verdict == .fail)
        #expect(result.measured == "1 of 2 traces broken")
        let first = try #require(result.evidence.first)
        #expect(result.subjects == [.trace(id: broken, problem: first)], "\(result.subjects)")
        #expect(result.evidence.count == 2, "both problems stay in the evidence: \(result.evidence)")
        #expect([result].firstBrokenTrace?.id == broken)
        #expect([result].firstBrokenTrace?.problem == first)

        let healthy = PropagationCheck().result(run([span(trace: intact, id: "1111111111111111", parent: driverSpan, kind: .server)], [sent(trace: intact)]))
        #expect(healthy.verdict == .pass)
        #expect(healthy.subjects.isEmpty)
        #expect([healthy].firstBrokenTrace == nil)
    }

    /// The trace a report draws comes from the subject of the first failing propagation rule, never from text.
    @Test func theDrawnTraceIsTheSubjectNotTheEvidenceText() {
        let misleading = RuleResult(
            kind: .propagation,
            name: "W3C trace context",
            verdict: .fail,
            measured: "1 of 1 traces broken",
            expected: "",
            evidence: ["trace \(intact) (create-task): no span arrived"],
            subjects: [.trace(id: broken, problem: "the real problem")]
        )
        let otherKind = RuleResult(
            kind: .accounting,
            name: "nothing lost",
            verdict: .fail,
            measured: "",
            expected: "",
            subjects: [.trace(id: intact, problem: "no span arrived")]
        )
        #expect([otherKind, misleading].firstBrokenTrace?.id == broken)
        #expect([otherKind, misleading].firstBrokenTrace?.problem == "the real problem")
        #expect([otherKind].firstBrokenTrace == nil, "only propagation rules are drawn")
        var passing = misleading
        passing.verdict = .pass
        #expect([passing].firstBrokenTrace == nil)
    }

    /// Accounting names the traces that never arrived.
    @Test func accountingNamesTheMissingTraces() {
        let result = AccountingCheck(tolerance: 0).result(
            run(
                [span(trace: intact, id: "1111111111111111", parent: driverSpan, kind: .server)],
                [sent(trace: intact), sent(trace: broken)]
            )
        )
        #expect(result.verdict == .fail)
        #expect(result.subjects == [.trace(id: broken, problem: "create-task: answered, but no span arrived")])
    }

    /// Cardinality names the metrics with the most series when over the limit, and none when within it.
    @Test func cardinalityNamesTheOffendingMetrics() {
        let store = TelemetryStore()
        let series = (0..<30).map { index in
            MetricSeries(
                key: SeriesKey(metricName: "task_create_total", attributes: ["task_id": .string("t\(index)")], resource: resource),
                kind: .sum(isMonotonic: true, temporality: .cumulative),
                points: [.number(.init(timeUnixNano: 1, value: .int(1)))],
                channel: .otlpGRPC
            )
        }
        store.store(Batch(series: series), channel: .otlpGRPC, signal: .metrics, rejectedItems: 0, reservedBytes: 0)
        let over = CardinalityCheck(limit: 10, perMetric: ["task_create_total": 5]).evaluate(RunData(store: store, driver: nil))
        #expect(over.map(\.subjects) == [[.metric(name: "task_create_total")], [.metric(name: "task_create_total")]])
        let within = CardinalityCheck(limit: 100).evaluate(RunData(store: store, driver: nil))
        #expect(within.map(\.verdict) == [.pass])
        #expect(within[0].subjects.isEmpty)
    }

    /// A `by:` SLO names its worst group.
    @Test func groupedSLONamesTheWorstGroup() {
        let requests = (1...40).map { index in
            var request = sent(trace: String(format: "%032x", index))
            request.name = index % 2 == 0 ? "fast" : "slow"
            request.latencySeconds = index % 2 == 0 ? 0.001 : 0.5
            return request
        }
        var rule = SLORule(name: "p99", source: .client(request: nil))
        rule.groupBy = ["request"]
        rule.threshold = 0.1
        let result = SLOCheck(rule: rule).result(run([], requests))
        #expect(result.verdict == .fail)
        #expect(result.subjects == [.group(labels: ["request": "slow"])])
    }

    /// `subjects` is one more field in summary.json; results written before it existed still decode.
    @Test func subjectsAreAnAdditionalField() throws {
        let result = RuleResult(
            kind: .propagation,
            name: "W3C trace context",
            verdict: .fail,
            measured: "m",
            expected: "e",
            evidence: ["x"],
            subjects: [.trace(id: broken, problem: "x"), .group(labels: ["request": "slow"])]
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(result), as: UTF8.self)
        #expect(
            json == #"{"evidence":["x"],"expected":"e","kind":"propagation","measured":"m","name":"W3C trace context","#
                + #""subjects":[{"trace":{"id":"\#(broken)","problem":"x"}},{"group":{"labels":{"request":"slow"}}}],"verdict":"fail"}"#
        )
        #expect(try JSONDecoder().decode(RuleResult.self, from: Data(json.utf8)) == result)
        let old = #"{"evidence":[],"expected":"e","kind":"slo","measured":"m","name":"n","verdict":"no_data"}"#
        let decoded = try JSONDecoder().decode(RuleResult.self, from: Data(old.utf8))
        #expect(decoded.subjects.isEmpty)
        #expect(decoded.verdict == .noData)
    }
}

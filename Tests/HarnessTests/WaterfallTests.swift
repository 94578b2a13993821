import Checks
import Foundation
import Reporting
import Scenario
import Telemetry
import TestSupport
import Testing
import Workload

/// The report's waterfall shows the trace the propagation rule names as its subject, not one read out of text.
@Suite struct WaterfallTests {
    @Test func waterfallFollowsTheStructuredSubjectNotTheEvidenceText() throws {
        let store = TelemetryStore()
        let traceA = "0af7651916cd43dd8448eb211c80319c"
        let traceB = "4bf92f3577b34da6a3ce929d0e0e4736"
        let id = try #require(TraceID(hex: traceB))
        let span = Span(
            traceID: id,
            spanID: try #require(SpanID(hex: "00f067aa0ba902b7")),
            name: "GET /tasks",
            kind: .server,
            startTimeUnixNano: 1_000_000_000,
            endTimeUnixNano: 1_005_000_000,
            channel: .otlpGRPC
        )
        store.store(Batch(spans: [span]), channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 0)
        var result = RuleResult(
            kind: .propagation,
            name: "W3C trace context",
            verdict: .fail,
            measured: "1 broken",
            expected: "0 broken",
            evidence: ["trace \(traceA): the first server span's parent is not the driver's span"]
        )
        result.subjects = [.trace(id: traceB, problem: "the first server span's parent is not the driver's span")]
        let scenario = try ScenarioLoader.parse(
            "name: waterfall\nworkload:\n  phases:\n    - {name: p, duration: 1s, arrival: constant, rate: 1}\n  requests:\n    - {name: r, service: tasks, path: /}\nrules: {propagation: true}\n",
            file: "waterfall.yaml",
            environment: [:]
        )
        let summary = RunSummary(scenario: scenario, startedAt: Date(), driver: DriverReport(), rules: [result], store: store)
        #expect(summary.failingTrace?.traceID == traceB)
        #expect(summary.failingTrace?.bars.map(\.name) == ["GET /tasks"])
    }
}

import Checks
import Scenario
import Telemetry
import TestSupport
import Testing
import Workload

@Suite struct ChecksTests {
    private let resource = Resource(attributes: ["service.name": .string("cf_core.services.tasks")])

    private func sent(
        _ name: String = "req",
        trace: String,
        span: String,
        sampled: Bool = true,
        tracestate: String? = nil,
        invalid: TraceContextCase? = nil,
        latency: Double = 0.01
    ) -> SentRequest {
        SentRequest(
            name: name,
            phase: "p",
            intendedOffsetSeconds: 0,
            sentOffsetSeconds: 0,
            latencySeconds: latency,
            outcome: .ok,
            status: 200,
            traceID: trace,
            spanID: span,
            sampled: sampled,
            tracestate: tracestate,
            invalidCase: invalid?.rawValue,
            propagated: true
        )
    }

    private func span(trace: String, id: String, parent: String?, kind: SpanKind, state: String = "", name: String = "op", nanos: UInt64 = 1000) -> Span {
        Span(
            traceID: TraceID(hex: trace)!,
            spanID: SpanID(hex: id)!,
            parentSpanID: parent.flatMap { SpanID(hex: $0) },
            traceState: state,
            name: name,
            kind: kind,
            startTimeUnixNano: 0,
            endTimeUnixNano: nanos,
            resource: resource,
            channel: .otlpGRPC
        )
    }

    private func run(_ spans: [Span], _ requests: [SentRequest], templates: [RequestTemplate] = []) -> RunData {
        RunData.replaying(spans: spans, requests: requests, templates: templates)
    }

    let t1 = "0af7651916cd43dd8448eb211c80319c", driverSpan = "b7ad6b7169203331"

    @Test func intactTracePasses() {
        let data = run(
            [
                span(trace: t1, id: "1111111111111111", parent: driverSpan, kind: .server, state: "congo=t61"),
                span(trace: t1, id: "2222222222222222", parent: "1111111111111111", kind: .client, state: "congo=t61"),
                span(trace: t1, id: "3333333333333333", parent: "2222222222222222", kind: .server, state: "congo=t61"),
            ],
            [sent(trace: t1, span: driverSpan, tracestate: "congo=t61")]
        )
        let result = PropagationCheck().result(data)
        #expect(result.verdict == .pass, "\(result.evidence)")
    }

    @Test(arguments: [
        ("fresh parent", [("1111111111111111", nil as String?, SpanKind.server, "")], "no span has the driver's span id"),
        ("orphan", [("1111111111111111", "b7ad6b7169203331", SpanKind.server, ""), ("3333333333333333", "9999999999999999", SpanKind.server, "")], "orphan"),
        (
            "server under server",
            [("1111111111111111", "b7ad6b7169203331", SpanKind.server, ""), ("3333333333333333", "1111111111111111", SpanKind.server, "")],
            "should have a client span as parent"
        ),
        ("tracestate dropped", [("1111111111111111", "b7ad6b7169203331", SpanKind.server, "")], "carries tracestate ''"),
        ("nothing arrived", [], "no span arrived"),
    ])
    func brokenTraceFailsWithTheFirstBrokenLink(name: String, spans: [(String, String?, SpanKind, String)], phrase: String) {
        let tracestate = name == "tracestate dropped" ? "congo=t61" : nil
        let data = run(
            spans.map { span(trace: t1, id: $0.0, parent: $0.1, kind: $0.2, state: $0.3) },
            [sent(trace: t1, span: driverSpan, tracestate: tracestate)]
        )
        let result = PropagationCheck().result(data)
        #expect(result.verdict == .fail)
        #expect(result.evidence.contains { $0.contains(phrase) && $0.contains(t1) }, "\(result.evidence)")
    }

    @Test func unsampledAndInvalidRequestsMustNotContinue() {
        let unsampled = sent(trace: t1, span: driverSpan, sampled: false)
        let bad = sent(trace: "1af7651916cd43dd8448eb211c80319c", span: driverSpan, invalid: .versionFF)
        // No span at all proves nothing: neither request can be judged.
        let silent = PropagationCheck().result(run([], [unsampled, bad]))
        #expect(silent.verdict == .noData, "\(silent)")
        #expect(silent.evidence.contains { $0.contains("2 unsampled or invalid-context requests without evidence") })
        let leaked = run(
            [
                span(trace: t1, id: "1111111111111111", parent: driverSpan, kind: .server),
                span(trace: "1af7651916cd43dd8448eb211c80319c", id: "2111111111111111", parent: driverSpan, kind: .server),
            ],
            [unsampled, bad]
        )
        let result = PropagationCheck().result(leaked)
        #expect(result.verdict == .fail)
        #expect(result.evidence.contains { $0.contains("unsampled") })
        #expect(result.evidence.contains { $0.contains("w3c version-ff") && $0.contains("fresh trace was expected") })
    }

    /// Every W3C case is judged by its expectation from the exported spans: a case to continue as a valid
    /// context with the tracestate the case expects, an invalid tracestate as a continued trace with none on any
    /// span, and each of the service's possible mistakes named.
    @Test func w3cCasesAreJudgedByTheirExpectation() {
        let server = "1111111111111111"
        func judged(_ w3c: TraceContextCase, _ spans: (String) -> [Span]) -> RuleResult {
            PropagationCheck().result(run(spans(t1), [sent(trace: t1, span: driverSpan, invalid: w3c)]))
        }
        func continued(state: String) -> (String) -> [Span] {
            { trace in [span(trace: trace, id: server, parent: driverSpan, kind: .server, state: state)] }
        }
        // Continue, with the tracestate the case expects: list members compared, whitespace aside.
        #expect(judged(.tracestateWhitespace, continued(state: "foo=1, bar=2,baz=3")).verdict == .pass)
        #expect(judged(.tracestate32Members, continued(state: TraceContextCase.members(1...32))).verdict == .pass)
        #expect(judged(.futureVersion, continued(state: "")).verdict == .pass)
        let lostState = judged(.tracestateMultipleHeaders, continued(state: "foo=1,bar=2"))
        #expect(
            lostState.verdict == .fail && lostState.evidence.contains { $0.contains("expected 'foo=1,bar=2,rojo=1,congo=2,baz=3'") },
            "\(lostState.evidence)"
        )
        let restarted = judged(.futureVersionTrailer, { _ in [] })
        #expect(
            restarted.verdict == .fail && restarted.evidence.contains { $0.contains("did not continue the driver's valid traceparent") },
            "\(restarted.evidence)"
        )
        // Drop only the tracestate: the trace continues with none.
        #expect(judged(.tracestateDuplicateKeys, continued(state: "")).verdict == .pass)
        let forwarded = judged(.tracestateUppercaseKey, continued(state: "FOO=1"))
        #expect(forwarded.verdict == .fail && forwarded.evidence.contains { $0.contains("the sent tracestate is invalid and must be dropped") })
        let thrownAway = judged(.tracestate33Members, { trace in [span(trace: "2af7651916cd43dd8448eb211c80319c", id: server, parent: nil, kind: .server)] })
        #expect(thrownAway.verdict == .fail && thrownAway.evidence.contains { $0.contains("no span arrived") }, "a bad tracestate must not restart the trace")
        // Restart: continuing is the mistake.
        let continuedInvalid = judged(.duplicateTraceparent, continued(state: ""))
        #expect(continuedInvalid.verdict == .fail && continuedInvalid.evidence.contains { $0.contains("fresh trace was expected") })
        // Every case has an expectation, and the three kinds are all there.
        let kinds = Set(
            TraceContextCase.allCases.map { w3c -> String in
                switch w3c.expectation {
                case .restart: "restart"
                case .continues: "continues"
                case .dropsTracestate: "drops"
                }
            }
        )
        #expect(kinds == ["restart", "continues", "drops"])
    }

    /// An invalid context counts with a fresh trace's server span for that request; an unsampled one with
    /// other spans of its endpoint. A request without that evidence fails the rule, named.
    @Test func unsampledAndInvalidRequestsNeedEvidence() {
        let templates = [
            RequestTemplate(name: "unsampled", service: "tasks", path: "/tasks", trace: TraceContextSpec(sampled: false)),
            RequestTemplate(name: "bad", service: "tasks", path: "/health/{{random:3}}", trace: TraceContextSpec(invalid: .versionFF)),
            RequestTemplate(name: "req", service: "tasks", path: "/tasks"),
        ]
        func server(trace: String, id: String, parent: String?, path: String) -> Span {
            var span = span(trace: trace, id: id, parent: parent, kind: .server)
            span.attributes = ["http.request.method": .string("GET"), "url.path": .string(path)]
            return span
        }
        let unsampled = sent("unsampled", trace: t1, span: driverSpan, sampled: false)
        let bad = sent("bad", trace: "1af7651916cd43dd8448eb211c80319c", span: driverSpan, invalid: .versionFF)
        let sampled = sent("req", trace: "2af7651916cd43dd8448eb211c80319c", span: driverSpan)
        let sampledSpan = server(trace: sampled.traceID, id: "3111111111111111", parent: driverSpan, path: "/tasks")
        let fresh = server(trace: "9af7651916cd43dd8448eb211c80319c", id: "4111111111111111", parent: nil, path: "/health/live")
        let check = PropagationCheck(requests: templates)
        let proven = check.result(run([sampledSpan, fresh], [unsampled, bad, sampled], templates: templates))
        #expect(proven.verdict == .pass, "\(proven.evidence)")
        // The fresh trace of another endpoint proves nothing for this request.
        let elsewhere = server(trace: "9af7651916cd43dd8448eb211c80319c", id: "4111111111111111", parent: nil, path: "/tasks")
        let unproven = check.result(run([sampledSpan, elsewhere], [unsampled, bad, sampled], templates: templates))
        #expect(unproven.verdict == .fail)
        #expect(unproven.measured.hasSuffix("; 1 requests without evidence"))
        #expect(
            unproven.evidence.contains {
                $0.hasPrefix("1 unsampled or invalid-context requests without evidence: bad ×1 (e.g. trace 1af7651916cd43dd8448eb211c80319c)")
            }
        )
        // One fresh trace proves one request, not two.
        let twice = sent("bad", trace: "5af7651916cd43dd8448eb211c80319c", span: driverSpan, invalid: .versionFF)
        #expect(check.result(run([sampledSpan, fresh], [unsampled, bad, twice, sampled], templates: templates)).verdict == .fail)
        // Without spans of its endpoint, an unsampled request's silence proves nothing either.
        #expect(check.result(run([fresh], [unsampled, bad], templates: templates)).verdict == .fail)
    }

    @Test func clientSLOUsesLatencyFromTheIntendedTime() {
        let requests = (1...1000).map { sent("live", trace: String(format: "%032x", $0), span: driverSpan, latency: Double($0) / 10_000) }
        let data = run([], requests)
        var rule = SLORule(name: "liveness", source: .client(request: "live"))
        rule.quantile = 0.999
        rule.threshold = 0.05
        let failing = SLOCheck(rule: rule).result(data)
        #expect(failing.verdict == .fail)
        #expect(failing.measured == "p99.9 = 99.9 ms")
        rule.threshold = 0.1
        #expect(SLOCheck(rule: rule).result(data).verdict == .pass)
        rule.source = .client(request: "nonexistent")
        #expect(SLOCheck(rule: rule).result(data).verdict == .noData)
    }

    @Test func metricSLOUsesHistogramQuantileOverTheLatestCumulativePoints() {
        let store = TelemetryStore()
        func series(_ operation: String, counts: [UInt64]) -> MetricSeries {
            let point = HistogramPoint(timeUnixNano: 10, count: counts.reduce(0, +), explicitBounds: [5, 15, 30, 60, 90, 150, 250], bucketCounts: counts)
            return MetricSeries(
                key: SeriesKey(metricName: "rollback_duration_seconds", attributes: ["operation": .string(operation)], resource: resource),
                kind: .histogram(temporality: .cumulative),
                unit: "s",
                points: [.histogram(point)],
                channel: .otlpGRPC
            )
        }
        // 99 rollbacks, 97 at most 150 s and 2 in (150, 250]: rank 0.99 × 99 = 98.01, p99 = 150 + 100 × (98.01 − 97) / 2 = 200.5 s.
        store.store(
            Batch(series: [series("git_restore", counts: [0, 10, 20, 30, 20, 5, 1, 0]), series("db_restore", counts: [0, 0, 0, 0, 0, 12, 1, 0])]),
            channel: .otlpGRPC,
            signal: .metrics,
            rejectedItems: 0,
            reservedBytes: 0
        )
        var rule = SLORule(name: "rollback p99", source: .metric(name: "rollback_duration_seconds"))
        rule.quantile = 0.99
        rule.threshold = 180
        let result = SLOCheck(rule: rule).result(RunData(store: store, driver: nil))
        #expect(result.verdict == .fail)
        #expect(result.measured == "p99 = 200.50 s")
        rule.selector = ["operation": "git_restore"]
        // git_restore alone: 86 observations, 85 at most 150 s: rank 85.14, p99 = 150 + 100 × (85.14 − 85) / 1 = 164 s.
        let selected = SLOCheck(rule: rule).result(RunData(store: store, driver: nil))
        #expect(selected.measured == "p99 = 164.00 s")
        // By operation: git_restore 164 s passes, db_restore (13 observations, 12 at most 150 s: rank 12.87,
        // 150 + 100 × 0.87 = 237 s) fails, and is the one shown.
        rule.selector = [:]
        rule.groupBy = ["operation"]
        let grouped = SLOCheck(rule: rule).result(RunData(store: store, driver: nil))
        #expect(grouped.verdict == .fail)
        #expect(grouped.measured == "p99 = 237.00 s (operation=db_restore; worst of 2 groups)")
        #expect(grouped.evidence == ["operation=db_restore: p99 = 237.00 s ✗", "operation=git_restore: p99 = 164.00 s"])
    }

    @Test func windowJudgesOnlyWhatTheCumulativeCountsGrewBy() {
        let store = TelemetryStore()
        let bounds: [Double] = [5, 15, 30, 60, 90, 150, 250]
        // At t = 0 s: 100 slow rollbacks; at t = 600 s: 100 more, all fast. The whole run fails p99 < 180 s;
        // the last 5 minutes hold only the fast ones.
        let early = HistogramPoint(timeUnixNano: 0, count: 100, explicitBounds: bounds, bucketCounts: [0, 0, 0, 0, 0, 0, 100, 0])
        let late = HistogramPoint(timeUnixNano: 600_000_000_000, count: 200, explicitBounds: bounds, bucketCounts: [0, 100, 0, 0, 0, 0, 100, 0])
        store.store(
            Batch(series: [
                MetricSeries(
                    key: SeriesKey(metricName: "rollback_duration_seconds", attributes: [:], resource: resource),
                    kind: .histogram(temporality: .cumulative),
                    unit: "s",
                    points: [.histogram(early), .histogram(late)],
                    channel: .otlpGRPC
                )
            ]),
            channel: .otlpGRPC,
            signal: .metrics,
            rejectedItems: 0,
            reservedBytes: 0
        )
        var rule = SLORule(name: "rollback p99", source: .metric(name: "rollback_duration_seconds"))
        rule.quantile = 0.99
        rule.threshold = 180
        #expect(SLOCheck(rule: rule).result(RunData(store: store, driver: nil)).verdict == .fail)
        rule.window = .seconds(300)
        let windowed = SLOCheck(rule: rule).result(RunData(store: store, driver: nil))
        #expect(windowed.verdict == .pass, "\(windowed.measured)")
    }

    @Test func cardinalityCountsHistogramsAsBucketsPlusTwoAndNamesOffenders() {
        let store = TelemetryStore()
        let many = (0..<300).map { index in
            MetricSeries(
                key: SeriesKey(metricName: "task_create_total", attributes: ["task_id": .string("t\(index)")], resource: resource),
                kind: .sum(isMonotonic: true, temporality: .cumulative),
                points: [.number(.init(timeUnixNano: 1, value: .int(1)))],
                channel: .otlpGRPC
            )
        }
        let histogram = MetricSeries(
            key: SeriesKey(metricName: "rollback_duration_seconds", attributes: [:], resource: resource),
            kind: .histogram(temporality: .cumulative),
            points: [
                .histogram(.init(timeUnixNano: 1, count: 0, sum: 0, explicitBounds: [5, 15, 30, 60, 90, 150, 250], bucketCounts: [0, 0, 0, 0, 0, 0, 0, 0]))
            ],
            channel: .otlpGRPC
        )
        store.store(Batch(series: many + [histogram]), channel: .otlpGRPC, signal: .metrics, rejectedItems: 0, reservedBytes: 0)
        #expect(CardinalityCheck.table(store: store).total == 300 + 10)
        let results = CardinalityCheck(limit: 200, perMetric: ["rollback_duration_seconds": 20]).evaluate(RunData(store: store, driver: nil))
        #expect(results[0].verdict == .fail)
        #expect(results[0].evidence.first == "task_create_total: 300 series (task_id: 300 values, job: 1 values)")
        #expect(results[1].verdict == .pass)
    }

    /// `expr:` SLOs: every series of the comparison's left side judged, the failing ones shown; nothing is no_data.
    @Test func expressionSLOsJudgeEverySeries() {
        let store = TelemetryStore()
        let bounds: [Double] = [60, 180, 300]
        func rollbacks(_ operation: String, slowShare: UInt64) -> MetricSeries {
            MetricSeries(
                key: SeriesKey(metricName: "rollback_duration_seconds", attributes: ["operation": .string(operation)], resource: resource),
                kind: .histogram(temporality: .cumulative),
                unit: "s",
                points: [0, 1].map { step in
                    .histogram(
                        HistogramPoint(
                            timeUnixNano: UInt64(step) * 10_000_000_000 + 1_000_000_000,
                            count: 100 * UInt64(step),
                            sum: 1,
                            explicitBounds: bounds,
                            bucketCounts: [(100 - slowShare) * UInt64(step), 0, slowShare * UInt64(step), 0]
                        )
                    )
                },
                channel: .otlpGRPC
            )
        }
        store.store(
            Batch(series: [rollbacks("git_restore", slowShare: 0), rollbacks("db_restore", slowShare: 5)]),
            channel: .otlpGRPC,
            signal: .metrics,
            rejectedItems: 0,
            reservedBytes: 0
        )
        let run = RunData(store: store, driver: nil)
        let seed = "histogram_quantile(0.99, sum(rate(rollback_duration_seconds_bucket[5m])) by (le, operation))"
        let failing = ExpressionSLOCheck(rule: SLORule(name: "p99", expression: seed + " < 180")).result(engine: run.prometheus)
        #expect(failing.verdict == .fail)
        #expect(failing.measured.hasPrefix("{operation=\"db_restore\"} = 276"), "\(failing.measured)")
        #expect(failing.measured.contains("1 of 2 series fail"))
        #expect(failing.evidence.contains { $0.contains("git_restore") && $0.hasSuffix("✓") })
        let passing = ExpressionSLOCheck(rule: SLORule(name: "p99", expression: seed + " < 300")).result(engine: run.prometheus)
        #expect(passing.verdict == .pass, "\(passing.measured)")
        let scalar = ExpressionSLOCheck(rule: SLORule(name: "count", expression: "scalar(sum(rollback_duration_seconds_count)) >= bool 200")).result(
            engine: run.prometheus
        )
        #expect(scalar.verdict == .pass, "\(scalar.measured)")
        let typo = SLOCheck(rule: SLORule(name: "typo", expression: "histogram_quantile(0.99, sum(rate(rollback_duration_bucket[5m])) by (le)) < 180")).result(
            run
        )
        #expect(typo.verdict == .noData)
        #expect(typo.evidence.first { $0.contains("check the metric names") } != nil)
    }

    @Test func accountingNamesWhereItemsWereLost() {
        let store = TelemetryStore()
        store.store(
            Batch(spans: [span(trace: t1, id: "1111111111111111", parent: driverSpan, kind: .server)]),
            channel: .otlpHTTPProtobuf,
            signal: .traces,
            rejectedItems: 1,
            reservedBytes: 0
        )
        let requests = [sent(trace: t1, span: driverSpan), sent(trace: "2af7651916cd43dd8448eb211c80319c", span: driverSpan)]
        let data = RunData(store: store, driver: DriverReport(replaying: requests), requests: RequestLedger(replaying: requests, store: store))
        let result = AccountingCheck(tolerance: 0).result(data)
        #expect(result.verdict == .fail)
        #expect(result.evidence.contains("otlp-http-protobuf traces: 1 spans rejected, 0 requests refused"))
        #expect(result.evidence.contains { $0.hasPrefix("1 of 2 answered sampled requests produced no span, e.g. trace 2af7651916cd43dd8448eb211c80319c") })
        #expect(AccountingCheck(tolerance: 0.6).result(data).verdict == .pass)
    }

    /// A metrics or logs export refused whole (400/413/503) lost its items, though nobody counted them: the
    /// loss is the share of refused requests, named per channel and signal.
    @Test func accountingCountsRequestsRefusedWhole() {
        let store = TelemetryStore()
        // Three trace exports accepted (no driver: no trace is owed), one metrics and one logs export refused.
        for index in 1...3 {
            let batch = Batch(spans: [span(trace: t1, id: String(format: "%016x", index), parent: nil, kind: .server)])
            store.store(batch, channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 0)
        }
        store.countRejectedRequest(channel: .otlpGRPC, signal: .metrics)
        store.countRejectedRequest(channel: .otlpHTTPJSON, signal: .logs)
        let data = RunData(store: store, driver: nil)
        let result = AccountingCheck(tolerance: 0).result(data)
        #expect(result.verdict == .fail, "\(result.measured)")
        #expect(result.measured.hasPrefix("40.00% lost"), "2 of 5 export requests were refused: \(result.measured)")
        #expect(result.measured.contains("2 requests refused whole (items unknown)"))
        #expect(result.evidence.contains("otlp-grpc metrics: 1 requests refused whole (items unknown) of 1 received"))
        #expect(result.evidence.contains("otlp-http-json logs: 1 requests refused whole (items unknown) of 1 received"))
        #expect(AccountingCheck(tolerance: 0.4).result(data).verdict == .pass)
        // Nothing accepted at all, only refusals: a loss, not "nothing was sent".
        let refusedOnly = TelemetryStore()
        refusedOnly.countRejectedRequest(channel: .otlpGRPC, signal: .logs)
        #expect(AccountingCheck(tolerance: 0.5).result(RunData(store: refusedOnly, driver: nil)).verdict == .fail)
    }

    /// A per-metric limit on a metric that never arrived (a misspelt name) is `no_data`, not a pass with 0 series.
    @Test func aPerMetricLimitOnAMetricThatNeverArrivedIsNoData() {
        let store = TelemetryStore()
        store.store(
            Batch(series: [
                MetricSeries(
                    key: SeriesKey(metricName: "task_create_total", attributes: [:], resource: resource),
                    kind: .sum(isMonotonic: true, temporality: .cumulative),
                    unit: "1",
                    points: [.number(NumberPoint(timeUnixNano: 1, value: .int(1)))],
                    channel: .otlpGRPC
                )
            ]),
            channel: .otlpGRPC,
            signal: .metrics,
            rejectedItems: 0,
            reservedBytes: 0
        )
        let results = CardinalityCheck(limit: 100, perMetric: ["task_create_total": 10, "task_crate_total": 10]).evaluate(RunData(store: store, driver: nil))
        // Per-metric rules in name order: the misspelt task_crate_total, then task_create_total.
        #expect(results.map(\.verdict) == [.pass, .noData, .pass], "\(results)")
        #expect(results[1].name == "series of task_crate_total")
        #expect(results[1].measured == "no series: the metric never arrived")
        #expect(results[1].subjects == [.metric(name: "task_crate_total")])
    }

    /// A grouped client SLO expects every request name (and phase) of the workload: a group that never got a
    /// request is `no_data`, named, instead of the other groups passing for it.
    @Test func groupedSLOWithMissingGroupsIsNoData() {
        let requests = (1...40).map { sent("live", trace: String(format: "%032x", $0), span: driverSpan, latency: 0.001) }
        let workload = WorkloadSection(
            phases: [Phase(name: "p", duration: .seconds(1), arrival: .constant(rate: 1))],
            requests: [
                RequestTemplate(name: "live", service: "tasks", path: "/health/live"), RequestTemplate(name: "ready", service: "tasks", path: "/health/ready"),
            ]
        )
        var rule = SLORule(name: "p99 by request", source: .client(request: nil))
        rule.groupBy = ["request"]
        rule.threshold = 0.1
        let result = SLOCheck(rule: rule, workload: workload).result(run([], requests))
        #expect(result.verdict == .noData, "\(result)")
        #expect(result.measured.hasSuffix("; 1 of 2 groups without data"))
        #expect(result.evidence.contains("no data for request=ready"))
        #expect(result.subjects.contains(.group(labels: ["request": "ready"])))
        // Every group of the workload present: it passes; a failing group still fails the rule.
        let both = requests + (41...80).map { sent("ready", trace: String(format: "%032x", $0), span: driverSpan, latency: 0.001) }
        #expect(SLOCheck(rule: rule, workload: workload).result(run([], both)).verdict == .pass)
        let slow = requests + [sent("ready", trace: String(format: "%032x", 99), span: driverSpan, latency: 1)]
        rule.groupBy = ["request", "phase"]
        var twoPhases = workload
        twoPhases.phases.append(Phase(name: "q", duration: .seconds(1), arrival: .constant(rate: 1)))
        let crossed = SLOCheck(rule: rule, workload: twoPhases).result(run([], slow))
        #expect(crossed.verdict == .fail, "\(crossed)")
        #expect(crossed.measured.hasSuffix("; 2 of 4 groups without data"), "phase q never ran: \(crossed.measured)")
    }
}

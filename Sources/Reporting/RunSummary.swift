package import Checks
package import Foundation
package import Scenario
package import Telemetry
package import Workload

/// The machine-readable record of a run (`summary.json`, schema `otelbench.run-summary/v1`, in the README).
package struct RunSummary: Codable, Sendable {
    package struct PhaseEntry: Codable, Sendable {
        package var name: String
        package var plannedSeconds: Double
        package var elapsedSeconds: Double
        package var scheduled: Int
        package var sent: Int
        package var droppedSlots: Int
        package var achievedRate: Double
        package var requests: [String: RequestReport]
        /// Open loop: how late sends left their intended time, in milliseconds (absent for closed-loop users).
        package var sendLateness: LatencySummary?
    }

    package var schema = "otelbench.run-summary/v1"
    package var scenario: String
    package var scenarioFile: String
    package var startedAt: String
    package var interrupted: Bool
    package var passed: Bool
    package var phases: [PhaseEntry]
    package var rules: [RuleResult]
    package var intake: IntakeSummary
    package var cardinality: CardinalityCheck.Table
    /// The cardinality limit the scenario set (for plots), if any.
    package var cardinalityLimit: Int?
    /// Per request name: client latency (ms) at the percentiles 0, 25, 50, 75, 90, 95, 99, 99.9, 100.
    package var latencyCurves: [String: [LatencyCurvePoint]]
    /// Per second of the run: requests completed and failed.
    package var timeline: [TimelineEntry]
    /// The first trace a propagation rule found broken, as spans for a waterfall.
    package var failingTrace: TraceWaterfall?
    /// When the scenario's alerts went pending, fired and resolved (absent without `alert_rules`).
    package var alerts: AlertTimeline?
    /// Each shard's own figures, beside the merged ones above (absent for a run in one process).
    package var shards: [ShardEntry]?
    /// Each process under test's CPU and memory over time, with its ceilings (absent without `services.processes`).
    package var processes: [ProcessEntry]?
    /// The data-volume estimate from the run's measured rates (absent when the run did not measure them).
    package var estimate: DataVolumeEstimate?
    /// Client latency p50, p90 and p99 per second of the run, per request name (``LatencyOverTime``).
    package var latencyOverTime: LatencyOverTime?
    /// The scenario's Grafana dashboards evaluated over the run (absent without `report.dashboards`).
    package var dashboards: [DashboardView]?

    package struct LatencyCurvePoint: Codable, Sendable, Hashable {
        package var percentile: Double
        package var milliseconds: Double
    }

    package struct TimelineEntry: Codable, Sendable, Hashable {
        package var second: Int
        package var completed: Int
        package var failed: Int
    }

    /// A trace's spans laid out in time, parents before children.
    package struct TraceWaterfall: Codable, Sendable, Hashable {
        package struct Bar: Codable, Sendable, Hashable {
            package var name: String
            package var service: String
            package var kind: String
            package var spanID: String
            package var parentSpanID: String?
            package var depth: Int
            package var startMilliseconds: Double
            package var durationMilliseconds: Double
        }
        package var traceID: String
        package var problem: String
        package var bars: [Bar]
    }

    package init(scenario: Scenario, startedAt: Date, driver: DriverReport, rules: [RuleResult], store: TelemetryStore) {
        self.scenario = scenario.name
        scenarioFile = scenario.file
        self.startedAt = ISO8601DateFormatter().string(from: startedAt)
        interrupted = driver.interrupted
        passed = !driver.interrupted && rules.allSatisfy(\.passed)
        phases = driver.phases.map { phase in
            PhaseEntry(
                name: phase.name,
                plannedSeconds: phase.plannedDuration.inSeconds,
                elapsedSeconds: phase.elapsed.inSeconds,
                scheduled: phase.scheduled,
                sent: phase.sentCount,
                droppedSlots: phase.droppedSlots,
                achievedRate: phase.achievedRate,
                requests: phase.requests,
                sendLateness: phase.sendLateness
            )
        }
        self.rules = rules
        intake = IntakeSummary(store: store)
        cardinality = CardinalityCheck.table(store: store)
        cardinalityLimit = scenario.rules.cardinalityLimit
        let percentiles = [0, 25, 50, 75, 90, 95, 99, 99.9, 100]
        latencyCurves = driver.latencies().filter { $0.value.count > 0 }.mapValues { latency in
            percentiles.map { percentile in
                let milliseconds =
                    switch percentile {
                    case 0: Double(latency.histogram.min) / 1000
                    case 100: Double(latency.histogram.max) / 1000
                    default: latency.milliseconds(atPercentile: percentile)
                    }
                return LatencyCurvePoint(percentile: percentile, milliseconds: milliseconds)
            }
        }
        var buckets: [Int: TimelineEntry] = [:]
        for phase in driver.phases {
            for (second, bucket) in phase.timeline {
                var entry = buckets[second] ?? TimelineEntry(second: second, completed: 0, failed: 0)
                entry.completed += bucket.completed
                entry.failed += bucket.failed
                buckets[second] = entry
            }
        }
        timeline = buckets.values.sorted { $0.second < $1.second }
        latencyOverTime = driver.latencyOverTime.requests.isEmpty ? nil : driver.latencyOverTime
        failingTrace = Self.waterfall(rules: rules, store: store)
    }

    /// The first trace a failing propagation rule names as its subject, laid out for a waterfall.
    static func waterfall(rules: [RuleResult], store: TelemetryStore) -> TraceWaterfall? {
        guard let trace = rules.firstBrokenTrace, let traceID = TraceID(hex: trace.id) else { return nil }
        let spans = store.spans(inTrace: traceID)
        guard let start = spans.map(\.startTimeUnixNano).min() else { return nil }
        let ids = Set(spans.map(\.spanID))
        var children: [SpanID?: [Span]] = [:]
        for span in spans { children[span.parentSpanID.flatMap { ids.contains($0) ? $0 : nil }, default: []].append(span) }
        var bars: [TraceWaterfall.Bar] = []
        func visit(_ parent: SpanID?, depth: Int) {
            for span in (children[parent] ?? []).sorted(by: { $0.startTimeUnixNano < $1.startTimeUnixNano }) where bars.count < 200 {
                bars.append(
                    TraceWaterfall.Bar(
                        name: span.name,
                        service: span.resource.serviceName,
                        kind: span.kind.description,
                        spanID: span.spanID.hex,
                        parentSpanID: span.parentSpanID?.hex,
                        depth: depth,
                        startMilliseconds: Double(span.startTimeUnixNano - start) / 1e6,
                        durationMilliseconds: Double(span.durationNanos) / 1e6
                    )
                )
                visit(span.spanID, depth: depth + 1)
            }
        }
        visit(nil, depth: 0)
        return TraceWaterfall(traceID: traceID.hex, problem: trace.problem, bars: bars)
    }

    /// Pretty-printed JSON with sorted keys.
    package func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

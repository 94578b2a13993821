public import Foundation
public import Checks
public import Telemetry
public import Workload

/// The machine-readable record of a run (`summary.json`, schema `otelbench.run-summary/v1`, in the README).
public struct RunSummary: Codable, Sendable {
    public struct PhaseEntry: Codable, Sendable {
        public var name: String
        public var plannedSeconds: Double
        public var elapsedSeconds: Double
        public var scheduled: Int
        public var sent: Int
        public var droppedSlots: Int
        public var achievedRate: Double
        public var requests: [String: RequestReport]
    }

    public var schema = "otelbench.run-summary/v1"
    public var scenario: String
    public var scenarioFile: String
    public var startedAt: String
    public var interrupted: Bool
    public var passed: Bool
    public var phases: [PhaseEntry]
    public var rules: [RuleResult]
    public var intake: IntakeSummary
    public var cardinality: CardinalityCheck.Table
    /// The cardinality limit the scenario set (for plots), if any.
    public var cardinalityLimit: Int?
    /// Per request name: client latency (ms) at the percentiles 0, 25, 50, 75, 90, 95, 99, 99.9, 100.
    public var latencyCurves: [String: [LatencyCurvePoint]]
    /// Per second of the run: requests completed and failed.
    public var timeline: [TimelineEntry]
    /// The first trace a propagation rule found broken, as spans for a waterfall.
    public var failingTrace: TraceWaterfall?
    /// When the scenario's alerts went pending, fired and resolved (absent without `alert_rules`).
    public var alerts: AlertTimeline?

    public struct LatencyCurvePoint: Codable, Sendable, Hashable {
        public var percentile: Double
        public var milliseconds: Double
    }

    public struct TimelineEntry: Codable, Sendable, Hashable {
        public var second: Int
        public var completed: Int
        public var failed: Int
    }

    /// A trace's spans laid out in time, parents before children.
    public struct TraceWaterfall: Codable, Sendable, Hashable {
        public struct Bar: Codable, Sendable, Hashable {
            public var name: String
            public var service: String
            public var kind: String
            public var spanID: String
            public var parentSpanID: String?
            public var depth: Int
            public var startMilliseconds: Double
            public var durationMilliseconds: Double
        }
        public var traceID: String
        public var problem: String
        public var bars: [Bar]
    }

    public init(scenario: Scenario, startedAt: Date, driver: DriverReport, rules: [RuleResult], store: TelemetryStore) {
        self.scenario = scenario.name
        scenarioFile = scenario.file
        self.startedAt = ISO8601DateFormatter().string(from: startedAt)
        interrupted = driver.interrupted
        passed = !driver.interrupted && rules.allSatisfy(\.passed)
        phases = driver.phases.map { phase in
            PhaseEntry(
                name: phase.name, plannedSeconds: seconds(phase.plannedDuration), elapsedSeconds: seconds(phase.elapsed),
                scheduled: phase.scheduled, sent: phase.sent.count, droppedSlots: phase.droppedSlots,
                achievedRate: phase.achievedRate, requests: phase.requests
            )
        }
        self.rules = rules
        intake = IntakeSummary(store: store)
        cardinality = CardinalityCheck.table(store: store)
        cardinalityLimit = scenario.rules.cardinalityLimit
        let percentiles = [0, 25, 50, 75, 90, 95, 99, 99.9, 100]
        latencyCurves = Dictionary(grouping: driver.sent, by: \.name).mapValues { requests in
            let sorted = requests.map(\.latencySeconds).sorted()
            return percentiles.map { percentile in
                let rank = max(1, Int((percentile / 100 * Double(sorted.count)).rounded(.up)))
                return LatencyCurvePoint(percentile: percentile, milliseconds: sorted[min(rank, sorted.count) - 1] * 1000)
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
        failingTrace = Self.waterfall(rules: rules, store: store)
    }

    /// The first trace named in a failing propagation rule's evidence, laid out for a waterfall.
    static func waterfall(rules: [RuleResult], store: TelemetryStore) -> TraceWaterfall? {
        guard let rule = rules.first(where: { $0.kind == .propagation && !$0.passed }),
              let line = rule.evidence.first(where: { $0.hasPrefix("trace ") }),
              let hex = line.split(separator: " ").dropFirst().first, let traceID = TraceID(hex: hex) else { return nil }
        let spans = store.spans(inTrace: traceID)
        guard let start = spans.map(\.startTimeUnixNano).min() else { return nil }
        let ids = Set(spans.map(\.spanID))
        var children: [SpanID?: [Span]] = [:]
        for span in spans { children[span.parentSpanID.flatMap { ids.contains($0) ? $0 : nil }, default: []].append(span) }
        var bars: [TraceWaterfall.Bar] = []
        func visit(_ parent: SpanID?, depth: Int) {
            for span in (children[parent] ?? []).sorted(by: { $0.startTimeUnixNano < $1.startTimeUnixNano }) where bars.count < 200 {
                bars.append(TraceWaterfall.Bar(
                    name: span.name, service: span.resource.serviceName, kind: span.kind.description, spanID: span.spanID.hex,
                    parentSpanID: span.parentSpanID?.hex, depth: depth,
                    startMilliseconds: Double(span.startTimeUnixNano - start) / 1e6, durationMilliseconds: Double(span.durationNanos) / 1e6
                ))
                visit(span.spanID, depth: depth + 1)
            }
        }
        visit(nil, depth: 0)
        return TraceWaterfall(traceID: traceID.hex, problem: line, bars: bars)
    }

    /// Adds results judged after the run (the baseline comparison), updating the verdict.
    public mutating func add(_ results: [RuleResult]) {
        rules += results
        passed = passed && results.allSatisfy(\.passed)
    }

    /// Pretty-printed JSON with sorted keys.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

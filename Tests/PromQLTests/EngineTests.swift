import PromQL
import PromQLSyntax
import Telemetry
import Testing

/// The engine on its own: limits and the store's Prometheus view.
@Suite struct EngineTests {
    static let series = (0..<20).map { index in
        Series(labels: Labels(["__name__": "up", "instance": "i\(index)"]), samples: (0..<100).map { Sample(timestamp: Int64($0) * 15_000, value: 1) })
    }

    @Test func aRangeQueryPastTheSampleLimitIsRefusedNotHeldInMemory() throws {
        var engine = PromQLEngine(series: Self.series)
        engine.maxSamples = 1000
        let expression = try PromQLParser.parse("up")
        #expect(try engine.rangeQuery(expression, start: 0, end: 45 * 15_000, step: 15_000).count == 20, "920 samples fit")
        #expect {
            _ = try engine.rangeQuery(expression, start: 0, end: 99 * 15_000, step: 15_000)
        } throws: { error in
            (error as? PromQLError)?.message.contains("too many samples") == true
        }
    }

    /// Delta sums are accumulated, histograms get cumulative buckets with +Inf, names and labels are translated.
    @Test func otlpMetricsBecomePrometheusSeries() {
        let resource = Resource(attributes: ["service.name": .string("tasks"), "service.instance.id": .string("i-1")])
        let counter = MetricSeries(
            key: SeriesKey(metricName: "task.create", attributes: ["http.status": .string("201")], resource: resource),
            kind: .sum(isMonotonic: true, temporality: .delta),
            unit: "{tasks}",
            points: [3, 4].enumerated().map { .number(NumberPoint(timeUnixNano: UInt64($0.offset + 1) * 1_000_000_000, value: .int($0.element))) },
            channel: .otlpGRPC
        )
        let histogram = MetricSeries(
            key: SeriesKey(metricName: "latency", attributes: [:], resource: resource),
            kind: .histogram(temporality: .cumulative),
            unit: "ms",
            points: [.histogram(HistogramPoint(timeUnixNano: 1_000_000_000, count: 5, sum: 12.5, explicitBounds: [0.5, 10], bucketCounts: [1, 3, 1]))],
            channel: .otlpGRPC
        )
        let view = PrometheusView.series(from: [counter, histogram])
        let byName = Dictionary(grouping: view) { $0.labels.metricName ?? "" }
        let total = byName["task_create_total"]?.first
        #expect(total?.labels == Labels(["__name__": "task_create_total", "http_status": "201", "job": "tasks", "instance": "i-1"]))
        #expect(total?.samples.map(\.value) == [3, 7], "deltas accumulate")
        #expect(total?.samples.map(\.timestamp) == [1000, 2000])
        let buckets = (byName["latency_milliseconds_bucket"] ?? []).map { ($0.labels["le"] ?? "", $0.samples[0].value) }.sorted { $0.1 < $1.1 }
        #expect(buckets.map(\.0) == ["0.5", "10", "+Inf"])
        #expect(buckets.map(\.1) == [1, 4, 5])
        #expect(byName["latency_milliseconds_sum"]?.first?.samples.first?.value == 12.5)
        #expect(byName["latency_milliseconds_count"]?.first?.samples.first?.value == 5)
    }
}

/// A deep expression (from a rule file, say) is evaluated on a large stack wherever the engine is called from.
@Suite struct DeepEvaluationTests {
    @Test func aDeepExpressionEvaluatesOnAnyThread() async throws {
        let text = String(repeating: "abs(", count: 4_990) + "vector(-2)" + String(repeating: ")", count: 4_990)
        let value = try await Task {
            let expression = try PromQLParser.parse(text)
            return try PromQLEngine(series: []).instantQuery(expression, at: 0)
        }.value
        guard case .vector(let elements) = value else {
            Issue.record("expected a vector, got \(value)")
            return
        }
        #expect(elements.map(\.value) == [2])
    }
}

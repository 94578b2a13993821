import Intake
import PromQL
import PromQLSyntax
import Telemetry
import Testing

/// The engine's shortcuts (the `__name__` index, selections reused across a range query's steps, sample
/// windows sliced instead of copied, the cached engine of the query API) answer exactly as without them.
@Suite struct EngineIndexTests {
    static let series: [Series] = {
        var series: [Series] = []
        for (name, code) in [("a", "200"), ("a", "500"), ("b", "200"), ("a_total", "200"), ("a_total", "503"), ("", "200")] {
            for job in ["api", "web"] {
                var labels = ["job": job, "code": code]
                if !name.isEmpty { labels["__name__"] = name }
                var total = 0.0
                let samples = (0..<40).map { index -> Sample in
                    total += Double(index % 7)
                    // A staleness marker in one series, a reset in another.
                    if name == "a_total", code == "503", job == "web", index == 25 {
                        return Sample(timestamp: Int64(index) * 15_000, value: Double(bitPattern: Sample.staleNaNBits))
                    }
                    if name == "a_total", code == "200", job == "api", index == 20 { total = 1 }
                    return Sample(timestamp: Int64(index) * 15_000, value: total)
                }
                series.append(Series(labels: Labels(labels), samples: samples))
            }
        }
        return series
    }()

    @Test(arguments: [
        [("__name__", LabelMatcher.Kind.equal, "a")],
        [("__name__", .equal, "a"), ("job", .equal, "web")],
        [("job", .equal, "web"), ("__name__", .equal, "a_total"), ("code", .matchesRegex, "5..")],
        [("__name__", .matchesRegex, "a.*")],
        [("__name__", .equal, "missing")],
        [("__name__", .equal, ""), ("job", .equal, "api")],
        [("__name__", .notEqual, "a"), ("code", .notMatchesRegex, "2..")],
        [("job", .matchesRegex, "api|web"), ("code", .equal, "200")],
    ])
    func nameIndexSelectsWhatAFullScanSelects(_ specification: [(String, LabelMatcher.Kind, String)]) throws {
        let matchers = try specification.map { try LabelMatcher(name: $0.0, kind: $0.1, value: $0.2) }
        let engine = PromQLEngine(series: Self.series)
        let scanned = engine.series.filter { candidate in matchers.allSatisfy { $0.matches(candidate.labels[$0.name] ?? "") } }
        #expect(engine.select(matchers) == scanned)
    }

    @Test(arguments: [
        "sum by (code) (rate(a_total[1m]))", "a_total{code=~\"5..\"}", "rate(a_total[2m]) * on(job, code) group_left a",
        "max_over_time(a_total[1m])", "irate({__name__=~\"a_.*\"}[1m])", "count(a) + count(b)",
        // Aggregations of a range function of one name, summed into groups found once (RangeAggregation.swift);
        // the staleness marker drops a series from some windows.
        "sum without (job) (increase(a_total[2m]))", "avg by (job) (rate(a_total[1m]))", "stddev(deriv(a[3m]))",
        "quantile by (job) (0.9, rate(a_total[1m]))", "count by (code) (changes(a[2m]))",
        "max by (job) (quantile_over_time(0.5, a[2m]))", "min(holt_winters(a[3m], 0.5, 0.5))", "group by (code) (resets(a_total[5m]))",
        "stdvar by (code) (rate(a_total[1m] offset 1m))", "sum by (code) (rate(a_total[1m] @ 300))",
        // Other aggregations, grouped by the previous step's groups where the input is the same: a series
        // leaves the input after its staleness marker, and after its reset below 50 (shifting the others).
        "sum by (job) (a_total)", "sum by (job) (a_total > 50)", "topk by (job) (1, a_total)", "sum by (code) (a_total * 2)", "count_values(\"v\", b)",
    ])
    func rangeQueryAnswersAsInstantQueriesAtEachStep(_ text: String) throws {
        let engine = PromQLEngine(series: Self.series)
        let expression = try PromQLParser.parse(text)
        let (start, end, step): (Int64, Int64, Int64) = (60_000, 600_000, 30_000)
        var expected: [Labels: [Sample]] = [:]
        for time in stride(from: start, through: end, by: Int(step)) {
            guard case .vector(let elements) = try engine.instantQuery(expression, at: time) else {
                Issue.record("not a vector")
                return
            }
            for element in elements { expected[element.labels, default: []].append(Sample(timestamp: time, value: element.value)) }
        }
        let range = try engine.rangeQuery(expression, start: start, end: end, step: step)
        #expect(!range.isEmpty)
        #expect(range == expected.map { Series(labels: $0.key, samples: $0.value) }.sorted { $0.labels < $1.labels })
    }

    @Test func seriesOfSeveralNamesStillCollideWithoutThem() throws {
        // a and a_total share their other labels: a rate over both has two elements per label set, an error
        // in Prometheus, still found now that selections of one name skip the check.
        let engine = PromQLEngine(series: Self.series)
        #expect(throws: PromQLError.self) { try engine.instantQuery(try PromQLParser.parse("irate({__name__=~\"a.*\"}[1m])"), at: 300_000) }
    }

    @Test func cachedEngineIsRebuiltOnlyAfterNewPoints() throws {
        let store = TelemetryStore()
        let engines = PromQLEngineCache(store: store)
        func gauge(_ name: String, at seconds: UInt64) -> Batch {
            Batch(series: [
                MetricSeries(
                    key: SeriesKey(metricName: name, attributes: ["job": .string("api")], resource: Resource()),
                    kind: .gauge,
                    points: [.number(NumberPoint(timeUnixNano: seconds * 1_000_000_000, value: .double(Double(seconds))))],
                    channel: .prometheusRemoteWrite
                )
            ])
        }
        #expect(engines.engine().series.isEmpty)
        store.store(gauge("up", at: 10), channel: .prometheusRemoteWrite, signal: .metrics, rejectedItems: 0, reservedBytes: 0)
        let generation = store.metricsGeneration
        #expect(engines.engine().series.map(\.labels.metricName) == ["up"])
        // Reading changes nothing; spans and logs do not move the metrics generation.
        #expect(engines.engine().series.count == 1)
        store.store(Batch(), channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 0)
        #expect(store.metricsGeneration == generation)
        store.store(gauge("up", at: 20), channel: .prometheusRemoteWrite, signal: .metrics, rejectedItems: 0, reservedBytes: 0)
        store.store(gauge("down", at: 20), channel: .prometheusRemoteWrite, signal: .metrics, rejectedItems: 0, reservedBytes: 0)
        #expect(store.metricsGeneration > generation)
        let engine = engines.engine()
        #expect(engine.series.map(\.labels.metricName) == ["down", "up"])
        #expect(engine.series.last?.samples.map(\.timestamp) == [10_000, 20_000])
    }
}

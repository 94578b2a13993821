import Foundation
import NIOHTTP1
import OTelBenchProtos
import PromQL
import Telemetry
import TestSupport
import Testing

/// Our PromQL against Debian's Prometheus 2.42 as the oracle: the same samples are remote-written to both,
/// then the same query URLs are asked of both query APIs, and every answer must agree: the same series,
/// values equal (to 1e-9 relative; NaN with NaN). Covers the seed's dashboard and SLO expressions and the
/// edge cases: a missing `+Inf`, non-monotonic buckets, NaN counts, counter resets, series starting late,
/// jittered scrapes, NaN gauges, staleness markers, offsets, every operator and matching mode.
@Suite(.serialized) struct PrometheusFidelityTests {
    /// 160 samples 15 s apart, ending about now (Prometheus' head accepts them in order).
    static let interval: Int64 = 15_000
    static let count = 160
    static let base: Int64 = {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return (now - Int64(count) * interval) / interval * interval
    }()

    static func at(_ index: Int, jitter: Bool = false) -> Int64 {
        base + Int64(index) * interval + (jitter ? Int64((index * 37) % 11) * 100 : 0)
    }

    /// Every series, its labels sorted, samples in time order.
    static func dataset() -> [Prometheus_TimeSeries] {
        var series: [Prometheus_TimeSeries] = []
        func add(_ labels: [String: String], _ samples: [(Int64, Double)]) {
            series.append(remoteWriteSeries(labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, samples: samples))
        }
        // Counters: steady, with a reset, slow, starting late with jitter and a high start value.
        var total = 0.0
        add(
            ["__name__": "requests_total", "job": "tasks", "code": "200"],
            (0..<count).map { index in
                total = index == 80 ? 3 : total + Double(5 + index % 4)
                return (at(index), total)
            }
        )
        add(["__name__": "requests_total", "job": "tasks", "code": "500"], (0..<count).map { (at($0), Double($0 / 10)) })
        add(["__name__": "requests_total", "job": "projects", "code": "200"], (40..<120).map { (at($0, jitter: true), 1000 + 7 * Double($0)) })
        for phase in ["schema", "data"] {
            let failureEvery = phase == "schema" ? 9 : 4
            add(["__name__": "phase_success_total", "phase": phase], (0..<count).map { (at($0), Double($0 * 2)) })
            add(["__name__": "phase_failure_total", "phase": phase], (0..<count).map { (at($0), Double($0 / failureEvery)) })
        }
        // Histograms the seed's queries read.
        func histogram(_ name: String, _ labels: [String: String], bounds: [String], step: @escaping (Int, Int) -> Int) {
            var cumulative = Array(repeating: 0.0, count: bounds.count)
            var perBucket: [[(Int64, Double)]] = Array(repeating: [], count: bounds.count)
            var sums: [(Int64, Double)] = []
            var counts: [(Int64, Double)] = []
            var sum = 0.0
            for index in 0..<count {
                var running = 0.0
                for bucket in bounds.indices {
                    let added = Double(step(index, bucket))
                    running += added
                    cumulative[bucket] += running
                    sum += added * (Double(bucket) + 0.5)
                    perBucket[bucket].append((at(index), cumulative[bucket]))
                }
                sums.append((at(index), sum))
                counts.append((at(index), cumulative[bounds.count - 1]))
            }
            for (bucket, bound) in bounds.enumerated() {
                add(labels.merging(["__name__": "\(name)_bucket", "le": bound]) { $1 }, perBucket[bucket])
            }
            add(labels.merging(["__name__": "\(name)_sum"]) { $1 }, sums)
            add(labels.merging(["__name__": "\(name)_count"]) { $1 }, counts)
        }
        for (offset, operation) in ["migrate", "restore"].enumerated() {
            histogram("rollback_duration_seconds", ["operation": operation], bounds: ["1", "5", "30", "60", "120", "180", "300", "+Inf"]) { index, bucket in
                (index + bucket + offset) % 3 + (bucket == 5 ? offset * 2 : 0)
            }
        }
        for phase in ["schema", "data"] {
            histogram("migration_duration_seconds", ["phase": phase], bounds: ["0.1", "0.5", "1", "5", "10", "+Inf"]) { index, bucket in
                (index * (phase == "data" ? 3 : 1) + bucket) % 4
            }
        }
        for endpoint in ["/health/live", "/health/ready"] {
            histogram("health_check_latency_milliseconds", ["endpoint": endpoint], bounds: ["5", "10", "25", "50", "100", "250", "+Inf"]) { index, bucket in
                bucket < 3 ? (index + bucket) % 5 : (endpoint == "/health/ready" && index % 7 == 0 ? 1 : 0)
            }
        }
        // Broken histograms: no +Inf bucket; a lower count above a higher one; a NaN count.
        for (bound, value) in [("1", 3.0), ("5", 8.0), ("10", 9.0)] {
            add(["__name__": "broken_bucket", "case": "no_inf", "le": bound], (0..<count).map { (at($0), value * Double($0 + 1)) })
        }
        for (bound, value) in [("1", 5.0), ("5", 3.0), ("10", 9.0), ("+Inf", 10.0)] {
            add(["__name__": "broken_bucket", "case": "non_monotonic", "le": bound], (0..<count).map { (at($0), value * Double($0 + 1)) })
        }
        for (bound, value) in [("1", 2.0), ("5", Double.nan), ("+Inf", 10.0)] {
            add(["__name__": "broken_bucket", "case": "nan", "le": bound], (0..<count).map { (at($0), value * Double($0 + 1)) })
        }
        // Gauges, one with NaN now and then, one negative; one series that goes stale.
        for (offset, service) in ["tasks", "projects", "sprints"].enumerated() {
            add(
                ["__name__": "test_coverage_percentage", "service": service],
                (0..<count).map { index in
                    (at(index), service == "sprints" && index % 13 == 0 ? .nan : 70 + Double((index + offset) % 10) + 0.25 * Double(offset))
                }
            )
        }
        add(["__name__": "temperature_celsius", "room": "a"], (0..<count).map { (at($0), -5 + Double($0 % 7)) })
        add(
            ["__name__": "stale_gauge", "id": "1"],
            (0..<101).map { index in
                (at(index), index == 100 ? Double(bitPattern: Sample.staleNaNBits) : Double(index))
            }
        )
        return series
    }

    static let queries: [String] = [
        // The seed's dashboard and SLO expressions.
        "rate(migration_duration_seconds_sum[5m]) / rate(migration_duration_seconds_count[5m])",
        "histogram_quantile(0.95, sum(rate(migration_duration_seconds_bucket[5m])) by (le, phase))",
        "sum(rate(phase_success_total[5m])) / (sum(rate(phase_success_total[5m])) + sum(rate(phase_failure_total[5m])))",
        "histogram_quantile(0.99, sum(rate(rollback_duration_seconds_bucket[5m])) by (le, operation)) < 180",
        "histogram_quantile(0.99, sum(rate(rollback_duration_seconds_bucket[5m])) by (le, operation)) < bool 180",
        "histogram_quantile(0.95, sum(rate(health_check_latency_milliseconds_bucket[5m])) by (le, endpoint))",
        "histogram_quantile(0.999, sum by (le) (rate(health_check_latency_milliseconds_bucket{endpoint=\"/health/live\"}[10m])))",
        "test_coverage_percentage",
        // Broken histograms and quantile edges.
        "histogram_quantile(0.5, broken_bucket)",
        "histogram_quantile(0.9, rate(broken_bucket[5m]))",
        "histogram_quantile(0, sum by (le) (rollback_duration_seconds_bucket))",
        "histogram_quantile(1, sum by (le) (rollback_duration_seconds_bucket))",
        "histogram_quantile(1.5, sum by (le) (rollback_duration_seconds_bucket))",
        // Counter functions: resets, late starts, jitter, offsets.
        "rate(requests_total[5m])",
        "rate(requests_total[1m])",
        "increase(requests_total[10m])",
        "increase(requests_total[10m] offset 5m)",
        "irate(requests_total[1m])",
        "delta(test_coverage_percentage[10m])",
        "idelta(temperature_celsius[2m])",
        "rate(requests_total{job=\"projects\"}[30m])",
        // Aggregations.
        "sum by (job) (rate(requests_total[5m]))",
        "sum without (code) (requests_total)",
        "avg(test_coverage_percentage)",
        "max by (service) (test_coverage_percentage)",
        "min(test_coverage_percentage)",
        "count by (job) (requests_total)",
        "stddev(test_coverage_percentage)",
        "stdvar by (job) (requests_total)",
        "topk(2, requests_total)",
        "bottomk(1, test_coverage_percentage)",
        "quantile(0.9, test_coverage_percentage)",
        "group by (job) (requests_total)",
        // Over-time functions.
        "avg_over_time(test_coverage_percentage[5m])",
        "max_over_time(temperature_celsius[10m])",
        "min_over_time(temperature_celsius[10m])",
        "sum_over_time(temperature_celsius[3m])",
        "count_over_time(requests_total[5m])",
        // Selectors.
        "{__name__=~\"requests_.*\", code!~\"5..\"}",
        "requests_total{job!=\"tasks\"}",
        "stale_gauge",
        "requests_total offset 10m",
        // Binary operators and matching.
        "requests_total{code=\"500\"} / ignoring(code) requests_total{code=\"200\"}",
        "requests_total / on(job, code) requests_total",
        "requests_total / on(job) group_left sum by (job) (requests_total)",
        "sum by (job) (requests_total) / on(job) group_right requests_total",
        "requests_total and requests_total{code=\"200\"}",
        "requests_total{job=\"tasks\"} or requests_total{code=\"200\"}",
        "requests_total unless on(code) requests_total{job=\"projects\"}",
        "rate(requests_total[5m]) > bool 0.5",
        "test_coverage_percentage > 75",
        "75 < test_coverage_percentage",
        "test_coverage_percentage >= on(service) test_coverage_percentage",
        "-temperature_celsius",
        "temperature_celsius % 3",
        "temperature_celsius ^ 2",
        "2 ^ 3 ^ 2",
        "1 - 2 * 3",
        "5 > bool 3",
        "(1 + 2) * 3 / 0",
        "-1 / 0",
        "0 / 0",
        // Functions.
        "time()",
        "vector(1)",
        "scalar(sum(requests_total))",
        "scalar(requests_total)",
        "absent(nothing{job=\"x\"})",
        "absent(requests_total)",
        "abs(temperature_celsius)",
        "clamp_min(temperature_celsius, 0)",
        "clamp_max(test_coverage_percentage, 72)",
        "clamp(temperature_celsius, -2, 2)",
        "round(test_coverage_percentage / 3)",
        "round(test_coverage_percentage, 0.5)",
        "ceil(rate(requests_total[5m]))",
        "floor(rate(requests_total[5m]))",
        "sqrt(test_coverage_percentage)",
        "ln(test_coverage_percentage)",
        "log2(test_coverage_percentage)",
        "log10(test_coverage_percentage)",
        "exp(temperature_celsius)",
    ]

    /// Evaluation times: late in the data, in the middle (not on a sample), and after the last sample.
    static let times: [Int64] = [at(count - 2), at(70) + 7_250, at(count - 1) + 4 * 60_000]

    @Test func everyQueryAgreesWithPrometheus() async throws {
        // Both started, the data set remote-written to both (PrometheusOracle).
        try await PrometheusOracle.with { oracle in
            let (theirs, ours) = (oracle.theirs, oracle.ours)
            var compared = 0
            var nonEmpty = 0
            for query in Self.queries {
                for time in Self.times {
                    let path = "/api/v1/query?query=\(PrometheusOracle.escape(query))&time=\(Double(time) / 1000)"
                    let (expected, actual) = (try await get(theirs + path), try await get(ours + path))
                    if let difference = Self.difference(expected, actual) {
                        Issue.record(
                            "\(query) at \(time): \(difference)\n  Prometheus: \(String(decoding: expected.prefix(600), as: UTF8.self))\n  OTelBench:  \(String(decoding: actual.prefix(600), as: UTF8.self))"
                        )
                    } else {
                        compared += 1
                    }
                    if Self.hasData(expected) { nonEmpty += 1 }
                }
            }
            // A range query over a reset and the staleness marker.
            for query in [
                "rate(requests_total[2m])", "stale_gauge", "histogram_quantile(0.5, sum by (le, operation) (rate(rollback_duration_seconds_bucket[5m])))",
            ] {
                let path =
                    "/api/v1/query_range?query=\(PrometheusOracle.escape(query))&start=\(Double(Self.at(60)) / 1000)&end=\(Double(Self.at(110)) / 1000)&step=45"
                let (expected, actual) = (try await get(theirs + path), try await get(ours + path))
                if let difference = Self.difference(expected, actual) { Issue.record("range \(query): \(difference)") } else { compared += 1 }
            }
            #expect(compared == Self.queries.count * Self.times.count + 3)
            // Nearly every query has an answer at some time (absent() and the like are empty by design).
            #expect(nonEmpty >= Self.queries.count * 2, "only \(nonEmpty) answers with data")
            // The metadata endpoints list the same names, values and series.
            for path in [
                "/api/v1/labels", "/api/v1/label/job/values", "/api/v1/label/__name__/values",
                "/api/v1/series?match%5B%5D=requests_total&match%5B%5D=%7Bphase%3D%22data%22%7D",
            ] {
                let (expected, actual) = (try await get(theirs + path), try await get(ours + path))
                let decode = { (bytes: [UInt8]) -> Set<String> in
                    let data = (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])?["data"] as? [Any] ?? []
                    return Set(data.map { "\($0 as? [String: String] ?? [:])" == "[:]" ? "\($0)" : "\(($0 as! [String: String]).sorted { $0.key < $1.key })" })
                }
                #expect(
                    !decode(expected).isEmpty && decode(expected) == decode(actual),
                    "\(path): Prometheus \(decode(expected).sorted()) ours \(decode(actual).sorted())"
                )
            }
        }
    }

    /// Whether an answer succeeded with a non-empty result.
    static func hasData(_ answer: [UInt8]) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any], object["status"] as? String == "success",
            let data = object["data"] as? [String: Any], let result = data["result"] as? [Any]
        else { return false }
        return !result.isEmpty
    }

    /// What differs between two query API answers, or nil when they agree.
    static func difference(_ expected: [UInt8], _ actual: [UInt8]) -> String? {
        guard let theirs = try? JSONSerialization.jsonObject(with: Data(expected)) as? [String: Any],
            let ours = try? JSONSerialization.jsonObject(with: Data(actual)) as? [String: Any]
        else { return "an answer is not JSON" }
        guard theirs["status"] as? String == ours["status"] as? String else { return "status \(ours["status"] ?? "-") instead of \(theirs["status"] ?? "-")" }
        if theirs["status"] as? String == "error" { return nil }
        guard let theirData = theirs["data"] as? [String: Any], let ourData = ours["data"] as? [String: Any] else { return "no data" }
        guard theirData["resultType"] as? String == ourData["resultType"] as? String else {
            return "resultType \(ourData["resultType"] ?? "-") instead of \(theirData["resultType"] ?? "-")"
        }
        func points(_ result: Any?) -> [String: [String]] {
            var out: [String: [String]] = [:]
            if let pair = result as? [Any], pair.count == 2, let value = pair[1] as? String { return ["scalar": ["\(pair[0])=\(value)"]] }
            for element in result as? [[String: Any]] ?? [] {
                let labels = (element["metric"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                let values = element["value"].map { [$0] } ?? (element["values"] as? [Any] ?? [])
                out[labels] = values.compactMap { $0 as? [Any] }.map { "\($0[0])=\($0[1])" }
            }
            return out
        }
        let (want, got) = (points(theirData["result"]), points(ourData["result"]))
        guard Set(want.keys) == Set(got.keys) else {
            return "series differ: only Prometheus \(Set(want.keys).subtracting(got.keys).sorted()), only ours \(Set(got.keys).subtracting(want.keys).sorted())"
        }
        for (labels, wanted) in want {
            let ours = got[labels]!
            guard wanted.count == ours.count else { return "\(labels): \(ours.count) points instead of \(wanted.count)" }
            for (left, right) in zip(wanted, ours) {
                let (a, b) = (left.split(separator: "="), right.split(separator: "="))
                guard Double(a[0]) == Double(b[0]) else { return "\(labels): time \(b[0]) instead of \(a[0])" }
                guard let x = Double(a[1]), let y = Double(b[1]) else {
                    // Strings (a string expression's result) must be equal.
                    if a[1] == b[1] { continue }
                    return "\(labels): value \(b[1]) instead of \(a[1])"
                }
                let agree = (x.isNaN && y.isNaN) || x == y || Swift.abs(x - y) <= 1e-9 * Swift.max(1, Swift.abs(x), Swift.abs(y))
                if !agree { return "\(labels): \(y) instead of \(x)" }
            }
        }
        return nil
    }

    private func get(_ url: String) async throws -> [UInt8] { try await PrometheusOracle.request(url, method: .GET, body: [], headers: []).1 }
}

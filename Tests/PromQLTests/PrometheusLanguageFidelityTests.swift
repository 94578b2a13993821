import Foundation
import Testing

/// The rest of Prometheus 2.42's PromQL against Prometheus itself (``PrometheusOracle``): every function,
/// operator and modifier the seed's queries do not use — over-time statistics, counter and regression
/// functions, dates, label rewriting, sorting, `count_values`, `atan2`, subqueries and `@` — with their
/// edge cases and mistakes, each asked as an instant query at three times and the time-dependent ones as
/// range queries too. HTTP status and `errorType` must agree as well as the data.
@Suite(.serialized) struct PrometheusLanguageFidelityTests {
    typealias Data = PrometheusFidelityTests

    /// A time in the data, as Unix seconds for `@`.
    static let middle = PrometheusFidelityTests.at(70) + 7_250
    static var middleSeconds: String { "\(Double(middle) / 1000)" }

    static let functions: [String] = [
        // Over-time statistics.
        "quantile_over_time(0.5, test_coverage_percentage[10m])",
        "quantile_over_time(0, temperature_celsius[10m])",
        "quantile_over_time(1.5, temperature_celsius[10m])",
        "quantile_over_time(-1, temperature_celsius[10m])",
        "quantile_over_time(NaN, temperature_celsius[10m])",
        "stddev_over_time(test_coverage_percentage[10m])",
        "stdvar_over_time(temperature_celsius[10m])",
        "stddev_over_time(requests_total[1h])",
        "absent_over_time(nothing{job=\"x\"}[5m])",
        "absent_over_time(requests_total[5m])",
        "absent_over_time(stale_gauge{id=\"1\"}[1m])",
        "absent_over_time(nothing{a=\"1\", a=\"2\", b=~\"x\"}[5m])",
        "last_over_time(test_coverage_percentage[5m])",
        "last_over_time(stale_gauge[10m])",
        "present_over_time(requests_total[5m])",
        "present_over_time(stale_gauge[5m])",
        // Counters and regressions.
        "changes(test_coverage_percentage[10m])",
        "changes(requests_total[30m])",
        "resets(requests_total[30m])",
        "resets(temperature_celsius[10m])",
        "deriv(temperature_celsius[10m])",
        "deriv(requests_total[5m])",
        "deriv(phase_success_total[5m])",
        "predict_linear(requests_total[10m], 3600)",
        "predict_linear(temperature_celsius[5m] offset 2m, 60)",
        "holt_winters(test_coverage_percentage[10m], 0.5, 0.5)",
        "holt_winters(temperature_celsius[10m], 0.1, 0.9)",
        "holt_winters(temperature_celsius[10m], 1, 0.5)",
        "holt_winters(temperature_celsius[10m], 0.5, 0)",
        "holt_winters(nothing[10m], 2, 2)",
        // Dates, of the evaluation time and of values (NaN, infinities and far-off years as Go computes them).
        "day_of_month()", "day_of_week()", "day_of_year()", "days_in_month()", "hour()", "minute()", "month()", "year()",
        "hour(temperature_celsius * 3600 + 59)",
        "minute(temperature_celsius * 61)",
        "day_of_week(vector(-86400 * 3))",
        "days_in_month(vector(951782400))",
        "day_of_year(vector(951868800))",
        "month(vector(1e12))",
        "year(vector(-1e15))",
        "year(vector(NaN))",
        "day_of_month(vector(Inf))",
        "day_of_year(vector(1e18))",
        "year(requests_total)",
        // timestamp: a selector's sample times, anything else the evaluation time.
        "timestamp(requests_total)",
        "timestamp(requests_total offset 5m)",
        "timestamp(sum(requests_total))",
        "timestamp(stale_gauge)",
        "timestamp((temperature_celsius))",
        // Labels.
        "label_replace(requests_total, \"dst\", \"$1-x\", \"code\", \"(.)(.*)\")",
        // RE2 matches runes: `.` takes the "e" of a decomposed "é", not the whole grapheme; \\d is ASCII only.
        "label_replace(label_replace(vector(1), \"src\", \"e\\u0301x\", \"\", \".*\"), \"dst\", \"$1|$2\", \"src\", \"(.)(.*)\")",
        "label_replace(label_replace(vector(1), \"src\", \"\\u0663\", \"\", \".*\"), \"dst\", \"digit\", \"src\", \"\\\\d\")",
        "label_replace(requests_total, \"job\", \"\", \"job\", \"tasks\")",
        "label_replace(requests_total, \"__name__\", \"renamed\", \"\", \".*\")",
        "label_replace(requests_total, \"x\", \"$2$$${1}y$1z$9\", \"job\", \"(t)(a)sks\")",
        "label_replace(requests_total, \"x\", \"${name}-$name\", \"job\", \"(?P<name>t.*)\")",
        "label_replace(requests_total, \"dst\", \"$1\", \"code\", \"(\")",
        "label_replace(requests_total, \"1bad\", \"$1\", \"code\", \"(.*)\")",
        "label_replace(nothing, \"1bad\", \"$1\", \"code\", \"(.*)\")",
        "label_replace(requests_total, \"code\", \"same\", \"\", \"\")",
        "label_join(requests_total, \"dst\", \"-\", \"job\", \"code\")",
        "label_join(requests_total, \"job\", \"\")",
        "label_join(requests_total, \"dst\", \",\", \"nothere\", \"code\", \"nothere\")",
        "label_join(requests_total, \"dst\", \"-\", \"1bad\")",
        "label_join(requests_total, \"bad-name\", \"-\", \"job\")",
        // Math.
        "sgn(temperature_celsius)", "deg(temperature_celsius)", "rad(temperature_celsius)", "pi()", "pi() * 2",
        "sin(temperature_celsius)", "cos(temperature_celsius)", "tan(temperature_celsius)",
        "asin(temperature_celsius / 10)", "acos(temperature_celsius / 10)", "atan(temperature_celsius)",
        "sinh(temperature_celsius)", "cosh(temperature_celsius)", "tanh(temperature_celsius)",
        "asinh(temperature_celsius)", "acosh(test_coverage_percentage)", "atanh(temperature_celsius / 10)",
        "temperature_celsius atan2 2", "1 atan2 2", "requests_total atan2 on(job, code) requests_total",
        "histogram_count(requests_total)", "histogram_sum(requests_total)", "histogram_fraction(0, 1, requests_total)",
        // Aggregations.
        "count_values(\"value\", temperature_celsius)",
        "count_values(\"v\", requests_total) by (job)",
        "count_values(\"code\", requests_total)",
        "count_values(\"v\", requests_total) without (code)",
        "count_values(\"1bad\", requests_total)",
        "topk(NaN, requests_total)",
        "topk(0, requests_total)",
        "topk(-1, requests_total)",
        "topk(1e30, requests_total)",
        "bottomk(2.9, requests_total)",
        "quantile(NaN, test_coverage_percentage)",
        "stddev by (job) (requests_total)",
        "absent(sum(nothing))",
        // Subqueries.
        "max_over_time(rate(requests_total[1m])[10m:1m])",
        "rate(requests_total[5m:30s])",
        "avg_over_time(test_coverage_percentage[5m:])",
        "requests_total[3m:1m]",
        "temperature_celsius[2m:]",
        "sum_over_time(temperature_celsius[10m:45s] offset 2m)",
        "min_over_time(deriv(temperature_celsius[5m])[30m:2m])",
        "last_over_time(stale_gauge[30m:1m])",
        "absent_over_time(nothing{job=\"x\"}[5m:1m])",
        "absent_over_time(requests_total[5m:1m])",
        "count_over_time(vector(1)[10m:1m])",
        "quantile_over_time(0.9, temperature_celsius[20m:1m])",
        "deriv(temperature_celsius[10m:1m])",
        "changes(sum(requests_total)[20m:1m])",
        "increase(requests_total[10m:1m] offset 3m)",
        // Nested subqueries share their steps: 600³ evaluations if each level started afresh.
        "max_over_time(min_over_time(max_over_time(temperature_celsius[10m:1s])[10m:1s])[10m:1s])",
        // @.
        "requests_total @ \(middleSeconds)",
        "rate(requests_total[5m] @ \(middleSeconds))",
        "requests_total @ start()",
        "requests_total @ end()",
        "max_over_time(temperature_celsius[10m:1m] @ \(middleSeconds))",
        "requests_total offset 5m @ \(middleSeconds)",
        "requests_total @ \(middleSeconds) offset -2m",
        "sum(requests_total @ \(middleSeconds))",
        "timestamp(requests_total @ \(middleSeconds))",
        "requests_total @ 1e18",
        "requests_total @ -1e18",
        "rate(requests_total[5m] @ 1e18)",
        "temperature_celsius[5m:1m] @ \(middleSeconds) offset 1m",
        // Combinations and corners.
        "count_values(\"v\", test_coverage_percentage)",
        "count_values(\"v\", rate(requests_total[5m]))",
        "label_replace(requests_total, \"dst\", \"$1\", \"code\", \"(9)\")",
        "label_replace(requests_total, \"dst\", \"$0\", \"job\", \"t.*\")",
        "label_replace(requests_total, \"dst\", \"${1}_$01_${3}\", \"code\", \"(.)(.)(.)\")",
        "label_replace(requests_total, \"dst\", \"$\", \"code\", \"(.*)\")",
        "label_join(requests_total, \"__name__\", \"_\", \"job\", \"code\")",
        "absent(nothing{job=\"a\"} offset 5m)",
        "timestamp(timestamp(requests_total))",
        "max_over_time(requests_total[5m:1m] @ start())",
        "requests_total @ \(middleSeconds) + requests_total",
        "requests_total @ end() - requests_total @ start()",
        "rate(requests_total[1m:15s])",
        "irate(requests_total[5m:1m])",
        "idelta(temperature_celsius[5m:1m])",
        "resets(requests_total[30m:1m])",
        "sum_over_time(vector(time())[2m:30s])",
        "stddev_over_time(rate(requests_total[1m])[10m:1m])",
        "predict_linear(requests_total[10m:1m], 60)",
        "holt_winters(requests_total[10m:1m], 0.3, 0.6)",
        "present_over_time(nothing[5m])",
        "last_over_time(requests_total[5m] offset 1h)",
        "day_of_week(requests_total * 100000)",
        "days_in_month(vector(1e10))", "hour(vector(-1))", "minute(vector(-0.5))", "year(vector(253402300800))",
        "quantile(0.5, test_coverage_percentage)",
        "quantile_over_time(0.5, test_coverage_percentage{service=\"sprints\"}[30m])",
        "max_over_time(test_coverage_percentage{service=\"sprints\"}[30m])",
        "topk(2, test_coverage_percentage)",
        "sgn(-0 * temperature_celsius)",
        "1 atan2 -0",
        "temperature_celsius atan2 temperature_celsius",
        "histogram_quantile(0.5, rate(rollback_duration_seconds_bucket[5m:1m]))",
        "scalar(requests_total @ 1e18)",
        "vector(1) @ 100",
        "(requests_total) @ 100",
        "requests_total[5m] @ \(middleSeconds) offset 1m",
        "-requests_total[5m:1m]",
        "requests_total offset 5m[5m:1m]",
        "rate(requests_total[5m])[5m:1m]",
        "sum by (job) (rate(requests_total[5m]))[10m:1m]",
        "\"text\"",
        // Mistakes the parser refuses.
        "rate(requests_total[5m:0s])",
        "rate(requests_total[9223372036854s])",
        "requests_total offset 0s",
        "requests_total[5m:1m][10m:1m]",
        "quantile_over_time(0.5)",
        "sort(requests_total[5m])",
        "label_join(requests_total)",
        "label_replace(requests_total, \"a\", \"b\", \"c\", 1)",
        "year(1)",
        "pi(1)",
        "atan2(1, 2)",
        "day_of_month(requests_total, requests_total)",
        "count_values(\"v\")",
        "count_values(1, requests_total)",
        "requests_total @ start",
        "requests_total @ foo()",
        "requests_total @ 1e30",
        "requests_total @ Inf",
        "sum(requests_total) @ 100",
        "requests_total @ 1 @ 2",
        "requests_total offset 1m [5m]",
        "limitk(1, requests_total)",
        "1 atan2 bool 2",
        "stddev_over_time(requests_total)",
    ]

    /// Queries whose answer's order is part of it.
    static let sorted = [
        "sort(test_coverage_percentage)", "sort_desc(test_coverage_percentage)", "sort(-temperature_celsius)", "sort_desc(rate(requests_total[5m]))",
    ]

    /// Range queries over 50 scrape intervals: `@ start()`/`end()` and everything that depends on the step.
    static let rangeQueries = [
        "requests_total @ start()",
        "rate(requests_total[5m] @ end())",
        "requests_total @ \(middleSeconds)",
        "max_over_time(rate(requests_total[1m])[5m:1m])",
        "avg_over_time(temperature_celsius[3m:])",
        "timestamp(requests_total)",
        "label_replace(requests_total, \"dst\", \"$1\", \"code\", \"(.*)\")",
        "count_values(\"v\", temperature_celsius)",
        "changes(test_coverage_percentage[10m])",
        "hour()",
        "holt_winters(temperature_celsius[10m], 0.5, 0.5)",
        "predict_linear(requests_total[10m], 600)",
        "sort_desc(test_coverage_percentage)",
        "holt_winters(temperature_celsius[10m], 1, 0.5)",
        "label_replace(requests_total, \"dst\", \"$1\", \"code\", \"(\")",
        "timestamp(requests_total @ end())",
        "year(vector(time()) @ start())",
    ]

    @Test func everyFunctionAndModifierAgreesWithPrometheus() async throws {
        try await PrometheusOracle.with { oracle in
            var compared = 0
            var withData = 0
            for query in Self.functions + Self.sorted {
                for time in PrometheusFidelityTests.times {
                    let path = "/api/v1/query?query=\(PrometheusOracle.escape(query))&time=\(Double(time) / 1000)"
                    if let difference = try await oracle.difference(path, ordered: Self.sorted.contains(query)) {
                        Issue.record("\(query) at \(time): \(difference)")
                    } else {
                        compared += 1
                    }
                    if try await oracle.hasData(path) { withData += 1 }
                }
            }
            let (start, end) = (Double(PrometheusFidelityTests.at(60)) / 1000, Double(PrometheusFidelityTests.at(110)) / 1000)
            for query in Self.rangeQueries {
                for step in ["45", "60", "17.5"] {
                    let path = "/api/v1/query_range?query=\(PrometheusOracle.escape(query))&start=\(start)&end=\(end)&step=\(step)"
                    if let difference = try await oracle.difference(path) { Issue.record("range \(query) step \(step): \(difference)") } else { compared += 1 }
                }
            }
            #expect(compared == (Self.functions.count + Self.sorted.count) * PrometheusFidelityTests.times.count + Self.rangeQueries.count * 3)
            // Most questions have an answer with data (errors and absent() are empty by design).
            #expect(withData >= (Self.functions.count + Self.sorted.count) * 3 / 2, "only \(withData) answers with data")
        }
    }

    /// Times and steps at and past the ends of Int64 and of Go's time: Prometheus converts them as Go does
    /// (wrapping, not failing) and refuses steps that overflow; OTelBench answers the same, never trapping.
    static let extremeParameters = [
        "/api/v1/query?query=1&time=1e18",
        "/api/v1/query?query=1&time=-1e18",
        "/api/v1/query?query=time()&time=1e30",
        "/api/v1/query?query=time()&time=Inf",
        "/api/v1/query?query=time()&time=-Inf",
        "/api/v1/query?query=time()&time=NaN",
        "/api/v1/query?query=time()&time=1e400",
        "/api/v1/query?query=time()&time=0x10",
        "/api/v1/query?query=time()&time=0x1p4",
        "/api/v1/query?query=time()&time=-1.5",
        "/api/v1/query?query=time()&time=9223372036.854775807",
        "/api/v1/query?query=time()&time=2023-01-01T00:00:00Z",
        "/api/v1/query?query=time()&time=-292273086-05-16T16:47:06Z",
        "/api/v1/query?query=time()&time=292277025-08-18T07:12:54.999999999Z",
        "/api/v1/query?query=requests_total&time=1e18",
        "/api/v1/query?query=rate(requests_total%5B5m%5D)&time=-1e18",
        "/api/v1/query?query=requests_total%5B5m%3A1m%5D&time=9e18",
        "/api/v1/query?query=year()&time=1e18",
        "/api/v1/query_range?query=1&start=1e18&end=1e18&step=1",
        "/api/v1/query_range?query=1&start=-1e18&end=-1e18&step=1",
        "/api/v1/query_range?query=1&start=-1e18&end=1e18&step=1",
        "/api/v1/query_range?query=time()&start=9.2e9&end=9.3e9&step=1e8",
        "/api/v1/query_range?query=1&start=0&end=1&step=1e308",
        "/api/v1/query_range?query=1&start=0&end=1&step=Inf",
        "/api/v1/query_range?query=1&start=0&end=1&step=NaN",
        "/api/v1/query_range?query=1&start=0&end=1&step=-1",
        "/api/v1/query_range?query=1&start=0&end=1&step=9223372036.854775807",
        "/api/v1/query_range?query=1&start=100&end=100&step=0.0001",
        "/api/v1/query_range?query=1&start=100&end=100&step=0.001",
        "/api/v1/query_range?query=1&start=0&end=60&step=1m",
        "/api/v1/query_range?query=1&start=10&end=0&step=1",
        "/api/v1/series?match%5B%5D=requests_total&start=1e18",
        "/api/v1/series?match%5B%5D=requests_total&end=-1e18",
        "/api/v1/series?match%5B%5D=requests_total&start=-1e18&end=1e18",
        "/api/v1/labels?start=NaN",
    ]

    @Test func extremeTimesAndStepsAgreeWithPrometheus() async throws {
        try await PrometheusOracle.with { oracle in
            for path in Self.extremeParameters {
                if let difference = try await oracle.difference(path) { Issue.record("\(path): \(difference)") }
            }
        }
    }

    /// Deep nesting Prometheus answers: 3,000 parentheses, and as deep as OTelBench's limit allows of the rest.
    @Test func deepNestingWithinTheLimitAgreesWithPrometheus() async throws {
        let depth = 3_000
        let queries = [
            String(repeating: "(", count: depth) + "1" + String(repeating: ")", count: depth),
            String(repeating: "abs(", count: depth) + "temperature_celsius" + String(repeating: ")", count: depth),
            String(repeating: "-", count: depth) + "temperature_celsius",
            Array(repeating: "temperature_celsius", count: depth).joined(separator: " + "),
            Array(repeating: "1.0001", count: depth).joined(separator: " ^ "),
        ]
        try await PrometheusOracle.with { oracle in
            for query in queries {
                let time = Double(PrometheusFidelityTests.times[0]) / 1000
                if let difference = try await oracle.difference("/api/v1/query", form: "query=\(PrometheusOracle.escape(query))&time=\(time)") {
                    Issue.record("\(query.prefix(40))…: \(difference)")
                }
            }
        }
    }
}

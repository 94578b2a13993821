import AsyncHTTPClient
import Foundation
import Intake
import Logging
import NIOCore
import NIOHTTP1
import PromQL
import PromQLSyntax
import Query
import ServiceLifecycle
import Telemetry
import TestSupport
import Testing

/// Hostile input to the Prometheus query API: every request here once killed the process (a trap converting
/// a time or step, a stack overflow on deep nesting, an Int conversion of NaN) or was answered where
/// Prometheus refuses. Each is sent through the real HTTP API, which must answer as Prometheus 2.42 does (the
/// answers pinned here were taken from it; ``PrometheusLanguageFidelityTests`` compares them live) and keep
/// serving; the engine's side is also exercised directly at the ends of Int64.
@Suite struct PrometheusQueryHardeningTests {
    /// A counter `x` sampled every 15 s for the last 10 minutes.
    static let now = Int64(Date().timeIntervalSince1970 * 1000) / 15_000 * 15_000

    func withQueryAPI(_ body: @Sendable (String) async throws -> Void) async throws {
        let store = TelemetryStore()
        var logger = Logger(label: "test.query-hardening")
        logger.logLevel = .critical
        let receiver = RemoteWriteReceiver(configuration: .loopback(port: 0), store: store, readAPI: PrometheusQueryAPI(store: store), logger: logger)
        let group = ServiceGroup(configuration: .init(services: [receiver], gracefulShutdownSignals: [], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let base = "http://127.0.0.1:\(try await receiver.boundAddress.value().port)"
                let samples = (0..<40).map { (Self.now - 600_000 + Int64($0) * 15_000, Double($0)) }
                let written = try await Self.request(
                    base + "/api/v1/write",
                    body: try remoteWriteBody([remoteWriteSeries([("__name__", "x"), ("job", "a")], samples: samples)]),
                    headers: remoteWriteHeaders + [("Content-Type", "application/x-protobuf")]
                )
                #expect(written.status == 204)
                try await body(base)
                // Whatever came before, the server still answers.
                let after = try await Self.query(base, "query=1")
                #expect(after.status == 200)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// POSTs `form` to `/api/v1/query` (or `path`): status and the decoded JSON answer.
    static func query(_ base: String, _ form: String, path: String = "/api/v1/query") async throws -> (status: Int, json: [String: Any]) {
        let (status, body) = try await request(base + path, body: Array(form.utf8), headers: [("Content-Type", "application/x-www-form-urlencoded")])
        return (status, (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:])
    }

    static func request(_ url: String, body: [UInt8], headers: [(String, String)]) async throws -> (status: Int, body: [UInt8]) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        return (Int(response.status.code), Array(buffer: try await response.body.collect(upTo: 16 << 20)))
    }

    static func escape(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text }

    /// The `[time, "value"]` of a scalar answer.
    static func scalar(_ json: [String: Any]) -> (Double, String)? {
        guard let result = (json["data"] as? [String: Any])?["result"] as? [Any], result.count == 2, let time = result[0] as? Double,
            let value = result[1] as? String
        else { return nil }
        return (time, value)
    }

    // MARK: times and steps

    @Test func timesPastInt64MillisecondsWrapAsInPrometheus() async throws {
        try await withQueryAPI { base in
            // Prometheus 2.42 answers 1e18 s at -6930898827.444 s: Go's nanosecond arithmetic wraps.
            for (time, expected) in [("1e18", -6_930_898_827.444), ("-1e18", 6_930_898_827.444), ("Inf", -9_223_372_036.854), ("NaN", -9_223_372_036.854)] {
                let answer = try await Self.query(base, "query=time()&time=\(time)")
                #expect(answer.status == 200, "time=\(time): \(answer.json)")
                #expect(Self.scalar(answer.json)?.0 == expected, "time=\(time): \(answer.json)")
            }
            let range = try await Self.query(base, "query=1&start=1e18&end=1e18&step=1", path: "/api/v1/query_range")
            #expect(range.status == 200, "\(range.json)")
            let values = (((range.json["data"] as? [String: Any])?["result"] as? [[String: Any]])?.first?["values"] as? [[Any]]) ?? []
            #expect(values.count == 1 && values.first?.first as? Double == -6_930_898_827.444, "\(range.json)")
            // Far apart in time, too many steps: refused as Prometheus refuses, the span saturating.
            let wide = try await Self.query(base, "query=1&start=-1e18&end=1e18&step=1", path: "/api/v1/query_range")
            #expect(wide.status == 400 && (wide.json["error"] as? String)?.contains("11,000 points") == true, "\(wide.json)")
            // A float Go cannot read is a bad timestamp, not infinity.
            let unreadable = try await Self.query(base, "query=1&time=1e400")
            #expect(unreadable.status == 400)
        }
    }

    @Test(arguments: ["1e308", "Inf", "9.3e9", "1e19"])
    func stepsThatOverflowNanosecondsAreBadData(_ step: String) async throws {
        try await withQueryAPI { base in
            let answer = try await Self.query(base, "query=1&start=0&end=1&step=\(step)", path: "/api/v1/query_range")
            #expect(answer.status == 400, "\(answer.json)")
            #expect(answer.json["errorType"] as? String == "bad_data")
            #expect((answer.json["error"] as? String)?.contains("overflows int64") == true, "\(answer.json)")
        }
    }

    @Test(arguments: [("NaN", 400), ("-1", 400), ("0.0001", 422), ("0.001", 200)])
    func tinyAndInvalidStepsAnswerAsPrometheus(_ step: String, _ status: Int) async throws {
        try await withQueryAPI { base in
            let answer = try await Self.query(base, "query=1&start=100&end=100&step=\(step)", path: "/api/v1/query_range")
            #expect(answer.status == status, "\(answer.json)")
        }
    }

    // MARK: nesting

    static let limit = PromQLParser.maximumNestingDepth

    /// Deep queries within the limit are answered (Prometheus answers 3,000 nested parentheses with 1).
    @Test(arguments: [
        (String(repeating: "(", count: 3_000) + "1" + String(repeating: ")", count: 3_000), "1"),
        (String(repeating: "(", count: limit - 1) + "1" + String(repeating: ")", count: limit - 1), "1"),
        // The parser counts the unary minus of -2 as a level too.
        (String(repeating: "abs(", count: limit - 3) + "vector(-2)" + String(repeating: ")", count: limit - 3), "2"),
        (String(repeating: "-", count: 3_000) + "1", "1"),
        (Array(repeating: "1", count: limit).joined(separator: " + "), "\(limit)"),
        (Array(repeating: "1", count: limit).joined(separator: " ^ "), "1"),
        (String(repeating: "sum(", count: limit - 2) + "vector(3)" + String(repeating: ")", count: limit - 2), "3"),
    ])
    func deepQueriesWithinTheLimitAreAnswered(_ query: String, _ expected: String) async throws {
        try await withQueryAPI { base in
            let answer = try await Self.query(base, "query=\(Self.escape(query))&time=\(Double(Self.now) / 1000)")
            #expect(answer.status == 200, "\(query.prefix(30))…: \(String(describing: answer.json).prefix(300))")
            let data = answer.json["data"] as? [String: Any]
            let value = Self.scalar(answer.json)?.1 ?? ((data?["result"] as? [[String: Any]])?.first?["value"] as? [Any])?.last as? String
            #expect(value == expected, "\(query.prefix(30))…")
        }
    }

    /// Deeper ones are refused as bad data naming the limit, in a range query too, and the server lives on.
    @Test(arguments: [
        String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000),
        String(repeating: "abs(", count: 10_000) + "x" + String(repeating: ")", count: 10_000),
        String(repeating: "-", count: 10_000) + "1",
        String(repeating: "-", count: 10_000) + "x",
        Array(repeating: "1", count: 10_000).joined(separator: " + "),
        Array(repeating: "2", count: 10_000).joined(separator: " ^ "),
        String(repeating: "(", count: limit) + "1" + String(repeating: ")", count: limit),
        String(repeating: "max_over_time(", count: 6_000) + "x" + String(repeating: "[1m:])", count: 6_000),
    ])
    func deeperQueriesAreBadDataNamingTheLimit(_ query: String) async throws {
        try await withQueryAPI { base in
            for (path, form) in [
                ("/api/v1/query", "query=\(Self.escape(query))"),
                ("/api/v1/query_range", "query=\(Self.escape(query))&start=0&end=60&step=15"),
            ] {
                let answer = try await Self.query(base, form, path: path)
                #expect(answer.status == 400, "\(path) \(query.prefix(30))…: \(String(describing: answer.json).prefix(300))")
                #expect(answer.json["errorType"] as? String == "bad_data")
                #expect((answer.json["error"] as? String)?.contains("more than \(Self.limit) levels") == true, "\(answer.json["error"] ?? "-")")
            }
        }
    }

    /// Nested subqueries: each level evaluates its inner expression at one or two steps per outer step, a
    /// cost that doubles with every level unless steps already evaluated are remembered (2^300 here).
    @Test func nestedSubqueriesAreAnsweredNotEvaluatedExponentially() async throws {
        let query = String(repeating: "max_over_time(", count: 300) + "x" + String(repeating: "[1m:])", count: 300)
        try await withQueryAPI { base in
            let answer = try await Self.query(base, "query=\(Self.escape(query))&time=\(Double(Self.now) / 1000)")
            #expect(answer.status == 200, "\(String(describing: answer.json).prefix(300))")
        }
    }

    // MARK: durations, modifiers, parameters

    @Test(arguments: [
        "rate(x[9223372036854s])", "rate(x[9223372037s])", "x offset 9223372037s", "x offset -9223372037s", "x[5m:9223372037s]",
        "x[9223372037s:1m]", "rate(x[300000y])", "x[99999999999999999999s]",
    ])
    func durationsPastInt64NanosecondsAreOutOfRange(_ query: String) async throws {
        try await withQueryAPI { base in
            let answer = try await Self.query(base, "query=\(Self.escape(query))")
            #expect(answer.status == 400, "\(query): \(answer.json)")
            #expect(answer.json["errorType"] as? String == "bad_data")
            #expect((answer.json["error"] as? String)?.contains("duration out of range") == true, "\(query): \(answer.json)")
        }
    }

    /// The largest durations, offsets and `@` times combined, at the ends of time: answered, nothing traps.
    @Test(arguments: [
        ("rate(x[9223372036s])", 200), ("x offset 9223372036s", 200), ("x offset -9223372036s @ 9223372036854775", 200),
        ("rate(x[292y] @ -9223372036854775 offset 292y)", 200), ("x[292y:1y] @ 9223372036854775 offset -292y", 200),
        ("x @ 1e18", 200), ("x @ -1e18", 200), ("timestamp(x @ 1e18)", 200), ("predict_linear(x[292y] @ -1e18, 1e308)", 200),
        ("year(vector(1e300))", 200), ("day_of_week(vector(-Inf))", 200), ("x @ 1e30", 400), ("x @ Inf", 400),
        ("topk(NaN, x)", 422), ("topk(1e300, x)", 422), ("bottomk(-1e300, x)", 422), ("topk(1e18, x)", 200),
        ("count_over_time(x[292y:1ms])", 422),
    ])
    func extremeModifiersAndParametersAreAnswered(_ query: String, _ status: Int) async throws {
        try await withQueryAPI { base in
            for time in ["1e18", "-1e18", "9223372036.854775807", "\(Double(Self.now) / 1000)"] {
                let answer = try await Self.query(base, "query=\(Self.escape(query))&time=\(time)")
                #expect(answer.status == status, "\(query) at \(time): \(answer.json)")
            }
        }
    }

    // MARK: the engine on its own

    /// A series with samples at the ends of Int64 and around zero.
    static let extremeEngine = PromQLEngine(series: [
        Series(
            labels: Labels(["__name__": "x", "job": "a"]),
            samples: [Int64.min, Int64.min + 1_000, -1_000, 0, 1_000, Int64.max - 1_000, Int64.max].map { Sample(timestamp: $0, value: Double($0 % 7)) }
        )
    ])

    @Test(arguments: [
        "x", "x offset 292y", "x offset -292y", "rate(x[292y])", "deriv(x[292y] offset -292y)", "x[292y:1y]", "rate(x[1y:30d] offset 292y)",
        "x @ 1e18", "x @ -9223372036854775.807", "timestamp(x)", "year(x)", "predict_linear(x[292y], 1e300)", "changes(x[1h])",
        "last_over_time(x[292y] @ end())", "x @ start() offset -292y", "time()", "hour()",
    ])
    func theEngineEvaluatesAtTheEndsOfInt64(_ text: String) throws {
        let expression = try PromQLParser.parse(text)
        for time in [Int64.min, Int64.min + 1, -1, 0, 1, Int64.max - 1, Int64.max] {
            _ = try Self.extremeEngine.instantQuery(expression, at: time)
        }
        guard expression.type != .matrix else { return }
        for (start, end) in [(Int64.max - 60_000, Int64.max), (Int64.min, Int64.min + 60_000), (Int64.min, Int64.max)] {
            do {
                _ = try Self.extremeEngine.rangeQuery(expression, start: start, end: end, step: 15_000)
                #expect(end - 60_000 == start, "only the short ranges fit 11,000 steps")
            } catch {
                #expect(error.message.contains("11,000"))
            }
        }
    }

    @Test(arguments: ["topk(NaN, x)", "topk(1e300, x)", "bottomk(-Inf, x)"])
    func aKThatIsNoInt64IsAnErrorNotATrap(_ text: String) throws {
        #expect(throws: PromQLError.self) { try Self.extremeEngine.instantQuery(try PromQLParser.parse(text), at: 0) }
    }

    @Test func durationsPrintAtTheEndsOfInt64() {
        #expect(PromQLFormat.milliseconds(.seconds(Int64.max)) == .max)
        #expect(PromQLFormat.milliseconds(.seconds(Int64.min)) == .min)
        #expect(PromQLFormat.duration(.seconds(Int64.min)).hasPrefix("-"))
    }

    /// The parser and engine at the depth limit, on the thread the query API evaluates on.
    @Test(arguments: ["paren", "abs", "minus", "chain", "power", "sum", "clamp", "label_replace", "subquery"])
    func theDeepestAcceptedQueriesEvaluateOnTheEvaluationThread(_ kind: String) async throws {
        let depth = Self.limit
        let query: String =
            switch kind {
            case "paren": String(repeating: "(", count: depth - 1) + "x" + String(repeating: ")", count: depth - 1)
            case "abs": String(repeating: "abs(", count: depth - 1) + "x" + String(repeating: ")", count: depth - 1)
            case "minus": String(repeating: "-", count: depth - 1) + "x"
            case "chain": Array(repeating: "x", count: depth).joined(separator: " + ")
            case "power": Array(repeating: "x", count: depth).joined(separator: " ^ ")
            case "sum": String(repeating: "sum(", count: depth - 1) + "x" + String(repeating: ")", count: depth - 1)
            case "clamp": String(repeating: "clamp(", count: depth - 1) + "x" + String(repeating: ", 0, 1)", count: depth - 1)
            case "label_replace":
                String(repeating: "label_replace(", count: depth - 1) + "x" + String(repeating: ", \"a\", \"b\", \"job\", \"\")", count: depth - 1)
            default: "max_over_time(" + String(repeating: "(", count: depth - 3) + "x" + String(repeating: ")", count: depth - 3) + "[1m:30s])"
            }
        let engine = Self.extremeEngine
        let printed = try await PromQLEvaluationThread.run { () throws(PromQLError) -> Int in
            let expression = try PromQLParser.parse(query)
            #expect(expression.height == depth)
            _ = try engine.instantQuery(expression, at: 0)
            return expression.description.count
        }
        #expect(printed >= depth)
    }
}

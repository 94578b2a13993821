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

/// The Prometheus query API beside remote write: OTLP metrics under their Prometheus names, curl as a
/// client, and every kind of bad request answered in Prometheus' error shape while the sink keeps serving.
@Suite struct QueryAPITests {
    static let now = UInt64(Date().timeIntervalSince1970) * 1_000_000_000

    /// An OTLP histogram of rollbacks (seconds) from the migrations service, two points 10 s apart.
    static func otlpBatch() -> Batch {
        let resource = Resource(attributes: ["service.name": .string("migrations"), "service.namespace": .string("cf_core")])
        let points: [MetricPoint] = [0, 1].map { step in
            .histogram(
                HistogramPoint(
                    timeUnixNano: now - 20_000_000_000 + UInt64(step) * 10_000_000_000,
                    count: 10 + UInt64(step) * 10,
                    sum: 900,
                    explicitBounds: [60, 180, 300],
                    bucketCounts: [2 + UInt64(step) * 2, 6 + UInt64(step) * 6, 2 + UInt64(step) * 2, 0]
                )
            )
        }
        let histogram = MetricSeries(
            key: SeriesKey(metricName: "rollback.duration", attributes: ["operation": .string("db_restore")], resource: resource),
            kind: .histogram(temporality: .cumulative),
            unit: "s",
            description: "Rollback time",
            scope: InstrumentationScope(name: "cf_core"),
            points: points,
            channel: .otlpHTTPProtobuf
        )
        return Batch(series: [histogram])
    }

    func withQueryAPI(_ body: @Sendable (String, TelemetryStore) async throws -> Void) async throws {
        let store = TelemetryStore()
        store.store(Self.otlpBatch(), channel: .otlpHTTPProtobuf, signal: .metrics, rejectedItems: 0, reservedBytes: 0)
        var logger = Logger(label: "test.query-api")
        logger.logLevel = .critical
        let receiver = RemoteWriteReceiver(configuration: .loopback(port: 0), store: store, readAPI: PrometheusQueryAPI(store: store), logger: logger)
        let group = ServiceGroup(configuration: .init(services: [receiver], gracefulShutdownSignals: [], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await body("http://127.0.0.1:\(try await receiver.boundAddress.value().port)", store)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func otlpMetricsAnswerUnderTheirPrometheusNamesToCurl() async throws {
        try await withQueryAPI { base, _ in
            let time = String(Double(Self.now) / 1e9)
            let result = try await runProcess(
                try curlExecutable(),
                [
                    "-sS", "-G", "\(base)/api/v1/query", "--data-urlencode",
                    "query=histogram_quantile(0.5, sum by (le, job) (rate(rollback_duration_seconds_bucket[1m])))", "--data-urlencode", "time=\(time)",
                ]
            )
            let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            #expect(json?["status"] as? String == "success", "\(result.stdout)")
            let data = json?["data"] as? [String: Any]
            #expect(data?["resultType"] as? String == "vector")
            let element = (data?["result"] as? [[String: Any]])?.first
            #expect(element?["metric"] as? [String: String] == ["job": "cf_core/migrations"])
            // The increase is 2 / 6 / 2 in the buckets up to 60 / 180 / 300: the median sits at 120 s.
            let median = ((element?["value"] as? [Any])?.last as? String).flatMap(Double.init)
            #expect(median.map { abs($0 - 120) < 1e-9 } == true, "\(result.stdout)")

            let series = try await runProcess(try curlExecutable(), ["-sS", "-g", "\(base)/api/v1/series?match[]=rollback_duration_seconds_count"])
            #expect(series.stdout.contains("\"job\":\"cf_core/migrations\"") && series.stdout.contains("\"otel_scope_name\":\"cf_core\""), "\(series.stdout)")
            let names = try await runProcess(try curlExecutable(), ["-sS", "\(base)/api/v1/label/__name__/values"])
            #expect(
                names.stdout
                    == #"{"status":"success","data":["rollback_duration_seconds_bucket","rollback_duration_seconds_count","rollback_duration_seconds_sum"]}"#
            )
            let tsdb = try await runProcess(try curlExecutable(), ["-sS", "\(base)/api/v1/status/tsdb"])
            #expect(tsdb.stdout.contains(#"{"name":"rollback_duration_seconds_bucket","value":4}"#), "\(tsdb.stdout)")
            let metadata = try await runProcess(try curlExecutable(), ["-sS", "\(base)/api/v1/metadata"])
            #expect(metadata.stdout.contains(#""rollback_duration_seconds":[{"type":"histogram","help":"Rollback time","unit":"s"}]"#), "\(metadata.stdout)")
        }
    }

    struct BadRequest: Sendable, CustomTestStringConvertible {
        var name: String
        var method: HTTPMethod = .GET
        var path: String
        var contentType: String?
        var body: String = ""
        var status: Int
        var errorType: String
        var message: String
        var testDescription: String { name }
    }

    static let badRequests: [BadRequest] = [
        BadRequest(name: "no query", path: "/api/v1/query", status: 400, errorType: "bad_data", message: "invalid parameter \"query\": missing"),
        BadRequest(
            name: "syntax error",
            path: "/api/v1/query?query=sum(rate(x%5B5m%5D)",
            status: 400,
            errorType: "bad_data",
            message: "invalid parameter \"query\": expected \")\" to close sum(...)"
        ),
        BadRequest(
            name: "@ time out of bounds",
            path: "/api/v1/query?query=x%20%40%201e30",
            status: 400,
            errorType: "bad_data",
            message: "timestamp out of bounds for @ modifier"
        ),
        BadRequest(
            name: "bad time",
            path: "/api/v1/query?query=up&time=yesterday",
            status: 400,
            errorType: "bad_data",
            message: "invalid parameter \"time\": cannot parse \"yesterday\""
        ),
        BadRequest(
            name: "range without step",
            path: "/api/v1/query_range?query=up&start=1&end=2",
            status: 400,
            errorType: "bad_data",
            message: "invalid parameter \"step\": missing"
        ),
        BadRequest(
            name: "range backwards",
            path: "/api/v1/query_range?query=up&start=20&end=10&step=1",
            status: 400,
            errorType: "bad_data",
            message: "end timestamp must not be before start time"
        ),
        BadRequest(
            name: "too many points",
            path: "/api/v1/query_range?query=up&start=0&end=100000&step=1",
            status: 400,
            errorType: "bad_data",
            message: "exceeded maximum resolution of 11,000 points"
        ),
        BadRequest(
            name: "range of a range vector",
            path: "/api/v1/query_range?query=up%5B5m%5D&start=0&end=10&step=1",
            status: 422,
            errorType: "execution",
            message: "invalid expression type \"range vector\" for range query"
        ),
        BadRequest(name: "series without match", path: "/api/v1/series", status: 400, errorType: "bad_data", message: "no match[] parameter provided"),
        BadRequest(
            name: "match that is not a selector",
            path: "/api/v1/series?match%5B%5D=sum(up)",
            status: 400,
            errorType: "bad_data",
            message: "is not a series selector"
        ),
        BadRequest(
            name: "many-to-many",
            path: "/api/v1/query?query=rollback_duration_seconds_bucket%20%2B%20ignoring(le)%20rollback_duration_seconds_bucket",
            status: 422,
            errorType: "execution",
            message: "many-to-many matching not allowed"
        ),
        BadRequest(
            name: "JSON body",
            method: .POST,
            path: "/api/v1/query",
            contentType: "application/json",
            body: "{\"query\":\"up\"}",
            status: 415,
            errorType: "bad_data",
            message: "application/x-www-form-urlencoded"
        ),
        BadRequest(name: "wrong method", method: .PUT, path: "/api/v1/query?query=up", status: 405, errorType: "bad_data", message: "PUT is not allowed"),
        BadRequest(name: "hostile label name", path: "/api/v1/label/%2E%2E%2Fetc/values", status: 404, errorType: "bad_data", message: "no endpoint"),
    ]

    @Test(arguments: badRequests)
    func badRequestIsRefusedInPrometheusShapeAndTheSinkKeepsServing(_ bad: BadRequest) async throws {
        try await withQueryAPI { base, store in
            var request = HTTPClientRequest(url: base + bad.path)
            request.method = bad.method
            if let contentType = bad.contentType { request.headers.add(name: "Content-Type", value: contentType) }
            if bad.method != .GET { request.body = .bytes(ByteBuffer(string: bad.body)) }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(Int(response.status.code) == bad.status, "\(body)")
            let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            #expect(json?["status"] as? String == "error")
            #expect(json?["errorType"] as? String == bad.errorType)
            #expect((json?["error"] as? String)?.contains(bad.message) == true, "\(body)")
            // Still serving, nothing lost: a form POST query sees the OTLP series, remote write still lands.
            var query = HTTPClientRequest(url: base + "/api/v1/query")
            query.method = .POST
            query.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            query.body = .bytes(ByteBuffer(string: "query=count(rollback_duration_seconds_bucket)&time=\(Double(Self.now) / 1e9)"))
            let answer = try await HTTPClient.shared.execute(query, timeout: .seconds(30))
            #expect(String(buffer: try await answer.body.collect(upTo: 1 << 20)).contains("\"4\""))
            var write = HTTPClientRequest(url: base + "/api/v1/write")
            write.method = .POST
            for (name, value) in remoteWriteHeaders + [("Content-Type", "application/x-protobuf")] { write.headers.add(name: name, value: value) }
            write.body = .bytes(
                ByteBuffer(bytes: try remoteWriteBody([remoteWriteSeries([("__name__", "up"), ("job", "x")], samples: [(Int64(Self.now / 1_000_000), 1)])]))
            )
            #expect(try await HTTPClient.shared.execute(write, timeout: .seconds(30)).status.code == 204)
            #expect(store.series.contains { $0.name == "up" })
        }
    }
}

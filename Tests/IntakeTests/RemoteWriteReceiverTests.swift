import Foundation
import Intake
import NIOHTTP1
import OTelBenchProtos
import Telemetry
import TestSupport
import Testing

/// The remote-write receiver: what it stores, what it refuses and why, and the real Python exporter.
@Suite(.serialized) struct RemoteWriteReceiverTests {
    static func send(
        _ sinks: RunningSinks,
        _ body: [UInt8],
        contentType: String? = "application/x-protobuf",
        headers: [(String, String)] = remoteWriteHeaders
    ) async throws -> RunningSinks.HTTPAnswer {
        try await sinks.remoteWrite(body, contentType: contentType, headers: headers)
    }

    @Test func seriesAreStoredAsGaugesKeyedByTheirLabels() async throws {
        let staleNaN = Double(bitPattern: 0x7ff0_0000_0000_0002)
        let body = try remoteWriteBody([
            remoteWriteSeries(
                [("__name__", "http_requests_total"), ("instance", "a:9100"), ("job", "api")],
                samples: [(1_700_000_000_000, 5), (1_700_000_015_000, 7)]
            ),
            remoteWriteSeries([("__name__", "up"), ("job", "api")], samples: [(1_700_000_000_000, 1), (1_700_000_015_000, staleNaN)]),
        ])
        try await withSinks { sinks in
            let answer = try await Self.send(sinks, body)
            #expect(answer.status == 204, "\(answer.text)")
            let series = sinks.store.series
            #expect(series.count == 2)
            let requests = try #require(series.first { $0.name == "http_requests_total" })
            #expect(requests.key.attributes == ["instance": .string("a:9100"), "job": .string("api")])
            #expect(requests.key.resource == Resource())
            #expect(requests.kind == .gauge)
            #expect(requests.channel == .prometheusRemoteWrite)
            #expect(
                requests.points == [
                    .number(NumberPoint(timeUnixNano: 1_700_000_000_000_000_000, value: .double(5))),
                    .number(NumberPoint(timeUnixNano: 1_700_000_015_000_000_000, value: .double(7))),
                ]
            )
            let up = try #require(series.first { $0.name == "up" })
            guard case .number(let stale) = up.points.last, case .double(let value) = stale.value else {
                Issue.record("no stale point")
                return
            }
            #expect(value.bitPattern == 0x7ff0_0000_0000_0002, "the staleness marker's bits survive")
            #expect(sinks.store.counts[.prometheusRemoteWrite]?[.metrics]?.itemsAccepted == 4)
            // A later request continues the series; an identical re-send (a sender's retry) is dropped, not stored twice.
            let next = try remoteWriteBody([
                remoteWriteSeries(
                    [("__name__", "http_requests_total"), ("instance", "a:9100"), ("job", "api")],
                    samples: [(1_700_000_015_000, 7), (1_700_000_030_000, 9)]
                )
            ])
            #expect(try await Self.send(sinks, next).status == 204)
            #expect(sinks.store.series.first { $0.name == "http_requests_total" }?.points.count == 3)
            // Metadata-only requests, as Prometheus sends them, are accepted.
            var metadata = Prometheus_MetricMetadata()
            metadata.metricFamilyName = "http_requests_total"
            metadata.type = .counter
            metadata.help = "Requests."
            #expect(try await Self.send(sinks, try remoteWriteBody([], metadata: [metadata])).status == 204)
            #expect(sinks.store.series.count == 2)
        }
    }

    /// A bad remote-write request, its status and a phrase of the message.
    struct BadWrite: CustomTestStringConvertible, Sendable {
        var name: String
        var method: HTTPMethod = .POST
        var contentType: String? = "application/x-protobuf"
        var headers: [(String, String)] = remoteWriteHeaders
        var body: [UInt8]
        var status: Int
        var phrase: String
        var testDescription: String { name }
    }

    static var badWrites: [BadWrite] {
        func body(_ labels: [(String, String)], _ samples: [(Int64, Double)] = [(1_700_000_100_000, 1)]) -> [UInt8] {
            (try? remoteWriteBody([remoteWriteSeries(labels, samples: samples)])) ?? []
        }
        let valid = body([("__name__", "ok_metric"), ("job", "x")])
        var request = Prometheus_WriteRequest()
        request.timeseries = [remoteWriteSeries([("__name__", "ok_metric"), ("job", "x")], samples: [(1, 1)])]
        let uncompressed: [UInt8] = (try? request.serializedBytes()) ?? []
        var corrupt = valid
        corrupt[1] = 0x01  // turn the first literal into a copy from nothing decoded yet
        return [
            BadWrite(
                name: "unsorted labels",
                body: body([("job", "x"), ("__name__", "m")]),
                status: 400,
                phrase: "labels are not sorted by name (\"job\" comes before \"__name__\")"
            ),
            BadWrite(name: "repeated label", body: body([("__name__", "m"), ("job", "x"), ("job", "y")]), status: 400, phrase: "label \"job\" is repeated"),
            BadWrite(name: "empty label name", body: body([("", "x"), ("__name__", "m")]), status: 400, phrase: "empty name"),
            BadWrite(name: "empty label value", body: body([("__name__", "m"), ("job", "")]), status: 400, phrase: "label \"job\" has an empty value"),
            BadWrite(
                name: "invalid label name",
                body: body([("__name__", "m"), ("http.method", "GET")]),
                status: 400,
                phrase: "label name \"http.method\" is invalid"
            ),
            BadWrite(name: "invalid metric name", body: body([("__name__", "http.requests")]), status: 400, phrase: "metric name \"http.requests\" is invalid"),
            BadWrite(name: "no __name__", body: body([("job", "x")]), status: 400, phrase: "no __name__ label"),
            BadWrite(name: "no labels", body: body([]), status: 400, phrase: "no labels"),
            BadWrite(name: "samples out of order", body: body([("__name__", "m")], [(2_000, 1), (1_000, 2)]), status: 400, phrase: "out of order sample"),
            BadWrite(
                name: "sample older than the stored one",
                body: body([("__name__", "ok_metric"), ("job", "x")], [(1_000, 1)]),
                status: 400,
                phrase: "which the series already has"
            ),
            BadWrite(
                name: "different value at a stored timestamp",
                body: body([("__name__", "ok_metric"), ("job", "x")], [(1_700_000_100_000, 2)]),
                status: 400,
                phrase: "duplicate sample for timestamp"
            ),
            BadWrite(name: "not snappy-compressed", body: uncompressed, status: 400, phrase: "snappy"),
            BadWrite(name: "corrupt snappy", body: corrupt, status: 400, phrase: "snappy block is corrupt"),
            BadWrite(
                name: "framed snappy",
                body: [0xff, 0x06, 0x00, 0x00] + Array("sNaPpY".utf8) + [0, 1, 0, 0],
                status: 400,
                phrase: "framed (stream) format"
            ),
            BadWrite(
                name: "snappy of garbage",
                body: snappyLiteralBlock([0xff, 0xff, 0xff]),
                status: 400,
                phrase: "not a valid protobuf prometheus.WriteRequest"
            ),
            BadWrite(name: "4 GiB announced", body: [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00], status: 400, phrase: "over the 1048576-byte limit"),
            BadWrite(name: "JSON content type", contentType: "application/json", body: valid, status: 415, phrase: "application/x-protobuf"),
            BadWrite(name: "no Content-Encoding", headers: [], body: valid, status: 415, phrase: "Content-Encoding: snappy"),
            BadWrite(
                name: "gzip Content-Encoding",
                headers: [("Content-Encoding", "gzip")],
                body: valid,
                status: 415,
                phrase: "Content-Encoding gzip is not supported"
            ),
            BadWrite(name: "GET", method: .GET, body: [], status: 405, phrase: "POST a WriteRequest"),
        ]
    }

    @Test(arguments: badWrites)
    func badWriteIsRefusedWholeAndTheReceiverKeepsServing(_ bad: BadWrite) async throws {
        try await withSinks(maxRequestBytes: 1 << 20) { sinks in
            let first = try remoteWriteBody([remoteWriteSeries([("__name__", "ok_metric"), ("job", "x")], samples: [(1_700_000_100_000, 1)])])
            #expect(try await Self.send(sinks, first).status == 204)
            let answer = try await sinks.send(
                port: sinks.remoteWritePort,
                "/api/v1/write",
                method: bad.method,
                contentType: bad.contentType,
                headers: bad.headers,
                body: bad.body
            )
            #expect(answer.status == bad.status, "\(bad.name): \(answer.text)")
            #expect(answer.text.contains(bad.phrase), "\(bad.name): \(answer.text)")
            let series = sinks.store.series
            #expect(series.count == 1 && series[0].points.count == 1, "\(bad.name): nothing stored, nothing lost")
            let next = try remoteWriteBody([remoteWriteSeries([("__name__", "ok_metric"), ("job", "x")], samples: [(1_700_000_200_000, 2)])])
            #expect(try await Self.send(sinks, next).status == 204, "still serving after \(bad.name)")
            #expect(sinks.store.series.first?.points.count == 2)
            #expect(sinks.store.counts[.prometheusRemoteWrite]?[.metrics]?.requestsRejected == 1)
        }
    }

    @Test func overTheMemoryLimitIsRefusedRetryablyAndTheSampleCanBeResent() async throws {
        let body = try remoteWriteBody([remoteWriteSeries([("__name__", "m"), ("job", "x")], samples: [(1_000, 1)])])
        let decodedSize = try SnappyBlock.decodedLength(of: body)
        // Room for one request: its body while it is read, and five times it decoded while it is decoded (ResidentCost;
        // the body's declared length is checked against the same multiple before it is read).
        try await withSinks(memoryLimit: body.count + ResidentCost.admission(bytes: max(body.count, decodedSize)) + 5) { sinks in
            #expect(try await Self.send(sinks, body).status == 204)
            let next = try remoteWriteBody([remoteWriteSeries([("__name__", "m"), ("job", "x")], samples: [(2_000, 2)])])
            let refused = try await Self.send(sinks, next)
            #expect(refused.status == 503)
            #expect(refused.headers["retry-after"] == "1")
            #expect(refused.text.contains("--memory-limit"))
            // Nothing of the refused request was recorded as seen: after room is made, the same samples are new.
            #expect(sinks.store.series.first?.points.count == 1)
        }
    }

    @Test func oneBadSeriesRefusesTheWholeRequest() async throws {
        let body = try remoteWriteBody([
            remoteWriteSeries([("__name__", "good")], samples: [(1_000, 1)]),
            remoteWriteSeries([("__name__", "bad"), ("a", "1"), ("a", "2")], samples: [(1_000, 1)]),
        ])
        try await withSinks { sinks in
            let answer = try await Self.send(sinks, body)
            #expect(answer.status == 400)
            #expect(answer.text.contains("timeseries[1] {__name__=\"bad\", a=\"1\", a=\"2\"}"), "\(answer.text)")
            #expect(sinks.store.series.isEmpty)
            // The good series was not half-admitted: its sample is still new.
            #expect(try await Self.send(sinks, try remoteWriteBody([remoteWriteSeries([("__name__", "good")], samples: [(1_000, 1)])])).status == 204)
            #expect(sinks.store.series.first?.points.count == 1)
        }
    }

    @Test func pythonRemoteWriteExporterIsAccepted() async throws {
        let python = try requirePeer(".venv-remote-write/bin/python")
        let script = repositoryRoot.appendingPathComponent("Tests/Interop/remote_write_export.py").path
        try await withSinks { sinks in
            let outcome = try await runToCompletion(python, [script, "http://127.0.0.1:\(sinks.remoteWritePort)/api/v1/write"], timeout: .seconds(60))
            #expect(outcome.status == 0 && !outcome.timedOut, "\(outcome.output)")
            let series = sinks.store.series
            let names = Set(series.map(\.name))
            // The exporter names buckets "<name>_<unit>" with an le label (no _bucket suffix), as it does.
            #expect(names == ["shop_requests", "shop_queue_depth", "shop_latency_ms", "shop_latency_ms_sum", "shop_latency_ms_count"], "\(names.sorted())")
            let cart = series.first { $0.name == "shop_requests" && $0.key.attributes["route"] == .string("/cart") }
            // force_flush and shutdown each export once.
            #expect((1...2).contains(cart?.points.count ?? 0))
            if case .number(let point)? = cart?.points.last { #expect(point.value == .double(3)) } else { Issue.record("no /cart sample") }
            #expect(cart?.key.attributes["service_name"] == .string("shop"))
            let buckets = series.filter { $0.name == "shop_latency_ms" }
            #expect(buckets.contains { $0.key.attributes["le"] == .string("+Inf") })
            #expect(sinks.store.counts[.prometheusRemoteWrite]?[.metrics]?.requestsRejected ?? 0 == 0)
        }
    }
}

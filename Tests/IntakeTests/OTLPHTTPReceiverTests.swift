import CompressNIO
import Foundation
import Intake
import NIOCore
import NIOHTTP1
import OTelBenchProtos
import Telemetry
import TestSupport
import Testing
import Workload

@Suite(.serialized) struct OTLPHTTPReceiverTests {
    private func tracesBody(spans: Int = 4, seed: UInt64 = 1) throws -> (Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest, [UInt8]) {
        var factory = OTLPPayloadFactory(seed: seed)
        let request = factory.traces(spanCount: spans, attributesPerSpan: 3)
        return (request, try request.serializedBytes())
    }

    private func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var buffer = ByteBuffer(bytes: bytes)
        return Array(buffer: try buffer.compress(with: .gzip()))
    }

    @Test func protobufTracesAreStoredAndAnsweredInProtobuf() async throws {
        let (request, body) = try tracesBody(spans: 16)
        try await withIntake { intake in
            let answer = try await intake.send("/v1/traces", body: body)
            #expect(answer.status == 200)
            #expect(answer.headers["content-type"] == "application/x-protobuf")
            let response = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse(serializedBytes: answer.body)
            #expect(!response.hasPartialSuccess)
            let stored = intake.store.spans
            #expect(stored.count == 16)
            let sent = request.resourceSpans[0].scopeSpans[0].spans
            #expect(stored.map(\.spanID.bytes) == sent.map { Array($0.spanID) })
            #expect(stored.map(\.traceID.bytes) == sent.map { Array($0.traceID) })
            #expect(stored[1].parentSpanID?.bytes == Array(sent[1].parentSpanID))
            #expect(stored[0].resource.serviceName == "otelbench-generate")
            #expect(stored[0].channel == .otlpHTTPProtobuf)
        }
    }

    /// The OTLP specification's JSON example, with ids in hex, int64 as strings and as numbers, enums as integers.
    static let specExampleJSON = """
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"my.service"}}]},
          "scopeSpans":[{"scope":{"name":"my.library","version":"1.0.0","attributes":[{"key":"my.scope.attribute","value":{"stringValue":"some scope attribute"}}]},
            "spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","parentSpanId":"EEE19B7EC3C1B173",
              "name":"I'm a server span","startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,"kind":2,
              "traceState":"congo=t61rcWkgMzE","flags":769,"unknownFutureField":{"x":[1,2,3]},
              "attributes":[{"key":"my.span.attr","value":{"stringValue":"some value"}},{"key":"n","value":{"intValue":"42"}},
                {"key":"d","value":{"doubleValue":1.5}},{"key":"b","value":{"boolValue":true}},
                {"key":"a","value":{"arrayValue":{"values":[{"stringValue":"x"},{"intValue":7}]}}}],
              "events":[{"timeUnixNano":"1544712660500000000","name":"cache.miss","attributes":[{"key":"k","value":{"stringValue":"v"}}]}],
              "links":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","traceState":"a=b"}],
              "status":{"code":2,"message":"boom"}}]}]}]}
        """

    @Test func specificationJSONExampleIsDecodedWithHexIDs() async throws {
        try await withIntake { intake in
            let answer = try await intake.send("/v1/traces", contentType: "application/json", body: Array(Self.specExampleJSON.utf8))
            #expect(answer.status == 200, "\(answer.text)")
            #expect(answer.headers["content-type"] == "application/json")
            #expect(answer.text == "{}")
            let span = try #require(intake.store.spans.first)
            #expect(span.traceID.hex == "5b8efff798038103d269b633813fc60c")
            #expect(span.spanID.hex == "eee19b7ec3c1b174")
            #expect(span.parentSpanID?.hex == "eee19b7ec3c1b173")
            #expect(span.kind == .server)
            #expect(span.startTimeUnixNano == 1_544_712_660_000_000_000)
            #expect(span.endTimeUnixNano == 1_544_712_661_000_000_000)
            #expect(span.traceState == "congo=t61rcWkgMzE")
            #expect(span.flags == 769)
            #expect(span.attributes["n"] == .int(42))
            #expect(span.attributes["d"] == .double(1.5))
            #expect(span.attributes["b"] == .bool(true))
            #expect(span.attributes["a"] == .array([.string("x"), .int(7)]))
            #expect(span.events == [SpanEvent(timeUnixNano: 1_544_712_660_500_000_000, name: "cache.miss", attributes: ["k": .string("v")])])
            #expect(span.links.first?.traceID.hex == "0102030405060708090a0b0c0d0e0f10")
            #expect(span.status == SpanStatus(code: .error, message: "boom"))
            #expect(span.scope.name == "my.library")
            #expect(span.scope.attributes["my.scope.attribute"] == .string("some scope attribute"))
            #expect(span.channel == .otlpHTTPJSON)
        }
    }

    @Test func gzipBodiesAreInflated() async throws {
        let (_, body) = try tracesBody(spans: 32)
        try await withIntake { intake in
            let answer = try await intake.send("/v1/traces", headers: [("Content-Encoding", "gzip")], body: try gzip(body))
            #expect(answer.status == 200, "\(answer.text)")
            #expect(intake.store.spans.count == 32)
        }
    }

    @Test(arguments: ["application/x-protobuf", "application/json"])
    func emptyBodyIsAnEmptyRequestAndSucceeds(_ contentType: String) async throws {
        try await withIntake { intake in
            for path in ["/v1/traces", "/v1/metrics", "/v1/logs"] {
                let answer = try await intake.send(path, contentType: contentType, body: [])
                #expect(answer.status == 200, "\(path) \(contentType): \(answer.text)")
            }
        }
    }

    @Test func invalidIDsArePartialSuccessAndValidSpansAreKept() async throws {
        var (request, _) = try tracesBody(spans: 4)
        request.resourceSpans[0].scopeSpans[0].spans[1].traceID = Data(repeating: 0, count: 16)
        request.resourceSpans[0].scopeSpans[0].spans[2].spanID = Data([1, 2, 3])
        let body = try request.serializedBytes() as [UInt8]
        try await withIntake { intake in
            let answer = try await intake.send("/v1/traces", body: body)
            #expect(answer.status == 200)
            let response = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse(serializedBytes: answer.body)
            #expect(response.partialSuccess.rejectedSpans == 2)
            #expect(response.partialSuccess.errorMessage.contains("spans[1]"))
            #expect(response.partialSuccess.errorMessage.contains("trace_id is all zero"))
            #expect(response.partialSuccess.errorMessage.contains("span_id has 3 bytes, want 8"))
            #expect(intake.store.spans.count == 2)
            #expect(intake.store.counts[.otlpHTTPProtobuf]?[.traces]?.itemsRejected == 2)
        }
    }

    @Test func metricsAndLogsAreStored() async throws {
        var factory = OTLPPayloadFactory(seed: 9)
        let metrics = factory.metrics(seriesCount: 5)
        let logs = factory.logs(count: 3)
        try await withIntake { intake in
            let metricsBody: [UInt8] = try metrics.serializedBytes()
            let logsBody = try OTLPJSON.encode(logs)
            #expect(try await intake.send("/v1/metrics", body: metricsBody).status == 200)
            #expect(try await intake.send("/v1/logs", contentType: "application/json", body: logsBody).status == 200)
            #expect(intake.store.series.count == 5)
            #expect(intake.store.series.allSatisfy { $0.kind == .sum(isMonotonic: true, temporality: .cumulative) })
            #expect(intake.store.logs.count == 3)
            #expect(intake.store.logs[0].traceID?.bytes == Array(logs.resourceLogs[0].scopeLogs[0].logRecords[0].traceID))
            #expect(intake.store.logs[0].body == .string("generated log record 0"))
        }
    }

    /// A bad request, what it must be answered with, and a phrase the message must contain.
    struct BadRequest: CustomTestStringConvertible, Sendable {
        var name: String
        var method: HTTPMethod = .POST
        var path = "/v1/traces"
        var contentType: String? = "application/x-protobuf"
        var headers: [(String, String)] = []
        var body: [UInt8]
        var status: Int
        var phrase: String
        var testDescription: String { name }
    }

    static let limit = 1 << 20

    static var badRequests: [BadRequest] {
        var factory = OTLPPayloadFactory(seed: 3)
        let valid: [UInt8] = (try? factory.traces(spanCount: 8).serializedBytes()) ?? []
        var zeros = ByteBuffer(repeating: 0, count: 64 << 20)
        let bomb = Array(buffer: (try? zeros.compress(with: .gzip())) ?? ByteBuffer())
        var lyingBomb = bomb
        // Claim 100 bytes inflated in the gzip trailer: inflating must still stop at the limit.
        lyingBomb.replaceSubrange((lyingBomb.count - 4)..., with: [100, 0, 0, 0])
        var validBuffer = ByteBuffer(bytes: valid)
        let gzipped = Array(buffer: (try? validBuffer.compress(with: .gzip())) ?? ByteBuffer())
        var corruptGzip = gzipped
        corruptGzip[12] ^= 0xff
        corruptGzip[13] ^= 0xff
        return [
            BadRequest(name: "garbage protobuf", body: [0xff, 0xff, 0xff, 0xff, 0x0f], status: 400, phrase: "not a valid protobuf ExportTraceServiceRequest"),
            BadRequest(name: "truncated protobuf", body: Array(valid.dropLast(7)), status: 400, phrase: "not a valid protobuf"),
            BadRequest(
                name: "malformed JSON",
                contentType: "application/json",
                body: Array("{\"resourceSpans\":[{".utf8),
                status: 400,
                phrase: "not a valid OTLP/JSON"
            ),
            BadRequest(
                name: "base64 id in JSON",
                contentType: "application/json",
                body: Array(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ="}]}]}]}"#.utf8),
                status: 400,
                phrase: "is not a hex string"
            ),
            // Found by the otlp-json fuzz target: swift-protobuf kept such a number as an unrecognized enum, and
            // serializing the request for the recording then wrote past its buffer.
            BadRequest(
                name: "span kind beyond int32 in JSON",
                contentType: "application/json",
                body: Array(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a","kind":4294967296}]}]}]}"#.utf8),
                status: 400,
                phrase: "SpanKind value 4294967296 (field 6 of opentelemetry.proto.trace.v1.Span) is outside int32"
            ),
            BadRequest(
                name: "aggregation temporality beyond int32 in JSON",
                path: "/v1/metrics",
                contentType: "application/json",
                body: Array(#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"aggregationTemporality":4470778052}}]}]}]}"#.utf8),
                status: 400,
                phrase: "AggregationTemporality value 4470778052"
            ),
            BadRequest(name: "JSON sent as protobuf", body: Array("{}".utf8), status: 400, phrase: "not a valid protobuf"),
            BadRequest(name: "text/plain", contentType: "text/plain", body: valid, status: 415, phrase: "Content-Type text/plain is not supported"),
            BadRequest(name: "no content type", contentType: nil, body: valid, status: 415, phrase: "Content-Type none is not supported"),
            BadRequest(name: "brotli", headers: [("Content-Encoding", "br")], body: valid, status: 415, phrase: "Content-Encoding br is not supported"),
            BadRequest(name: "oversized body", body: [UInt8](repeating: 0x0a, count: limit + 1), status: 413, phrase: "over the 1048576-byte limit"),
            BadRequest(name: "gzip bomb", headers: [("Content-Encoding", "gzip")], body: bomb, status: 413, phrase: "limit"),
            BadRequest(
                name: "gzip bomb with lying trailer",
                headers: [("Content-Encoding", "gzip")],
                body: lyingBomb,
                status: 413,
                phrase: "inflates to more than"
            ),
            BadRequest(name: "truncated gzip", headers: [("Content-Encoding", "gzip")], body: Array(gzipped.dropLast(9)), status: 400, phrase: "gzip"),
            BadRequest(name: "corrupt gzip", headers: [("Content-Encoding", "gzip")], body: corruptGzip, status: 400, phrase: "gzip"),
            BadRequest(name: "protobuf claiming gzip", headers: [("Content-Encoding", "gzip")], body: valid, status: 400, phrase: "gzip"),
            BadRequest(name: "GET", method: .GET, body: [], status: 405, phrase: "OTLP/HTTP takes POST"),
            BadRequest(name: "PUT", method: .PUT, body: valid, status: 405, phrase: "OTLP/HTTP takes POST"),
            BadRequest(name: "unknown path", path: "/v1/profiles", body: valid, status: 404, phrase: "no OTLP endpoint at /v1/profiles"),
            BadRequest(
                name: "deeply nested JSON",
                contentType: "application/json",
                body: Array(
                    ("{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"k\",\"value\":"
                        + String(repeating: "{\"arrayValue\":{\"values\":[", count: 200)).utf8
                ),
                status: 400,
                phrase: "not a valid OTLP/JSON"
            ),
        ]
    }

    @Test(arguments: badRequests)
    func badRequestIsRefusedWithAMessageAndTheReceiverKeepsServing(_ bad: BadRequest) async throws {
        let (_, good) = try tracesBody(spans: 5, seed: 77)
        try await withIntake(maxRequestBytes: Self.limit) { intake in
            // Something accepted before the bad request must survive it.
            #expect(try await intake.send("/v1/traces", body: good).status == 200)
            let answer = try await intake.send(bad.path, method: bad.method, contentType: bad.contentType, headers: bad.headers, body: bad.body)
            #expect(answer.status == bad.status, "\(bad.name): \(answer.text)")
            let message: String
            if answer.headers["content-type"] == "application/x-protobuf" {
                // google.rpc.Status: field 2 is the message.
                message = answer.text
            } else {
                let status = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
                message = status?["message"] as? String ?? ""
            }
            #expect(message.contains(bad.phrase), "\(bad.name): message was \(message)")
            if bad.status == 405 { #expect(answer.headers["allow"] == "POST") }
            #expect(try await intake.send("/v1/traces", body: good).status == 200, "still serving after \(bad.name)")
            #expect(intake.store.spans.count == 10, "nothing accepted was lost after \(bad.name)")
        }
    }

    /// With the store's room held by requests in flight, an export is refused retryably; once they are done,
    /// exports are accepted again, and nothing accepted before was lost (received and counted, whatever the
    /// window still retains).
    @Test func overMemoryLimitIsRefusedRetryablyAndNothingIsLost() async throws {
        let (_, body) = try tracesBody(spans: 64)
        // Room for a request: its body while it is read, five times it while it is decoded (ResidentCost), and more.
        let limit = body.count * 8
        try await withIntake(memoryLimit: limit) { intake in
            #expect(try await intake.send("/v1/traces", body: body).status == 200)
            #expect(try await intake.send("/v1/traces", body: body).status == 200)
            let inFlight = intake.store.reservableBytes ?? 0
            #expect(intake.store.reserve(bytes: inFlight), "requests in flight take the room, evicting the window")
            let refused = try await intake.send("/v1/traces", body: body)
            #expect(refused.status == 503)
            #expect(refused.headers["retry-after"] == "1")
            #expect(refused.text.contains("--memory-limit"))
            intake.store.release(bytes: inFlight)
            #expect(try await intake.send("/v1/traces", body: body).status == 200)
            #expect(intake.store.totals.spans == 192)
            #expect(intake.store.counts[.otlpHTTPProtobuf]?[.traces]?.requestsRejected == 1)
        }
    }

    /// Traces are a window under the memory limit, not a reason to refuse: a run far longer than the limit holds
    /// is accepted whole, the oldest traces leaving the window.
    @Test func theTraceWindowMakesRoomInsteadOfRefusing() async throws {
        let (_, body) = try tracesBody(spans: 64)
        try await withIntake(memoryLimit: body.count * 8) { intake in
            for _ in 0..<10 {
                let answer = try await intake.send("/v1/traces", body: body)
                #expect(answer.status == 200)
            }
            let totals = intake.store.totals
            #expect(totals.spans == 640 && totals.rejectedRequests == 0)
            #expect(totals.evictedTraces > 0 && totals.retainedBytes <= body.count * 8)
        }
    }
}

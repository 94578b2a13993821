import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import Intake
import NIOHTTP1
import OTelBenchProtos
import SwiftProtobuf
import Telemetry
import TestSupport
import Testing
import Workload

/// The Jaeger sinks (Thrift over HTTP, api_v2 gRPC) and the query API, with our own clients and with the
/// real Python Jaeger exporters.
@Suite(.serialized) struct JaegerSinkTests {
    static let thriftType = "application/x-thrift"

    // MARK: Thrift over HTTP

    @Test func thriftBatchIsAcceptedAndTheQueryAPIShowsItAsJaegerDoes() async throws {
        try await withSinks { sinks in
            let answer = try await sinks.send(port: sinks.jaegerThriftPort, "/api/traces", contentType: Self.thriftType, body: ThriftReaderTests.sampleBatch())
            #expect(answer.status == 202, "\(answer.text)")
            let stored = sinks.store.spans
            #expect(stored.count == 2)
            let charge = try #require(stored.first { $0.name == "charge" })
            #expect(charge.traceID.hex == "0af7651916cd43dd8448eb211c80331c")
            #expect(charge.kind == .server)
            #expect(charge.attributes["http.status_code"] == .int(201))
            #expect(charge.attributes["ratio"] == .double(0.5))
            #expect(charge.attributes["retried"] == .bool(true))
            #expect(charge.attributes["blob"] == .bytes([1, 2, 255]))
            #expect(charge.attributes["span.kind"] == nil)
            #expect(charge.resource.serviceName == "payments")
            #expect(charge.resource.attributes["cores"] == .int(2))
            #expect(charge.events == [SpanEvent(timeUnixNano: 1_700_000_000_124_000_000, name: "card declined", attributes: ["attempt": .int(3)])])
            #expect(charge.startTimeUnixNano == 1_700_000_000_123_456_000)
            #expect(charge.durationNanos == 2_500_000)
            #expect(charge.channel == .jaegerThrift)
            let audit = try #require(stored.first { $0.name == "audit" })
            #expect(audit.parentSpanID == charge.spanID)
            #expect(audit.links.map(\.spanID.hex) == ["0000000000000066"])
            #expect(audit.links.first?.attributes["opentracing.ref_type"] == .string("follows_from"))

            let trace = try await sinks.query("/api/traces/0af7651916cd43dd8448eb211c80331c").json()
            #expect(trace["total"] as? Int == 1)
            #expect(trace["errors"] is NSNull)
            let data = try #require((trace["data"] as? [[String: Any]])?.first)
            #expect(data["traceID"] as? String == "0af7651916cd43dd8448eb211c80331c")
            let spans = try #require(data["spans"] as? [[String: Any]])
            #expect(spans.map { $0["operationName"] as? String } == ["charge", "audit"])
            #expect(spans[0]["spanID"] as? String == "0000000000000011")
            #expect(spans[0]["startTime"] as? Int == 1_700_000_000_123_456)
            #expect(spans[0]["duration"] as? Int == 2_500)
            #expect(spans[0]["flags"] as? Int == 1)
            let tags = try #require(spans[0]["tags"] as? [[String: Any]])
            #expect(Self.tag(tags, "http.status_code")?.type == "int64")
            #expect(Self.tag(tags, "http.status_code")?.value as? Int == 201)
            #expect(Self.tag(tags, "ratio")?.type == "float64")
            #expect(Self.tag(tags, "retried")?.value as? Bool == true)
            #expect(Self.tag(tags, "blob")?.type == "binary")
            #expect(Self.tag(tags, "blob")?.value as? String == "AQL/")
            #expect(Self.tag(tags, "span.kind")?.value as? String == "server")
            let logs = try #require(spans[0]["logs"] as? [[String: Any]])
            #expect(logs.first?["timestamp"] as? Int == 1_700_000_000_124_000)
            #expect(Self.tag(logs.first?["fields"] as? [[String: Any]] ?? [], "event")?.value as? String == "card declined")
            let references = try #require(spans[1]["references"] as? [[String: Any]])
            #expect(references.map { $0["refType"] as? String } == ["CHILD_OF", "FOLLOWS_FROM"])
            #expect(references[0]["spanID"] as? String == "0000000000000011")
            #expect(references[0]["traceID"] as? String == "0af7651916cd43dd8448eb211c80331c")
            #expect(references[1]["traceID"] as? String == "0000000000000055")
            let processes = try #require(data["processes"] as? [String: [String: Any]])
            let processID = try #require(spans[0]["processID"] as? String)
            #expect(processes[processID]?["serviceName"] as? String == "payments")
            let processTags = processes[processID]?["tags"] as? [[String: Any]] ?? []
            #expect(Self.tag(processTags, "hostname")?.value as? String == "box-1")
            #expect(Self.tag(processTags, "service.name") == nil)
        }
    }

    /// The `type` and `value` of the tag named `key`.
    static func tag(_ tags: [[String: Any]], _ key: String) -> (type: String, value: Any)? {
        guard let tag = tags.first(where: { $0["key"] as? String == key }) else { return nil }
        return (tag["type"] as? String ?? "", tag["value"] as Any)
    }

    /// A bad request to the Thrift endpoint, its status, and a phrase of the message.
    struct BadThriftRequest: CustomTestStringConvertible, Sendable {
        var name: String
        var method: HTTPMethod = .POST
        var path = "/api/traces"
        var contentType: String? = "application/x-thrift"
        var body: [UInt8]
        var status: Int
        var phrase: String
        var testDescription: String { name }
    }

    static var badThriftRequests: [BadThriftRequest] {
        let valid = ThriftReaderTests.sampleBatch()
        var hostile = ThriftWriter()
        hostile.fieldHeader(TType.list, 2)
        hostile.listHeader(TType.struct, count: 0x7fff_ffff)
        let zeroTrace = encodeThriftBatch(
            serviceName: "s",
            spans: [
                ThriftSpan(traceIDHigh: 0, traceIDLow: 0, spanID: 1, operationName: "zero-trace", startTimeMicros: 1, durationMicros: 1),
                ThriftSpan(traceIDHigh: 1, traceIDLow: 1, spanID: 2, operationName: "fine", startTimeMicros: 1, durationMicros: 1),
            ]
        )
        let negativeDuration = encodeThriftBatch(
            serviceName: "s",
            spans: [ThriftSpan(traceIDHigh: 1, traceIDLow: 1, spanID: 2, operationName: "backwards", startTimeMicros: 10, durationMicros: -5)]
        )
        return [
            BadThriftRequest(name: "truncated Thrift", body: Array(valid.dropLast(20)), status: 400, phrase: "truncated"),
            BadThriftRequest(name: "hostile list length", body: hostile.bytes, status: 400, phrase: "element count 2147483647 is over the limit"),
            BadThriftRequest(name: "JSON body", contentType: "application/json", body: Array("{}".utf8), status: 415, phrase: "application/x-thrift"),
            BadThriftRequest(name: "no content type", contentType: nil, body: valid, status: 415, phrase: "Content-Type none"),
            BadThriftRequest(name: "zero trace id", body: zeroTrace, status: 400, phrase: "spans[0] (\"zero-trace\"): traceId is all zero"),
            BadThriftRequest(name: "negative duration", body: negativeDuration, status: 400, phrase: "duration"),
            BadThriftRequest(name: "GET", method: .GET, body: [], status: 405, phrase: "POST a Thrift Batch"),
            BadThriftRequest(name: "unknown path", path: "/api/spans", body: valid, status: 404, phrase: "POST Thrift batches to /api/traces"),
        ]
    }

    @Test(arguments: badThriftRequests)
    func badThriftRequestIsRefusedAndTheSinkKeepsServing(_ bad: BadThriftRequest) async throws {
        try await withSinks(maxRequestBytes: 1 << 20) { sinks in
            let good = ThriftReaderTests.sampleBatch()
            #expect(try await sinks.send(port: sinks.jaegerThriftPort, "/api/traces", contentType: Self.thriftType, body: good).status == 202)
            let answer = try await sinks.send(port: sinks.jaegerThriftPort, bad.path, method: bad.method, contentType: bad.contentType, body: bad.body)
            #expect(answer.status == bad.status, "\(bad.name): \(answer.text)")
            #expect(answer.text.contains(bad.phrase), "\(bad.name): \(answer.text)")
            #expect(sinks.store.spans.count == 2, "nothing of a refused batch is stored, nothing accepted is lost")
            let again = try await sinks.send(port: sinks.jaegerThriftPort, "/api/traces", contentType: "application/vnd.apache.thrift.binary", body: good)
            #expect(again.status == 202, "still serving after \(bad.name)")
            #expect(sinks.store.spans.count == 4)
            #expect(sinks.store.counts[.jaegerThrift]?[.traces]?.requestsRejected == 1)
        }
    }

    @Test func overTheMemoryLimitThriftIsRefusedRetryably() async throws {
        let body = ThriftReaderTests.sampleBatch()
        // Room for one request: its body while it is read, and five times it while it is decoded (ResidentCost).
        try await withSinks(memoryLimit: body.count + ResidentCost.admission(bytes: body.count) + 1024) { sinks in
            #expect(try await sinks.send(port: sinks.jaegerThriftPort, "/api/traces", contentType: Self.thriftType, body: body).status == 202)
            // Requests in flight hold the room.
            #expect(sinks.store.reserve(bytes: sinks.store.reservableBytes ?? 0))
            let refused = try await sinks.send(port: sinks.jaegerThriftPort, "/api/traces", contentType: Self.thriftType, body: body)
            #expect(refused.status == 503)
            #expect(refused.headers["retry-after"] == "1")
            #expect(refused.text.contains("--memory-limit"))
            #expect(sinks.store.totals.spans == 2)
        }
    }

    @Test func gzipThriftBodiesAreInflated() async throws {
        try await withSinks { sinks in
            let compressed = try gzip(ThriftReaderTests.sampleBatch())
            let answer = try await sinks.send(
                port: sinks.jaegerThriftPort,
                "/api/traces",
                contentType: Self.thriftType,
                headers: [("Content-Encoding", "gzip")],
                body: compressed
            )
            #expect(answer.status == 202, "\(answer.text)")
            #expect(sinks.store.spans.count == 2)
        }
    }

    // MARK: gRPC

    static func protoSpan(trace: [UInt8], span: UInt8, name: String, parent: UInt8? = nil) -> Jaeger_ApiV2_Span {
        var proto = Jaeger_ApiV2_Span()
        proto.traceID = Data(trace)
        proto.spanID = Data([0, 0, 0, 0, 0, 0, 0, span])
        proto.operationName = name
        proto.startTime = Google_Protobuf_Timestamp(seconds: 1_700_000_000, nanos: 5_000)
        proto.duration = Google_Protobuf_Duration(seconds: 0, nanos: 3_000_000)
        if let parent {
            var reference = Jaeger_ApiV2_SpanRef()
            reference.traceID = Data(trace)
            reference.spanID = Data([0, 0, 0, 0, 0, 0, 0, parent])
            reference.refType = .childOf
            proto.references = [reference]
        }
        var tag = Jaeger_ApiV2_KeyValue()
        tag.key = "otel.status_code"
        tag.vStr = "ERROR"
        var description = Jaeger_ApiV2_KeyValue()
        description.key = "otel.status_description"
        description.vStr = "boom"
        proto.tags = [tag, description]
        return proto
    }

    @Test func grpcPostSpansIsStoredAndInvalidBatchesAreRefusedWhole() async throws {
        let trace: [UInt8] = Array(1...16)
        try await withSinks { sinks in
            try await withGRPCClient(port: sinks.jaegerGRPCPort) { client in
                let collector = Jaeger_ApiV2_CollectorService.Client(wrapping: client)
                var request = Jaeger_ApiV2_PostSpansRequest()
                request.batch.process.serviceName = "inventory"
                request.batch.spans = [Self.protoSpan(trace: trace, span: 1, name: "root"), Self.protoSpan(trace: trace, span: 2, name: "child", parent: 1)]
                _ = try await collector.postSpans(request)

                var invalid = request
                invalid.batch.spans[1].spanID = Data([1, 2, 3])
                await #expect {
                    _ = try await collector.postSpans(invalid)
                } throws: { error in
                    guard let error = error as? RPCError else { return false }
                    return error.code == .invalidArgument && error.message.contains("spans[1] (\"child\"): spanId has 3 bytes, want 8")
                }
                await #expect {
                    _ = try await client.unary(
                        request: ClientRequest(message: [0xff, 0xff, 0xff]),
                        descriptor: Jaeger_ApiV2_CollectorService.Method.PostSpans.descriptor,
                        serializer: RawBytesSerializer(),
                        deserializer: ProtobufDeserializer<Jaeger_ApiV2_PostSpansResponse>(),
                        options: .defaults
                    ) { try $0.message }
                } throws: { error in
                    (error as? RPCError)?.code == .invalidArgument && (error as? RPCError)?.message.contains("PostSpansRequest") == true
                }
            }
            let stored = sinks.store.spans
            #expect(stored.count == 2)
            #expect(stored[1].parentSpanID == stored[0].spanID)
            #expect(stored[0].status == SpanStatus(code: .error, message: "boom"))
            #expect(stored[0].resource.serviceName == "inventory")
            #expect(stored[0].channel == .jaegerGRPC)
            #expect(sinks.store.counts[.jaegerGRPC]?[.traces]?.requestsRejected == 2)
        }
    }

    @Test func grpcOverTheMemoryLimitIsUnavailable() async throws {
        let request = {
            var request = Jaeger_ApiV2_PostSpansRequest()
            request.batch.process.serviceName = "inventory"
            request.batch.spans = [Self.protoSpan(trace: Array(1...16), span: 1, name: "root")]
            return request
        }()
        let size = (try request.serializedBytes() as [UInt8]).count
        try await withSinks(memoryLimit: ResidentCost.admission(bytes: size) + 1024) { sinks in
            try await withGRPCClient(port: sinks.jaegerGRPCPort) { client in
                let collector = Jaeger_ApiV2_CollectorService.Client(wrapping: client)
                _ = try await collector.postSpans(request)
                // Requests in flight hold the room.
                #expect(sinks.store.reserve(bytes: sinks.store.reservableBytes ?? 0))
                await #expect {
                    _ = try await collector.postSpans(request)
                } throws: { error in
                    (error as? RPCError)?.code == .unavailable && (error as? RPCError)?.message.contains("--memory-limit") == true
                }
            }
            #expect(sinks.store.totals.spans == 1)
        }
    }

    // MARK: Query API

    @Test func queryAPIServesTracesOfEveryProtocolAndSearchesAsJaegerDoes() async throws {
        var factory = OTLPPayloadFactory(seed: 11)
        let otlp = factory.traces(spanCount: 4, attributesPerSpan: 2, spansPerTrace: 4, serviceName: "tasks")
        let otlpTrace = TraceID(bytes: otlp.resourceSpans[0].scopeSpans[0].spans[0].traceID)!
        try await withSinks { sinks in
            let body: [UInt8] = try otlp.serializedBytes()
            #expect(try await sinks.send(port: sinks.otlpHTTPPort, "/v1/traces", contentType: "application/x-protobuf", body: body).status == 200)
            #expect(
                try await sinks.send(port: sinks.jaegerThriftPort, "/api/traces", contentType: Self.thriftType, body: ThriftReaderTests.sampleBatch()).status
                    == 202
            )

            let services = try await sinks.query("/api/services").json()
            #expect(services["data"] as? [String] == ["payments", "tasks"])
            #expect(services["total"] as? Int == 2)
            #expect(try await sinks.query("/api/services/tasks/operations").json()["data"] as? [String] == ["GET /tasks", "repository.load"])
            let kinds = try await sinks.query("/api/operations?service=tasks&spanKind=server").json()["data"] as? [[String: String]]
            #expect(kinds == [["name": "GET /tasks", "spanKind": "server"]])

            let otlpAnswer = try await sinks.query("/api/traces/\(otlpTrace.hex)").json()
            let otlpSpans = ((otlpAnswer["data"] as? [[String: Any]])?.first?["spans"] as? [[String: Any]]) ?? []
            #expect(otlpSpans.count == 4)
            #expect(Self.tag(otlpSpans[0]["tags"] as? [[String: Any]] ?? [], "otel.status_code")?.value as? String == "OK")
            #expect(Self.tag(otlpSpans[0]["tags"] as? [[String: Any]] ?? [], "otel.scope.name")?.value as? String == "otelbench")

            func traceCount(_ query: String) async throws -> Int? {
                let answer = try await sinks.query("/api/traces?\(query)")
                #expect(answer.status == 200, "\(query): \(answer.text)")
                return (try answer.json()["data"] as? [Any])?.count
            }
            #expect(try await traceCount("service=tasks") == 1)
            #expect(try await traceCount("service=payments&operation=audit") == 1)
            #expect(try await traceCount("service=payments&operation=nothing") == 0)
            #expect(try await traceCount("service=payments&tags=%7B%22http.status_code%22%3A%22201%22%7D") == 1)
            #expect(try await traceCount("service=payments&tags=%7B%22http.status_code%22%3A%22500%22%7D") == 0)
            #expect(try await traceCount("service=payments&tag=hostname:box-1") == 1)
            #expect(try await traceCount("service=payments&tag=event:card%20declined") == 1)
            #expect(try await traceCount("service=payments&minDuration=2ms") == 1)
            #expect(try await traceCount("service=payments&minDuration=3ms") == 0)
            #expect(try await traceCount("service=payments&maxDuration=5us") == 0)
            #expect(try await traceCount("service=payments&start=1700000000123456&end=1700000000123456") == 1)
            #expect(try await traceCount("service=payments&start=1700000000200000") == 0)
            #expect(try await traceCount("service=tasks&limit=1") == 1)

            let unknown = try await sinks.query("/api/traces/00000000000000000000000000000bad")
            #expect(unknown.status == 404)
            #expect(((try unknown.json()["errors"] as? [[String: Any]])?.first?["msg"] as? String) == "trace not found")
            let missingService = try await sinks.query("/api/traces?operation=x")
            #expect(missingService.status == 400)
            #expect(missingService.text.contains("parameter 'service' is required"))
            let badDuration = try await sinks.query("/api/traces?service=tasks&minDuration=fast")
            #expect(badDuration.status == 400)
            #expect(badDuration.text.contains("minDuration"))
            let badTags = try await sinks.query("/api/traces?service=tasks&tags=%7Bnope")
            #expect(badTags.status == 400)
            #expect(badTags.text.contains("malformed 'tags' parameter"))
            #expect(try await sinks.query("/api/traces/not-hex").status == 400)
            #expect(try await sinks.query("/api/nothing").status == 404)
            let post = try await sinks.send(port: sinks.jaegerQueryPort, "/api/traces", method: .POST, body: [1])
            #expect(post.status == 405)
            #expect(post.text.contains("the Jaeger query API takes GET"))
            #expect(try await sinks.query("/api/services").status == 200, "still serving")
        }
    }

    // MARK: Real Python exporters

    @Test(arguments: ["grpc", "thrift"])
    func pythonJaegerExporterSpansComeBackThroughTheQueryAPI(_ protocolName: String) async throws {
        let python = try requirePeer(".venv-jaeger/bin/python")
        let script = repositoryRoot.appendingPathComponent("Tests/Interop/jaeger_export.py").path
        let traceID = protocolName == "grpc" ? "0af7651916cd43dd8448eb211c80319c" : "4bf92f3577b34da6a3ce929d0e0e4736"
        try await withSinks { sinks in
            let port = protocolName == "grpc" ? sinks.jaegerGRPCPort : sinks.jaegerThriftPort
            let outcome = try await runToCompletion(
                python,
                [script, "--protocol", protocolName, "--endpoint", "127.0.0.1:\(port)", "--trace-id", traceID],
                timeout: .seconds(60)
            )
            #expect(outcome.status == 0 && !outcome.timedOut, "exporter failed: \(outcome.output)")
            guard let line = outcome.output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
                let ids = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            else {
                Issue.record("no ids printed: \(outcome.output)")
                return
            }
            #expect(ids["trace_id"] as? String == traceID)
            let channel: IntakeChannel = protocolName == "grpc" ? .jaegerGRPC : .jaegerThrift
            #expect(sinks.store.spans.count == 3)
            #expect(sinks.store.spans.allSatisfy { $0.channel == channel })

            let answer = try await sinks.query("/api/traces/\(traceID)").json()
            let trace = try #require((answer["data"] as? [[String: Any]])?.first)
            #expect(trace["traceID"] as? String == traceID)
            let spans = try #require(trace["spans"] as? [[String: Any]])
            func span(_ name: String) -> [String: Any] { spans.first { $0["operationName"] as? String == name } ?? [:] }
            let root = span("GET /checkout")
            let query = span("SELECT orders")
            let worker = span("enqueue receipt")
            #expect(root["spanID"] as? String == ids["root"] as? String)
            #expect(query["spanID"] as? String == ids["query"] as? String)
            #expect(worker["spanID"] as? String == ids["worker"] as? String)
            #expect((root["references"] as? [Any])?.isEmpty == true)
            let queryReferences = query["references"] as? [[String: String]] ?? []
            #expect(queryReferences == [["refType": "CHILD_OF", "traceID": traceID, "spanID": ids["root"] as? String ?? ""]])
            let workerReferences = worker["references"] as? [[String: String]] ?? []
            #expect(workerReferences.map { $0["refType"] } == ["CHILD_OF", "FOLLOWS_FROM"])
            #expect(workerReferences.last?["spanID"] == ids["query"] as? String)

            let rootTags = root["tags"] as? [[String: Any]] ?? []
            #expect(Self.tag(rootTags, "http.method")?.value as? String == "GET")
            #expect(Self.tag(rootTags, "http.status_code")?.type == "int64")
            #expect(Self.tag(rootTags, "http.status_code")?.value as? Int == 200)
            #expect(Self.tag(rootTags, "sample.ratio")?.type == "float64")
            #expect(Self.tag(rootTags, "sample.ratio")?.value as? Double == 0.25)
            #expect(Self.tag(rootTags, "cache.hit")?.value as? Bool == false)
            #expect(Self.tag(rootTags, "span.kind")?.value as? String == "server")
            #expect(Self.tag(rootTags, "otel.scope.name")?.value as? String == "interop.jaeger")
            #expect(Self.tag(rootTags, "otel.scope.version")?.value as? String == "1.2.3")
            let queryTags = query["tags"] as? [[String: Any]] ?? []
            #expect(Self.tag(queryTags, "otel.status_code")?.value as? String == "ERROR")
            #expect(Self.tag(queryTags, "otel.status_description")?.value as? String == "deadlock")
            #expect(Self.tag(queryTags, "error")?.value as? Bool == true)
            #expect(Self.tag(queryTags, "span.kind")?.value as? String == "client")
            let logs = query["logs"] as? [[String: Any]] ?? []
            let fields = logs.first?["fields"] as? [[String: Any]] ?? []
            // The Python exporters name events in a "message" field; only "event" names an event (as in the Collector).
            #expect(Self.tag(fields, "message")?.value as? String == "retry")
            #expect(Self.tag(fields, "attempt")?.value as? Int == 2)

            let processes = trace["processes"] as? [String: [String: Any]] ?? [:]
            #expect(processes.count == 1)
            let process = processes[root["processID"] as? String ?? ""] ?? [:]
            #expect(process["serviceName"] as? String == "checkout")
            let processTags = process["tags"] as? [[String: Any]] ?? []
            if protocolName == "grpc" {
                #expect(Self.tag(processTags, "deployment.environment")?.value as? String == "interop")
                #expect(Self.tag(processTags, "host.cores")?.value as? Int == 2)
                #expect(Self.tag(processTags, "telemetry.sdk.language")?.value as? String == "python")
            } else {
                // The Thrift exporter sends a process with its service name only.
                #expect(processTags.isEmpty)
            }

            let store = sinks.store.spans
            #expect(store.first { $0.name == "SELECT orders" }?.status == SpanStatus(code: .error, message: "deadlock"))
            #expect(store.first { $0.name == "GET /checkout" }?.scope == InstrumentationScope(name: "interop.jaeger", version: "1.2.3"))
        }
    }
}

import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import NIOCore
import OTelBenchProtos
import Scenario
import SwiftProtobuf
import Telemetry
import TestSupport
import Testing
import Workload

@testable import Intake

/// Bytes a fuzzer found or could find: every receiver answers each with its protocol's own error and a message
/// naming the problem, keeps serving, and keeps what it accepted before.
@Suite(.serialized) struct HostileInputTests {
    private typealias TraceService = Opentelemetry_Proto_Collector_Trace_V1_TraceService

    // MARK: OTLP/gRPC: compressed messages

    /// A compressed gRPC message that must be refused: how it is broken, the status and a phrase of the message.
    struct BadCompressedMessage: CustomTestStringConvertible, Sendable {
        var name: String
        var encoding = "gzip"
        var message: @Sendable ([UInt8]) throws -> [UInt8]
        var status: Int
        var phrase: String
        var testDescription: String { name }
    }

    static let badCompressedMessages: [BadCompressedMessage] = [
        BadCompressedMessage(name: "gzip cut in half", message: { Array(try gzip($0).prefix(try gzip($0).count / 2)) }, status: 13, phrase: "truncated"),
        BadCompressedMessage(name: "gzip without its trailer", message: { Array(try gzip($0).dropLast(8)) }, status: 13, phrase: "truncated"),
        BadCompressedMessage(name: "gzip header only", message: { Array(try gzip($0).prefix(10)) }, status: 13, phrase: "truncated"),
        BadCompressedMessage(
            name: "gzip with a wrong checksum",
            message: { bytes in
                var compressed = try gzip(bytes)
                compressed[compressed.count - 6] ^= 0xff
                return compressed
            },
            status: 13,
            phrase: "incorrect data check"
        ),
        BadCompressedMessage(name: "not gzip at all", message: { _ in Array("this is not gzip data at all".utf8) }, status: 13, phrase: "not valid gzip data"),
        BadCompressedMessage(name: "empty compressed message", message: { _ in [] }, status: 13, phrase: "empty"),
        BadCompressedMessage(
            name: "gzip followed by junk",
            message: { try gzip($0) + Array("junk".utf8) },
            status: 13,
            phrase: "after the end"
        ),
        BadCompressedMessage(
            name: "deflate cut short",
            encoding: "deflate",
            message: { Array(try zlibCompress($0).dropLast(3)) },
            status: 13,
            phrase: "truncated"
        ),
        BadCompressedMessage(
            name: "gzip bomb past the limit",
            message: { _ in try gzip([UInt8](repeating: 0, count: 8 << 20)) },
            status: 8,
            phrase: "inflates to more than the 1048576-byte limit"
        ),
    ]

    /// Before the fix, a truncated gzip message spun grpc-swift-nio-transport's inflate loop for ever: the call was
    /// never answered and the event loop stayed busy. Now each bad message gets INTERNAL (gRPC's status for a message
    /// that fails to decompress) or RESOURCE_EXHAUSTED, with a message, and the receiver goes on serving both
    /// protocols, keeping what it accepted before.
    @Test(arguments: badCompressedMessages)
    func badCompressedGRPCMessageIsAnsweredAndServingGoesOn(_ bad: BadCompressedMessage) async throws {
        var factory = OTLPPayloadFactory(seed: 31)
        let before = factory.traces(spanCount: 5)
        let after = factory.traces(spanCount: 7)
        let body = try bad.message(try factory.traces(spanCount: 3).serializedBytes())
        let httpBody: [UInt8] = try factory.traces(spanCount: 2).serializedBytes()
        try await withIntake(maxRequestBytes: 1 << 20) { intake in
            try await withGRPCClient(port: intake.grpcPort, compression: .gzip) { client in
                _ = try await TraceService.Client(wrapping: client).export(before)
            }
            let answer = try await rawGRPCExport(port: intake.grpcPort, encoding: bad.encoding, compressedMessage: body)
            #expect(answer.status == bad.status, "\(answer)")
            #expect(answer.message.contains(bad.phrase), "\(answer)")
            // The receiver still serves gRPC (compressed) and HTTP, and lost nothing.
            try await withGRPCClient(port: intake.grpcPort, compression: .gzip) { client in
                _ = try await TraceService.Client(wrapping: client).export(after)
            }
            let http = try await intake.send("/v1/traces", body: httpBody)
            #expect(http.status == 200)
            #expect(intake.store.spans.count == 14)
            #expect(intake.store.counts[.otlpGRPC]?[.traces]?.requestsRejected == 1)
        }
    }

    /// A compressed message far larger than HTTP/2's initial flow-control window (many DATA frames, window updates
    /// between them) is inflated and stored whole, by a real grpc-swift client compressing with gzip and deflate.
    @Test(arguments: [CompressionAlgorithm.gzip, .deflate])
    func largeCompressedMessageIsStored(_ compression: CompressionAlgorithm) async throws {
        var factory = OTLPPayloadFactory(seed: 34)
        let traces = factory.traces(spanCount: 4000, attributesPerSpan: 10)
        let compressedSize = try gzip(try traces.serializedBytes()).count
        #expect(compressedSize > 128 << 10, "the compressed message spans many frames: \(compressedSize) bytes")
        try await withIntake { intake in
            try await withGRPCClient(port: intake.grpcPort, compression: compression) { client in
                _ = try await TraceService.Client(wrapping: client).export(traces)
            }
            #expect(intake.store.spans.count == 4000)
        }
    }

    /// A message announcing more bytes than the transport takes was answered by a stream reset (clients see
    /// UNAVAILABLE and retry what can never succeed); it is RESOURCE_EXHAUSTED with a message, like any message
    /// over the limit, and the receiver keeps serving.
    @Test(arguments: ["identity", "gzip"])
    func messageAnnouncingMoreThanTheTransportTakesIsResourceExhausted(_ encoding: String) async throws {
        try await withIntake(maxRequestBytes: 1 << 20) { intake in
            let answer = try await rawGRPCExport(
                port: intake.grpcPort,
                encoding: encoding,
                compressedMessage: Array("a start".utf8),
                framedAs: [0] + bigEndian(100 << 20)
            )
            #expect(answer.status == 8, "\(answer)")
            #expect(answer.message.contains("message of 104857600 bytes is over the 1048576-byte limit"), "\(answer)")
            var factory = OTLPPayloadFactory(seed: 37)
            let traces = factory.traces(spanCount: 2)
            try await withGRPCClient(port: intake.grpcPort) { client in _ = try await TraceService.Client(wrapping: client).export(traces) }
            #expect(intake.store.spans.count == 2)
        }
    }

    /// The Jaeger gRPC sink shares the OTLP receiver's listener: a broken gzip message there is INTERNAL too, and
    /// the sink goes on taking compressed batches.
    @Test func badCompressedJaegerGRPCMessageIsAnswered() async throws {
        var span = Jaeger_ApiV2_Span()
        span.traceID = Data(repeating: 1, count: 16)
        span.spanID = Data(repeating: 2, count: 8)
        span.operationName = "op"
        span.startTime = .init(seconds: 1_700_000_000, nanos: 0)
        var request = Jaeger_ApiV2_PostSpansRequest()
        request.batch.process.serviceName = "svc"
        request.batch.spans = [span]
        let message = try gzip(try request.serializedBytes())
        try await withSinks { sinks in
            let path = "/jaeger.api_v2.CollectorService/PostSpans"
            let broken = try await rawGRPCExport(port: sinks.jaegerGRPCPort, path: path, encoding: "gzip", compressedMessage: Array(message.dropLast(5)))
            #expect(broken.status == 13, "\(broken)")
            #expect(broken.message.contains("truncated"), "\(broken)")
            let valid = try await rawGRPCExport(port: sinks.jaegerGRPCPort, path: path, encoding: "gzip", compressedMessage: message)
            #expect(valid.status == 0, "\(valid)")
            #expect(sinks.store.spans.map(\.name) == ["op"])
        }
    }

    /// Valid compressed messages still inflate, split across frames however the sender likes (a large message
    /// spans many HTTP/2 DATA frames), and several in a row; each inflated one is marked with its compressed length
    /// (the intake's wire bytes), an uncompressed one passes as it came.
    @Test func validCompressedMessagesInflate() throws {
        var factory = OTLPPayloadFactory(seed: 32)
        let messages = try (0..<3).map { _ in try factory.traces(spanCount: 200, attributesPerSpan: 8).serializedBytes() as [UInt8] }
        var stream: [UInt8] = []
        var expected: [UInt8] = []
        for message in messages {
            let compressed = try gzip(message)
            stream += [1] + bigEndian(UInt32(compressed.count)) + compressed
            let marked = Array(buffer: GRPCInflatedMessage.header(compressedLength: compressed.count)) + message
            expected += [0] + bigEndian(UInt32(marked.count)) + marked
            let decoded = try #require(marked.withUnsafeBytes { GRPCInflatedMessage(decoding: $0) })
            #expect(decoded.compressedLength == compressed.count)
            #expect(decoded.message == message)
        }
        expected += [0] + bigEndian(UInt32(messages[0].count)) + messages[0]
        #expect(messages[0].withUnsafeBytes { GRPCInflatedMessage(decoding: $0) } == nil)
        stream += [0] + bigEndian(UInt32(messages[0].count)) + messages[0]
        for chunkSize in [1, 7, 4096, stream.count] {
            var inflation = GRPCMessageInflation(format: .gzip, limit: 1 << 20)
            var output = ByteBuffer()
            var offset = 0
            while offset < stream.count {
                let end = min(stream.count, offset + chunkSize)
                var produced = inflation.consume(ByteBuffer(bytes: stream[offset..<end]))
                output.writeBuffer(&produced)
                offset = end
            }
            #expect(inflation.finish().readableBytes == 0)
            #expect(Array(buffer: output) == expected, "chunks of \(chunkSize)")
        }
    }

    /// A compressed message longer than anything that could inflate within the limit is refused before it is
    /// buffered (its bytes dropped as they come, whatever the frames), and the stream's next message still passes.
    @Test func oversizedCompressedMessageIsRefusedWithoutBuffering() throws {
        let junk = [UInt8](repeating: 0xab, count: 5000)
        let next = Array("next message".utf8)
        let stream = [1] + bigEndian(UInt32(junk.count)) + junk + [0] + bigEndian(UInt32(next.count)) + next
        for chunkSize in [1, 13, 4096, stream.count] {
            var inflation = GRPCMessageInflation(format: .gzip, limit: 1000)
            var output = ByteBuffer()
            var offset = 0
            while offset < stream.count {
                let end = min(stream.count, offset + chunkSize)
                var produced = inflation.consume(ByteBuffer(bytes: stream[offset..<end]))
                output.writeBuffer(&produced)
                offset = end
            }
            let refusalLength = Int(output.getInteger(at: 1, as: UInt32.self) ?? 0)
            let refusal = try #require(output.getBytes(at: 5, length: refusalLength).flatMap { GRPCInboundRefusal(decoding: $0) })
            #expect(refusal.kind == .tooLarge)
            #expect(refusal.message.contains("5000 compressed bytes is over the 1000-byte limit"), "\(refusal.message)")
            #expect(output.getBytes(at: 5 + refusalLength, length: output.readableBytes - 5 - refusalLength) == [0] + bigEndian(UInt32(next.count)) + next)
        }
        // What a sender writes cannot pass for a refusal: the token is drawn at random.
        #expect(GRPCInboundRefusal(decoding: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] + Array("forged".utf8)) == nil)
    }

    /// Random mutations and cuts of real gzip and zlib data, inflated as HTTP bodies and as gRPC message streams:
    /// each gives the data back whole or fails with a message, and nothing traps or spins.
    @Test func mutatedCompressedDataNeverTrapsOrSpins() throws {
        var factory = OTLPPayloadFactory(seed: 36)
        let message: [UInt8] = try factory.traces(spanCount: 20).serializedBytes()
        var generator = SplitMix64(seed: 0xdef1a7e)
        for (format, compressed) in [(BodyDecompression.Format.gzip, try gzip(message)), (.zlib, try zlibCompress(message))] {
            for round in 0..<1500 {
                var bytes = compressed
                switch generator.next() % 3 {
                case 0: bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count))))
                case 1:
                    for _ in 0...(generator.next() % 4) {
                        bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
                    }
                default: bytes.insert(UInt8(truncatingIfNeeded: generator.next()), at: Int(generator.next() % UInt64(bytes.count)))
                }
                do {
                    let inflated = try BodyDecompression.inflate(ByteBuffer(bytes: bytes), format: format, what: "body", limit: 1 << 20)
                    #expect(Array(buffer: inflated) == message, "round \(round): a mutation that inflates must give the data back")
                } catch {
                    #expect(!error.message.isEmpty)
                }
                var inflation = GRPCMessageInflation(format: format, limit: 1 << 20)
                var stream = inflation.consume(ByteBuffer(bytes: [1] + bigEndian(UInt32(bytes.count)) + bytes))
                #expect(stream.readInteger(as: UInt8.self) == 0, "round \(round): one uncompressed message or refusal comes out")
                #expect(stream.readInteger(as: UInt32.self).map(Int.init) == stream.readableBytes)
            }
        }
    }

    // MARK: Remote write: timestamps

    /// A sample at `Int64.max` ms trapped with "arithmetic overflow" converting to nanoseconds (also after a sample
    /// at 0 in the same series). Such samples are refused whole as out of bounds (400, naming the sample and the
    /// range), what the series held before is kept, and later samples are still taken. The last millisecond
    /// whose nanoseconds fit a signed 64-bit integer is taken; the next is refused.
    @Test func farFutureRemoteWriteSampleIsRefusedAsOutOfBounds() async throws {
        let labels = [("__name__", "fuzz_metric"), ("job", "x")]
        try await withSinks { sinks in
            #expect(try await sinks.remoteWrite(try remoteWriteBody([remoteWriteSeries(labels, samples: [(1_700_000_000_000, 1)])])).status == 204)
            let cases: [(String, [(Int64, Double)], String)] = [
                ("Int64.max", [(.max, 2)], "after 2262-04-11T23:47:16.854775807Z"),
                ("0 then Int64.max", [(0, 1), (.max, 2)], "after 2262-04-11T23:47:16.854775807Z"),
                ("the first millisecond too late", [(9_223_372_036_855, 2)], "send times from 0 to 9223372036854 ms"),
                ("before 1970", [(-1, 2)], "before 1970"),
            ]
            for (name, samples, phrase) in cases {
                let answer = try await sinks.remoteWrite(try remoteWriteBody([remoteWriteSeries([("__name__", "other_metric")], samples: samples)]))
                #expect(answer.status == 400, "\(name): \(answer.text)")
                #expect(answer.text.contains("out of bounds"), "\(name): \(answer.text)")
                #expect(answer.text.contains(phrase), "\(name): \(answer.text)")
            }
            #expect(sinks.store.series.map(\.name) == ["fuzz_metric"], "nothing of a refused request is stored")
            let last = Int64.max / 1_000_000
            let later = try await sinks.remoteWrite(try remoteWriteBody([remoteWriteSeries(labels, samples: [(1_700_000_015_000, 3), (last, 4)])]))
            #expect(later.status == 204, "\(later.text)")
            let points = try #require(sinks.store.series.first?.points)
            #expect(points.map(\.timeUnixNano) == [1_700_000_000_000_000_000, 1_700_000_015_000_000_000, UInt64(last) * 1_000_000])
        }
    }

    // MARK: HTTP bodies: gzip and deflate

    /// A compressed OTLP/HTTP body that must be refused: how it is broken, the status and a phrase of the message.
    struct BadCompressedBody: CustomTestStringConvertible, Sendable {
        var name: String
        var encoding: String
        var body: @Sendable ([UInt8]) throws -> [UInt8]
        var status: Int
        var phrase: String
        var testDescription: String { name }
    }

    static let badCompressedBodies: [BadCompressedBody] = [
        // compress-nio inflated this to the whole message and it was stored: a deflate body was never checked for its end.
        BadCompressedBody(
            name: "deflate without its checksum",
            encoding: "deflate",
            body: { Array(try zlibCompress($0).dropLast(4)) },
            status: 400,
            phrase: "truncated"
        ),
        BadCompressedBody(
            name: "deflate cut in half",
            encoding: "deflate",
            body: { Array(try zlibCompress($0).prefix(try zlibCompress($0).count / 2)) },
            status: 400,
            phrase: "truncated"
        ),
        BadCompressedBody(
            name: "deflate that is not",
            encoding: "deflate",
            body: { _ in Array("plain text".utf8) },
            status: 400,
            phrase: "incorrect header check"
        ),
        BadCompressedBody(
            name: "gzip cut in half",
            encoding: "gzip",
            body: { Array(try gzip($0).prefix(try gzip($0).count / 2)) },
            status: 400,
            phrase: "truncated"
        ),
        BadCompressedBody(
            name: "gzip with junk after it",
            encoding: "gzip",
            body: { try gzip($0) + [1, 2, 3, 4, 5, 6, 7, 8] },
            status: 400,
            phrase: "after the end"
        ),
        BadCompressedBody(
            name: "gzip bomb",
            encoding: "gzip",
            body: { _ in try gzip([UInt8](repeating: 0, count: 16 << 20)) },
            status: 413,
            phrase: "inflates to more than the 1048576-byte limit"
        ),
        BadCompressedBody(
            name: "deflate bomb",
            encoding: "deflate",
            body: { _ in try zlibCompress([UInt8](repeating: 0, count: 16 << 20)) },
            status: 413,
            phrase: "inflates to more than the 1048576-byte limit"
        ),
    ]

    /// Every broken or oversized compressed OTLP/HTTP body is refused with its status and a `google.rpc.Status`
    /// naming the problem, and nothing of it is stored.
    @Test(arguments: badCompressedBodies)
    func badCompressedHTTPBodyIsRefused(_ bad: BadCompressedBody) async throws {
        var factory = OTLPPayloadFactory(seed: 33)
        let body = try bad.body(try factory.traces(spanCount: 4).serializedBytes())
        try await withIntake(maxRequestBytes: 1 << 20) { intake in
            let answer = try await intake.send("/v1/traces", contentType: "application/json", headers: [("Content-Encoding", bad.encoding)], body: body)
            #expect(answer.status == bad.status, "\(answer.text)")
            #expect(answer.text.contains(bad.phrase), "\(answer.text)")
            #expect(intake.store.spans.isEmpty)
        }
    }

    /// Valid gzip and deflate bodies inflate, also a gzip file of two members (as `cat a.gz b.gz` makes).
    @Test func validCompressedBodiesInflate() throws {
        let text = Array(String(repeating: "otelbench ", count: 10_000).utf8)
        let gzipped = try BodyDecompression.inflate(ByteBuffer(bytes: try gzip(text)), encoding: "gzip", limit: text.count)
        #expect(Array(buffer: gzipped) == text)
        let deflated = try BodyDecompression.inflate(ByteBuffer(bytes: try zlibCompress(text)), encoding: "deflate", limit: text.count)
        #expect(Array(buffer: deflated) == text)
        let twoMembers = try BodyDecompression.inflate(ByteBuffer(bytes: try gzip(text) + gzip(text)), encoding: "gzip", limit: 2 * text.count)
        #expect(Array(buffer: twoMembers) == text + text)
        #expect(throws: BodyDecompression.Failure.self) {
            try BodyDecompression.inflate(ByteBuffer(bytes: try gzip(text)), encoding: "gzip", limit: text.count - 1)
        }
    }

    // MARK: Elasticsearch and Jaeger: timestamps

    /// Timestamps past what nanoseconds since 1970 hold (a year 9999 date, a huge epoch-millisecond number, as
    /// number or string) trapped converting; each is now the document's `document_parsing_exception`, the other
    /// documents of the request are stored.
    @Test func outOfRangeElasticsearchTimestampIsRefusedPerDocument() async throws {
        let body = """
            {"index":{}}
            {"@timestamp":"9999-12-31T23:59:59Z","message":"far"}
            {"index":{}}
            {"@timestamp":99999999999999999,"message":"huge number"}
            {"index":{}}
            {"@timestamp":"99999999999999999","message":"huge string"}
            {"index":{}}
            {"@timestamp":1e300,"message":"huge double"}
            {"index":{}}
            {"@timestamp":"2262-04-11T23:47:16.854775807Z","message":"last"}
            {"index":{}}
            {"@timestamp":"2262-04-11T23:47:16.854775808Z","message":"one too late"}

            """
        try await withSinks { sinks in
            let answer = try await sinks.send(port: sinks.elasticsearchPort, "/logs/_bulk", contentType: "application/x-ndjson", body: Array(body.utf8))
            #expect(answer.status == 200, "\(answer.text)")
            let items = try #require(try answer.json()["items"] as? [[String: [String: Any]]])
            #expect(items.map { $0["index"]?["status"] as? Int } == [400, 400, 400, 400, 201, 400])
            let reason = (items[0]["index"]?["error"] as? [String: Any])?["reason"] as? String
            #expect(reason?.contains("from 1970 to 2262-04-11T23:47:16.854775807Z") == true, "\(reason ?? "")")
            #expect(sinks.store.logs.map(\.timeUnixNano) == [UInt64(Int64.max)])
        }
    }

    /// Jaeger span times past 2262 are refused per span (the batch whole), never trapping.
    @Test func outOfRangeJaegerTimesAreRefused() {
        var span = Jaeger_ApiV2_Span()
        span.traceID = Data(repeating: 1, count: 16)
        span.spanID = Data(repeating: 2, count: 8)
        span.operationName = "late"
        var batch = Jaeger_ApiV2_Batch()
        for (seconds, duration) in [(Int64.max, Int64(0)), (9_223_372_036, 0), (9_223_372_035, 2), (1_700_000_000, Int64.max)] {
            span.startTime = .init(seconds: seconds, nanos: 999_999_999)
            span.duration = .init(seconds: duration, nanos: 0)
            batch.spans = [span]
            let (spans, problems) = JaegerConversion.spans(batch, channel: .jaegerGRPC)
            #expect(spans.isEmpty, "start \(seconds) s, duration \(duration) s")
            #expect(problems.first?.contains("out of range") == true, "\(problems)")
        }
        span.startTime = .init(seconds: 9_223_372_035, nanos: 0)
        span.duration = .init(seconds: 1, nanos: 0)
        batch.spans = [span]
        #expect(JaegerConversion.spans(batch, channel: .jaegerGRPC).spans.first?.endTimeUnixNano == 9_223_372_036_000_000_000)
    }

    // MARK: The memory limit

    /// A request larger than the whole memory limit was answered 503 "retry later" (exporters then retry for ever)
    /// after evicting every retained trace; it is now too large (413, RESOURCE_EXHAUSTED) and evicts nothing.
    @Test func requestLargerThanTheWholeMemoryLimitIsTooLargeAndEvictsNothing() async throws {
        var factory = OTLPPayloadFactory(seed: 38)
        let small: [UInt8] = try factory.traces(spanCount: 2).serializedBytes()
        let large = factory.traces(spanCount: 200, attributesPerSpan: 10)
        let largeBytes: [UInt8] = try large.serializedBytes()
        try await withIntake(memoryLimit: 16 << 10) { intake in
            #expect(try await intake.send("/v1/traces", body: small).status == 200)
            let answer = try await intake.send("/v1/traces", body: largeBytes)
            #expect(answer.status == 413, "\(answer.text)")
            #expect(answer.text.contains("can never be stored"), "\(answer.text)")
            #expect(answer.headers["retry-after"] == nil)
            let error = await #expect(throws: RPCError.self) {
                try await withGRPCClient(port: intake.grpcPort) { client in _ = try await TraceService.Client(wrapping: client).export(large) }
            }
            #expect(error?.code == .resourceExhausted, "\(String(describing: error))")
            #expect(intake.store.spans.count == 2)
            #expect(intake.store.totals.evictedTraces == 0)
        }
    }

    // MARK: Deep nesting

    /// Documents and attribute values nested far deeper than any decoder recurses are refused with the protocol's
    /// error (never a stack overflow), and the receivers keep serving.
    @Test func deeplyNestedValuesAreRefused() async throws {
        let depth = 100_000
        let deepJSON = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        var value = Opentelemetry_Proto_Common_V1_AnyValue()
        value.stringValue = "leaf"
        for _ in 0..<200 {
            var outer = Opentelemetry_Proto_Common_V1_AnyValue()
            outer.arrayValue.values = [value]
            value = outer
        }
        var factory = OTLPPayloadFactory(seed: 35)
        var traces = factory.traces(spanCount: 1)
        traces.resourceSpans[0].scopeSpans[0].spans[0].attributes = [
            .with {
                $0.key = "deep"
                $0.value = value
            }
        ]
        let deepProtobuf: [UInt8] = try traces.serializedBytes()
        let fineProtobuf: [UInt8] = try factory.traces(spanCount: 1).serializedBytes()
        let deepOTLPJSON =
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"deep","value":"#
            + String(repeating: #"{"arrayValue":{"values":["#, count: 2000) + String(repeating: "]}}", count: 2000) + "}]}]}]}]}"
        try await withSinks { sinks in
            let bulk = try await sinks.send(
                port: sinks.elasticsearchPort,
                "/logs/_bulk",
                contentType: "application/x-ndjson",
                body: Array("{\"index\":{}}\n{\"message\":\(deepJSON)}\n".utf8)
            )
            #expect(bulk.status == 200 || bulk.status == 400, "\(bulk.status) \(bulk.text.prefix(300))")
            #expect(bulk.text.contains("error"), "\(bulk.text.prefix(300))")
            let protobuf = try await sinks.send(port: sinks.otlpHTTPPort, "/v1/traces", contentType: "application/x-protobuf", body: deepProtobuf)
            #expect(protobuf.status == 400, "\(protobuf.text.prefix(300))")
            let json = try await sinks.send(port: sinks.otlpHTTPPort, "/v1/traces", contentType: "application/json", body: Array(deepOTLPJSON.utf8))
            #expect(json.status == 400, "\(json.text.prefix(300))")
            #expect(sinks.store.logs.isEmpty && sinks.store.spans.isEmpty)
            let fine = try await sinks.send(port: sinks.otlpHTTPPort, "/v1/traces", contentType: "application/x-protobuf", body: fineProtobuf)
            #expect(fine.status == 200)
        }
    }

    // MARK: Helpers

    /// What a gRPC server answered: its `grpc-status` and `grpc-message`.
    struct GRPCAnswer: CustomStringConvertible {
        var status: Int?
        var message: String
        var description: String { "grpc-status \(status.map(String.init) ?? "none"): \(message)" }
    }

    /// POSTs one TraceService/Export with `compressedMessage` framed as compressed (flag 1) and `grpc-encoding`,
    /// over HTTP/2 with curl (a client that sends the bytes as given), waiting at most 10 s for the answer.
    func rawGRPCExport(
        port: Int,
        path: String = "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        encoding: String,
        compressedMessage: [UInt8],
        framedAs prefix: [UInt8]? = nil
    ) async throws -> GRPCAnswer {
        try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("message")
            try Data((prefix ?? [1] + bigEndian(UInt32(compressedMessage.count))) + compressedMessage).write(to: file)
            let outcome = try await runProcess(
                try curlExecutable(),
                [
                    "-sS", "--http2-prior-knowledge", "--max-time", "10", "-o", "/dev/null", "-D", "-",
                    "-H", "content-type: application/grpc", "-H", "te: trailers", "-H", "grpc-encoding: \(encoding)",
                    "--data-binary", "@\(file.path)",
                    "http://127.0.0.1:\(port)\(path)",
                ],
                timeout: .seconds(30)
            )
            var answer = GRPCAnswer(status: nil, message: outcome.stderr)
            for line in outcome.stdout.split(whereSeparator: \.isNewline) {
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { continue }
                if parts[0].lowercased() == "grpc-status" { answer.status = Int(parts[1]) }
                if parts[0].lowercased() == "grpc-message" { answer.message = parts[1].removingPercentEncoding ?? parts[1] }
            }
            return answer
        }
    }
}

/// `value` as 4 big-endian bytes.
func bigEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }

/// zlib-wraps `bytes` (RFC 1950, gRPC's and HTTP's "deflate") with Python's zlib: a real encoder, not ours.
func zlibCompress(_ bytes: [UInt8]) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = ["-c", "import sys, zlib; sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read()))"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(Data(bytes))
    try input.fileHandleForWriting.close()
    let compressed = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw TestFailure("python3 zlib failed") }
    return [UInt8](compressed)
}

import Foundation
import Intake
import OTelBenchProtos
import Scenario
import SwiftProtobuf
import Telemetry
import TestSupport
import Testing

/// The Jaeger sinks' own decoders (``JaegerThriftDecoder``, ``JaegerProtoWireDecoder``), which go straight from
/// the bytes to the store's spans, against the api_v2 model they replace (``JaegerThriftBatch`` or swift-protobuf's
/// decoding, then ``JaegerConversion``): the real Jaeger exporters' payloads, a batch that exercises every rule,
/// protobuf's and Thrift's rules for fields sent twice or out of order, and random batches.
@Suite struct JaegerWireDecoderTests {
    // MARK: Comparisons with the reference

    /// `==`, or for values with a NaN in them (never `==` to itself) the same hash, which hashes doubles by their bits.
    static func same(_ lhs: [Span], _ rhs: [Span]) -> Bool { lhs == rhs || lhs.hashValue == rhs.hashValue }

    /// Decodes a Thrift body both ways; records an issue unless both refuse it with the same error or both give the
    /// same spans and problems. Returns the sink's result.
    @discardableResult
    static func expectThriftAlike(_ bytes: [UInt8], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) -> JaegerBatchSpans? {
        let reference = Result { () throws(ThriftDecodingError) in try JaegerThriftBatch.decode(bytes) }
        let direct = Result { () throws(ThriftDecodingError) in try JaegerThriftDecoder.spans(bytes, channel: .jaegerThrift) }
        switch (reference, direct) {
        case (.success(let batch), .success(let converted)):
            let expected = JaegerConversion.spans(batch, channel: .jaegerThrift)
            #expect(converted.problems == expected.problems, "\(what)", sourceLocation: sourceLocation)
            #expect(Self.same(converted.spans, expected.spans), "\(what)", sourceLocation: sourceLocation)
            return converted
        case (.failure(let expected), .failure(let error)):
            #expect(error.message == expected.message, "\(what)", sourceLocation: sourceLocation)
        case (.success, .failure(let error)):
            Issue.record("\(what): JaegerThriftBatch decodes it, the Thrift decoder refuses it: \(error)", sourceLocation: sourceLocation)
        case (.failure(let error), .success):
            Issue.record("\(what): the Thrift decoder accepts it, JaegerThriftBatch refuses it: \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    /// Decodes a `PostSpansRequest` both ways; records an issue unless both refuse it or both give the same spans and
    /// problems. Returns the sink's result.
    @discardableResult
    static func expectProtoAlike(_ bytes: [UInt8], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) -> JaegerBatchSpans? {
        let generated = Result { try Jaeger_ApiV2_PostSpansRequest(serializedBytes: bytes) }
        let direct = Result { () throws(ProtobufWireError) in try JaegerProtoWireDecoder.spans(bytes, channel: .jaegerGRPC) }
        switch (generated, direct) {
        case (.success(let request), .success(let converted)):
            let expected = JaegerConversion.spans(request.batch, channel: .jaegerGRPC)
            #expect(converted.problems == expected.problems, "\(what)", sourceLocation: sourceLocation)
            #expect(Self.same(converted.spans, expected.spans), "\(what)", sourceLocation: sourceLocation)
            return converted
        case (.failure, .failure):
            break
        case (.success, .failure(let error)):
            Issue.record("\(what): swift-protobuf decodes it, the wire decoder refuses it: \(error)", sourceLocation: sourceLocation)
        case (.failure(let error), .success):
            Issue.record("\(what): the wire decoder accepts it, swift-protobuf refuses it: \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    // MARK: The real exporters' payloads

    static let corpora = repositoryRoot.appendingPathComponent("Tests/FuzzRegressionTests/Corpora")

    static func corpus(_ target: String, suffix: String) throws -> [[UInt8]] {
        let folder = corpora.appendingPathComponent(target)
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(suffix) && $0.hasPrefix("python-exporter") }.sorted()
            .map { try [UInt8](Data(contentsOf: folder.appendingPathComponent($0))) }
    }

    @Test func pythonThriftExporterBatchesConvertAsTheModelDoes() throws {
        let bodies = try Self.corpus("jaeger-thrift", suffix: ".thrift")
        #expect(bodies.count >= 3)
        for (index, body) in bodies.enumerated() {
            let converted = try #require(Self.expectThriftAlike(body, "python-exporter-\(index)"))
            #expect(!converted.spans.isEmpty && converted.problems.isEmpty, "python-exporter-\(index)")
        }
    }

    @Test func pythonProtoExporterRequestsConvertAsTheModelDoes() throws {
        let bodies = try Self.corpus("jaeger-proto", suffix: ".pb")
        #expect(bodies.count >= 2)
        for (index, body) in bodies.enumerated() {
            let converted = try #require(Self.expectProtoAlike(body, "python-exporter-\(index)"))
            #expect(!converted.spans.isEmpty && converted.problems.isEmpty, "python-exporter-\(index)")
        }
    }

    /// Random edits of the exporters' payloads and of ``richBatch()``: bytes overwritten, bits flipped, bytes cut,
    /// inserted or spliced from another payload (two protobuf messages back to back merge).
    @Test(arguments: ["thrift", "protobuf"])
    func mutatedPayloadsAreDecodedOrRefusedAsTheModelDoes(_ wire: String) throws {
        let rich = Self.richBatch()
        let seeds =
            wire == "thrift"
            ? try Self.corpus("jaeger-thrift", suffix: ".thrift") + [rich.thrift]
            : try Self.corpus("jaeger-proto", suffix: ".pb") + [try rich.proto.serializedBytes()]
        var random = SplitMix64(seed: wire == "thrift" ? 0x7e11 : 0x9b0f)
        var accepted = 0
        var refused = 0
        for round in 0..<2_000 {
            var bytes = seeds[Int(random.next() % UInt64(seeds.count))]
            for _ in 0..<(1 + Int(random.next() % 3)) where !bytes.isEmpty {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 6 {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes[position] ^= 1 << (random.next() % 8)
                case 2: bytes = Array(bytes.prefix(position))
                case 3: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                case 4: bytes.remove(at: position)
                default:
                    let other = seeds[Int(random.next() % UInt64(seeds.count))]
                    bytes += other.prefix(Int(random.next() % UInt64(other.count + 1)))
                }
            }
            let decoded = wire == "thrift" ? Self.expectThriftAlike(bytes, "round \(round)") : Self.expectProtoAlike(bytes, "round \(round)")
            if decoded == nil { refused += 1 } else { accepted += 1 }
        }
        // Both outcomes were compared, many times.
        #expect(accepted >= 50 && refused >= 50, "accepted \(accepted), refused \(refused)")
    }

    // MARK: Every rule, on both wires

    static let trace = TraceID(high: 0x0102_0304_0506_0708, low: 0x090a_0b0c_0d0e_0f10)
    static let otherTrace = TraceID(high: 0x1111, low: 0x2222)
    static let startMicros: Int64 = 1_700_000_000_123_456

    /// Four spans: a root with every special tag, a child with both kinds of reference, one with a zero trace id
    /// and one with a negative duration; as the api_v2 model (protobuf) and as Thrift.
    static func richBatch() -> (proto: Jaeger_ApiV2_PostSpansRequest, thrift: [UInt8]) {
        let processTags: [(String, ThriftTagValue)] = [("hostname", .string("box-1")), ("service.name", .string("overridden")), ("cores", .long(2))]
        let rootTags: [(String, ThriftTagValue)] = [
            ("span.kind", .string("SERVER")), ("otel.status_code", .string("ERROR")), ("otel.status_description", .string("boom")),
            ("otel.library.name", .string("library")), ("otel.scope.name", .string("scope")), ("otel.scope.version", .string("1.2")),
            ("w3c.tracestate", .string("k=v")), ("http.status_code", .long(500)), ("ratio", .double(0.5)), ("cached", .bool(false)),
            ("blob", .binary([1, 2, 255])), ("error", .bool(true)), ("ratio", .double(0.25)),
        ]
        let childTags: [(String, ThriftTagValue)] = [("span.kind", .string("client")), ("error", .string("false")), ("otel.library.version", .string("0.9"))]
        let logFields: [(String, ThriftTagValue)] = [("event", .string("retry")), ("attempt", .long(2))]
        let spans = [
            ThriftSpan(
                traceIDHigh: Int64(bitPattern: trace.high),
                traceIDLow: Int64(bitPattern: trace.low),
                spanID: 1,
                operationName: "GET /cart",
                flags: 3,
                startTimeMicros: startMicros,
                durationMicros: 250_000,
                tags: rootTags,
                logs: [(startMicros + 10, logFields)]
            ),
            ThriftSpan(
                traceIDHigh: Int64(bitPattern: trace.high),
                traceIDLow: Int64(bitPattern: trace.low),
                spanID: 2,
                parentSpanID: 1,
                operationName: "cart.load",
                references: [
                    (0, Int64(bitPattern: trace.high), Int64(bitPattern: trace.low), 1), (1, Int64(otherTrace.high), Int64(otherTrace.low), 9),
                ],
                startTimeMicros: startMicros + 5,
                durationMicros: 1_000,
                tags: childTags
            ),
            ThriftSpan(traceIDHigh: 0, traceIDLow: 0, spanID: 3, operationName: "zero", startTimeMicros: startMicros, durationMicros: 1),
            ThriftSpan(traceIDHigh: 1, traceIDLow: 1, spanID: 4, operationName: "backwards", startTimeMicros: startMicros, durationMicros: -5),
        ]
        let request = protoRequest(serviceName: "checkout", processTags: processTags, spans: spans)
        return (request, encodeThriftBatch(serviceName: "checkout", processTags: processTags, spans: spans))
    }

    /// A jaeger.thrift tag as an api_v2 `KeyValue`.
    static func protoTag(_ key: String, _ value: ThriftTagValue) -> Jaeger_ApiV2_KeyValue {
        var tag = Jaeger_ApiV2_KeyValue()
        tag.key = key
        switch value {
        case .string(let text): (tag.vType, tag.vStr) = (.string, text)
        case .double(let number): (tag.vType, tag.vFloat64) = (.float64, number)
        case .bool(let flag): (tag.vType, tag.vBool) = (.bool, flag)
        case .long(let number): (tag.vType, tag.vInt64) = (.int64, number)
        case .binary(let bytes): (tag.vType, tag.vBinary) = (.binary, Data(bytes))
        }
        return tag
    }

    /// The `PostSpansRequest` of the batch that ``encodeThriftBatch(serviceName:processTags:spans:seqNo:)`` encodes
    /// as Thrift (a negative start time aside: its seconds and nanoseconds are split here as `/` and `%` split them).
    static func protoRequest(serviceName: String, processTags: [(String, ThriftTagValue)], spans: [ThriftSpan]) -> Jaeger_ApiV2_PostSpansRequest {
        var request = Jaeger_ApiV2_PostSpansRequest()
        request.batch.process.serviceName = serviceName
        request.batch.process.tags = processTags.map { protoTag($0.0, $0.1) }
        request.batch.spans = spans.map { thrift in
            var span = Jaeger_ApiV2_Span()
            span.traceID = Data(TraceID(high: UInt64(bitPattern: thrift.traceIDHigh), low: UInt64(bitPattern: thrift.traceIDLow)).bytes)
            span.spanID = Data(SpanID(value: UInt64(bitPattern: thrift.spanID)).bytes)
            span.operationName = thrift.operationName
            span.flags = UInt32(bitPattern: thrift.flags)
            span.startTime = Google_Protobuf_Timestamp(seconds: thrift.startTimeMicros / 1_000_000, nanos: Int32(thrift.startTimeMicros % 1_000_000) * 1000)
            span.duration = Google_Protobuf_Duration(seconds: thrift.durationMicros / 1_000_000, nanos: Int32(thrift.durationMicros % 1_000_000) * 1000)
            span.references = thrift.references.map { reference in
                var ref = Jaeger_ApiV2_SpanRef()
                ref.refType = reference.type == 0 ? .childOf : .followsFrom
                ref.traceID = Data(TraceID(high: UInt64(bitPattern: reference.high), low: UInt64(bitPattern: reference.low)).bytes)
                ref.spanID = Data(SpanID(value: UInt64(bitPattern: reference.spanID)).bytes)
                return ref
            }
            span.tags = thrift.tags.map { protoTag($0.0, $0.1) }
            span.logs = thrift.logs.map { log in
                var entry = Jaeger_ApiV2_Log()
                entry.timestamp = Google_Protobuf_Timestamp(seconds: log.timestampMicros / 1_000_000, nanos: Int32(log.timestampMicros % 1_000_000) * 1000)
                entry.fields = log.fields.map { protoTag($0.0, $0.1) }
                return entry
            }
            return span
        }
        return request
    }

    @Test(arguments: ["thrift", "protobuf"])
    func everyConversionRuleHoldsStraightFromTheWire(_ wire: String) throws {
        let (request, thrift) = Self.richBatch()
        let converted = try #require(
            wire == "thrift" ? Self.expectThriftAlike(thrift, "rich batch") : Self.expectProtoAlike(try request.serializedBytes(), "rich batch")
        )
        #expect(
            converted.problems == [
                "spans[2] (\"zero\"): traceId is all zero",
                // -5 µs: 0 seconds and -5,000 nanoseconds.
                "spans[3] (\"backwards\"): duration 0s is negative or out of range",
            ]
        )
        try #require(converted.spans.count == 2)
        let (root, child) = (converted.spans[0], converted.spans[1])
        let start = UInt64(Self.startMicros) * 1000
        #expect(root.traceID == Self.trace && root.spanID == SpanID(value: 1) && root.parentSpanID == nil)
        #expect(root.name == "GET /cart" && root.kind == .server && root.flags == 1)
        #expect(root.startTimeUnixNano == start && root.endTimeUnixNano == start + 250_000_000)
        #expect(root.status == SpanStatus(code: .error, message: "boom"))
        #expect(root.scope == InstrumentationScope(name: "scope", version: "1.2"))
        #expect(root.traceState == "k=v")
        #expect(root.attributes == ["http.status_code": .int(500), "ratio": .double(0.25), "cached": .bool(false), "blob": .bytes([1, 2, 255])])
        #expect(root.events == [SpanEvent(timeUnixNano: start + 10_000, name: "retry", attributes: ["attempt": .int(2)])])
        #expect(root.resource.attributes == ["hostname": .string("box-1"), "cores": .int(2), "service.name": .string("checkout")])
        #expect(child.parentSpanID == SpanID(value: 1) && child.kind == .client)
        #expect(child.links == [SpanLink(traceID: Self.otherTrace, spanID: SpanID(value: 9), attributes: ["opentracing.ref_type": .string("follows_from")])])
        #expect(child.attributes == ["error": .string("false")] && child.status.code == .unset)
        #expect(child.scope == InstrumentationScope(name: "", version: "0.9"))
        #expect(child.channel == (wire == "thrift" ? .jaegerThrift : .jaegerGRPC))
    }

    // MARK: Spans of one kind

    /// The tags of consecutive spans, to catch a decoder that carries one span's keys, values or dictionary layout
    /// into the next (the decoders reuse the last span's keys and attributes' layout): the same keys with new values
    /// and types, the same keys in another order, the same count of other keys (one differing only in its last byte,
    /// one in its first), a key repeated, fewer and more tags, special tags among the others (one more than the span
    /// before, then enough more to need a larger table), `error=false`, no tags, non-ASCII keys, a process tag's key,
    /// and a refused span (``consecutiveSpansRefused``) between two alike.
    static let consecutiveTagShapes: [[(String, ThriftTagValue)]] = [
        [("http.request.method", .string("GET")), ("http.response.status_code", .long(200)), ("attribute.number1", .string("a"))],
        [
            ("http.request.method", .string("POST")), ("http.response.status_code", .long(201)),
            ("attribute.number1", .string("a value longer than fifteen bytes")),
        ],
        [("http.request.method", .double(0.5)), ("http.response.status_code", .bool(true)), ("attribute.number1", .binary([1, 2]))],
        [("http.response.status_code", .long(3)), ("http.request.method", .string("PUT")), ("attribute.number1", .string("b"))],
        [("http.request.method", .string("x")), ("http.response.status_code", .long(4)), ("attribute.number2", .string("c"))],
        [("http.request.method", .string("y")), ("http.response.status_code", .long(5)), ("xttribute.number2", .string("d"))],
        [("a", .long(1)), ("b", .long(2)), ("a", .long(3))],
        [("a", .long(4)), ("b", .long(5)), ("a", .long(6))],
        [("a", .long(7)), ("b", .long(8)), ("b", .long(9))],
        [("a", .long(10)), ("b", .long(11))],
        [("a", .long(12)), ("b", .long(13)), ("c", .long(14)), ("d", .long(15))],
        [("span.kind", .string("server")), ("a", .long(16)), ("b", .long(17)), ("c", .long(18)), ("d", .long(19))],
        [("a", .long(20)), ("b", .long(21)), ("c", .long(22)), ("d", .long(23))],
        [
            ("a", .long(24)), ("otel.status_code", .string("ERROR")), ("b", .long(25)), ("c", .long(26)), ("otel.scope.name", .string("lib")),
            ("d", .long(27)), ("w3c.tracestate", .string("k=v")),
        ],
        [("a", .long(28)), ("b", .long(29)), ("error", .string("false"))],
        [("a", .long(30)), ("b", .long(31)), ("error", .bool(true))],
        [],
        [("a", .long(32))],
        [("ключ", .string("один")), ("ключ.второй", .string("два"))],
        [("ключ", .string("три")), ("ключ.второй", .string("четыре"))],
        [("hostname", .string("the span's own")), ("a", .long(33))],
        [("a", .string("refused")), ("b", .string("refused"))],
        [("a", .long(34)), ("b", .long(35))],
    ]

    /// The span of ``consecutiveTagShapes`` with a zero trace id.
    static let consecutiveSpansRefused = 21

    /// The attributes a span of `tags` gets: the tags other than the special ones, in order, in a dictionary reserved
    /// for all of them (when there are two or more), then `error` unless it flags an error; built as the decoders
    /// built them before they reused a span's layout, so that the capacity is theirs too.
    static func expectedAttributes(_ tags: [(String, ThriftTagValue)]) -> Attributes {
        let special: Set = [
            JaegerSpecialTag.spanKind, JaegerSpecialTag.statusCode, JaegerSpecialTag.statusDescription, JaegerSpecialTag.error,
            JaegerSpecialTag.libraryName, JaegerSpecialTag.libraryVersion, JaegerSpecialTag.scopeName, JaegerSpecialTag.scopeVersion,
            JaegerSpecialTag.traceState,
        ]
        func value(_ tag: ThriftTagValue) -> AttributeValue {
            switch tag {
            case .string(let text): .string(text)
            case .double(let number): .double(number)
            case .bool(let flag): .bool(flag)
            case .long(let number): .int(number)
            case .binary(let bytes): .bytes(bytes)
            }
        }
        var attributes = tags.count > 1 ? Attributes(minimumCapacity: tags.count) : Attributes()
        for (key, tag) in tags where !special.contains(key) { attributes[key] = value(tag) }
        if let error = tags.last(where: { $0.0 == JaegerSpecialTag.error }).map({ value($0.1) }), error != .bool(true), error != .string("true") {
            attributes[JaegerSpecialTag.error] = error
        }
        return attributes
    }

    @Test(arguments: ["thrift", "protobuf"])
    func consecutiveSpansGetTheirOwnTagsWhateverTheKeysBefore(_ wire: String) throws {
        let shapes = Self.consecutiveTagShapes
        let refused = Self.consecutiveSpansRefused
        let spans = shapes.enumerated().map { index, tags in
            ThriftSpan(
                traceIDHigh: index == refused ? 0 : 1,
                traceIDLow: index == refused ? 0 : Int64(index + 1),
                spanID: Int64(index + 1),
                operationName: "op-\(index)",
                startTimeMicros: Self.startMicros,
                durationMicros: 1_000,
                tags: tags
            )
        }
        let processTags: [(String, ThriftTagValue)] = [("hostname", .string("box-1")), ("a", .long(99))]
        let converted = try #require(
            wire == "thrift"
                ? Self.expectThriftAlike(encodeThriftBatch(serviceName: "svc", processTags: processTags, spans: spans), "consecutive spans")
                : Self.expectProtoAlike(
                    try Self.protoRequest(serviceName: "svc", processTags: processTags, spans: spans).serializedBytes(),
                    "consecutive spans"
                )
        )
        #expect(converted.problems == ["spans[\(refused)] (\"op-\(refused)\"): traceId is all zero"])
        try #require(converted.spans.count == shapes.count - 1)
        let span = Dictionary(uniqueKeysWithValues: converted.spans.map { ($0.name, $0) })
        for (index, tags) in shapes.enumerated() where index != refused {
            let decoded = try #require(span["op-\(index)"])
            let expected = Self.expectedAttributes(tags)
            #expect(decoded.attributes == expected, "span \(index)")
            #expect(decoded.attributes.capacity == expected.capacity, "span \(index): the capacity a dictionary of its own has")
            #expect(decoded.resource.attributes == ["hostname": .string("box-1"), "a": .int(99), "service.name": .string("svc")], "span \(index)")
        }
        // The same values spelled out, where a layout or key carried over would show.
        #expect(
            span["op-1"]?.attributes == [
                "http.request.method": .string("POST"), "http.response.status_code": .int(201),
                "attribute.number1": .string("a value longer than fifteen bytes"),
            ]
        )
        #expect(
            span["op-2"]?.attributes == ["http.request.method": .double(0.5), "http.response.status_code": .bool(true), "attribute.number1": .bytes([1, 2])]
        )
        #expect(span["op-4"]?.attributes.keys.sorted() == ["attribute.number2", "http.request.method", "http.response.status_code"])
        #expect(span["op-5"]?.attributes.keys.sorted() == ["http.request.method", "http.response.status_code", "xttribute.number2"])
        #expect(span["op-7"]?.attributes == ["a": .int(6), "b": .int(5)], "a repeated key: the last value wins")
        #expect(span["op-8"]?.attributes == ["a": .int(7), "b": .int(9)])
        #expect(span["op-9"]?.attributes == ["a": .int(10), "b": .int(11)])
        #expect(span["op-11"]?.kind == .server && span["op-11"]?.attributes == ["a": .int(16), "b": .int(17), "c": .int(18), "d": .int(19)])
        #expect(span["op-12"]?.kind == .unspecified && span["op-12"]?.attributes == ["a": .int(20), "b": .int(21), "c": .int(22), "d": .int(23)])
        #expect(span["op-13"]?.status.code == .error && span["op-13"]?.scope.name == "lib" && span["op-13"]?.traceState == "k=v")
        #expect(span["op-13"]?.attributes == ["a": .int(24), "b": .int(25), "c": .int(26), "d": .int(27)])
        #expect(span["op-14"]?.attributes == ["a": .int(28), "b": .int(29), "error": .string("false")] && span["op-14"]?.status.code == .unset)
        #expect(span["op-15"]?.attributes == ["a": .int(30), "b": .int(31)] && span["op-15"]?.status.code == .error)
        #expect(span["op-15"]?.scope.name == "" && span["op-15"]?.traceState == "", "no special tag carried over from an earlier span")
        #expect(span["op-16"]?.attributes == [:] && span["op-17"]?.attributes == ["a": .int(32)])
        #expect(span["op-19"]?.attributes == ["ключ": .string("три"), "ключ.второй": .string("четыре")])
        #expect(span["op-20"]?.attributes == ["hostname": .string("the span's own"), "a": .int(33)])
        #expect(span["op-22"]?.attributes == ["a": .int(34), "b": .int(35)])
    }

    // MARK: Thrift's rules

    @Test func thriftFieldsSentTwiceAndAProcessAfterItsSpansDecodeAsTheModelDoes() throws {
        func span(_ writer: inout ThriftWriter, id: Int64, parent: Int64, tagsTwice: Bool) {
            writer.fieldHeader(TType.i64, 1)
            writer.i64(7)
            writer.fieldHeader(TType.i64, 2)
            writer.i64(8)
            writer.fieldHeader(TType.i64, 3)
            writer.i64(id)
            writer.fieldHeader(TType.i64, 4)
            writer.i64(parent)
            writer.fieldHeader(TType.string, 5)
            writer.string("op-\(id)")
            writer.fieldHeader(TType.i32, 7)
            writer.i32(1)
            writer.fieldHeader(TType.i64, 8)
            writer.i64(-1_500_000)  // before 1970: the span is refused
            writer.fieldHeader(TType.i64, 8)
            writer.i64(Self.startMicros)  // the last one counts
            writer.fieldHeader(TType.i64, 9)
            writer.i64(10)
            writer.fieldHeader(TType.map, 99)  // unknown: skipped
            writer.raw(TType.string)
            writer.raw(TType.i64)
            writer.i32(1)
            writer.string("k")
            writer.i64(1)
            for round in 0..<(tagsTwice ? 2 : 1) {
                writer.fieldHeader(TType.list, 10)
                writer.listHeader(TType.struct, count: 1)
                writer.fieldHeader(TType.string, 3)  // the value before its type and key
                writer.string("v\(round)")
                writer.fieldHeader(TType.i32, 2)
                writer.i32(0)
                writer.fieldHeader(TType.string, 1)
                writer.string("round")
                writer.fieldHeader(TType.i64, 6)  // a LONG value on a STRING tag: ignored
                writer.i64(5)
                writer.stop()
            }
            writer.stop()
        }
        var writer = ThriftWriter()
        writer.fieldHeader(TType.list, 2)
        writer.listHeader(TType.struct, count: 1)
        span(&writer, id: 1, parent: 0, tagsTwice: false)
        writer.fieldHeader(TType.list, 2)  // a second spans list replaces the first
        writer.listHeader(TType.struct, count: 2)
        span(&writer, id: 2, parent: 0, tagsTwice: true)
        span(&writer, id: 3, parent: 2, tagsTwice: false)
        writer.fieldHeader(TType.struct, 1)  // the process after the spans
        writer.fieldHeader(TType.string, 1)
        writer.string("late")
        writer.stop()
        writer.stop()
        let converted = try #require(Self.expectThriftAlike(writer.bytes, "fields twice, process last"))
        #expect(converted.spans.map(\.name) == ["op-2", "op-3"])
        #expect(converted.spans.allSatisfy { $0.resource.serviceName == "late" })
        #expect(converted.spans[0].attributes == ["round": .string("v1")])
        // The parentSpanId, not among the (absent) references, is the parent.
        #expect(converted.spans[1].parentSpanID == SpanID(value: 2))
    }

    /// A span's second tags list replaces its first, special tags included, and a span without a tags list has no
    /// tags, whatever the spans before them had.
    @Test func thriftTagsListsSentAgainOrNotAtAllAmongSpansOfOneKind() throws {
        func span(_ writer: inout ThriftWriter, id: Int64, tagLists: [[(String, String)]]) {
            writer.fieldHeader(TType.i64, 1)
            writer.i64(id)
            writer.fieldHeader(TType.i64, 2)
            writer.i64(0)
            writer.fieldHeader(TType.i64, 3)
            writer.i64(id)
            writer.fieldHeader(TType.i64, 4)
            writer.i64(0)
            writer.fieldHeader(TType.string, 5)
            writer.string("op-\(id)")
            writer.fieldHeader(TType.i32, 7)
            writer.i32(1)
            writer.fieldHeader(TType.i64, 8)
            writer.i64(Self.startMicros)
            writer.fieldHeader(TType.i64, 9)
            writer.i64(10)
            for tags in tagLists {
                writer.fieldHeader(TType.list, 10)
                writer.listHeader(TType.struct, count: tags.count)
                for (key, value) in tags {
                    writer.fieldHeader(TType.string, 1)
                    writer.string(key)
                    writer.fieldHeader(TType.i32, 2)
                    writer.i32(0)
                    writer.fieldHeader(TType.string, 3)
                    writer.string(value)
                    writer.stop()
                }
            }
            writer.stop()
        }
        let spans: [[[(String, String)]]] = [
            [[("span.kind", "server"), ("alpha", "1"), ("beta", "2")]],
            [[("span.kind", "client"), ("alpha", "3"), ("beta", "4")], [("alpha", "5"), ("gamma", "6")]],
            [[("alpha", "7"), ("gamma", "8")]],
            [],
            [[("alpha", "9"), ("gamma", "10")]],
        ]
        var writer = ThriftWriter()
        writer.fieldHeader(TType.struct, 1)
        writer.fieldHeader(TType.string, 1)
        writer.string("svc")
        writer.stop()
        writer.fieldHeader(TType.list, 2)
        writer.listHeader(TType.struct, count: spans.count)
        for (index, tagLists) in spans.enumerated() { span(&writer, id: Int64(index + 1), tagLists: tagLists) }
        writer.stop()
        let converted = try #require(Self.expectThriftAlike(writer.bytes, "tags lists twice and none"))
        try #require(converted.spans.count == spans.count)
        #expect(converted.spans.map(\.kind) == [.server, .unspecified, .unspecified, .unspecified, .unspecified])
        #expect(converted.spans[1].attributes == ["alpha": .string("5"), "gamma": .string("6")])
        #expect(converted.spans[1].attributes.capacity == Attributes(minimumCapacity: 2).capacity, "reserved for the list that counts")
        #expect(converted.spans[2].attributes == ["alpha": .string("7"), "gamma": .string("8")])
        #expect(converted.spans[3].attributes == [:])
        #expect(converted.spans[4].attributes == ["alpha": .string("9"), "gamma": .string("10")])
    }

    @Test func randomThriftBatchesConvertAsTheModelDoes() {
        var random = SplitMix64(seed: 0x7a3_9e11)
        let keys = [
            "span.kind", "error", "otel.status_code", "otel.status_description", "otel.scope.name", "otel.library.name",
            "otel.scope.version", "otel.library.version", "w3c.tracestate", "event", "k", "ключ", "",
        ]
        func value(_ random: inout SplitMix64) -> ThriftTagValue {
            switch random.next() % 6 {
            case 0: .double([0.5, -0.0, .nan, .infinity][Int(random.next() % 4)])
            case 1: .bool(random.next() % 2 == 0)
            case 2: .long(Int64(bitPattern: random.next() % 3 == 0 ? random.next() : random.next() % 4))
            case 3: .binary((0..<Int(random.next() % 4)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            default: .string(["true", "false", "ERROR", "Ok", "server", "CONSUMER", "é", ""][Int(random.next() % 8)])
            }
        }
        func tags(_ random: inout SplitMix64) -> [(String, ThriftTagValue)] {
            (0..<Int(random.next() % 6)).map { _ in (keys[Int(random.next() % UInt64(keys.count))], value(&random)) }
        }
        func small(_ random: inout SplitMix64) -> Int64 { random.next() % 5 == 0 ? 0 : Int64(random.next() % 3) + 1 }
        func time(_ random: inout SplitMix64) -> Int64 {
            switch random.next() % 6 {
            case 0: -Int64(random.next() % 3_000_000)
            case 1: Int64.max - Int64(random.next() % 1000)
            case 2: 9_223_372_036_854_775  // microseconds just past the latest nanosecond
            default: Self.startMicros + Int64(random.next() % 1_000_000)
            }
        }
        for round in 0..<300 {
            let spans = (0..<Int(random.next() % 6)).map { index in
                ThriftSpan(
                    traceIDHigh: small(&random),
                    traceIDLow: small(&random),
                    spanID: small(&random),
                    parentSpanID: small(&random),
                    operationName: "op-\(index)",
                    references: (0..<Int(random.next() % 3)).map { _ in (Int32(random.next() % 2), small(&random), small(&random), small(&random)) },
                    flags: Int32(truncatingIfNeeded: random.next()),
                    startTimeMicros: time(&random),
                    durationMicros: random.next() % 4 == 0 ? time(&random) : Int64(random.next() % 5_000_000) - 1000,
                    tags: tags(&random),
                    logs: (0..<Int(random.next() % 3)).map { _ in (time(&random), tags(&random)) }
                )
            }
            let body = encodeThriftBatch(serviceName: round % 7 == 0 ? "" : "svc", processTags: tags(&random), spans: spans, seqNo: round % 2 == 0 ? 1 : nil)
            Self.expectThriftAlike(body, "round \(round)")
        }
    }

    // MARK: Protobuf's rules

    /// Protobuf wire bytes, written by hand to say what generated encoders never say.
    struct ProtoWriter {
        var bytes: [UInt8] = []

        mutating func varint(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
                value >>= 7
            }
            bytes.append(UInt8(value))
        }

        mutating func tag(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

        mutating func varintField(_ field: Int, _ value: UInt64) {
            tag(field, 0)
            varint(value)
        }

        mutating func bytesField(_ field: Int, _ value: [UInt8]) {
            tag(field, 2)
            varint(UInt64(value.count))
            bytes += value
        }

        mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
            var inner = ProtoWriter()
            build(&inner)
            bytesField(field, inner.bytes)
        }
    }

    @Test func protobufMergingAndUnknownValuesDecodeAsSwiftProtobufDoes() throws {
        let trace = Self.trace.bytes
        var request = ProtoWriter()
        request.message(1) { batch in
            batch.message(1) { span in
                span.bytesField(1, trace)
                span.bytesField(2, [0, 0, 0, 0, 0, 0, 0, 1])
                span.bytesField(3, Array("first".utf8))
                span.message(6) { $0.varintField(1, 1_700_000_000) }
                span.message(6) { $0.varintField(2, 5) }  // merged: seconds stay, nanos added
                span.message(8) { tag in
                    tag.bytesField(1, Array("span.kind".utf8))
                    tag.varintField(2, 9)  // unknown ValueType: the string value
                    tag.bytesField(3, Array("Producer".utf8))
                }
                span.message(8) { tag in
                    tag.bytesField(1, Array("n".utf8))
                    tag.varintField(2, 2)
                    tag.varintField(5, UInt64(bitPattern: -3))
                    tag.tag(4, 2)  // v_bool with the wrong wire type: skipped as unknown
                    tag.varint(0)
                }
                span.message(4) { ref in
                    ref.bytesField(1, trace)
                    ref.bytesField(2, [0, 0, 0, 0, 0, 0, 0, 7])
                    ref.varintField(3, 7)  // unknown SpanRefType: a child_of link, not the parent
                }
                span.tag(30, 3)  // an unknown group, skipped to its end
                span.varintField(1, 5)
                span.tag(30, 4)
                span.message(10) { $0.bytesField(1, Array("own".utf8)) }
                span.message(10) { $0.message(2) { tag in tag.bytesField(1, Array("zone".utf8)) } }  // merged into the own process
                span.bytesField(12, Array("a warning".utf8))
            }
            batch.message(2) { $0.bytesField(1, Array("early".utf8)) }
        }
        request.message(1) { batch in  // a second batch merges into the first
            batch.message(1) { span in
                span.bytesField(1, trace)
                span.bytesField(2, [0, 0, 0, 0, 0, 0, 0, 2])
                span.bytesField(3, Array("second".utf8))
                span.message(7) { $0.varintField(1, UInt64(bitPattern: -1)) }  // negative duration
            }
            batch.message(1) { span in
                span.bytesField(1, trace)
                span.bytesField(2, [0, 0, 0, 0, 0, 0, 0, 3])
                span.bytesField(3, Array("third".utf8))
                span.message(4) { $0.bytesField(1, [1, 2]) }
            }
            batch.message(1) { span in
                span.bytesField(1, trace)
                span.bytesField(2, [0, 0, 0, 0, 0, 0, 0, 4])
                span.bytesField(3, Array("fourth".utf8))
            }
            batch.message(2) { process in  // after the spans: merged into the batch's process, for every span
                process.bytesField(1, Array("late".utf8))
                process.message(2) { tag in
                    tag.bytesField(1, Array("host".utf8))
                    tag.bytesField(3, Array("h".utf8))
                }
            }
        }
        let converted = try #require(Self.expectProtoAlike(request.bytes, "merged request"))
        #expect(
            converted.problems == [
                "spans[1] (\"second\"): duration -1s is negative or out of range",
                "spans[2] (\"third\"): references[0] has ids of 2 and 0 bytes, want 16 and 8",
            ]
        )
        try #require(converted.spans.count == 2)
        let (first, fourth) = (converted.spans[0], converted.spans[1])
        #expect(first.startTimeUnixNano == 1_700_000_000_000_000_005 && first.kind == .producer)
        #expect(first.attributes == ["n": .int(-3)] && first.parentSpanID == nil)
        #expect(first.links.map(\.attributes) == [["opentracing.ref_type": .string("child_of")]])
        #expect(first.resource.attributes == ["service.name": .string("own"), "zone": .string("")])
        #expect(fourth.resource.attributes == ["service.name": .string("late"), "host": .string("h")])
    }

    @Test func malformedProtobufIsRefusedAsSwiftProtobufRefusesIt() {
        let valid = (try? Self.richBatch().proto.serializedBytes() as [UInt8]) ?? []
        var badUTF8InWarnings = ProtoWriter()
        badUTF8InWarnings.message(1) { $0.message(1) { $0.bytesField(12, [0xff]) } }
        var deepGroups = ProtoWriter()
        deepGroups.message(1) { batch in
            for _ in 0..<120 { batch.tag(40, 3) }
            for _ in 0..<120 { batch.tag(40, 4) }
        }
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("truncated", Array(valid.dropLast(3))),
            ("invalid UTF-8 in a warning", badUTF8InWarnings.bytes),
            ("groups nested 120 deep", deepGroups.bytes),
            ("end-group at message level", [0x0c]),
            ("a varint of 11 bytes", [0x08] + [UInt8](repeating: 0xff, count: 10) + [0x01]),
        ]
        for (name, bytes) in cases { Self.expectProtoAlike(bytes, name) }
        #expect((try? JaegerProtoWireDecoder.spans(badUTF8InWarnings.bytes, channel: .jaegerGRPC)) == nil)
        #expect((try? JaegerProtoWireDecoder.spans([UInt8](), channel: .jaegerGRPC))?.spanCount == 0)
    }

    @Test func randomProtobufRequestsConvertAsSwiftProtobufAndTheModelDo() throws {
        var random = SplitMix64(seed: 0x9a_e6e4)
        let keys = [
            "span.kind", "error", "otel.status_code", "otel.status_description", "otel.scope.name", "otel.library.name",
            "otel.scope.version", "otel.library.version", "w3c.tracestate", "event", "service.name", "k", "ключ",
        ]
        func bytes(_ random: inout SplitMix64, _ length: Int) -> Data {
            let size = random.next() % 6 == 0 ? Int(random.next() % 18) : length
            let zero = random.next() % 6 == 0
            return Data((0..<size).map { _ in zero ? 0 : UInt8(random.next() % 3) })
        }
        func tags(_ random: inout SplitMix64) -> [Jaeger_ApiV2_KeyValue] {
            (0..<Int(random.next() % 6)).map { _ in
                var tag = Jaeger_ApiV2_KeyValue()
                tag.key = keys[Int(random.next() % UInt64(keys.count))]
                tag.vType = Jaeger_ApiV2_ValueType(rawValue: Int(random.next() % 6)) ?? .string
                if random.next() % 2 == 0 { tag.vStr = ["true", "ERROR", "ok", "Client", "x"][Int(random.next() % 5)] }
                if random.next() % 2 == 0 { tag.vBool = true }
                if random.next() % 2 == 0 { tag.vInt64 = Int64(bitPattern: random.next()) }
                if random.next() % 2 == 0 { tag.vFloat64 = [.nan, 1.5, -0.0][Int(random.next() % 3)] }
                if random.next() % 2 == 0 { tag.vBinary = bytes(&random, 2) }
                return tag
            }
        }
        func time(_ random: inout SplitMix64) -> (Int64, Int32) {
            switch random.next() % 6 {
            case 0: (-Int64(random.next() % 10), Int32(random.next() % 1000))
            case 1: (Int64.max / 1_000_000_000 + Int64(random.next() % 3) - 1, Int32(random.next() % 1_000_000_000))
            case 2: (1_700_000_000, -Int32(random.next() % 1000))
            default: (1_700_000_000 + Int64(random.next() % 100), Int32(random.next() % 1_000_000_000))
            }
        }
        func process(_ random: inout SplitMix64) -> Jaeger_ApiV2_Process {
            var process = Jaeger_ApiV2_Process()
            process.serviceName = ["", "svc", "other"][Int(random.next() % 3)]
            process.tags = tags(&random)
            return process
        }
        for round in 0..<300 {
            var parts: [[UInt8]] = []
            for _ in 0..<(1 + Int(random.next() % 2)) {
                var request = Jaeger_ApiV2_PostSpansRequest()
                if random.next() % 3 != 0 { request.batch.process = process(&random) }
                request.batch.spans = (0..<Int(random.next() % 5)).map { index in
                    var span = Jaeger_ApiV2_Span()
                    span.traceID = bytes(&random, 16)
                    span.spanID = bytes(&random, 8)
                    span.operationName = "op-\(index)"
                    span.flags = UInt32(truncatingIfNeeded: random.next())
                    let (startSeconds, startNanos) = time(&random)
                    span.startTime = Google_Protobuf_Timestamp(seconds: startSeconds, nanos: startNanos)
                    let (durationSeconds, durationNanos) = random.next() % 4 == 0 ? time(&random) : (0, Int32(random.next() % 1_000_000))
                    span.duration = Google_Protobuf_Duration(seconds: durationSeconds, nanos: durationNanos)
                    span.references = (0..<Int(random.next() % 3)).map { _ in
                        var reference = Jaeger_ApiV2_SpanRef()
                        reference.traceID = random.next() % 2 == 0 ? span.traceID : bytes(&random, 16)
                        reference.spanID = bytes(&random, 8)
                        reference.refType = Jaeger_ApiV2_SpanRefType(rawValue: Int(random.next() % 3)) ?? .childOf
                        return reference
                    }
                    span.tags = tags(&random)
                    span.logs = (0..<Int(random.next() % 3)).map { _ in
                        var log = Jaeger_ApiV2_Log()
                        let (seconds, nanos) = time(&random)
                        log.timestamp = Google_Protobuf_Timestamp(seconds: seconds, nanos: nanos)
                        log.fields = tags(&random)
                        return log
                    }
                    if random.next() % 4 == 0 { span.process = process(&random) }
                    return span
                }
                parts.append(try request.serializedBytes())
            }
            // Two serialized requests back to back are one request whose batches merge.
            Self.expectProtoAlike(parts.flatMap { $0 }, "round \(round)")
        }
    }
}

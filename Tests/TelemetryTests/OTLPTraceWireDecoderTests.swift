import Foundation
import OTelBenchProtos
import SwiftProtobuf
import TestSupport
import Testing
import Workload

@testable import Telemetry

/// ``OTLPTraceWireDecoder`` against the generated decoder followed by ``OTLPConversion/traces(_:channel:)``: for
/// every input both give equal spans, problems and rejected counts, or both refuse the bytes. For every input the
/// generated decoder takes, ``OTLPJSONTranscoder`` writes the same OTLP/JSON as the generated encoder.
@Suite struct OTLPTraceWireDecoderTests {
    private typealias Request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
    private typealias ProtoSpan = Opentelemetry_Proto_Trace_V1_Span
    private typealias KeyValue = Opentelemetry_Proto_Common_V1_KeyValue
    private typealias AnyValue = Opentelemetry_Proto_Common_V1_AnyValue

    // MARK: Payloads of the Python SDK

    @Test func pythonSDKPayloadsDecodeAsTheGeneratedCodeDoes() throws {
        var payloads: [[UInt8]] = []
        for seed in 1...4 { payloads += try pythonSDKPayloads(seed: seed) }
        #expect(payloads.count >= 8)
        var spans = 0
        for payload in payloads {
            let outcome = try #require(expectEquivalent(payload, "Python SDK payload"))
            spans += outcome.spans
        }
        #expect(spans > 100, "the SDK's payloads hold spans")
        // The same payloads, structurally shuffled and broken.
        var random = SeededRandom(seed: 11)
        var counts = OutcomeCounts()
        for payload in payloads {
            for _ in 0..<60 {
                counts.add(expectEquivalent(ProtobufMutations.mutated(payload, &random), "mutated Python SDK payload"))
            }
        }
        #expect(counts.decoded > 50 && counts.refused > 50, "\(counts)")
    }

    // MARK: Random well-formed requests

    @Test func randomRequestsDecodeAsTheGeneratedCodeDoes() throws {
        var random = SeededRandom(seed: 2024)
        var counts = OutcomeCounts()
        var problems = 0
        for _ in 0..<1500 {
            let bytes: [UInt8] = try randomRequest(&random).serializedBytes()
            let outcome = expectEquivalent(bytes, "random request")
            counts.add(outcome)
            problems += outcome?.problems ?? 0
        }
        #expect(counts.decoded == 1500, "generated requests are valid protobuf: \(counts)")
        #expect(problems > 100, "invalid ids are among the random requests")
    }

    @Test func structurallyMutatedRequestsDecodeAsTheGeneratedCodeDoes() throws {
        // Fields reordered, repeated (protobuf merges a singular message sent twice, a scalar keeps its last value)
        // and dropped, at every depth.
        var random = SeededRandom(seed: 77)
        var counts = OutcomeCounts()
        for _ in 0..<1500 {
            let bytes: [UInt8] = try randomRequest(&random).serializedBytes()
            counts.add(expectEquivalent(ProtobufMutations.structurallyMutated(bytes, &random, depth: 0), "reshuffled request"))
        }
        #expect(counts.decoded > 1000, "\(counts)")
    }

    // MARK: Random and mutated bytes

    @Test func mutatedBytesDecodeOrFailAsTheGeneratedCodeDoes() throws {
        var random = SeededRandom(seed: 99)
        var counts = OutcomeCounts()
        for _ in 0..<400 {
            let bytes: [UInt8] = try randomRequest(&random).serializedBytes()
            for _ in 0..<8 { counts.add(expectEquivalent(ProtobufMutations.mutated(bytes, &random), "mutated request")) }
        }
        #expect(counts.decoded > 300 && counts.refused > 300, "\(counts)")
    }

    @Test func randomBytesDecodeOrFailAsTheGeneratedCodeDoes() {
        var random = SeededRandom(seed: 5)
        var counts = OutcomeCounts()
        for _ in 0..<5000 {
            let length = random.below(64)
            // Biased towards bytes that are tags and lengths of the request's fields.
            let alphabet: [UInt8] = [0x0a, 0x12, 0x1a, 0x22, 0x2a, 0x08, 0x09, 0x0d, 0x0b, 0x0c, 0x00, 0x01, 0x02, 0x10, 0x80, 0xff, 0x7f]
            let bytes = (0..<length).map { _ in random.chance(0.6) ? alphabet[random.below(alphabet.count)] : UInt8(random.below(256)) }
            counts.add(expectEquivalent(bytes, "random bytes"))
        }
        #expect(counts.decoded > 100 && counts.refused > 1000, "\(counts)")
    }

    // MARK: Rules that must hold exactly

    @Test func nestingIsLimitedAsTheGeneratedCodeLimitsIt() throws {
        // Request > ResourceSpans > ScopeSpans > Span > KeyValue > AnyValue, then 2 messages per array level.
        var refusedAt: Int?
        for levels in 40...52 {
            var value = AnyValue()
            value.stringValue = "leaf"
            for _ in 0..<levels {
                var array = AnyValue()
                array.arrayValue.values = [value]
                value = array
            }
            var span = validSpan(name: "deep")
            span.attributes = [keyValue("deep", value)]
            let outcome = expectEquivalent(try request([span]).serializedBytes(), "\(levels) nested arrays")
            if outcome == nil, refusedAt == nil { refusedAt = levels }
        }
        #expect(refusedAt != nil, "the limit lies within the levels tried")
        // Groups in unknown fields count against the same limit.
        for groups in [90, 95, 96, 97, 98, 120] {
            var unknown: [UInt8] = []
            for _ in 0..<groups { unknown += [0xfb, 0x07] }  // start group 127
            for _ in 0..<groups { unknown += [0xfc, 0x07] }  // end group 127
            let span = try validSpan(name: "groups").serializedBytes() + unknown
            let outcome = expectEquivalent(Wire.field(1, Wire.field(2, Wire.field(2, span))), "\(groups) nested groups")
            #expect((outcome != nil) == (groups <= 96), "request, resource spans, scope spans, span and 96 groups make 100")
        }
    }

    @Test func singularMessagesSentTwiceAreMerged() throws {
        let spanBytes: [UInt8] = try validSpan(name: "merged").serializedBytes()
        let statusError = Wire.field(15, Wire.varintField(3, 2))
        let statusMessage = Wire.field(15, Wire.field(2, Array("bad".utf8)))
        let listA = Wire.field(9, Wire.field(1, Array("k".utf8)) + Wire.field(2, Wire.field(6, Wire.field(1, Wire.keyValue("a", "1")))))
        let listB = Wire.field(9, Wire.field(1, Array("k".utf8)) + Wire.field(2, Wire.field(6, Wire.field(1, Wire.keyValue("b", "2")))))
        // The value of one KeyValue sent twice: both key-value lists are merged into one.
        let mergedValue = Wire.field(
            9,
            Wire.field(1, Array("m".utf8)) + Wire.field(2, Wire.field(6, Wire.field(1, Wire.keyValue("a", "1"))))
                + Wire.field(2, Wire.field(6, Wire.field(1, Wire.keyValue("b", "2"))))
        )
        let span = spanBytes + statusError + statusMessage + listA + listB + mergedValue
        let scope = Wire.field(1, Wire.field(1, Array("first".utf8)))
        let scopeAgain = Wire.field(1, Wire.field(2, Array("2.0".utf8)))
        // The resource and the scope come after the spans they apply to.
        let scopeSpans = Wire.field(2, span) + scope + scopeAgain
        let resource = Wire.field(1, Wire.field(1, Wire.keyValue("service.name", "late")))
        let bytes = Wire.field(1, Wire.field(2, scopeSpans) + resource)
        let result = try #require(expectEquivalent(bytes, "merged fields"))
        #expect(result.spans == 1)
        let decoded = try OTLPTraceWireDecoder.traces(bytes, channel: .otlpGRPC).batch.spans[0]
        #expect(decoded.status == SpanStatus(code: .error, message: "bad"))
        #expect(decoded.scope.name == "first" && decoded.scope.version == "2.0")
        #expect(decoded.resource.serviceName == "late")
        #expect(decoded.attributes["k"] == .keyValueList(["b": .string("2")]), "a later KeyValue replaces the earlier one")
        #expect(decoded.attributes["m"] == .keyValueList(["a": .string("1"), "b": .string("2")]), "one AnyValue's lists merge")
    }

    @Test func knownFieldsWithAnotherWireTypeAreSkipped() throws {
        // name (5) as a varint, trace_id (1) as fixed32, kind (6) as a string: all three unknown to swift-protobuf.
        let extra = [0x28, 0x07] + [0x0d, 1, 2, 3, 4] + Wire.field(6, Array("x".utf8))
        let bytes = Wire.field(1, Wire.field(2, Wire.field(2, try validSpan(name: "kept").serializedBytes() + extra)))
        let result = try #require(expectEquivalent(bytes, "wrong wire types"))
        #expect(result.spans == 1 && result.problems == 0)
    }

    @Test func problemsNameTheSpanAndTheField() throws {
        var zero = validSpan(name: "GET /tasks")
        zero.traceID = Data(count: 16)
        var short = validSpan(name: "short")
        short.spanID = Data([1, 2, 3])
        var link = validSpan(name: "linked")
        var badLink = ProtoSpan.Link()
        badLink.traceID = Data(repeating: 1, count: 16)
        badLink.spanID = Data(count: 8)
        link.links = [badLink]
        let bytes: [UInt8] = try request([validSpan(name: "ok"), zero, short, link]).serializedBytes()
        expectEquivalent(bytes, "invalid ids")
        let result = try OTLPTraceWireDecoder.traces(bytes, channel: .otlpGRPC)
        #expect(result.rejectedItems == 3)
        #expect(
            result.problems == [
                "resourceSpans[0].scopeSpans[0].spans[1] (\"GET /tasks\"): trace_id is all zero, which W3C Trace Context calls invalid",
                "resourceSpans[0].scopeSpans[0].spans[2] (\"short\"): span_id has 3 bytes, want 8",
                "resourceSpans[0].scopeSpans[0].spans[3] (\"linked\"): links[0].span_id is all zero, which W3C Trace Context calls invalid",
            ]
        )
    }

    @Test func invalidUTF8InAStringThatIsNotKeptIsRefused() throws {
        let schemaURL = Wire.field(3, [0x68, 0xc3, 0x28])  // "h" then a broken 2-byte sequence
        let bytes = Wire.field(1, Wire.field(2, Wire.field(2, try validSpan(name: "x").serializedBytes())) + schemaURL)
        #expect(expectEquivalent(bytes, "schema_url not UTF-8") == nil)
        #expect(throws: ProtobufWireError.self) { try OTLPTraceWireDecoder.traces(bytes, channel: .otlpGRPC) }
    }

    @Test func theBenchmarkPayloadDecodesAsTheGeneratedCodeDoes() throws {
        var factory = OTLPPayloadFactory(seed: 42)
        let bytes: [UInt8] = try factory.traces(spanCount: 512, attributesPerSpan: 10).serializedBytes()
        let outcome = try #require(expectEquivalent(bytes, "benchmark payload"))
        #expect(outcome.spans == 512)
    }

    /// Spans of one kind carry the same keys in the same order, and the decoder then builds their dictionaries from
    /// the previous span's layout: each span still gets its own values, whatever the keys that came before, and a
    /// dictionary of the capacity a fresh one for that many keys has (which is what ``ResidentCost`` charges).
    @Test func spansWithTheSameKeysGetTheirOwnValues() throws {
        let shapes: [[(String, AnyValue)]] = [
            [("a", .with { $0.intValue = 1 }), ("b", .with { $0.stringValue = "x" }), ("c", .with { $0.boolValue = true })],
            [("a", .with { $0.intValue = 2 }), ("b", .with { $0.stringValue = "a string longer than fifteen bytes" }), ("c", .with { $0.doubleValue = 0.5 })],
            [("a", .with { $0.intValue = 3 }), ("b", .with { $0.stringValue = "z" }), ("c", .with { $0.bytesValue = Data([1, 2]) })],
            [("b", .with { $0.intValue = 4 }), ("a", .with { $0.intValue = 5 }), ("c", .with { $0.intValue = 6 })],
            [("a", .with { $0.intValue = 7 }), ("b", .with { $0.intValue = 8 }), ("b", .with { $0.intValue = 9 })],
            [("a", .with { $0.intValue = 10 }), ("b", .with { $0.intValue = 11 }), ("c", .with { $0.intValue = 12 })],
            [("a", .with { $0.intValue = 13 }), ("b", .with { $0.intValue = 14 })],
            [("a", .with { $0.intValue = 15 }), ("b", .with { $0.intValue = 16 }), ("c", .with { $0.intValue = 17 }), ("d", .with { $0.intValue = 18 })],
            [("a", .with { $0.intValue = 19 })],
            [],
            [("a", .with { $0.intValue = 20 }), ("b", .with { $0.intValue = 21 }), ("c", .with { $0.intValue = 22 }), ("d", .with { $0.intValue = 23 })],
        ]
        let spans = shapes.enumerated().map { index, attributes in
            var span = validSpan(name: "span-\(index)")
            span.attributes = attributes.map { keyValue($0.0, $0.1) }
            return span
        }
        let bytes: [UInt8] = try request(spans).serializedBytes()
        let outcome = try #require(expectEquivalent(bytes, "spans with the same keys"))
        #expect(outcome.spans == shapes.count)
        let decoded = try OTLPTraceWireDecoder.traces(bytes, channel: .otlpGRPC).batch.spans
        #expect(decoded[1].attributes == ["a": .int(2), "b": .string("a string longer than fifteen bytes"), "c": .double(0.5)])
        #expect(decoded[4].attributes == ["a": .int(7), "b": .int(9)], "a repeated key: the last value wins")
        #expect(decoded[5].attributes == ["a": .int(10), "b": .int(11), "c": .int(12)])
        #expect(decoded[10].attributes == ["a": .int(20), "b": .int(21), "c": .int(22), "d": .int(23)])
        for (span, shape) in zip(decoded, shapes) {
            var fresh = shape.count > 1 ? Attributes(minimumCapacity: shape.count) : Attributes()
            for (key, _) in shape { fresh[key] = .empty }
            #expect(span.attributes.count == fresh.count)
            #expect(span.attributes.capacity == fresh.capacity, "\(span.name)")
        }
    }

    // MARK: Comparison

    struct Outcome {
        var spans: Int
        var problems: Int
    }

    struct OutcomeCounts: CustomStringConvertible {
        var decoded = 0
        var refused = 0
        mutating func add(_ outcome: Outcome?) {
            if outcome == nil { refused += 1 } else { decoded += 1 }
        }
        var description: String { "\(decoded) decoded, \(refused) refused" }
    }

    /// Expects both decoders to agree on `bytes`; returns what they decoded, or `nil` when both refused them.
    @discardableResult
    private func expectEquivalent(_ bytes: [UInt8], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) -> Outcome? {
        let message = try? Request(serializedBytes: bytes)
        let reference = message.map { OTLPConversion.traces($0, channel: .otlpHTTPProtobuf) }
        if let message { expectSameJSON(bytes, as: message, what, sourceLocation: sourceLocation) }
        let decoded: ConversionResult?
        do {
            decoded = try OTLPTraceWireDecoder.traces(bytes, channel: .otlpHTTPProtobuf)
        } catch {
            decoded = nil
            if reference != nil {
                Issue.record("\(what): the wire decoder refused bytes the generated code takes: \(error) in \(hex(bytes))", sourceLocation: sourceLocation)
            }
        }
        guard let reference, let decoded else {
            if decoded != nil { Issue.record("\(what): the wire decoder took bytes the generated code refuses: \(hex(bytes))", sourceLocation: sourceLocation) }
            return nil
        }
        #expect(decoded.rejectedItems == reference.rejectedItems, "\(what)", sourceLocation: sourceLocation)
        #expect(decoded.problems == reference.problems, "\(what)", sourceLocation: sourceLocation)
        #expect(decoded.batch.spans.count == reference.batch.spans.count, "\(what)", sourceLocation: sourceLocation)
        for (index, (mine, theirs)) in zip(decoded.batch.spans, reference.batch.spans).enumerated() where !Self.same(mine, theirs) {
            Issue.record("\(what): span \(index) differs:\n\(mine)\nvs. the generated code's\n\(theirs)\nin \(hex(bytes))", sourceLocation: sourceLocation)
            break
        }
        return Outcome(spans: reference.batch.spans.count, problems: reference.problems.count)
    }

    /// Expects ``OTLPJSONTranscoder`` to write, from `bytes`, exactly the OTLP/JSON a recording writes for
    /// `message` (what the generated code decodes them to).
    private func expectSameJSON(_ bytes: [UInt8], as message: Request, _ what: String, sourceLocation: SourceLocation) {
        do {
            let expected = try RecordedRequest.traces(message).generatedEncoderJSON()
            let transcoded = try OTLPJSONTranscoder.json(bytes, signal: .traces)
            guard transcoded != expected else { return }
            Issue.record(
                "\(what): the transcoded JSON differs:\n\(String(decoding: transcoded, as: UTF8.self))\nvs. the generated code's\n\(String(decoding: expected, as: UTF8.self))\nin \(hex(bytes))",
                sourceLocation: sourceLocation
            )
        } catch {
            Issue.record("\(what): transcoding bytes the generated code takes failed: \(error) in \(hex(bytes))", sourceLocation: sourceLocation)
        }
    }

    /// Spans equal field by field, doubles by their bits (so that NaNs compare).
    private static func same(_ lhs: Span, _ rhs: Span) -> Bool {
        var left = lhs
        var right = rhs
        guard
            same(left.attributes, right.attributes), same(left.resource.attributes, right.resource.attributes),
            same(left.scope.attributes, right.scope.attributes), left.events.count == right.events.count,
            left.links.count == right.links.count
        else { return false }
        for (leftEvent, rightEvent) in zip(left.events, right.events) where !same(leftEvent.attributes, rightEvent.attributes) { return false }
        for (leftLink, rightLink) in zip(left.links, right.links) where !same(leftLink.attributes, rightLink.attributes) { return false }
        left.clearAttributes()
        right.clearAttributes()
        return left == right
    }

    private static func same(_ lhs: Attributes, _ rhs: Attributes) -> Bool {
        lhs.count == rhs.count && lhs.allSatisfy { key, value in rhs[key].map { same(value, $0) } ?? false }
    }

    private static func same(_ lhs: AttributeValue, _ rhs: AttributeValue) -> Bool {
        switch (lhs, rhs) {
        case (.double(let left), .double(let right)): left.bitPattern == right.bitPattern
        case (.array(let left), .array(let right)): left.count == right.count && zip(left, right).allSatisfy { same($0, $1) }
        case (.keyValueList(let left), .keyValueList(let right)): same(left, right)
        default: lhs == rhs
        }
    }

    private func hex(_ bytes: [UInt8]) -> String {
        bytes.count > 400 ? "\(bytes.count) bytes" : HexCoding.encode(bytes)
    }

    // MARK: Random requests

    private func randomRequest(_ random: inout SeededRandom) throws -> Request {
        var request = Request()
        for _ in 0..<random.below(3) + (random.chance(0.9) ? 1 : 0) {
            var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            if random.chance(0.8) {
                resourceSpans.resource.attributes = randomAttributes(&random, depth: 0)
                if random.chance(0.2) { resourceSpans.resource.droppedAttributesCount = UInt32(random.below(5)) }
                if random.chance(0.15) {
                    var entity = Opentelemetry_Proto_Common_V1_EntityRef()
                    entity.type = "service"
                    entity.idKeys = ["service.name"]
                    resourceSpans.resource.entityRefs = [entity]
                }
            }
            if random.chance(0.2) { resourceSpans.schemaURL = "https://opentelemetry.io/schemas/1.26.0" }
            for _ in 0..<random.below(3) + 1 {
                var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
                if random.chance(0.7) {
                    scopeSpans.scope.name = randomString(&random)
                    scopeSpans.scope.version = random.chance(0.5) ? "1.0.\(random.below(9))" : ""
                    if random.chance(0.3) { scopeSpans.scope.attributes = randomAttributes(&random, depth: 1) }
                }
                scopeSpans.spans = try (0..<random.below(6)).map { _ in try withUnknownFields(randomSpan(&random), &random) }
                resourceSpans.scopeSpans.append(scopeSpans)
            }
            request.resourceSpans.append(resourceSpans)
        }
        return request
    }

    private func randomSpan(_ random: inout SeededRandom) throws -> ProtoSpan {
        var span = ProtoSpan()
        span.traceID = randomID(&random, length: 16)
        span.spanID = randomID(&random, length: 8)
        if random.chance(0.6) { span.parentSpanID = randomID(&random, length: 8) }
        if random.chance(0.2) { span.traceState = "vendor=\(random.below(100))" }
        if random.chance(0.5) { span.flags = UInt32(truncatingIfNeeded: random.next()) }
        span.name = randomString(&random)
        span.kind = ProtoSpan.SpanKind(rawValue: [0, 1, 2, 3, 4, 5, 6, -1, Int(Int32.max)][random.below(9)])!
        span.startTimeUnixNano = random.next()
        span.endTimeUnixNano = random.chance(0.5) ? span.startTimeUnixNano &+ UInt64(random.below(1_000_000)) : random.next()
        span.attributes = randomAttributeList(&random, depth: 0)
        if random.chance(0.2) { span.droppedAttributesCount = UInt32(truncatingIfNeeded: random.next()) }
        for _ in 0..<(random.chance(0.3) ? random.below(3) + 1 : 0) {
            var event = ProtoSpan.Event()
            event.timeUnixNano = random.next()
            event.name = randomString(&random)
            event.attributes = randomAttributeList(&random, depth: 1)
            event.droppedAttributesCount = UInt32(random.below(3))
            span.events.append(try withUnknownFields(event, &random))
        }
        for _ in 0..<(random.chance(0.3) ? random.below(3) + 1 : 0) {
            var link = ProtoSpan.Link()
            link.traceID = randomID(&random, length: 16)
            link.spanID = randomID(&random, length: 8)
            if random.chance(0.3) { link.traceState = "a=b" }
            link.attributes = randomAttributeList(&random, depth: 1)
            link.flags = UInt32(random.below(0x400))
            span.links.append(link)
        }
        if random.chance(0.5) {
            span.status.code = Opentelemetry_Proto_Trace_V1_Status.StatusCode(rawValue: [0, 1, 2, 3, -7][random.below(5)])!
            span.status.message = random.chance(0.5) ? randomString(&random) : ""
        }
        return span
    }

    /// A well-formed id most of the time; otherwise all zero, empty, or one byte too short or long.
    private func randomID(_ random: inout SeededRandom, length: Int) -> Data {
        switch random.below(20) {
        case 0: Data(count: length)
        case 1: Data()
        case 2: Data((0..<length - 1).map { _ in UInt8(random.below(256)) })
        case 3: Data((0..<length + 1).map { _ in UInt8(random.below(256)) })
        default: Data((0..<length).map { _ in UInt8(random.below(255) + 1) })
        }
    }

    private func randomString(_ random: inout SeededRandom) -> String {
        [
            "", "GET /tasks", "db.query", "ünïcødé 😀", "名前", String(repeating: "x", count: random.below(200)), "k\(random.below(6))",
            "\t\"quoted\"\\ \u{0}\u{1f}\u{7f}\u{80}\u{9f}\u{a0}\u{2028}/",
        ][random.below(8)]
    }

    private func randomAttributeList(_ random: inout SeededRandom, depth: Int) -> [KeyValue] {
        (0..<random.below(depth == 0 ? 8 : 3)).map { _ in
            var keyValue = KeyValue()
            keyValue.key = "k\(random.below(6))"  // repeated keys: the last value wins
            if random.chance(0.9) { keyValue.value = randomValue(&random, depth: depth) }
            if random.chance(0.05) { keyValue.keyStrindex = Int32(random.below(10)) }
            return keyValue
        }
    }

    private func randomAttributes(_ random: inout SeededRandom, depth: Int) -> [KeyValue] { randomAttributeList(&random, depth: depth) }

    private func randomValue(_ random: inout SeededRandom, depth: Int) -> AnyValue {
        var value = AnyValue()
        switch random.below(depth < 3 ? 10 : 7) {
        case 0: value.stringValue = randomString(&random)
        case 1: value.boolValue = random.chance(0.5)
        case 2: value.intValue = Int64(bitPattern: random.next())
        case 3: value.doubleValue = [0, -0.0, 1.5, .infinity, -1e300, .nan][random.below(6)]
        case 4: value.bytesValue = Data((0..<random.below(20)).map { _ in UInt8(random.below(256)) })
        case 5: value.stringValueStrindex = Int32(random.below(5))
        case 6: break  // no value set
        case 7, 8: value.arrayValue.values = (0..<random.below(4)).map { _ in randomValue(&random, depth: depth + 1) }
        default: value.kvlistValue.values = randomAttributeList(&random, depth: depth + 1)
        }
        return value
    }

    /// `message` with, sometimes, an unknown field (or a known number with another wire type, or a group)
    /// that swift-protobuf keeps and writes back.
    private func withUnknownFields<Message: SwiftProtobuf.Message>(_ message: Message, _ random: inout SeededRandom) throws -> Message {
        guard random.chance(0.25) else { return message }
        let number = [1, 2, 5, 6, 7, 9, 15, 16, 17, 99, 1000, 536_870_911][random.below(12)]
        let wireType = [0, 1, 2, 3, 5][random.below(5)]
        var field = Wire.varint(UInt64(number << 3 | wireType))
        switch wireType {
        case 0: field += Wire.varint(random.next())
        case 1: field += (0..<8).map { _ in UInt8(random.below(256)) }
        case 2: field += Wire.lengthPrefixed((0..<random.below(10)).map { _ in UInt8(random.below(128)) })
        case 3: field += Wire.varintField(1, 7) + Wire.varint(UInt64(number << 3 | 4))
        default: field += (0..<4).map { _ in UInt8(random.below(256)) }
        }
        // A known number with its own wire type may make the message invalid (bad UTF-8): then keep it as it was.
        return (try? Message(serializedBytes: try message.serializedBytes() as [UInt8] + field)) ?? message
    }

    // MARK: Fixtures

    private func validSpan(name: String) -> ProtoSpan {
        var span = ProtoSpan()
        span.traceID = Data(repeating: 0xab, count: 16)
        span.spanID = Data(repeating: 0xcd, count: 8)
        span.name = name
        span.kind = .server
        return span
    }

    private func request(_ spans: [ProtoSpan]) -> Request {
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.spans = spans
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resourceSpans.scopeSpans = [scopeSpans]
        var request = Request()
        request.resourceSpans = [resourceSpans]
        return request
    }

    private func keyValue(_ key: String, _ value: AnyValue) -> KeyValue {
        var keyValue = KeyValue()
        keyValue.key = key
        keyValue.value = value
        return keyValue
    }

    /// Requests the OpenTelemetry Python SDK encodes (its OTLP exporters' `encode_spans`), one per line of hex.
    private func pythonSDKPayloads(seed: Int) throws -> [[UInt8]] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let python = root.appendingPathComponent(".venv-test/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw PythonUnavailable(description: "\(python.path) is missing: run scripts/install-test-deps.sh (scripts/test.sh does)")
        }
        let process = Process()
        process.executableURL = python
        process.arguments = ["-c", Self.pythonEncoder, String(seed)]
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw PythonUnavailable(description: "the encoder script exited \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { HexCoding.decode($0) }
    }

    struct PythonUnavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// Makes spans of every kind with the Python SDK (attributes of every type, events, links, exceptions,
    /// remote parents, trace state, two resources, several scopes), then prints `encode_spans` of all of them
    /// and of groups of seven, as hex.
    private static let pythonEncoder = """
        import random, sys
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from opentelemetry.trace import SpanContext, TraceFlags, TraceState, NonRecordingSpan, Link, SpanKind, Status, StatusCode
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

        rng = random.Random(int(sys.argv[1]))
        sink = InMemorySpanExporter()
        providers = []
        for service in ["checkout", "payments \\u00e9\\u4e2d"]:
            p = TracerProvider(resource=Resource.create({"service.name": service, "deployment.environment": "test",
                                                         "host.cores": rng.randint(1, 64), "ratio": 0.5, "tags": ["a", "b"]}))
            p.add_span_processor(SimpleSpanProcessor(sink))
            providers.append(p)
        kinds = [SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER]
        def value():
            c = rng.randrange(9)
            if c == 0: return rng.choice(["", "x", "GET /tasks", "\\u00fcnic\\u00f8de \\U0001F600", "a" * rng.randint(1, 300)])
            if c == 1: return rng.random() < 0.5
            if c == 2: return rng.randint(-2**63, 2**63 - 1)
            if c == 3: return rng.uniform(-1e9, 1e9)
            if c == 4: return [rng.choice(["a", "b", ""]) for _ in range(rng.randint(0, 4))]
            if c == 5: return [rng.randint(-5, 5) for _ in range(rng.randint(0, 4))]
            if c == 6: return [rng.random() < 0.5 for _ in range(rng.randint(0, 4))]
            if c == 7: return [rng.uniform(-1, 1) for _ in range(rng.randint(0, 4))]
            return rng.randint(0, 1000)
        def attrs(n):
            return {f"k{rng.randint(0, 20)}.{i}": value() for i in range(n)}
        for p in providers:
            for scope in range(rng.randint(1, 3)):
                tracer = p.get_tracer(f"scope-{scope}", f"1.{scope}.0", attributes={"scope.attr": scope} if scope else None)
                for _ in range(rng.randint(1, 12)):
                    ctx = None
                    if rng.random() < 0.4:
                        remote = SpanContext(trace_id=rng.getrandbits(128) or 1, span_id=rng.getrandbits(64) or 1, is_remote=True,
                                             trace_flags=TraceFlags(TraceFlags.SAMPLED),
                                             trace_state=TraceState([("vendor", "v%d" % rng.randint(0, 9))]))
                        ctx = trace.set_span_in_context(NonRecordingSpan(remote))
                    links = [Link(SpanContext(trace_id=rng.getrandbits(128) or 1, span_id=rng.getrandbits(64) or 1, is_remote=True),
                                  attrs(rng.randint(0, 3))) for _ in range(rng.randint(0, 2))]
                    start = 1_700_000_000_000_000_000 + rng.randint(0, 10**12)
                    span = tracer.start_span(rng.choice(["GET /tasks", "db.query", "", "\\u5904\\u7406"]), context=ctx,
                                             kind=rng.choice(kinds), attributes=attrs(rng.randint(0, 12)), links=links, start_time=start)
                    for _ in range(rng.randint(0, 3)):
                        span.add_event(rng.choice(["retry", "cache miss", ""]), attrs(rng.randint(0, 3)), timestamp=start + rng.randint(0, 1000))
                    if rng.random() < 0.3:
                        try:
                            raise ValueError("boom %d" % rng.randint(0, 9))
                        except ValueError as e:
                            span.record_exception(e)
                    r = rng.random()
                    if r < 0.2: span.set_status(Status(StatusCode.ERROR, "failed"))
                    elif r < 0.4: span.set_status(Status(StatusCode.OK))
                    child = tracer.start_span("child", context=trace.set_span_in_context(span), attributes=attrs(2), start_time=start + 1)
                    child.end(end_time=start + 2)
                    span.end(end_time=start + rng.randint(1, 10**9))
        spans = sink.get_finished_spans()
        print(encode_spans(spans).SerializeToString().hex())
        for i in range(0, len(spans), 7):
            print(encode_spans(spans[i:i + 7]).SerializeToString().hex())
        """
}

extension Span {
    /// The span with every attribute map emptied (compared separately).
    fileprivate mutating func clearAttributes() {
        attributes = [:]
        resource.attributes = [:]
        scope.attributes = [:]
        for index in events.indices { events[index].attributes = [:] }
        for index in links.indices { links[index].attributes = [:] }
    }
}

import Foundation
import Intake
import OTelBenchProtos
import Scenario
import TestSupport
import Testing

/// The jaeger.thrift Batch reader, against bodies built by a separate writer, truncations, hostile
/// lengths and random mutations.
@Suite struct ThriftReaderTests {
    static let traceHigh = SampleThriftBatch.traceHigh
    static let traceLow = SampleThriftBatch.traceLow

    static func sampleBatch() -> [UInt8] { SampleThriftBatch.bytes() }

    @Test func batchIsDecodedFieldByField() throws {
        let batch = try JaegerThriftBatch.decode(Self.sampleBatch())
        #expect(batch.process.serviceName == "payments")
        #expect(batch.process.tags.map(\.key) == ["hostname", "cores"])
        #expect(batch.process.tags[1].vType == .int64 && batch.process.tags[1].vInt64 == 2)
        #expect(batch.spans.count == 2)
        let charge = batch.spans[0]
        #expect(charge.traceID.map { String(format: "%02x", $0) }.joined() == "0af7651916cd43dd8448eb211c80331c")
        #expect(Array(charge.spanID) == [0, 0, 0, 0, 0, 0, 0, 0x11])
        #expect(charge.operationName == "charge")
        #expect(charge.startTime.seconds == 1_700_000_000 && charge.startTime.nanos == 123_456_000)
        #expect(charge.duration.nanos == 2_500_000)
        #expect(charge.references.isEmpty)
        let types = charge.tags.map(\.vType)
        #expect(types == [.string, .int64, .float64, .bool, .binary])
        #expect(charge.tags[2].vFloat64 == 0.5)
        #expect(charge.tags[3].vBool)
        #expect(Array(charge.tags[4].vBinary) == [1, 2, 255])
        #expect(charge.logs.first?.fields.first?.vStr == "card declined")
        let audit = batch.spans[1]
        // parentSpanId becomes a CHILD_OF reference in front of the FOLLOWS_FROM one.
        #expect(audit.references.map(\.refType) == [.childOf, .followsFrom])
        #expect(Array(audit.references[0].spanID) == [0, 0, 0, 0, 0, 0, 0, 0x11])
        #expect(Array(audit.references[1].traceID) == [UInt8](repeating: 0, count: 15) + [0x55])
        #expect(Array(audit.references[1].spanID) == [0, 0, 0, 0, 0, 0, 0, 0x66])
    }

    @Test func everyTruncationIsRefusedWithAMessage() {
        let body = Self.sampleBatch()
        for length in 0..<body.count {
            do {
                _ = try JaegerThriftBatch.decode(Array(body.prefix(length)))
                Issue.record("a \(length)-byte prefix of \(body.count) bytes was accepted")
            } catch {
                #expect(error.message.contains("at byte"), "\(length): \(error.message)")
            }
        }
    }

    /// A hostile or malformed body and a phrase its error message must contain.
    struct HostileBody: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        var phrase: String
        var testDescription: String { name }
    }

    static var hostileBodies: [HostileBody] {
        var hugeString = ThriftWriter()
        hugeString.fieldHeader(TType.struct, 1)
        hugeString.fieldHeader(TType.string, 1)
        hugeString.i32(0x7fff_ffff)
        var negativeString = ThriftWriter()
        negativeString.fieldHeader(TType.struct, 1)
        negativeString.fieldHeader(TType.string, 1)
        negativeString.i32(-5)
        var hugeList = ThriftWriter()
        hugeList.fieldHeader(TType.list, 2)
        hugeList.listHeader(TType.struct, count: 0x7fff_ffff)
        var listFitsLimitNotBody = ThriftWriter()
        listFitsLimitNotBody.fieldHeader(TType.list, 2)
        listFitsLimitNotBody.listHeader(TType.struct, count: 900_000)
        var deepNesting = ThriftWriter()
        for _ in 0..<100 { deepNesting.fieldHeader(TType.struct, 99) }
        var unknownType = ThriftWriter()
        unknownType.fieldHeader(42, 1)
        var wrongWireType = ThriftWriter()
        wrongWireType.fieldHeader(TType.struct, 1)
        wrongWireType.fieldHeader(TType.i64, 1)
        wrongWireType.i64(5)
        var hugeMap = ThriftWriter()
        hugeMap.fieldHeader(TType.map, 9)
        hugeMap.raw(TType.string)
        hugeMap.raw(TType.string)
        hugeMap.i32(0x4000_0000)
        var badUTF8 = ThriftWriter()
        badUTF8.fieldHeader(TType.struct, 1)
        badUTF8.fieldHeader(TType.string, 1)
        badUTF8.binary([0xff, 0xfe])
        var wrongListElements = ThriftWriter()
        wrongListElements.fieldHeader(TType.list, 2)
        wrongListElements.listHeader(TType.i64, count: 1)
        wrongListElements.i64(1)
        var noProcess = ThriftWriter()
        noProcess.fieldHeader(TType.list, 2)
        noProcess.listHeader(TType.struct, count: 0)
        noProcess.stop()
        var spanWithoutHigh = ThriftWriter()
        spanWithoutHigh.fieldHeader(TType.struct, 1)
        spanWithoutHigh.fieldHeader(TType.string, 1)
        spanWithoutHigh.string("s")
        spanWithoutHigh.stop()
        spanWithoutHigh.fieldHeader(TType.list, 2)
        spanWithoutHigh.listHeader(TType.struct, count: 1)
        spanWithoutHigh.fieldHeader(TType.i64, 1)
        spanWithoutHigh.i64(1)
        spanWithoutHigh.stop()
        spanWithoutHigh.stop()
        return [
            HostileBody(name: "span without traceIdHigh", bytes: spanWithoutHigh.bytes, phrase: "Batch.spans[0]: required field 2 (traceIdHigh) is missing"),
            HostileBody(name: "empty body", bytes: [], phrase: "truncated"),
            HostileBody(name: "string length 2³¹-1", bytes: hugeString.bytes, phrase: "over the 1048576-byte limit"),
            HostileBody(name: "negative string length", bytes: negativeString.bytes, phrase: "negative"),
            HostileBody(name: "list count 2³¹-1", bytes: hugeList.bytes, phrase: "over the limit"),
            HostileBody(name: "list count larger than the body", bytes: listFitsLimitNotBody.bytes, phrase: "cannot fit"),
            HostileBody(name: "100 nested structs in an unknown field", bytes: deepNesting.bytes, phrase: "nesting deeper"),
            HostileBody(name: "unknown wire type", bytes: unknownType.bytes, phrase: "unknown Thrift field type 42"),
            HostileBody(name: "serviceName sent as i64", bytes: wrongWireType.bytes, phrase: "serviceName has wire type i64"),
            HostileBody(name: "map of 2³⁰ entries in an unknown field", bytes: hugeMap.bytes, phrase: "over the limit"),
            HostileBody(name: "invalid UTF-8 service name", bytes: badUTF8.bytes, phrase: "not valid UTF-8"),
            HostileBody(name: "spans list of i64", bytes: wrongListElements.bytes, phrase: "list holds i64 elements"),
            HostileBody(name: "batch without process", bytes: noProcess.bytes, phrase: "required field 1 (process) is missing"),
            HostileBody(name: "bytes after the batch", bytes: encodeThriftBatch(serviceName: "s", spans: []) + [0, 1, 2], phrase: "3 bytes follow the Batch"),
            HostileBody(name: "JSON instead of Thrift", bytes: Array(#"{"process":{}}"#.utf8), phrase: "unknown Thrift field type 123"),
        ]
    }

    @Test(arguments: hostileBodies)
    func hostileBodyIsRefusedWithItsProblemNamed(_ body: HostileBody) {
        do {
            _ = try JaegerThriftBatch.decode(body.bytes)
            Issue.record("\(body.name) was accepted")
        } catch {
            #expect(error.message.contains(body.phrase), "\(body.name): \(error.message)")
        }
    }

    @Test func badTagTypeIsRefused() {
        var body = encodeThriftBatch(
            serviceName: "s",
            spans: [ThriftSpan(traceIDHigh: 1, traceIDLow: 2, spanID: 3, operationName: "op", startTimeMicros: 1, durationMicros: 1, tags: [("k", .long(1))])]
        )
        // The tag's vType (LONG = 3) follows the bytes [8, 0, 2]; make it 9.
        let marker: [UInt8] = [TType.i32, 0, 2, 0, 0, 0, 3]
        guard let index = body.firstRange(of: marker)?.lowerBound else {
            Issue.record("vType not found")
            return
        }
        body[index + 6] = 9
        #expect(throws: ThriftDecodingError.self) { try JaegerThriftBatch.decode(body) }
        do {
            _ = try JaegerThriftBatch.decode(body)
        } catch {
            #expect(error.message.contains("vType 9 is not one of"), "\(error.message)")
            #expect(error.message.contains("Batch.spans[0].tags[0]"), "\(error.message)")
        }
    }

    @Test func randomMutationsNeverTrapAndAreEitherDecodedOrExplained() {
        let body = Self.sampleBatch()
        var generator = SplitMix64(seed: 0x5eed)
        for round in 0..<5_000 {
            var mutated = body
            let edits = 1 + Int(generator.next() % 4)
            for _ in 0..<edits {
                let position = Int(generator.next() % UInt64(mutated.count))
                switch generator.next() % 3 {
                case 0: mutated[position] = UInt8(truncatingIfNeeded: generator.next())
                case 1: mutated[position] ^= 0x80
                default: mutated = Array(mutated.prefix(position))
                }
                if mutated.isEmpty { break }
            }
            do {
                _ = try JaegerThriftBatch.decode(mutated)
            } catch {
                if error.message.isEmpty { Issue.record("round \(round): empty message") }
            }
        }
    }
}

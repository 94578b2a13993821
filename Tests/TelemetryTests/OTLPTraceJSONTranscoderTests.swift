import Foundation
import OTelBenchProtos
import SwiftProtobuf
import Testing
import Workload

@testable import Telemetry

/// ``OTLPTraceJSONTranscoder`` writes what the generated encoder writes (``OTLPJSON/encode(_:)``) for the request the
/// bytes decode to. `OTLPTraceWireDecoderTests` holds it to that on every input of its own (the Python SDK's payloads,
/// random, reshuffled and mutated requests); these pin the cases one by one, and the recording that uses it.
@Suite struct OTLPTraceJSONTranscoderTests {
    private typealias Request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest

    @Test func anEmptyRequestKeepsItsSignalsKey() throws {
        #expect(try OTLPTraceJSONTranscoder.json([UInt8]()) == Array(#"{"resourceSpans":[]}"#.utf8))
        // Unknown fields only: still an empty request.
        #expect(try OTLPTraceJSONTranscoder.json(Wire.varintField(7, 1)) == Array(#"{"resourceSpans":[]}"#.utf8))
    }

    @Test func stringsAreEscapedAsTheGeneratedEncoderEscapesThem() throws {
        // Every ASCII byte, DEL, the C1 controls and their neighbours, and characters JSON allows as they are.
        var name = String(decoding: (0..<0x80).map { UInt8($0) }, as: UTF8.self)
        name += "\u{7f}\u{80}\u{85}\u{9f}\u{a0}\u{ff}\u{2028}\u{2029}\u{fffd}😀/"
        let request = Self.request { span in
            span.name = name
            span.status.message = "a\"b\\c\u{0}"
        }
        let json = try expectSameJSON(request)
        #expect(String(decoding: json, as: UTF8.self).contains(#"\u0000\u0001"#), "C0 controls as \\u00XX")
        #expect(String(decoding: json, as: UTF8.self).contains(#"\u007F\u0080\u0085\u009F"#), "DEL and C1 in upper-case hex")
    }

    @Test func numbersIdsAndBytesAreWrittenAsTheGeneratedEncoderWritesThem() throws {
        let request = Self.request { span in
            span.startTimeUnixNano = UInt64.max
            span.endTimeUnixNano = 1
            span.kind = .UNRECOGNIZED(-3)
            span.flags = UInt32.max
            span.droppedEventsCount = 7
            span.attributes = [
                Self.keyValue("int", { $0.intValue = Int64.min }),
                Self.keyValue("double", { $0.doubleValue = 0.1 }),
                Self.keyValue("zero", { $0.doubleValue = -0.0 }),
                Self.keyValue("big", { $0.doubleValue = 1e300 }),
                Self.keyValue("nan", { $0.doubleValue = .nan }),
                Self.keyValue("inf", { $0.doubleValue = -.infinity }),
                Self.keyValue("false", { $0.boolValue = false }),
                Self.keyValue("empty string", { $0.stringValue = "" }),
                Self.keyValue("bytes", { $0.bytesValue = Data([0xfb, 0xff, 0x00, 0x10]) }),
                Self.keyValue("index", { $0.stringValueStrindex = -1 }),
            ]
        }
        let json = String(decoding: try expectSameJSON(request), as: UTF8.self)
        #expect(json.contains(#""traceId":"0102030405060708090a0b0c0d0e0f10""#), "ids in lower-case hex")
        #expect(json.contains(#""startTimeUnixNano":"18446744073709551615""#), "64-bit integers as strings")
        #expect(json.contains(#""value":{"doubleValue":"NaN"}"#))
    }

    @Test func mergedAndRepeatedFieldsAreWrittenAsTheGeneratedDecoderMergesThem() throws {
        let span: [UInt8] = try Self.request { $0.name = "first" }.resourceSpans[0].scopeSpans[0].spans[0].serializedBytes()
        let status = Wire.field(15, Wire.varintField(3, 2))
        let otherStatus = Wire.field(15, Wire.field(2, Array("late".utf8)))
        // A scalar sent twice keeps its last value; a status sent twice is merged; an AnyValue keeps its last case,
        // merging the array values sent in a row after it.
        let array = { (value: String) in
            Wire.field(5, Wire.field(1, Wire.field(1, Array(value.utf8))))
        }
        let value = array("dropped") + Wire.field(1, Array("replaced".utf8)) + array("x") + array("y")
        let attribute = Wire.field(9, Wire.field(1, Array("k".utf8)) + Wire.field(2, value))
        let spanBytes = span + Wire.field(5, Array("second".utf8)) + status + attribute + otherStatus
        let bytes = Wire.field(1, Wire.field(2, Wire.field(2, spanBytes)))
        let request = try Request(serializedBytes: bytes)
        let json = String(decoding: try OTLPTraceJSONTranscoder.json(bytes), as: UTF8.self)
        #expect(json.utf8.elementsEqual(try RecordedRequest.traces(request).jsonBytes()), "\(json)")
        #expect(json.contains(#""name":"second""#))
        #expect(json.contains(#""status":{"message":"late","code":2}"#))
        #expect(json.contains(#""arrayValue":{"values":[{"stringValue":"x"},{"stringValue":"y"}]}"#))
    }

    @Test func bytesThatAreNotProtobufThrow() throws {
        let bytes: [UInt8] = try Self.request { $0.name = "span" }.serializedBytes()
        #expect(throws: ProtobufWireError.self) { try OTLPTraceJSONTranscoder.json(Array(bytes.dropLast())) }
        #expect(throws: ProtobufWireError.self) { try OTLPTraceJSONTranscoder.json(bytes + [0xff]) }
        // Arrays in arrays, past swift-protobuf's nesting limit (which refuses them too).
        let value = (0..<60).reduce([UInt8]()) { inner, _ in Wire.field(5, Wire.field(1, inner)) }
        let deep = Wire.field(1, Wire.field(1, Wire.field(1, Wire.field(2, value))))
        #expect(throws: (any Error).self) { try Request(serializedBytes: deep) }
        #expect(throws: ProtobufWireError.self) { try OTLPTraceJSONTranscoder.json(deep) }
    }

    // MARK: The recording

    @Test(arguments: RecordingFormat.allCases, RecordingCompression.allCases)
    func protobufTracesAreRecordedAsTheDecodedRequestIs(format: RecordingFormat, compression: RecordingCompression) throws {
        var factory = OTLPPayloadFactory(seed: 3)
        let requests = [factory.traces(spanCount: 5), Request(), factory.traces(spanCount: 1)]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("transcoder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let decoded = try RecordingWriter(path: directory.appendingPathComponent("decoded").path, format: format, compression: compression)
        let bytes = try RecordingWriter(path: directory.appendingPathComponent("bytes").path, format: format, compression: compression)
        for request in requests {
            try decoded.append(.traces(request))
            try bytes.appendTraces(protobuf: try request.serializedBytes())
        }
        try decoded.close()
        try bytes.close()
        #expect(bytes.requestCount == 3)
        for (mine, theirs) in zip(bytes.paths, decoded.paths) {
            #expect(try Data(contentsOf: URL(fileURLWithPath: mine)) == Data(contentsOf: URL(fileURLWithPath: theirs)), "\(mine)")
        }
        var read: [RecordedRequest] = []
        let path = format == .json ? bytes.paths[0] : RecordingWriter.protoPath(directory.appendingPathComponent("bytes").path, signal: .traces)
        _ = try RecordingReader.forEach(path: path) { read.append($0) }
        #expect(read.count == 3)
    }

    // MARK: Helpers

    /// Expects the transcoder to write, from the request's bytes, what the generated encoder writes; returns it.
    @discardableResult
    private func expectSameJSON(_ request: Request, sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
        let expected = try RecordedRequest.traces(request).jsonBytes()
        let transcoded = try OTLPTraceJSONTranscoder.json(try request.serializedBytes() as [UInt8])
        #expect(
            transcoded == expected,
            "\(String(decoding: transcoded, as: UTF8.self))\nvs. the generated encoder's\n\(String(decoding: expected, as: UTF8.self))",
            sourceLocation: sourceLocation
        )
        return transcoded
    }

    /// A request of one span with fixed ids, shaped by `configure`.
    private static func request(_ configure: (inout Opentelemetry_Proto_Trace_V1_Span) -> Void) -> Request {
        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = Data(1...16)
        span.spanID = Data(1...8)
        configure(&span)
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.spans = [span]
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resourceSpans.scopeSpans = [scopeSpans]
        var request = Request()
        request.resourceSpans = [resourceSpans]
        return request
    }

    private static func keyValue(_ key: String, _ value: (inout Opentelemetry_Proto_Common_V1_AnyValue) -> Void) -> Opentelemetry_Proto_Common_V1_KeyValue {
        var keyValue = Opentelemetry_Proto_Common_V1_KeyValue()
        keyValue.key = key
        value(&keyValue.value)
        return keyValue
    }
}

import Foundation
import OTelBenchProtos
import Scenario
import Testing
import Workload

@testable import Telemetry

@Suite struct OTLPJSONTests {
    private typealias TraceRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest

    @Test func encodesIDsAsHexEnumsAsIntegersAndKeysInLowerCamelCase() throws {
        var factory = OTLPPayloadFactory(seed: 5)
        let request = factory.traces(spanCount: 2)
        let json = String(decoding: try OTLPJSON.encode(request), as: UTF8.self)
        let span = request.resourceSpans[0].scopeSpans[0].spans[1]
        #expect(json.contains(#""traceId":"\#(HexCoding.encode(span.traceID))""#))
        #expect(json.contains(#""parentSpanId":"\#(HexCoding.encode(span.parentSpanID))""#))
        #expect(json.contains(#""kind":1"#))
        #expect(json.contains(#""startTimeUnixNano":""#), "int64 as decimal strings")
        #expect(!json.contains("trace_id"))
        #expect(try OTLPJSON.decode(TraceRequest.self, from: Array(json.utf8)) == request)
    }

    @Test func acceptsNumbersForInt64AndIgnoresUnknownFields() throws {
        let json =
            #"{"resourceSpans":[{"futureField":1,"scopeSpans":[{"spans":[{"traceId":"0102030405060708090A0B0C0D0E0F10","spanId":"0102030405060708","startTimeUnixNano":1700000000123456789,"kind":3,"flags":1}]}]}]}"#
        let request = try OTLPJSON.decode(TraceRequest.self, from: Array(json.utf8))
        let span = request.resourceSpans[0].scopeSpans[0].spans[0]
        #expect(span.startTimeUnixNano == 1_700_000_000_123_456_789)
        #expect(span.kind == .client)
        #expect(Array(span.traceID) == Array(1...16))
    }

    @Test func idKeyInsideAStringValueIsLeftAlone() throws {
        let json =
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"\"traceId\":\"zz\"","traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708"}]}]}]}"#
        let request = try OTLPJSON.decode(TraceRequest.self, from: Array(json.utf8))
        #expect(request.resourceSpans[0].scopeSpans[0].spans[0].name == #""traceId":"zz""#)
    }

    @Test func nonHexIDNamesTheField() {
        let json = #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"AQIDBAUGBwgJCgsMDQ4PEA==","spanId":"0102030405060708"}]}]}]}"#
        #expect {
            try OTLPJSON.decode(TraceRequest.self, from: Array(json.utf8))
        } throws: { error in
            "\(error)".contains("traceId \"AQIDBAUGBwgJCgsMDQ4PEA==\" is not a hex string")
        }
    }

    /// The proto3 JSON mapping makes enums int32. swift-protobuf keeps a larger number as an unrecognized value,
    /// sizes it as an int32 varint and writes it as an int64 one, so serializing such a message overruns its buffer.
    @Test(arguments: [
        (#""kind":4294967296"#, "SpanKind value 4294967296 (field 6 of opentelemetry.proto.trace.v1.Span)"),
        (#""kind":-2147483649"#, "SpanKind value -2147483649"),
        (#""status":{"code":9223372036854775807}"#, "StatusCode value 9223372036854775807 (field 3 of opentelemetry.proto.trace.v1.Status)"),
    ])
    func enumOutsideInt32NamesTheEnumAndTheField(member: String, phrase: String) {
        let json = #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a","# + member + "}]}]}]}"
        #expect {
            try OTLPJSON.decode(TraceRequest.self, from: Array(json.utf8))
        } throws: { error in
            "\(error)".contains(phrase) && "\(error)".contains("outside int32")
        }
    }

    @Test func unknownEnumValuesWithinInt32AreKeptAndSerializeBackToThemselves() throws {
        for kind in [Int32.min, -1, 99, Int32.max] {
            let json = #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a","kind":\#(kind)}]}]}]}"#
            let request = try OTLPJSON.decode(TraceRequest.self, from: Array(json.utf8))
            #expect(request.resourceSpans[0].scopeSpans[0].spans[0].kind.rawValue == Int(kind))
            let again = try TraceRequest(serializedBytes: try request.serializedBytes() as [UInt8])
            #expect(again == request, "kind \(kind)")
        }
    }

    @Test func recordingRoundTripsEverySignal() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("recording-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var factory = OTLPPayloadFactory(seed: 6)
        let traces = factory.traces(spanCount: 3)
        let metrics = factory.metrics(seriesCount: 2)
        let logs = factory.logs(count: 2)
        let writer = try RecordingWriter(path: path)
        try writer.append(.traces(traces))
        try writer.append(.metrics(metrics))
        try writer.append(.logs(logs))
        try writer.close()
        let read = try RecordingReader.read(path: path)
        #expect(read.count == 3)
        guard case .traces(let readTraces) = read[0], case .metrics(let readMetrics) = read[1], case .logs(let readLogs) = read[2] else {
            Issue.record("signals read back in the wrong order: \(read)")
            return
        }
        #expect(readTraces == traces)
        #expect(readMetrics == metrics)
        #expect(readLogs == logs)
    }

    @Test func recordingReaderNamesFileAndLineOfABadLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("{\"resourceSpans\":[]}\n{\"nonsense\":1}\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            try RecordingReader.read(path: path)
        } throws: { error in
            "\(error)".hasPrefix("\(path):2:")
        }
    }

    /// The id rewriting scans raw bytes by hand: cut strings, lone backslashes and quotes at the end, keys without
    /// values, in any order, must give an error or a request, never a trap.
    @Test func hostileBytesNeverTrapTheIDScan() {
        let alphabet = Array(#""\:{}[], traceIdspan_0a9"#.utf8)
        var random = SplitMix64(seed: 16)
        for _ in 0..<20_000 {
            let length = Int(random.next() % 40)
            let bytes = (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            _ = try? OTLPJSON.decode(TraceRequest.self, from: bytes)
            _ = try? OTLPJSON.rewriteIDs(bytes) { value, _ in value }
        }
    }
}

import Foundation
import OTelBenchProtos
import SwiftProtobuf
import TestSupport
import Testing
import Workload

@testable import Telemetry

/// ``OTLPJSONTranscoder`` writes what the generated encoder writes (``OTLPJSON/encode(_:)``) for the request the
/// bytes decode to. `OTLPTraceWireDecoderTests` holds it to that on every input of its own (the Python SDK's payloads,
/// random, reshuffled and mutated requests); these pin the cases one by one, and the recording that uses it.
@Suite struct OTLPJSONTranscoderTests {
    private typealias Request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest

    @Test func anEmptyRequestKeepsItsSignalsKey() throws {
        #expect(try OTLPJSONTranscoder.json([UInt8](), signal: .traces) == Array(#"{"resourceSpans":[]}"#.utf8))
        // Unknown fields only: still an empty request.
        #expect(try OTLPJSONTranscoder.json(Wire.varintField(7, 1), signal: .traces) == Array(#"{"resourceSpans":[]}"#.utf8))
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
        let json = String(decoding: try OTLPJSONTranscoder.json(bytes, signal: .traces), as: UTF8.self)
        #expect(json.utf8.elementsEqual(try RecordedRequest.traces(request).generatedEncoderJSON()), "\(json)")
        #expect(json.contains(#""name":"second""#))
        #expect(json.contains(#""status":{"message":"late","code":2}"#))
        #expect(json.contains(#""arrayValue":{"values":[{"stringValue":"x"},{"stringValue":"y"}]}"#))
    }

    @Test func bytesThatAreNotProtobufThrow() throws {
        let bytes: [UInt8] = try Self.request { $0.name = "span" }.serializedBytes()
        #expect(throws: ProtobufWireError.self) { try OTLPJSONTranscoder.json(Array(bytes.dropLast()), signal: .traces) }
        #expect(throws: ProtobufWireError.self) { try OTLPJSONTranscoder.json(bytes + [0xff], signal: .traces) }
        // Arrays in arrays, past swift-protobuf's nesting limit (which refuses them too).
        let value = (0..<60).reduce([UInt8]()) { inner, _ in Wire.field(5, Wire.field(1, inner)) }
        let deep = Wire.field(1, Wire.field(1, Wire.field(1, Wire.field(2, value))))
        #expect(throws: (any Error).self) { try Request(serializedBytes: deep) }
        #expect(throws: ProtobufWireError.self) { try OTLPJSONTranscoder.json(deep, signal: .traces) }
    }

    // MARK: Logs

    @Test func logsAreWrittenAsTheGeneratedEncoderWritesThem() throws {
        typealias Logs = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest
        #expect(try OTLPJSONTranscoder.json([UInt8](), signal: .logs) == Array(#"{"resourceLogs":[]}"#.utf8))
        var random = SeededRandom(seed: 31)
        var factory = OTLPPayloadFactory(seed: 5)
        var requests = [factory.logs(count: 20)]
        for _ in 0..<300 { requests.append(Self.randomLogs(&random)) }
        var decoded = 0
        var refused = 0
        for request in requests {
            let bytes: [UInt8] = try request.serializedBytes()
            expectSameLogsJSON(bytes, as: request)
            // The same request reshuffled, merged and broken: wherever swift-protobuf still decodes it.
            for _ in 0..<6 {
                let mutated =
                    random.chance(0.5) ? ProtobufMutations.structurallyMutated(bytes, &random, depth: 0) : ProtobufMutations.mutated(bytes, &random)
                guard let message = try? Logs(serializedBytes: mutated) else {
                    refused += 1
                    continue
                }
                decoded += 1
                expectSameLogsJSON(mutated, as: message)
            }
        }
        #expect(decoded > 500 && refused > 100, "\(decoded) decoded, \(refused) refused")
    }

    // MARK: The recording

    @Test(arguments: RecordingFormat.allCases, RecordingCompression.allCases)
    func protobufRequestsAreRecordedAsTheirDecodedMessagesAre(format: RecordingFormat, compression: RecordingCompression) throws {
        var factory = OTLPPayloadFactory(seed: 3)
        let requests: [RecordedRequest] = [
            .traces(factory.traces(spanCount: 5)), .logs(factory.logs(count: 4)), .metrics(factory.metrics(seriesCount: 3)), .traces(Request()),
            .logs(.init()), .metrics(factory.metrics(seriesCount: 1)),
        ]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("transcoder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let decoded = try RecordingWriter(path: directory.appendingPathComponent("decoded").path, format: format, compression: compression)
        let bytes = try RecordingWriter(path: directory.appendingPathComponent("bytes").path, format: format, compression: compression)
        for (index, request) in requests.enumerated() {
            try decoded.append(request)
            // Metrics are given decoded, or not (then decoded from the bytes); traces and logs are transcoded.
            try bytes.appendProtobuf(try request.protobufBytes(), signal: request.signal, decoded: index == 2 ? request : nil)
        }
        try decoded.close()
        try bytes.close()
        #expect(bytes.requestCount == requests.count)
        #expect(bytes.paths.count == decoded.paths.count)
        for (mine, theirs) in zip(bytes.paths, decoded.paths) {
            #expect(try Data(contentsOf: URL(fileURLWithPath: mine)) == Data(contentsOf: URL(fileURLWithPath: theirs)), "\(mine)")
        }
        var read = 0
        for path in bytes.paths { read += try RecordingReader.forEach(path: path) { _ in }.requestCount }
        #expect(read == requests.count)
    }

    // MARK: Helpers

    private func expectSameLogsJSON(
        _ bytes: [UInt8],
        as request: Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            let expected = try RecordedRequest.logs(request).generatedEncoderJSON()
            let transcoded = try OTLPJSONTranscoder.json(bytes, signal: .logs)
            #expect(
                transcoded == expected,
                "\(String(decoding: transcoded, as: UTF8.self))\nvs. the generated encoder's\n\(String(decoding: expected, as: UTF8.self))",
                sourceLocation: sourceLocation
            )
        } catch {
            Issue.record("transcoding logs the generated code takes failed: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// A logs request with every field of a log record set at random, ids of any length among them.
    private static func randomLogs(_ random: inout SeededRandom) -> Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest {
        var request = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest()
        for _ in 0..<random.below(3) {
            var resourceLogs = Opentelemetry_Proto_Logs_V1_ResourceLogs()
            if random.chance(0.7) { resourceLogs.resource.attributes = randomAttributes(&random, depth: 1) }
            if random.chance(0.3) { resourceLogs.schemaURL = "https://opentelemetry.io/schemas/1.26.0" }
            for _ in 0..<random.below(3) {
                var scopeLogs = Opentelemetry_Proto_Logs_V1_ScopeLogs()
                if random.chance(0.6) { scopeLogs.scope.name = randomString(&random) }
                for _ in 0..<random.below(5) {
                    var record = Opentelemetry_Proto_Logs_V1_LogRecord()
                    if random.chance(0.8) { record.timeUnixNano = random.next() }
                    if random.chance(0.8) { record.observedTimeUnixNano = random.next() }
                    record.severityNumber = Opentelemetry_Proto_Logs_V1_SeverityNumber(rawValue: [0, 9, 17, 24, 30, -2][random.below(6)])!
                    record.severityText = randomString(&random)
                    if random.chance(0.8) { record.body = randomValue(&random, depth: 0) }
                    record.attributes = randomAttributes(&random, depth: 1)
                    if random.chance(0.2) { record.droppedAttributesCount = UInt32(random.below(4)) }
                    if random.chance(0.5) { record.flags = UInt32(truncatingIfNeeded: random.next()) }
                    if random.chance(0.6) { record.traceID = Data((0..<[16, 16, 0, 3][random.below(4)]).map { _ in UInt8(random.below(256)) }) }
                    if random.chance(0.6) { record.spanID = Data((0..<[8, 8, 0, 9][random.below(4)]).map { _ in UInt8(random.below(256)) }) }
                    if random.chance(0.3) { record.eventName = randomString(&random) }
                    scopeLogs.logRecords.append(record)
                }
                resourceLogs.scopeLogs.append(scopeLogs)
            }
            request.resourceLogs.append(resourceLogs)
        }
        return request
    }

    private static func randomString(_ random: inout SeededRandom) -> String {
        ["", "GET /tasks", "ünïcødé 😀", "\t\"q\"\\\u{0}\u{7f}\u{85}\u{a0}", String(repeating: "x", count: random.below(100))][random.below(5)]
    }

    private static func randomAttributes(_ random: inout SeededRandom, depth: Int) -> [Opentelemetry_Proto_Common_V1_KeyValue] {
        (0..<random.below(4)).map { _ in keyValue("k\(random.below(4))") { $0 = randomValue(&random, depth: depth) } }
    }

    private static func randomValue(_ random: inout SeededRandom, depth: Int) -> Opentelemetry_Proto_Common_V1_AnyValue {
        var value = Opentelemetry_Proto_Common_V1_AnyValue()
        switch random.below(depth < 3 ? 9 : 7) {
        case 0: value.stringValue = randomString(&random)
        case 1: value.boolValue = random.chance(0.5)
        case 2: value.intValue = Int64(bitPattern: random.next())
        case 3: value.doubleValue = [0, -0.0, 2.5e-8, .infinity, .nan][random.below(5)]
        case 4: value.bytesValue = Data((0..<random.below(7)).map { _ in UInt8(random.below(256)) })
        case 5: value.stringValueStrindex = Int32(random.below(3))
        case 6: break
        case 7: value.arrayValue.values = (0..<random.below(3)).map { _ in randomValue(&random, depth: depth + 1) }
        default: value.kvlistValue.values = randomAttributes(&random, depth: depth + 1)
        }
        return value
    }

    /// Expects the transcoder to write, from the request's bytes, what the generated encoder writes; returns it.
    @discardableResult
    private func expectSameJSON(_ request: Request, sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
        let expected = try RecordedRequest.traces(request).generatedEncoderJSON()
        let transcoded = try OTLPJSONTranscoder.json(try request.serializedBytes() as [UInt8], signal: .traces)
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

import Foundation
package import OTelBenchProtos
import SwiftProtobuf

/// Decodes jaeger.thrift's `Batch` (Thrift binary protocol, as `POST /api/traces` carries it) into the
/// api_v2 model, which ``JaegerConversion`` turns into the store's spans: the reference that the sink's own
/// decoder (``JaegerThriftDecoder``, straight into the store's spans) is checked against, in the tests and the
/// `jaeger-thrift` fuzz target, and the benchmark's check of its Thrift payload.
///
/// Confined to jaeger.thrift: `Batch{1: process, 2: spans, 3: seqNo, 4: stats}`, `Process{1: serviceName,
/// 2: tags}`, `Span{1: traceIdLow, 2: traceIdHigh, 3: spanId, 4: parentSpanId, 5: operationName,
/// 6: references, 7: flags, 8: startTime, 9: duration, 10: tags, 11: logs}`, `Tag{1: key, 2: vType,
/// 3: vStr, 4: vDouble, 5: vBool, 6: vLong, 7: vBinary}`, `Log{1: timestamp, 2: fields}`,
/// `SpanRef{1: refType, 2: traceIdLow, 3: traceIdHigh, 4: spanId}`. A known field with the wrong wire
/// type, a missing required field, an unknown enum value or bytes after the batch are errors; unknown
/// fields are skipped (within the reader's bounds), as Thrift's generated readers do.
package enum JaegerThriftBatch {
    /// Decodes one `Batch` from `bytes`.
    ///
    /// - Throws: ``ThriftDecodingError`` naming the field path, byte offset and problem.
    package static func decode(_ bytes: [UInt8]) throws(ThriftDecodingError) -> Jaeger_ApiV2_Batch {
        let result: Result<Jaeger_ApiV2_Batch, ThriftDecodingError> = bytes.withUnsafeBytes { buffer in
            do throws(ThriftDecodingError) {
                var reader = ThriftBinaryReader(buffer)
                try reader.enter("Batch")
                let batch = try readBatch(&reader)
                reader.leave()
                guard reader.remaining == 0 else {
                    throw reader.error("\(reader.remaining) bytes follow the Batch: send exactly one Batch per request")
                }
                return .success(batch)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    // MARK: Structs

    private static func readBatch(_ reader: inout ThriftBinaryReader) throws(ThriftDecodingError) -> Jaeger_ApiV2_Batch {
        var batch = Jaeger_ApiV2_Batch()
        var sawProcess = false
        var sawSpans = false
        while let field = try reader.readFieldHeader() {
            switch field.id {
            case 1:
                try expect(field.type, .struct, "process", &reader)
                try reader.enter("process")
                batch.process = try readProcess(&reader)
                reader.leave()
                sawProcess = true
            case 2:
                try expect(field.type, .list, "spans", &reader)
                try reader.enter("spans")
                batch.spans = try readList(of: .struct, &reader) { (reader: inout ThriftBinaryReader) throws(ThriftDecodingError) in try readSpan(&reader) }
                reader.leave()
                sawSpans = true
            default:
                try reader.skip(field.type)
            }
        }
        guard sawProcess else { throw reader.error("required field 1 (process) is missing") }
        guard sawSpans else { throw reader.error("required field 2 (spans) is missing") }
        return batch
    }

    private static func readProcess(_ reader: inout ThriftBinaryReader) throws(ThriftDecodingError) -> Jaeger_ApiV2_Process {
        var process = Jaeger_ApiV2_Process()
        var sawServiceName = false
        while let field = try reader.readFieldHeader() {
            switch field.id {
            case 1:
                try expect(field.type, .string, "serviceName", &reader)
                process.serviceName = try reader.readString()
                sawServiceName = true
            case 2:
                try expect(field.type, .list, "tags", &reader)
                try reader.enter("tags")
                process.tags = try readTags(&reader)
                reader.leave()
            default:
                try reader.skip(field.type)
            }
        }
        guard sawServiceName else { throw reader.error("required field 1 (serviceName) is missing") }
        return process
    }

    private static func readSpan(_ reader: inout ThriftBinaryReader) throws(ThriftDecodingError) -> Jaeger_ApiV2_Span {
        var sentTraceIDLow: Int64?
        var sentTraceIDHigh: Int64?
        var sentSpanID: Int64?
        var sentParentSpanID: Int64?
        var sentOperationName: String?
        var sentFlags: Int32?
        var sentStartTime: Int64?
        var sentDuration: Int64?
        var references: [Jaeger_ApiV2_SpanRef] = []
        var span = Jaeger_ApiV2_Span()
        while let field = try reader.readFieldHeader() {
            switch field.id {
            case 1:
                try expect(field.type, .i64, "traceIdLow", &reader)
                sentTraceIDLow = try reader.readI64()
            case 2:
                try expect(field.type, .i64, "traceIdHigh", &reader)
                sentTraceIDHigh = try reader.readI64()
            case 3:
                try expect(field.type, .i64, "spanId", &reader)
                sentSpanID = try reader.readI64()
            case 4:
                try expect(field.type, .i64, "parentSpanId", &reader)
                sentParentSpanID = try reader.readI64()
            case 5:
                try expect(field.type, .string, "operationName", &reader)
                sentOperationName = try reader.readString()
            case 6:
                try expect(field.type, .list, "references", &reader)
                try reader.enter("references")
                references = try readList(of: .struct, &reader) { (reader: inout ThriftBinaryReader) throws(ThriftDecodingError) in try readSpanRef(&reader) }
                reader.leave()
            case 7:
                try expect(field.type, .i32, "flags", &reader)
                sentFlags = try reader.readI32()
            case 8:
                try expect(field.type, .i64, "startTime", &reader)
                sentStartTime = try reader.readI64()
            case 9:
                try expect(field.type, .i64, "duration", &reader)
                sentDuration = try reader.readI64()
            case 10:
                try expect(field.type, .list, "tags", &reader)
                try reader.enter("tags")
                span.tags = try readTags(&reader)
                reader.leave()
            case 11:
                try expect(field.type, .list, "logs", &reader)
                try reader.enter("logs")
                span.logs = try readList(of: .struct, &reader) { (reader: inout ThriftBinaryReader) throws(ThriftDecodingError) in try readLog(&reader) }
                reader.leave()
            default:
                try reader.skip(field.type)
            }
        }
        let traceIDLow = try required(sentTraceIDLow, "1 (traceIdLow)", reader)
        let traceIDHigh = try required(sentTraceIDHigh, "2 (traceIdHigh)", reader)
        let spanID = try required(sentSpanID, "3 (spanId)", reader)
        let parentSpanID = try required(sentParentSpanID, "4 (parentSpanId)", reader)
        let operationName = try required(sentOperationName, "5 (operationName)", reader)
        let flags = try required(sentFlags, "7 (flags)", reader)
        let startTime = try required(sentStartTime, "8 (startTime)", reader)
        let duration = try required(sentDuration, "9 (duration)", reader)
        span.traceID = traceIDBytes(high: traceIDHigh, low: traceIDLow)
        span.spanID = idBytes(spanID)
        span.operationName = operationName
        span.flags = UInt32(bitPattern: flags)
        span.startTime = timestamp(microseconds: startTime)
        span.duration = durationValue(microseconds: duration)
        // As Jaeger's own converter does: a parentSpanId not already among the references is a CHILD_OF one.
        if parentSpanID != 0 {
            let parent = idBytes(parentSpanID)
            if !references.contains(where: { $0.refType == .childOf && $0.spanID == parent && $0.traceID == span.traceID }) {
                var reference = Jaeger_ApiV2_SpanRef()
                reference.traceID = span.traceID
                reference.spanID = parent
                reference.refType = .childOf
                references.insert(reference, at: 0)
            }
        }
        span.references = references
        return span
    }

    private static func readSpanRef(_ reader: inout ThriftBinaryReader) throws(ThriftDecodingError) -> Jaeger_ApiV2_SpanRef {
        var refType: Int32?
        var low: Int64?
        var high: Int64?
        var spanID: Int64?
        while let field = try reader.readFieldHeader() {
            switch field.id {
            case 1:
                try expect(field.type, .i32, "refType", &reader)
                refType = try reader.readI32()
            case 2:
                try expect(field.type, .i64, "traceIdLow", &reader)
                low = try reader.readI64()
            case 3:
                try expect(field.type, .i64, "traceIdHigh", &reader)
                high = try reader.readI64()
            case 4:
                try expect(field.type, .i64, "spanId", &reader)
                spanID = try reader.readI64()
            default:
                try reader.skip(field.type)
            }
        }
        guard let refType, let low, let high, let spanID else {
            throw reader.error("a SpanRef needs refType, traceIdLow, traceIdHigh and spanId")
        }
        var reference = Jaeger_ApiV2_SpanRef()
        switch refType {
        case 0: reference.refType = .childOf
        case 1: reference.refType = .followsFrom
        default: throw reader.error("refType \(refType) is not CHILD_OF (0) or FOLLOWS_FROM (1)")
        }
        reference.traceID = traceIDBytes(high: high, low: low)
        reference.spanID = idBytes(spanID)
        return reference
    }

    private static func readLog(_ reader: inout ThriftBinaryReader) throws(ThriftDecodingError) -> Jaeger_ApiV2_Log {
        var log = Jaeger_ApiV2_Log()
        var timestampMicros: Int64?
        var sawFields = false
        while let field = try reader.readFieldHeader() {
            switch field.id {
            case 1:
                try expect(field.type, .i64, "timestamp", &reader)
                timestampMicros = try reader.readI64()
            case 2:
                try expect(field.type, .list, "fields", &reader)
                try reader.enter("fields")
                log.fields = try readTags(&reader)
                reader.leave()
                sawFields = true
            default:
                try reader.skip(field.type)
            }
        }
        guard let timestampMicros, sawFields else { throw reader.error("a Log needs timestamp and fields") }
        log.timestamp = timestamp(microseconds: timestampMicros)
        return log
    }

    private static func readTags(_ reader: inout ThriftBinaryReader) throws(ThriftDecodingError) -> [Jaeger_ApiV2_KeyValue] {
        try readList(of: .struct, &reader) { (reader: inout ThriftBinaryReader) throws(ThriftDecodingError) in try readTag(&reader) }
    }

    private static func readTag(_ reader: inout ThriftBinaryReader) throws(ThriftDecodingError) -> Jaeger_ApiV2_KeyValue {
        var tag = Jaeger_ApiV2_KeyValue()
        var sawKey = false
        var valueType: Int32?
        while let field = try reader.readFieldHeader() {
            switch field.id {
            case 1:
                try expect(field.type, .string, "key", &reader)
                tag.key = try reader.readString()
                sawKey = true
            case 2:
                try expect(field.type, .i32, "vType", &reader)
                valueType = try reader.readI32()
            case 3:
                try expect(field.type, .string, "vStr", &reader)
                tag.vStr = try reader.readString()
            case 4:
                try expect(field.type, .double, "vDouble", &reader)
                tag.vFloat64 = try reader.readDouble()
            case 5:
                try expect(field.type, .bool, "vBool", &reader)
                tag.vBool = try reader.readBool()
            case 6:
                try expect(field.type, .i64, "vLong", &reader)
                tag.vInt64 = try reader.readI64()
            case 7:
                try expect(field.type, .string, "vBinary", &reader)
                tag.vBinary = Data(try reader.readBinary())
            default:
                try reader.skip(field.type)
            }
        }
        guard sawKey, let valueType else { throw reader.error("a Tag needs key and vType") }
        // jaeger.thrift's TagType order differs from api_v2's ValueType.
        switch valueType {
        case 0: tag.vType = .string
        case 1: tag.vType = .float64
        case 2: tag.vType = .bool
        case 3: tag.vType = .int64
        case 4: tag.vType = .binary
        default: throw reader.error("tag \"\(tag.key)\": vType \(valueType) is not one of STRING, DOUBLE, BOOL, LONG, BINARY (0-4)")
        }
        return tag
    }

    // MARK: Helpers

    private static func readList<Element>(
        of elementType: ThriftType,
        _ reader: inout ThriftBinaryReader,
        element: (inout ThriftBinaryReader) throws(ThriftDecodingError) -> Element
    ) throws(ThriftDecodingError) -> [Element] {
        let count = try reader.readListHeader(of: elementType)
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for index in 0..<count {
            try reader.enterElement(index)
            elements.append(try element(&reader))
            reader.leave()
        }
        return elements
    }

    private static func required<Value>(_ value: Value?, _ field: String, _ reader: ThriftBinaryReader) throws(ThriftDecodingError) -> Value {
        guard let value else { throw reader.error("required field \(field) is missing") }
        return value
    }

    private static func expect(
        _ type: ThriftType,
        _ wanted: ThriftType,
        _ name: String,
        _ reader: inout ThriftBinaryReader
    ) throws(ThriftDecodingError) {
        guard type == wanted else { throw reader.error("field \(name) has wire type \(type), jaeger.thrift says \(wanted)") }
    }

    static func idBytes(_ value: Int64) -> Data {
        let bits = UInt64(bitPattern: value)
        return Data((0..<8).map { UInt8(truncatingIfNeeded: bits >> (56 - 8 * $0)) })
    }

    static func traceIDBytes(high: Int64, low: Int64) -> Data { idBytes(high) + idBytes(low) }

    private static func timestamp(microseconds: Int64) -> Google_Protobuf_Timestamp {
        let (seconds, remainder) = microseconds.quotientAndRemainder(dividingBy: 1_000_000)
        if remainder < 0 { return Google_Protobuf_Timestamp(seconds: seconds - 1, nanos: Int32(remainder + 1_000_000) * 1000) }
        return Google_Protobuf_Timestamp(seconds: seconds, nanos: Int32(remainder) * 1000)
    }

    private static func durationValue(microseconds: Int64) -> Google_Protobuf_Duration {
        let (seconds, remainder) = microseconds.quotientAndRemainder(dividingBy: 1_000_000)
        return Google_Protobuf_Duration(seconds: seconds, nanos: Int32(remainder) * 1000)
    }
}

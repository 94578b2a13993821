package import Telemetry

/// Turns a jaeger.thrift `Batch` in the Thrift binary protocol (the body of `POST /api/traces`) straight into the
/// store's spans, without building the api_v2 model: what the Thrift sink runs on every request.
///
/// The result is exactly what ``JaegerThriftBatch/decode(_:)`` followed by ``JaegerConversion/spans(_:channel:)``
/// gives: the same spans, the same problems in the same words, and the same ``ThriftDecodingError`` (field path,
/// byte offset and problem) for a body that is not a valid `Batch`. That includes Thrift's rules as the generated
/// readers apply them: a field sent twice keeps its last value (a list, the last list), unknown fields are skipped,
/// required fields must be there; and a `parentSpanId` not already among a span's references is its `CHILD_OF`
/// reference, in front of the others.
///
/// ```swift
/// let batch = try body.withUnsafeReadableBytes { try JaegerThriftDecoder.spans($0, channel: .jaegerThrift) }
/// ```
package enum JaegerThriftDecoder {
    private typealias Reader = ThriftBinaryReader

    /// Decodes and converts one `Batch`, which must fill `bytes` exactly.
    ///
    /// The bytes are read without the field path, which only an error needs; a body that fails is read again with
    /// it, and fails at the same place, for the message.
    ///
    /// - Throws: ``ThriftDecodingError`` naming the field path, byte offset and problem.
    package static func spans(_ bytes: UnsafeRawBufferPointer, channel: IntakeChannel) throws(ThriftDecodingError) -> JaegerBatchSpans {
        do {
            return try decode(bytes, channel: channel, keepingPath: false)
        } catch let withoutPath {
            do { _ = try decode(bytes, channel: channel, keepingPath: true) } catch { throw error }
            throw withoutPath
        }
    }

    private static func decode(_ bytes: UnsafeRawBufferPointer, channel: IntakeChannel, keepingPath: Bool) throws(ThriftDecodingError) -> JaegerBatchSpans {
        var reader = Reader(bytes, keepsPath: keepingPath)
        try reader.enter("Batch")
        let batch = try self.batch(&reader, channel: channel)
        reader.leave()
        guard reader.remaining == 0 else {
            throw reader.error("\(reader.remaining) bytes follow the Batch: send exactly one Batch per request")
        }
        return batch
    }

    /// Decodes and converts one `Batch` held in an array.
    package static func spans(_ bytes: [UInt8], channel: IntakeChannel) throws(ThriftDecodingError) -> JaegerBatchSpans {
        let result: Result<JaegerBatchSpans, ThriftDecodingError> = bytes.withUnsafeBytes { buffer in
            do throws(ThriftDecodingError) { return .success(try spans(buffer, channel: channel)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    // MARK: Batch and process

    /// `Batch{1: process, 2: spans}`: the spans take the process as their resource, even when it comes after them.
    private static func batch(_ reader: inout Reader, channel: IntakeChannel) throws(ThriftDecodingError) -> JaegerBatchSpans {
        var resource: Resource?
        var batch = JaegerBatchSpans()
        var sawSpans = false
        // Whether the spans were converted before the process they take was read.
        var processAfterSpans = false
        while let field = try reader.readFieldHeader() {
            switch field.id {
            case 1:
                try expect(field.type, .struct, "process", reader)
                try reader.enter("process")
                resource = try process(&reader)
                reader.leave()
                processAfterSpans = sawSpans
            case 2:
                try expect(field.type, .list, "spans", reader)
                try reader.enter("spans")
                batch = try spans(&reader, resource: resource ?? Resource(), channel: channel)
                reader.leave()
                sawSpans = true
                processAfterSpans = false
            default:
                try reader.skip(field.type)
            }
        }
        guard let resource else { throw reader.error("required field 1 (process) is missing") }
        guard sawSpans else { throw reader.error("required field 2 (spans) is missing") }
        if processAfterSpans {
            for index in batch.spans.indices { batch.spans[index].resource = resource }
        }
        return batch
    }

    /// `Process{1: serviceName, 2: tags}` as a resource.
    private static func process(_ reader: inout Reader) throws(ThriftDecodingError) -> Resource {
        var process = JaegerProcessFields()
        var sawServiceName = false
        while let field = try reader.readFieldHeader() {
            switch field.id {
            case 1:
                try expect(field.type, .string, "serviceName", reader)
                process.serviceName = try reader.readString()
                sawServiceName = true
            case 2:
                try expect(field.type, .list, "tags", reader)
                try reader.enter("tags")
                process.attributes = [:]
                try tags(&reader, into: &process)
                reader.leave()
            default:
                try reader.skip(field.type)
            }
        }
        guard sawServiceName else { throw reader.error("required field 1 (serviceName) is missing") }
        return process.resource
    }

    // MARK: Spans

    /// The `spans` list, each span converted as it is read; one ``JaegerSpanTagsBuilder`` reads all their tags, so
    /// that a span with the keys of the one before takes its keys and its attributes' layout.
    private static func spans(_ reader: inout Reader, resource: Resource, channel: IntakeChannel) throws(ThriftDecodingError) -> JaegerBatchSpans {
        let count = try reader.readListHeader(of: .struct)
        var batch = JaegerBatchSpans()
        batch.spans.reserveCapacity(count)
        var spanTags = JaegerSpanTagsBuilder()
        for index in 0..<count {
            try reader.enterElement(index)
            let (name, converted) = try span(&reader, tags: &spanTags, resource: resource, channel: channel)
            reader.leave()
            switch consume converted {
            case .success(let span): batch.spans.append(span)
            case .failure(let problem): batch.problems.append(JaegerSpanAssembly.problem(problem, index: index, name: name))
            }
        }
        return batch
    }

    /// A jaeger.thrift reference as read; the ids are always 8 and 16 bytes.
    private struct ThriftReference {
        var type: Int32
        var traceID: TraceID
        var spanID: SpanID
    }

    /// `Span{1: traceIdLow, 2: traceIdHigh, 3: spanId, 4: parentSpanId, 5: operationName, 6: references, 7: flags,
    /// 8: startTime, 9: duration, 10: tags, 11: logs}`, read and then converted; its tags read with `spanTags`.
    private static func span(
        _ reader: inout Reader,
        tags spanTags: inout JaegerSpanTagsBuilder,
        resource: Resource,
        channel: IntakeChannel
    ) throws(ThriftDecodingError) -> (name: String, Result<Span, JaegerSpanAssembly.Problem>) {
        var sentTraceIDLow: Int64?
        var sentTraceIDHigh: Int64?
        var sentSpanID: Int64?
        var sentParentSpanID: Int64?
        var sentOperationName: String?
        var sentFlags: Int32?
        var sentStartTime: Int64?
        var sentDuration: Int64?
        var references: [ThriftReference] = []
        spanTags.begin()
        var events: [SpanEvent] = []
        while let field = try reader.readFieldHeader() {
            switch field.id {
            case 1:
                try expect(field.type, .i64, "traceIdLow", reader)
                sentTraceIDLow = try reader.readI64()
            case 2:
                try expect(field.type, .i64, "traceIdHigh", reader)
                sentTraceIDHigh = try reader.readI64()
            case 3:
                try expect(field.type, .i64, "spanId", reader)
                sentSpanID = try reader.readI64()
            case 4:
                try expect(field.type, .i64, "parentSpanId", reader)
                sentParentSpanID = try reader.readI64()
            case 5:
                try expect(field.type, .string, "operationName", reader)
                sentOperationName = try reader.readString()
            case 6:
                try expect(field.type, .list, "references", reader)
                try reader.enter("references")
                references = try self.references(&reader)
                reader.leave()
            case 7:
                try expect(field.type, .i32, "flags", reader)
                sentFlags = try reader.readI32()
            case 8:
                try expect(field.type, .i64, "startTime", reader)
                sentStartTime = try reader.readI64()
            case 9:
                try expect(field.type, .i64, "duration", reader)
                sentDuration = try reader.readI64()
            case 10:
                try expect(field.type, .list, "tags", reader)
                try reader.enter("tags")
                spanTags.begin()  // a tags list sent again replaces the earlier one
                try tags(&reader, into: &spanTags)
                reader.leave()
            case 11:
                try expect(field.type, .list, "logs", reader)
                try reader.enter("logs")
                events = try logs(&reader)
                reader.leave()
            default:
                try reader.skip(field.type)
            }
        }
        let traceIDLow = try required(sentTraceIDLow, "1 (traceIdLow)", reader)
        let traceIDHigh = try required(sentTraceIDHigh, "2 (traceIdHigh)", reader)
        let spanIDValue = try required(sentSpanID, "3 (spanId)", reader)
        let parentSpanID = try required(sentParentSpanID, "4 (parentSpanId)", reader)
        let name = try required(sentOperationName, "5 (operationName)", reader)
        let flags = try required(sentFlags, "7 (flags)", reader)
        let startTime = try required(sentStartTime, "8 (startTime)", reader)
        let duration = try required(sentDuration, "9 (duration)", reader)

        let traceID = TraceID(high: UInt64(bitPattern: traceIDHigh), low: UInt64(bitPattern: traceIDLow))
        guard !traceID.isZero else { return (name, .failure(.init(message: "traceId is all zero"))) }
        let spanID = SpanID(value: UInt64(bitPattern: spanIDValue))
        guard !spanID.isZero else { return (name, .failure(.init(message: "spanId is all zero"))) }
        let times: (start: UInt64, duration: UInt64)
        switch JaegerSpanAssembly.times(start: timestamp(microseconds: startTime), duration: self.duration(microseconds: duration)) {
        case .success(let checked): times = checked
        case .failure(let problem): return (name, .failure(problem))
        }
        // As Jaeger's own converter does: a parentSpanId not already among the references is a CHILD_OF one, first.
        var parent: SpanID?
        var links: [SpanLink] = []
        if parentSpanID != 0 {
            let parentID = SpanID(value: UInt64(bitPattern: parentSpanID))
            if !references.contains(where: { $0.type == 0 && $0.spanID == parentID && $0.traceID == traceID }) {
                JaegerSpanAssembly.add(JaegerReference(traceID: traceID, spanID: parentID, type: 0), traceID: traceID, parent: &parent, links: &links)
            }
        }
        for reference in references {
            JaegerSpanAssembly.add(
                JaegerReference(traceID: reference.traceID, spanID: reference.spanID, type: reference.type),
                traceID: traceID,
                parent: &parent,
                links: &links
            )
        }
        let span = JaegerSpanAssembly.span(
            traceID: traceID,
            spanID: spanID,
            parent: parent,
            flags: UInt32(bitPattern: flags),
            name: name,
            start: times.start,
            duration: times.duration,
            tags: spanTags.finish(),
            events: events,
            links: links,
            resource: resource,
            channel: channel
        )
        return (name, span)
    }

    /// `list<SpanRef{1: refType, 2: traceIdLow, 3: traceIdHigh, 4: spanId}>`.
    private static func references(_ reader: inout Reader) throws(ThriftDecodingError) -> [ThriftReference] {
        let count = try reader.readListHeader(of: .struct)
        var references: [ThriftReference] = []
        references.reserveCapacity(count)
        for index in 0..<count {
            try reader.enterElement(index)
            var refType: Int32?
            var low: Int64?
            var high: Int64?
            var spanID: Int64?
            while let field = try reader.readFieldHeader() {
                switch field.id {
                case 1:
                    try expect(field.type, .i32, "refType", reader)
                    refType = try reader.readI32()
                case 2:
                    try expect(field.type, .i64, "traceIdLow", reader)
                    low = try reader.readI64()
                case 3:
                    try expect(field.type, .i64, "traceIdHigh", reader)
                    high = try reader.readI64()
                case 4:
                    try expect(field.type, .i64, "spanId", reader)
                    spanID = try reader.readI64()
                default:
                    try reader.skip(field.type)
                }
            }
            guard let refType, let low, let high, let spanID else {
                throw reader.error("a SpanRef needs refType, traceIdLow, traceIdHigh and spanId")
            }
            guard refType == 0 || refType == 1 else { throw reader.error("refType \(refType) is not CHILD_OF (0) or FOLLOWS_FROM (1)") }
            references.append(
                ThriftReference(
                    type: refType,
                    traceID: TraceID(high: UInt64(bitPattern: high), low: UInt64(bitPattern: low)),
                    spanID: SpanID(value: UInt64(bitPattern: spanID))
                )
            )
            reader.leave()
        }
        return references
    }

    /// `list<Log{1: timestamp, 2: fields}>` as span events, each named by its `event` field.
    private static func logs(_ reader: inout Reader) throws(ThriftDecodingError) -> [SpanEvent] {
        let count = try reader.readListHeader(of: .struct)
        var events: [SpanEvent] = []
        events.reserveCapacity(count)
        for index in 0..<count {
            try reader.enterElement(index)
            var timestampMicros: Int64?
            var fields: JaegerLogFields?
            while let field = try reader.readFieldHeader() {
                switch field.id {
                case 1:
                    try expect(field.type, .i64, "timestamp", reader)
                    timestampMicros = try reader.readI64()
                case 2:
                    try expect(field.type, .list, "fields", reader)
                    try reader.enter("fields")
                    var read = JaegerLogFields()
                    try tags(&reader, into: &read)
                    fields = read
                    reader.leave()
                default:
                    try reader.skip(field.type)
                }
            }
            guard let timestampMicros, let fields else { throw reader.error("a Log needs timestamp and fields") }
            let time = timestamp(microseconds: timestampMicros)
            events.append(fields.event(at: UnixTime.nanoseconds(seconds: time.seconds, nanos: Int64(time.nanos)) ?? 0))
            reader.leave()
        }
        return events
    }

    // MARK: Tags

    /// `list<Tag>`, each tag added to `collector`, under the key the collector has of the same bytes if it has one.
    private static func tags<Collector: JaegerTagCollector>(_ reader: inout Reader, into collector: inout Collector) throws(ThriftDecodingError) {
        let count = try reader.readListHeader(of: .struct)
        if count > 1 { collector.reserve(count) }
        for index in 0..<count {
            try reader.enterElement(index)
            let (key, value) = try tag(&reader, keys: collector)
            collector.add(key, value)
            reader.leave()
        }
    }

    /// `Tag{1: key, 2: vType, 3: vStr, 4: vDouble, 5: vBool, 6: vLong, 7: vBinary}`: the key and the value, the field
    /// that `vType` names (its default when that field is missing). The key is the one `keys` has of the same bytes
    /// when it has one (such bytes are valid UTF-8); other key bytes are checked as they are made a `String`, as
    /// ``ThriftBinaryReader/readString()`` checks them.
    @inline(__always)
    private static func tag<Collector: JaegerTagCollector>(
        _ reader: inout Reader,
        keys: borrowing Collector
    ) throws(ThriftDecodingError) -> (key: String, value: AttributeValue) {
        var key: String?
        var valueType: Int32?
        var string = ""
        var double = 0.0
        var bool = false
        var long: Int64 = 0
        var binary = UnsafeRawBufferPointer(start: nil, count: 0)
        while let field = try reader.readFieldHeader() {
            switch field.id {
            case 1:
                try expect(field.type, .string, "key", reader)
                let bytes = try reader.readBinary()
                if let reused = keys.reusableKey(utf8: bytes) {
                    key = reused
                } else {
                    key = try Reader.string(validating: bytes, reader)
                }
            case 2:
                try expect(field.type, .i32, "vType", reader)
                valueType = try reader.readI32()
            case 3:
                try expect(field.type, .string, "vStr", reader)
                string = try reader.readString()
            case 4:
                try expect(field.type, .double, "vDouble", reader)
                double = try reader.readDouble()
            case 5:
                try expect(field.type, .bool, "vBool", reader)
                bool = try reader.readBool()
            case 6:
                try expect(field.type, .i64, "vLong", reader)
                long = try reader.readI64()
            case 7:
                try expect(field.type, .string, "vBinary", reader)
                binary = try reader.readBinary()
            default:
                try reader.skip(field.type)
            }
        }
        guard let key, let valueType else { throw reader.error("a Tag needs key and vType") }
        // jaeger.thrift's TagType: STRING, DOUBLE, BOOL, LONG, BINARY.
        switch valueType {
        case 0: return (key, .string(string))
        case 1: return (key, .double(double))
        case 2: return (key, .bool(bool))
        case 3: return (key, .int(long))
        case 4: return (key, .bytes(Array(binary)))
        default:
            throw reader.error("tag \"\(key)\": vType \(valueType) is not one of STRING, DOUBLE, BOOL, LONG, BINARY (0-4)")
        }
    }

    // MARK: Helpers

    @inline(__always)
    private static func required<Value>(_ value: Value?, _ field: StaticString, _ reader: Reader) throws(ThriftDecodingError) -> Value {
        guard let value else { throw missing(field, reader) }
        return value
    }

    @inline(__always)
    private static func expect(_ type: ThriftType, _ wanted: ThriftType, _ name: StaticString, _ reader: Reader) throws(ThriftDecodingError) {
        guard type == wanted else { throw wrongType(name, type, wanted, reader) }
    }

    @inline(never)
    private static func missing(_ field: StaticString, _ reader: Reader) -> ThriftDecodingError { reader.error("required field \(field) is missing") }

    /// Out of line: built in line at every field, the message made the decoder's loops too large to inline into.
    @inline(never)
    private static func wrongType(_ name: StaticString, _ type: ThriftType, _ wanted: ThriftType, _ reader: Reader) -> ThriftDecodingError {
        reader.error("field \(name) has wire type \(type), jaeger.thrift says \(wanted)")
    }

    /// Microseconds since 1970 as a protobuf `Timestamp` would hold them (nanos never negative).
    @inline(__always)
    static func timestamp(microseconds: Int64) -> (seconds: Int64, nanos: Int32) {
        let (seconds, remainder) = microseconds.quotientAndRemainder(dividingBy: 1_000_000)
        if remainder < 0 { return (seconds - 1, Int32(remainder + 1_000_000) * 1000) }
        return (seconds, Int32(remainder) * 1000)
    }

    /// Microseconds as a protobuf `Duration` would hold them (both parts of one sign).
    @inline(__always)
    static func duration(microseconds: Int64) -> (seconds: Int64, nanos: Int32) {
        let (seconds, remainder) = microseconds.quotientAndRemainder(dividingBy: 1_000_000)
        return (seconds, Int32(remainder) * 1000)
    }
}

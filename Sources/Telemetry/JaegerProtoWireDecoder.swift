/// Turns the bytes of a Jaeger api_v2 `PostSpansRequest` (gRPC `CollectorService/PostSpans`) straight into the
/// store's spans, reading the protobuf wire format with ``ProtobufWireReader`` instead of building the generated
/// messages: what the gRPC sink runs on every request.
///
/// The result is exactly what swift-protobuf's decoding followed by `JaegerConversion.spans(_:channel:)` (Intake) gives:
/// the same spans, the same problems in the same words; and the bytes that swift-protobuf refuses are refused.
/// That includes protobuf's merging rules: a batch, process, timestamp or duration sent twice is merged (its
/// repeated fields joined, its scalars the last sent), a scalar sent twice keeps its last value, a known field
/// with another wire type is skipped as unknown, an unknown enum value is kept (and is neither `CHILD_OF` nor
/// `FOLLOWS_FROM`, nor a known tag type), and a batch's process may come after the spans that take it. Every
/// string field is checked for UTF-8, the ones the store does not keep (`process_id`, `warnings`) included.
///
/// ```swift
/// let batch = try message.withUnsafeBytes { try JaegerProtoWireDecoder.spans($0, channel: .jaegerGRPC) }
/// ```
package enum JaegerProtoWireDecoder {
    private typealias Reader = ProtobufWireReader

    /// Decodes and converts a `PostSpansRequest` (an empty buffer is an empty request: no spans).
    ///
    /// - Throws: ``ProtobufWireError`` when the bytes are not a valid protobuf `PostSpansRequest`.
    package static func spans(_ bytes: UnsafeRawBufferPointer, channel: IntakeChannel) throws(ProtobufWireError) -> JaegerBatchSpans {
        var state = BatchState(channel: channel)
        guard !bytes.isEmpty else { return state.batch }
        var reader = Reader(bytes)
        try reader.enterOutermostMessage()
        while let tag = try reader.nextTag() {
            guard tag.fieldNumber == 1, tag.wireType == .lengthDelimited else {
                try reader.skipField(tag)
                continue
            }
            // `batch`, merged with any earlier one: its spans follow theirs, its process merges into theirs.
            let outer = try reader.enterMessage()
            try batch(&reader, into: &state)
            reader.leaveMessage(restoring: outer)
        }
        return state.finished()
    }

    /// Decodes and converts a `PostSpansRequest` held in an array.
    package static func spans(_ bytes: [UInt8], channel: IntakeChannel) throws(ProtobufWireError) -> JaegerBatchSpans {
        let result: Result<JaegerBatchSpans, ProtobufWireError> = bytes.withUnsafeBytes { buffer in
            do throws(ProtobufWireError) { return .success(try spans(buffer, channel: channel)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    // MARK: Batch

    /// The request's batch as it is read: its spans converted so far, and its process (which may yet change).
    private struct BatchState {
        let channel: IntakeChannel
        var batch = JaegerBatchSpans()
        /// Spans read, valid or not: the next span's index.
        var spanIndex = 0
        var process = JaegerProcessFields()
        /// The resource of `process` as it stands; `nil` after the process changed.
        var resource: Resource?
        /// Whether the process changed after spans took its resource: they take the final one at the end.
        var processChangedAfterSpans = false
        /// Indexes in `batch.spans` of the spans that carry their own process.
        var spansWithOwnProcess: [Int] = []
        /// Reads every span's tags, so that a span with the keys of the one before takes its keys and its
        /// attributes' layout.
        var spanTags = JaegerSpanTagsBuilder()

        init(channel: IntakeChannel) { self.channel = channel }

        /// The batch's resource as the process now stands.
        mutating func currentResource() -> Resource {
            if let resource { return resource }
            let built = process.resource
            resource = built
            return built
        }

        /// The batch, every span without a process of its own taking the batch's final process.
        mutating func finished() -> JaegerBatchSpans {
            guard processChangedAfterSpans else { return batch }
            let resource = process.resource
            var own = spansWithOwnProcess.makeIterator()
            var nextOwn = own.next()
            for index in batch.spans.indices {
                if index == nextOwn {
                    nextOwn = own.next()
                    continue
                }
                batch.spans[index].resource = resource
            }
            return batch
        }
    }

    /// `Batch{1: spans, 2: process}`.
    private static func batch(_ reader: inout Reader, into state: inout BatchState) throws(ProtobufWireError) {
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited):
                if state.spanIndex == 0 {
                    state.batch.spans.reserveCapacity(reader.countLengthDelimitedFields(from: 1))
                }
                let outer = try reader.enterMessage()
                let decoded = try span(&reader, tags: &state.spanTags)
                reader.leaveMessage(restoring: outer)
                let ownProcess = decoded.process != nil
                let resource = decoded.process?.resource ?? state.currentResource()
                switch decoded.converted(resource: resource, tags: &state.spanTags, channel: state.channel) {
                case .success(let span):
                    if ownProcess { state.spansWithOwnProcess.append(state.batch.spans.count) }
                    state.batch.spans.append(span)
                case .failure(let problem):
                    state.batch.problems.append(JaegerSpanAssembly.problem(problem, index: state.spanIndex, name: decoded.name))
                }
                state.spanIndex += 1
            case (2, .lengthDelimited):
                let outer = try reader.enterMessage()
                try process(&reader, into: &state.process)
                reader.leaveMessage(restoring: outer)
                state.resource = nil
                if state.spanIndex > 0 { state.processChangedAfterSpans = true }
            default:
                try reader.skipField(tag)
            }
        }
    }

    /// `Process{1: service_name, 2: tags}`, merged into `process`.
    private static func process(_ reader: inout Reader, into process: inout JaegerProcessFields) throws(ProtobufWireError) {
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited): process.serviceName = try reader.readString()
            case (2, .lengthDelimited): try keyValue(&reader, field: 2, into: &process)
            default: try reader.skipField(tag)
            }
        }
    }

    // MARK: Spans

    /// A span's fields as read, before its ids are checked; the ids stay in the input buffer, the tags in the
    /// batch's ``JaegerSpanTagsBuilder``.
    private struct DecodedSpan {
        var traceID = UnsafeRawBufferPointer(start: nil, count: 0)
        var spanID = UnsafeRawBufferPointer(start: nil, count: 0)
        var name = ""
        var references: [DecodedReference] = []
        var flags: UInt32 = 0
        var start: (seconds: Int64, nanos: Int32) = (0, 0)
        var duration: (seconds: Int64, nanos: Int32) = (0, 0)
        var events: [SpanEvent] = []
        /// The span's own process, when it carries one (even an empty one).
        var process: JaegerProcessFields?

        /// The span, or its first problem, in `JaegerConversion` (Intake)'s order and words; `tags` holds its tags.
        func converted(resource: Resource, tags: inout JaegerSpanTagsBuilder, channel: IntakeChannel) -> Result<Span, JaegerSpanAssembly.Problem> {
            typealias Problem = JaegerSpanAssembly.Problem
            guard traceID.count == 16 else { return .failure(Problem(message: "traceId has \(traceID.count) bytes, want 16")) }
            let traceID = JaegerProtoWireDecoder.traceID(traceID)
            guard !traceID.isZero else { return .failure(Problem(message: "traceId is all zero")) }
            guard spanID.count == 8 else { return .failure(Problem(message: "spanId has \(spanID.count) bytes, want 8")) }
            let spanID = JaegerProtoWireDecoder.spanID(spanID)
            guard !spanID.isZero else { return .failure(Problem(message: "spanId is all zero")) }
            let times: (start: UInt64, duration: UInt64)
            switch JaegerSpanAssembly.times(start: start, duration: duration) {
            case .success(let checked): times = checked
            case .failure(let problem): return .failure(problem)
            }
            var parent: SpanID?
            var links: [SpanLink] = []
            for (index, reference) in references.enumerated() {
                guard reference.traceID.count == 16, reference.spanID.count == 8 else {
                    return .failure(
                        Problem(
                            message: "references[\(index)] has ids of \(reference.traceID.count) and \(reference.spanID.count) bytes, want 16 and 8"
                        )
                    )
                }
                JaegerSpanAssembly.add(
                    JaegerReference(
                        traceID: JaegerProtoWireDecoder.traceID(reference.traceID),
                        spanID: JaegerProtoWireDecoder.spanID(reference.spanID),
                        type: reference.type
                    ),
                    traceID: traceID,
                    parent: &parent,
                    links: &links
                )
            }
            return JaegerSpanAssembly.span(
                traceID: traceID,
                spanID: spanID,
                parent: parent,
                flags: flags,
                name: name,
                start: times.start,
                duration: times.duration,
                tags: tags.finish(),
                events: events,
                links: links,
                resource: resource,
                channel: channel
            )
        }
    }

    /// A reference's fields as read, before its ids are checked.
    private struct DecodedReference {
        var traceID = UnsafeRawBufferPointer(start: nil, count: 0)
        var spanID = UnsafeRawBufferPointer(start: nil, count: 0)
        var type: Int32 = 0
    }

    /// `Span{1: trace_id, 2: span_id, 3: operation_name, 4: references, 5: flags, 6: start_time, 7: duration,
    /// 8: tags, 9: logs, 10: process, 11: process_id, 12: warnings}`; its tags read into `tags`.
    private static func span(_ reader: inout Reader, tags: inout JaegerSpanTagsBuilder) throws(ProtobufWireError) -> DecodedSpan {
        var span = DecodedSpan()
        tags.begin()
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited): span.traceID = try reader.readLengthDelimited()
            case (2, .lengthDelimited): span.spanID = try reader.readLengthDelimited()
            case (3, .lengthDelimited): span.name = try reader.readString()
            case (4, .lengthDelimited):
                let outer = try reader.enterMessage()
                span.references.append(try reference(&reader))
                reader.leaveMessage(restoring: outer)
            case (5, .varint): span.flags = UInt32(truncatingIfNeeded: try reader.readVarint())
            case (6, .lengthDelimited):
                let outer = try reader.enterMessage()
                try time(&reader, into: &span.start)
                reader.leaveMessage(restoring: outer)
            case (7, .lengthDelimited):
                let outer = try reader.enterMessage()
                try time(&reader, into: &span.duration)
                reader.leaveMessage(restoring: outer)
            case (8, .lengthDelimited): try keyValue(&reader, field: 8, into: &tags)
            case (9, .lengthDelimited):
                let outer = try reader.enterMessage()
                span.events.append(try log(&reader))
                reader.leaveMessage(restoring: outer)
            case (10, .lengthDelimited):
                let outer = try reader.enterMessage()
                var process = span.process ?? JaegerProcessFields()
                try self.process(&reader, into: &process)
                span.process = process
                reader.leaveMessage(restoring: outer)
            case (11, .lengthDelimited), (12, .lengthDelimited): _ = try reader.readString()  // process_id, warnings
            default: try reader.skipField(tag)
            }
        }
        return span
    }

    /// `SpanRef{1: trace_id, 2: span_id, 3: ref_type}`.
    private static func reference(_ reader: inout Reader) throws(ProtobufWireError) -> DecodedReference {
        var reference = DecodedReference()
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited): reference.traceID = try reader.readLengthDelimited()
            case (2, .lengthDelimited): reference.spanID = try reader.readLengthDelimited()
            case (3, .varint): reference.type = Int32(truncatingIfNeeded: try reader.readVarint())
            default: try reader.skipField(tag)
            }
        }
        return reference
    }

    /// `google.protobuf.Timestamp` or `Duration` (`{1: seconds, 2: nanos}`), merged into `time`.
    private static func time(_ reader: inout Reader, into time: inout (seconds: Int64, nanos: Int32)) throws(ProtobufWireError) {
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .varint): time.seconds = Int64(bitPattern: try reader.readVarint())
            case (2, .varint): time.nanos = Int32(truncatingIfNeeded: try reader.readVarint())
            default: try reader.skipField(tag)
            }
        }
    }

    /// `Log{1: timestamp, 2: fields}` as a span event named by its `event` field.
    private static func log(_ reader: inout Reader) throws(ProtobufWireError) -> SpanEvent {
        var timestamp: (seconds: Int64, nanos: Int32) = (0, 0)
        var fields = JaegerLogFields()
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited):
                let outer = try reader.enterMessage()
                try time(&reader, into: &timestamp)
                reader.leaveMessage(restoring: outer)
            case (2, .lengthDelimited): try keyValue(&reader, field: 2, into: &fields)
            default: try reader.skipField(tag)
            }
        }
        return fields.event(at: UnixTime.nanoseconds(seconds: timestamp.seconds, nanos: Int64(timestamp.nanos)) ?? 0)
    }

    // MARK: Tags

    /// One `KeyValue{1: key, 2: v_type, 3: v_str, 4: v_bool, 5: v_int64, 6: v_float64, 7: v_binary}` (the reader at
    /// its length, the field's number `fieldNumber`), added to `collector`: its value is the field `v_type` names,
    /// `v_str` for an unknown type; its key the collector's of the same bytes if it has one. Before the first, room is
    /// made for all of the message's key-values.
    @inline(__always)
    private static func keyValue<Collector: JaegerTagCollector>(
        _ reader: inout Reader,
        field fieldNumber: Int,
        into collector: inout Collector
    ) throws(ProtobufWireError) {
        if !collector.hasReserved {
            let count = reader.countLengthDelimitedFields(from: fieldNumber)
            if count > 1 { collector.reserve(count) }
            collector.hasReserved = true
        }
        let outer = try reader.enterMessage()
        var key = ""
        var valueType: Int32 = 0
        var string = ""
        var bool = false
        var int: Int64 = 0
        var double = 0.0
        var binary = UnsafeRawBufferPointer(start: nil, count: 0)
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited):
                // Bytes equal to a key the collector has are valid UTF-8; others are read again as a string, which
                // checks them (and refuses them at the same offset as reading them once would).
                // (The bytes are read before `collector` is asked: asked with the read as its argument, the compiler
                // copied the whole collector for each tag.)
                let start = reader.position
                let keyBytes = try reader.readLengthDelimited()
                if let reusable = collector.reusableKey(utf8: keyBytes) {
                    key = reusable
                } else {
                    reader.rewind(to: start)
                    key = try reader.readString()
                }
            case (2, .varint): valueType = Int32(truncatingIfNeeded: try reader.readVarint())
            case (3, .lengthDelimited): string = try reader.readString()
            case (4, .varint): bool = try reader.readVarint() != 0
            case (5, .varint): int = Int64(bitPattern: try reader.readVarint())
            case (6, .fixed64): double = Double(bitPattern: try reader.readFixed64())
            case (7, .lengthDelimited): binary = try reader.readLengthDelimited()
            default: try reader.skipField(tag)
            }
        }
        reader.leaveMessage(restoring: outer)
        // api_v2's ValueType: STRING, BOOL, INT64, FLOAT64, BINARY.
        switch valueType {
        case 1: collector.add(key, .bool(bool))
        case 2: collector.add(key, .int(int))
        case 3: collector.add(key, .double(double))
        case 4: collector.add(key, .bytes(Array(binary)))
        default: collector.add(key, .string(string))
        }
    }

    // MARK: Ids

    private static func traceID(_ bytes: UnsafeRawBufferPointer) -> TraceID {
        TraceID(
            high: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            low: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        )
    }

    private static func spanID(_ bytes: UnsafeRawBufferPointer) -> SpanID {
        SpanID(value: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)))
    }
}

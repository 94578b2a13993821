/// Turns the bytes of an OTLP `ExportTraceServiceRequest` straight into the store's model, reading the protobuf
/// wire format without building the generated messages.
///
/// The result is exactly what decoding with the generated code and then ``OTLPConversion/traces(_:channel:)``
/// gives: the same spans, the same problems (paths and wording), the same rejected count; and the bytes that
/// swift-protobuf refuses are refused. That includes protobuf's merging rules: a singular message field sent
/// twice (a resource, a scope, a status, an `AnyValue`'s array or key-value list) is merged, a scalar sent twice
/// keeps its last value, a known field with another wire type is skipped as unknown; and a resource or scope
/// may come after the spans it applies to. Every string field is checked for UTF-8, the ones the model does
/// not keep (schema URLs, entity references) included.
///
/// ```swift
/// let result = try body.withUnsafeReadableBytes { try OTLPTraceWireDecoder.traces($0, channel: .otlpGRPC) }
/// ```
package enum OTLPTraceWireDecoder {
    private typealias Reader = ProtobufWireReader

    /// Decodes and converts an `ExportTraceServiceRequest` (an empty buffer is an empty request).
    ///
    /// - Throws: ``ProtobufWireError`` when the bytes are not a valid protobuf `ExportTraceServiceRequest`.
    package static func traces(_ bytes: UnsafeRawBufferPointer, channel: IntakeChannel) throws(ProtobufWireError) -> ConversionResult {
        var result = ConversionResult(batch: Batch(), rejectedItems: 0, problems: [])
        guard !bytes.isEmpty else { return result }
        var reader = Reader(bytes)
        try reader.enterOutermostMessage()
        var resourceIndex = 0
        var spanAttributes = AttributeLayoutTemplate()
        while let tag = try reader.nextTag() {
            guard tag.fieldNumber == 1, tag.wireType == .lengthDelimited else {
                try reader.skipField(tag)
                continue
            }
            let outer = try reader.enterMessage()
            try resourceSpans(&reader, index: resourceIndex, channel: channel, attributes: &spanAttributes, into: &result)
            reader.leaveMessage(restoring: outer)
            resourceIndex += 1
        }
        return result
    }

    /// Decodes and converts an `ExportTraceServiceRequest` held in an array.
    package static func traces(_ bytes: [UInt8], channel: IntakeChannel) throws(ProtobufWireError) -> ConversionResult {
        let result: Result<ConversionResult, ProtobufWireError> = bytes.withUnsafeBytes { buffer in
            do throws(ProtobufWireError) { return .success(try traces(buffer, channel: channel)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    // MARK: Resource and scope levels

    /// `ResourceSpans`: the resource first (it may follow the scopes it applies to), then every `ScopeSpans`.
    private static func resourceSpans(
        _ reader: inout Reader,
        index resourceIndex: Int,
        channel: IntakeChannel,
        attributes spanAttributes: inout AttributeLayoutTemplate,
        into result: inout ConversionResult
    ) throws(ProtobufWireError) {
        let start = reader.position
        var attributes = Attributes()
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited):
                let outer = try reader.enterMessage()
                try resource(&reader, into: &attributes)
                reader.leaveMessage(restoring: outer)
            case (2, .lengthDelimited): _ = try reader.readLengthDelimited()  // read on the second pass
            case (3, .lengthDelimited): _ = try reader.readString()  // schema_url
            default: try reader.skipField(tag)
            }
        }
        let resource = Resource(attributes: attributes)
        reader.rewind(to: start)
        var scopeIndex = 0
        while let tag = try reader.nextTag() {
            guard tag.fieldNumber == 2, tag.wireType == .lengthDelimited else {
                try reader.skipField(tag)
                continue
            }
            let outer = try reader.enterMessage()
            try scopeSpans(
                &reader,
                resource: resource,
                path: (resourceIndex, scopeIndex),
                channel: channel,
                attributes: &spanAttributes,
                into: &result
            )
            reader.leaveMessage(restoring: outer)
            scopeIndex += 1
        }
    }

    /// `Resource`: attributes (merged into `attributes`, as protobuf merges a resource sent twice) and entity
    /// references, which are checked but not kept.
    private static func resource(
        _ reader: inout Reader,
        into attributes: inout Attributes
    ) throws(ProtobufWireError) {
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited): try keyValue(&reader, field: 1, into: &attributes)
            case (3, .lengthDelimited):
                let outer = try reader.enterMessage()
                try entityRef(&reader)
                reader.leaveMessage(restoring: outer)
            default: try reader.skipField(tag)  // dropped_attributes_count (a varint, not kept) and unknown fields
            }
        }
    }

    /// `EntityRef`: every field is a string or repeated string, checked for UTF-8; none is kept.
    private static func entityRef(_ reader: inout Reader) throws(ProtobufWireError) {
        while let tag = try reader.nextTag() {
            if (1...4).contains(tag.fieldNumber), tag.wireType == .lengthDelimited {
                _ = try reader.readString()
            } else {
                try reader.skipField(tag)
            }
        }
    }

    /// `ScopeSpans`: the scope first (it may follow the spans), then every span.
    private static func scopeSpans(
        _ reader: inout Reader,
        resource: Resource,
        path: (resource: Int, scope: Int),
        channel: IntakeChannel,
        attributes: inout AttributeLayoutTemplate,
        into result: inout ConversionResult
    ) throws(ProtobufWireError) {
        let start = reader.position
        var scope = InstrumentationScope()
        var spanCount = 0
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited):
                let outer = try reader.enterMessage()
                try instrumentationScope(&reader, into: &scope)
                reader.leaveMessage(restoring: outer)
            case (2, .lengthDelimited):
                _ = try reader.readLengthDelimited()  // read on the second pass
                spanCount += 1
            case (3, .lengthDelimited): _ = try reader.readString()  // schema_url
            default: try reader.skipField(tag)
            }
        }
        reader.rewind(to: start)
        result.batch.spans.reserveCapacity(result.batch.spans.count + spanCount)
        var spanIndex = 0
        while let tag = try reader.nextTag() {
            guard tag.fieldNumber == 2, tag.wireType == .lengthDelimited else {
                try reader.skipField(tag)
                continue
            }
            let outer = try reader.enterMessage()
            let decoded = try span(&reader, attributes: &attributes)
            reader.leaveMessage(restoring: outer)
            switch decoded.converted(resource: resource, scope: scope, channel: channel) {
            case .success(let span): result.batch.spans.append(span)
            case .failure(let problem):
                result.rejectedItems += 1
                result.problems.append(
                    "resourceSpans[\(path.resource)].scopeSpans[\(path.scope)].spans[\(spanIndex)] (\"\(decoded.name)\"): \(problem.message)"
                )
            }
            spanIndex += 1
        }
    }

    /// `InstrumentationScope`, merged into `scope` (protobuf merges a scope sent twice).
    private static func instrumentationScope(
        _ reader: inout Reader,
        into scope: inout InstrumentationScope
    ) throws(ProtobufWireError) {
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited): scope.name = try reader.readString()
            case (2, .lengthDelimited): scope.version = try reader.readString()
            case (3, .lengthDelimited): try keyValue(&reader, field: 3, into: &scope.attributes)
            default: try reader.skipField(tag)  // dropped_attributes_count and unknown fields
            }
        }
    }

    // MARK: Spans

    /// A span's fields as read, before its ids are checked; the ids stay in the input buffer.
    private struct DecodedSpan {
        var traceID = UnsafeRawBufferPointer(start: nil, count: 0)
        var spanID = UnsafeRawBufferPointer(start: nil, count: 0)
        var parentSpanID = UnsafeRawBufferPointer(start: nil, count: 0)
        var traceState = ""
        var flags: UInt32 = 0
        var name = ""
        var kind: Int32 = 0
        var startTimeUnixNano: UInt64 = 0
        var endTimeUnixNano: UInt64 = 0
        var attributes = Attributes()
        var droppedAttributesCount: UInt32 = 0
        var events: [SpanEvent] = []
        var links: [DecodedLink] = []
        var statusCode: Int32 = 0
        var statusMessage = ""

        /// The span, or the first problem with its ids (in ``OTLPConversion``'s order and words).
        func converted(resource: Resource, scope: InstrumentationScope, channel: IntakeChannel) -> Result<Span, OTLPConversion.Problem> {
            do throws(OTLPConversion.Problem) {
                let traceID = try OTLPTraceWireDecoder.requiredTraceID(traceID, field: "trace_id")
                let spanID = try OTLPTraceWireDecoder.requiredSpanID(spanID, field: "span_id")
                let parent = parentSpanID.isEmpty ? nil : try OTLPTraceWireDecoder.requiredSpanID(parentSpanID, field: "parent_span_id")
                var spanLinks: [SpanLink] = []
                if !links.isEmpty {
                    spanLinks.reserveCapacity(links.count)
                    for (index, link) in links.enumerated() {
                        spanLinks.append(
                            SpanLink(
                                traceID: try OTLPTraceWireDecoder.requiredTraceID(link.traceID, field: "links[\(index)].trace_id"),
                                spanID: try OTLPTraceWireDecoder.requiredSpanID(link.spanID, field: "links[\(index)].span_id"),
                                traceState: link.traceState,
                                attributes: link.attributes
                            )
                        )
                    }
                }
                return .success(
                    Span(
                        traceID: traceID,
                        spanID: spanID,
                        parentSpanID: parent,
                        traceState: traceState,
                        flags: flags,
                        name: name,
                        kind: SpanKind(rawValue: Int(kind)) ?? .unspecified,
                        startTimeUnixNano: startTimeUnixNano,
                        endTimeUnixNano: endTimeUnixNano,
                        attributes: attributes,
                        droppedAttributesCount: droppedAttributesCount,
                        events: events,
                        links: spanLinks,
                        status: SpanStatus(code: SpanStatus.Code(rawValue: Int(statusCode)) ?? .unset, message: statusMessage),
                        resource: resource,
                        scope: scope,
                        channel: channel
                    )
                )
            } catch {
                return .failure(error)
            }
        }
    }

    /// A link's fields as read, before its ids are checked.
    private struct DecodedLink {
        var traceID = UnsafeRawBufferPointer(start: nil, count: 0)
        var spanID = UnsafeRawBufferPointer(start: nil, count: 0)
        var traceState = ""
        var attributes = Attributes()
    }

    /// A span; its attributes built with `attributes`, which keeps the last span's layout (spans of one kind carry
    /// the same keys in the same order), and reserved for all of its key-values as ``keyValue(_:field:into:)``
    /// reserves them.
    private static func span(
        _ reader: inout Reader,
        attributes: inout AttributeLayoutTemplate
    ) throws(ProtobufWireError) -> DecodedSpan {
        var span = DecodedSpan()
        attributes.pairs.removeAll(keepingCapacity: true)
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited): span.traceID = try reader.readLengthDelimited()
            case (2, .lengthDelimited): span.spanID = try reader.readLengthDelimited()
            case (3, .lengthDelimited): span.traceState = try reader.readString()
            case (4, .lengthDelimited): span.parentSpanID = try reader.readLengthDelimited()
            case (5, .lengthDelimited): span.name = try reader.readString()
            case (6, .varint): span.kind = Int32(truncatingIfNeeded: try reader.readVarint())
            case (7, .fixed64): span.startTimeUnixNano = try reader.readFixed64()
            case (8, .fixed64): span.endTimeUnixNano = try reader.readFixed64()
            case (9, .lengthDelimited): attributes.pairs.append(try keyValue(&reader))
            case (10, .varint): span.droppedAttributesCount = UInt32(truncatingIfNeeded: try reader.readVarint())
            case (11, .lengthDelimited):
                let outer = try reader.enterMessage()
                span.events.append(try event(&reader))
                reader.leaveMessage(restoring: outer)
            case (13, .lengthDelimited):
                let outer = try reader.enterMessage()
                span.links.append(try link(&reader))
                reader.leaveMessage(restoring: outer)
            case (15, .lengthDelimited):
                let outer = try reader.enterMessage()
                try status(&reader, code: &span.statusCode, message: &span.statusMessage)
                reader.leaveMessage(restoring: outer)
            case (16, .fixed32): span.flags = try reader.readFixed32()
            default: try reader.skipField(tag)  // dropped event and link counts (varints, not kept) and unknown fields
            }
        }
        span.attributes = attributes.attributes(reserving: attributes.pairs.count)
        return span
    }

    private static func event(
        _ reader: inout Reader
    ) throws(ProtobufWireError) -> SpanEvent {
        var event = SpanEvent(timeUnixNano: 0, name: "")
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .fixed64): event.timeUnixNano = try reader.readFixed64()
            case (2, .lengthDelimited): event.name = try reader.readString()
            case (3, .lengthDelimited): try keyValue(&reader, field: 3, into: &event.attributes)
            default: try reader.skipField(tag)  // dropped_attributes_count and unknown fields
            }
        }
        return event
    }

    private static func link(
        _ reader: inout Reader
    ) throws(ProtobufWireError) -> DecodedLink {
        var link = DecodedLink()
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited): link.traceID = try reader.readLengthDelimited()
            case (2, .lengthDelimited): link.spanID = try reader.readLengthDelimited()
            case (3, .lengthDelimited): link.traceState = try reader.readString()
            case (4, .lengthDelimited): try keyValue(&reader, field: 4, into: &link.attributes)
            default: try reader.skipField(tag)  // dropped_attributes_count, flags (not kept) and unknown fields
            }
        }
        return link
    }

    /// `Status`, merged into `code` and `message` (protobuf merges a status sent twice).
    private static func status(_ reader: inout Reader, code: inout Int32, message: inout String) throws(ProtobufWireError) {
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (2, .lengthDelimited): message = try reader.readString()
            case (3, .varint): code = Int32(truncatingIfNeeded: try reader.readVarint())
            default: try reader.skipField(tag)
            }
        }
    }

    private static func requiredTraceID(_ bytes: UnsafeRawBufferPointer, field: String) throws(OTLPConversion.Problem) -> TraceID {
        guard bytes.count == 16 else { throw OTLPConversion.wrongLength(field, count: bytes.count, want: 16) }
        let id = TraceID(
            high: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            low: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        )
        guard !id.isZero else { throw OTLPConversion.allZero(field) }
        return id
    }

    private static func requiredSpanID(_ bytes: UnsafeRawBufferPointer, field: String) throws(OTLPConversion.Problem) -> SpanID {
        guard bytes.count == 8 else { throw OTLPConversion.wrongLength(field, count: bytes.count, want: 8) }
        let id = SpanID(value: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)))
        guard !id.isZero else { throw OTLPConversion.allZero(field) }
        return id
    }

    // MARK: Attributes

    /// One `KeyValue` field (the reader at its length, the field's number `fieldNumber`): stored under its key,
    /// replacing an earlier value. Before the first, room is made for all of the message's key-values.
    @inline(__always)
    private static func keyValue(
        _ reader: inout Reader,
        field fieldNumber: Int,
        into attributes: inout Attributes
    ) throws(ProtobufWireError) {
        if attributes.isEmpty {
            let count = reader.countLengthDelimitedFields(from: fieldNumber)
            // A new dictionary rather than `reserveCapacity`, which is not specialized: it looks up generic
            // metadata on every call.
            if count > 1 { attributes = Attributes(minimumCapacity: count) }
        }
        let (key, value) = try keyValue(&reader)
        attributes[key] = value
    }

    /// One `KeyValue` field (the reader at its length): its key and value.
    @inline(__always)
    private static func keyValue(_ reader: inout Reader) throws(ProtobufWireError) -> (key: String, value: AttributeValue) {
        let outer = try reader.enterMessage()
        var key = ""
        var value = AttributeValue.empty
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited): key = try reader.readString()
            case (2, .lengthDelimited):
                let valueEnd = try reader.enterMessage()
                try anyValue(&reader, into: &value)
                reader.leaveMessage(restoring: valueEnd)
            default: try reader.skipField(tag)  // key_strindex (a varint, not kept) and unknown fields
            }
        }
        reader.leaveMessage(restoring: outer)
        return (key, value)
    }

    /// `AnyValue`, merged into `value`: a scalar replaces it, an array or key-value list extends one of its kind
    /// (protobuf merges a oneof's message sent twice) and replaces anything else.
    private static func anyValue(
        _ reader: inout Reader,
        into value: inout AttributeValue
    ) throws(ProtobufWireError) {
        while let tag = try reader.nextTag() {
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited): value = .string(try reader.readString())
            case (2, .varint): value = .bool(try reader.readVarint() != 0)
            case (3, .varint): value = .int(Int64(bitPattern: try reader.readVarint()))
            case (4, .fixed64): value = .double(Double(bitPattern: try reader.readFixed64()))
            case (5, .lengthDelimited):
                var elements: [AttributeValue] = []
                if case .array(let existing) = value {
                    elements = existing
                    value = .empty
                }
                let outer = try reader.enterMessage()
                while let inner = try reader.nextTag() {
                    guard inner.fieldNumber == 1, inner.wireType == .lengthDelimited else {
                        try reader.skipField(inner)
                        continue
                    }
                    let elementEnd = try reader.enterMessage()
                    var element = AttributeValue.empty
                    try anyValue(&reader, into: &element)
                    reader.leaveMessage(restoring: elementEnd)
                    elements.append(element)
                }
                reader.leaveMessage(restoring: outer)
                value = .array(elements)
            case (6, .lengthDelimited):
                var entries: Attributes = [:]
                if case .keyValueList(let existing) = value {
                    entries = existing
                    value = .empty
                }
                let outer = try reader.enterMessage()
                while let inner = try reader.nextTag() {
                    guard inner.fieldNumber == 1, inner.wireType == .lengthDelimited else {
                        try reader.skipField(inner)
                        continue
                    }
                    try keyValue(&reader, field: 1, into: &entries)
                }
                reader.leaveMessage(restoring: outer)
                value = .keyValueList(entries)
            case (7, .lengthDelimited): value = .bytes(Array(try reader.readLengthDelimited()))
            case (8, .varint):
                // string_value_strindex: an index into the profiles signal's string table, which traces lack.
                _ = try reader.readVarint()
                value = .empty
            default: try reader.skipField(tag)
            }
        }
    }
}

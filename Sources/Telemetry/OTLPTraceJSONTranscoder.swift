/// Writes an OTLP `ExportTraceServiceRequest` as OTLP/JSON straight from its protobuf bytes, without building the
/// generated messages: what a JSON recording holds of every protobuf trace request.
///
/// The output is byte for byte what ``OTLPJSON/encode(_:)`` writes for the message the bytes decode to (with an empty
/// request written `{"resourceSpans":[]}`, as ``RecordingWriter`` writes it), so that a recording does not depend on
/// which path wrote it:
/// - fields in field-number order, lowerCamelCase keys, no whitespace;
/// - proto3 defaults left out (an empty string, a zero number, `false`), except inside `AnyValue`'s oneof, and a
///   message field that was sent, even empty, written (`{}`);
/// - 64-bit integers as strings, enums as integers, doubles as Swift's `debugDescription` writes them (`"NaN"`,
///   `"Infinity"` and `"-Infinity"` quoted), ids as lower-case hex, other bytes as padded base64;
/// - strings escaped as swift-protobuf escapes them: `\b \t \n \f \r \" \\`, and `\u00XX` (upper-case hex) for the
///   other C0 controls, DEL and the C1 controls U+0080–U+009F;
/// - protobuf's merging rules: a singular message sent twice is merged, a scalar sent twice keeps its last value, an
///   `AnyValue` keeps its last case (merging a message case sent several times in a row), and unknown fields, or
///   known ones with another wire type, are left out.
///
/// The bytes are expected to be a request that ``OTLPTraceWireDecoder`` took (it refuses what swift-protobuf refuses,
/// invalid UTF-8 included). Bytes that are not valid protobuf throw rather than give partial JSON; string fields are
/// copied as they are, not checked again.
///
/// ```swift
/// let json = try body.withUnsafeReadableBytes { try OTLPTraceJSONTranscoder.json($0) }
/// ```
package enum OTLPTraceJSONTranscoder {
    /// The OTLP/JSON of the `ExportTraceServiceRequest` in `bytes` (an empty buffer is an empty request).
    ///
    /// - Throws: ``ProtobufWireError`` when the bytes are not valid protobuf, or nest deeper than swift-protobuf's
    ///   limit.
    package static func json(_ bytes: UnsafeRawBufferPointer) throws(ProtobufWireError) -> [UInt8] {
        var writer = Writer(bytes)
        try writer.message(.request, segments: .one(0..<bytes.count), depth: 1)
        if writer.output.count == 2 { return Array(#"{"resourceSpans":[]}"#.utf8) }
        return writer.output
    }

    /// The OTLP/JSON of the `ExportTraceServiceRequest` in `bytes`.
    package static func json(_ bytes: [UInt8]) throws(ProtobufWireError) -> [UInt8] {
        let result: Result<[UInt8], ProtobufWireError> = bytes.withUnsafeBytes { buffer in
            do throws(ProtobufWireError) { return .success(try json(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    // MARK: Schema

    /// The messages of an `ExportTraceServiceRequest`.
    enum MessageType {
        case request, resourceSpans, resource, entityRef, scopeSpans, scope, span, event, link, status
        case keyValue, anyValue, arrayValue, keyValueList

        /// The message's fields, in field-number order.
        var fields: [Field] {
            switch self {
            case .request: Schema.request
            case .resourceSpans: Schema.resourceSpans
            case .resource: Schema.resource
            case .entityRef: Schema.entityRef
            case .scopeSpans: Schema.scopeSpans
            case .scope: Schema.scope
            case .span: Schema.span
            case .event: Schema.event
            case .link: Schema.link
            case .status: Schema.status
            case .keyValue: Schema.keyValue
            case .anyValue: Schema.anyValue
            case .arrayValue: Schema.values(.anyValue)
            case .keyValueList: Schema.values(.keyValue)
            }
        }

        /// The index in ``fields`` of each field number up to the highest (-1: no such field).
        var indexByNumber: [Int8] {
            switch self {
            case .request: Schema.requestIndex
            case .resourceSpans: Schema.resourceSpansIndex
            case .resource: Schema.resourceIndex
            case .entityRef: Schema.entityRefIndex
            case .scopeSpans: Schema.scopeSpansIndex
            case .scope: Schema.scopeIndex
            case .span: Schema.spanIndex
            case .event: Schema.eventIndex
            case .link: Schema.linkIndex
            case .status: Schema.statusIndex
            case .keyValue: Schema.keyValueIndex
            case .anyValue: Schema.anyValueIndex
            case .arrayValue, .keyValueList: Schema.valuesIndex
            }
        }
    }

    /// How a field is written.
    enum Kind {
        case string, hexBytes, base64Bytes, uint32, int32, enumeration, int64, bool, fixed64, fixed32, double
        case message(MessageType)

        /// The wire type a field of this kind has; a field of the same number with another is unknown.
        var wireType: ProtobufWireReader.WireType {
            switch self {
            case .string, .hexBytes, .base64Bytes, .message: .lengthDelimited
            case .uint32, .int32, .enumeration, .int64, .bool: .varint
            case .fixed64, .double: .fixed64
            case .fixed32: .fixed32
            }
        }
    }

    struct Field {
        var number: Int
        /// `"name":`, as written.
        var key: [UInt8]
        var kind: Kind
        var repeated = false

        init(_ number: Int, _ name: String, _ kind: Kind, repeated: Bool = false) {
            self.number = number
            self.key = Array("\"\(name)\":".utf8)
            self.kind = kind
            self.repeated = repeated
        }
    }

    enum Schema {
        static let request = [Field(1, "resourceSpans", .message(.resourceSpans), repeated: true)]
        static let resourceSpans = [
            Field(1, "resource", .message(.resource)), Field(2, "scopeSpans", .message(.scopeSpans), repeated: true),
            Field(3, "schemaUrl", .string),
        ]
        static let resource = [
            Field(1, "attributes", .message(.keyValue), repeated: true), Field(2, "droppedAttributesCount", .uint32),
            Field(3, "entityRefs", .message(.entityRef), repeated: true),
        ]
        static let entityRef = [
            Field(1, "schemaUrl", .string), Field(2, "type", .string), Field(3, "idKeys", .string, repeated: true),
            Field(4, "descriptionKeys", .string, repeated: true),
        ]
        static let scopeSpans = [
            Field(1, "scope", .message(.scope)), Field(2, "spans", .message(.span), repeated: true), Field(3, "schemaUrl", .string),
        ]
        static let scope = [
            Field(1, "name", .string), Field(2, "version", .string), Field(3, "attributes", .message(.keyValue), repeated: true),
            Field(4, "droppedAttributesCount", .uint32),
        ]
        static let span = [
            Field(1, "traceId", .hexBytes), Field(2, "spanId", .hexBytes), Field(3, "traceState", .string),
            Field(4, "parentSpanId", .hexBytes), Field(5, "name", .string), Field(6, "kind", .enumeration),
            Field(7, "startTimeUnixNano", .fixed64), Field(8, "endTimeUnixNano", .fixed64),
            Field(9, "attributes", .message(.keyValue), repeated: true), Field(10, "droppedAttributesCount", .uint32),
            Field(11, "events", .message(.event), repeated: true), Field(12, "droppedEventsCount", .uint32),
            Field(13, "links", .message(.link), repeated: true), Field(14, "droppedLinksCount", .uint32),
            Field(15, "status", .message(.status)), Field(16, "flags", .fixed32),
        ]
        static let event = [
            Field(1, "timeUnixNano", .fixed64), Field(2, "name", .string), Field(3, "attributes", .message(.keyValue), repeated: true),
            Field(4, "droppedAttributesCount", .uint32),
        ]
        static let link = [
            Field(1, "traceId", .hexBytes), Field(2, "spanId", .hexBytes), Field(3, "traceState", .string),
            Field(4, "attributes", .message(.keyValue), repeated: true), Field(5, "droppedAttributesCount", .uint32),
            Field(6, "flags", .fixed32),
        ]
        static let status = [Field(2, "message", .string), Field(3, "code", .enumeration)]
        static let keyValue = [Field(1, "key", .string), Field(2, "value", .message(.anyValue)), Field(3, "keyStrindex", .int32)]
        /// `AnyValue`: every field is a case of its oneof `value`.
        static let anyValue = [
            Field(1, "stringValue", .string), Field(2, "boolValue", .bool), Field(3, "intValue", .int64), Field(4, "doubleValue", .double),
            Field(5, "arrayValue", .message(.arrayValue)), Field(6, "kvlistValue", .message(.keyValueList)),
            Field(7, "bytesValue", .base64Bytes), Field(8, "stringValueStrindex", .int32),
        ]
        static let anyValues = [Field(1, "values", .message(.anyValue), repeated: true)]
        static let keyValues = [Field(1, "values", .message(.keyValue), repeated: true)]
        static func values(_ element: MessageType) -> [Field] { element == .anyValue ? anyValues : keyValues }

        static let requestIndex = index(request)
        static let resourceSpansIndex = index(resourceSpans)
        static let resourceIndex = index(resource)
        static let entityRefIndex = index(entityRef)
        static let scopeSpansIndex = index(scopeSpans)
        static let scopeIndex = index(scope)
        static let spanIndex = index(span)
        static let eventIndex = index(event)
        static let linkIndex = index(link)
        static let statusIndex = index(status)
        static let keyValueIndex = index(keyValue)
        static let anyValueIndex = index(anyValue)
        static let valuesIndex = index(anyValues)

        private static func index(_ fields: [Field]) -> [Int8] {
            var index = [Int8](repeating: -1, count: (fields.map(\.number).max() ?? 0) + 1)
            for (position, field) in fields.enumerated() { index[field.number] = Int8(position) }
            return index
        }
    }

    // MARK: Writing

    /// One occurrence of a known field in a message: which field, where it came in the message, and its value (the
    /// body's range for a length-delimited field, the bits for a scalar).
    struct Occurrence {
        var field: Int
        var sequence: Int
        var start: Int
        var count: Int
        var bits: UInt64
    }

    /// Where a message's fields are: one field's body, or several (a singular message sent more than once, which
    /// protobuf merges as if their bytes were one).
    enum Segments {
        case one(Range<Int>)
        case many([Range<Int>])
    }

    struct Writer {
        private let bytes: UnsafeRawBufferPointer
        private(set) var output: [UInt8] = []
        /// The occurrences of the messages being written, innermost last: each message's are appended after its
        /// parent's and removed when it is written.
        private var occurrences: [Occurrence] = []

        init(_ bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
            output.reserveCapacity(bytes.count * 2 + 32)
            occurrences.reserveCapacity(64)
        }

        /// Writes the message of `type` whose fields are in `segments`, `depth` deep (the request is 1 deep).
        mutating func message(_ type: MessageType, segments: Segments, depth: Int) throws(ProtobufWireError) {
            let base = occurrences.count
            defer { occurrences.removeSubrange(base...) }
            var sequence = 0
            switch segments {
            case .one(let segment): try collect(type, segment: segment, depth: depth, sequence: &sequence)
            case .many(let all): for segment in all { try collect(type, segment: segment, depth: depth, sequence: &sequence) }
            }
            sortByField(from: base)
            output.append(UInt8(ascii: "{"))
            if case .anyValue = type {
                try anyValueCase(from: base, depth: depth)
            } else {
                try fields(of: type, from: base, depth: depth)
            }
            output.append(UInt8(ascii: "}"))
        }

        /// Appends the known fields of `segment` with the wire type of their kind, in the order they came, numbered
        /// from `sequence` on.
        private mutating func collect(_ type: MessageType, segment: Range<Int>, depth: Int, sequence: inout Int) throws(ProtobufWireError) {
            // The nesting limit as swift-protobuf counts it: the messages around this one, and groups in unknown fields.
            let budget = ProtobufWireReader.defaultDepthLimit - depth
            guard budget >= 0 else { throw ProtobufWireError(.depthLimit, at: segment.lowerBound) }
            let fields = type.fields
            let indexByNumber = type.indexByNumber
            var reader = ProtobufWireReader(UnsafeRawBufferPointer(rebasing: bytes[segment]), depthLimit: budget)
            while let tag = try reader.nextTag() {
                let index = tag.fieldNumber < indexByNumber.count ? Int(indexByNumber[tag.fieldNumber]) : -1
                guard index >= 0, fields[index].kind.wireType == tag.wireType else {
                    try reader.skipField(tag)
                    continue
                }
                var occurrence = Occurrence(field: index, sequence: sequence, start: 0, count: 0, bits: 0)
                switch tag.wireType {
                case .varint: occurrence.bits = try reader.readVarint()
                case .fixed64: occurrence.bits = try reader.readFixed64()
                case .fixed32: occurrence.bits = UInt64(try reader.readFixed32())
                default:
                    let body = try reader.readLengthDelimited()
                    occurrence.start = body.baseAddress.map { $0 - bytes.baseAddress! } ?? 0
                    occurrence.count = body.count
                }
                occurrences.append(occurrence)
                sequence += 1
            }
        }

        /// Orders the occurrences from `base` on by field, keeping the order of each field's own (a stable
        /// insertion sort: senders write fields in order, and then nothing moves).
        private mutating func sortByField(from base: Int) {
            var index = base + 1
            while index < occurrences.count {
                let occurrence = occurrences[index]
                var slot = index
                while slot > base, occurrences[slot - 1].field > occurrence.field {
                    occurrences[slot] = occurrences[slot - 1]
                    slot -= 1
                }
                occurrences[slot] = occurrence
                index += 1
            }
        }

        /// Writes every field of a message (not `AnyValue`) from its occurrences, sorted by field, from `base` on.
        private mutating func fields(of type: MessageType, from base: Int, depth: Int) throws(ProtobufWireError) {
            let fields = type.fields
            var first = true
            var start = base
            while start < occurrences.count {
                let fieldIndex = occurrences[start].field
                var end = start + 1
                while end < occurrences.count, occurrences[end].field == fieldIndex { end += 1 }
                defer { start = end }
                let field = fields[fieldIndex]
                if field.repeated {
                    separate(&first)
                    output.append(contentsOf: field.key)
                    output.append(UInt8(ascii: "["))
                    for index in start..<end {
                        if index > start { output.append(UInt8(ascii: ",")) }
                        try value(field.kind, occurrences[index], depth: depth)
                    }
                    output.append(UInt8(ascii: "]"))
                } else if case .message(let child) = field.kind {
                    separate(&first)
                    output.append(contentsOf: field.key)
                    try message(child, segments: segments(start..<end), depth: depth + 1)
                } else {
                    let last = occurrences[end - 1]
                    guard !Self.isDefault(field.kind, last) else { continue }
                    separate(&first)
                    output.append(contentsOf: field.key)
                    try value(field.kind, last, depth: depth)
                }
            }
        }

        /// Writes `AnyValue`'s oneof from its occurrences, sorted by field, from `base` on: the case that came last;
        /// for a message case, merged with the occurrences of the same case that came right before it.
        private mutating func anyValueCase(from base: Int, depth: Int) throws(ProtobufWireError) {
            guard occurrences.count > base else { return }
            var last = base
            for index in base..<occurrences.count where occurrences[index].sequence > occurrences[last].sequence { last = index }
            let winner = occurrences[last]
            let field = MessageType.anyValue.fields[winner.field]
            output.append(contentsOf: field.key)
            guard case .message(let child) = field.kind else {
                try value(field.kind, winner, depth: depth)
                return
            }
            // The run of this case since another case last came (which replaced what came before it).
            var since = -1
            for index in base..<occurrences.count where occurrences[index].field != winner.field {
                since = max(since, occurrences[index].sequence)
            }
            let run = (base..<occurrences.count).filter { occurrences[$0].field == winner.field && occurrences[$0].sequence > since }
            try message(child, segments: segments(run), depth: depth + 1)
        }

        /// The bodies of the occurrences at `indices`.
        private func segments(_ indices: some Collection<Int>) -> Segments {
            if indices.count == 1 { return .one(body(occurrences[indices.first!])) }
            return .many(indices.map { body(occurrences[$0]) })
        }

        private func body(_ occurrence: Occurrence) -> Range<Int> { occurrence.start..<occurrence.start + occurrence.count }

        private mutating func separate(_ first: inout Bool) {
            if first { first = false } else { output.append(UInt8(ascii: ",")) }
        }

        /// Whether a singular scalar field outside a oneof holds proto3's default, which is left out.
        private static func isDefault(_ kind: Kind, _ occurrence: Occurrence) -> Bool {
            switch kind {
            case .string, .hexBytes, .base64Bytes: occurrence.count == 0
            case .uint32, .int32, .enumeration, .fixed32: UInt32(truncatingIfNeeded: occurrence.bits) == 0
            case .int64, .bool, .fixed64: occurrence.bits == 0
            case .double: Double(bitPattern: occurrence.bits) == 0
            case .message: false
            }
        }

        /// Writes one value of `kind`.
        private mutating func value(_ kind: Kind, _ occurrence: Occurrence, depth: Int) throws(ProtobufWireError) {
            switch kind {
            case .string: string(occurrence.start, occurrence.count)
            case .hexBytes:
                output.append(UInt8(ascii: "\""))
                for offset in occurrence.start..<occurrence.start + occurrence.count {
                    output.append(Self.lowerHex[Int(bytes[offset] >> 4)])
                    output.append(Self.lowerHex[Int(bytes[offset] & 0x0f)])
                }
                output.append(UInt8(ascii: "\""))
            case .base64Bytes: base64(occurrence.start, occurrence.count)
            case .uint32, .fixed32: decimal(UInt64(UInt32(truncatingIfNeeded: occurrence.bits)))
            case .int32, .enumeration: signedDecimal(Int64(Int32(truncatingIfNeeded: occurrence.bits)))
            case .int64:
                output.append(UInt8(ascii: "\""))
                signedDecimal(Int64(bitPattern: occurrence.bits))
                output.append(UInt8(ascii: "\""))
            case .fixed64:
                output.append(UInt8(ascii: "\""))
                decimal(occurrence.bits)
                output.append(UInt8(ascii: "\""))
            case .bool: output.append(contentsOf: occurrence.bits != 0 ? Self.trueText : Self.falseText)
            case .double:
                let double = Double(bitPattern: occurrence.bits)
                if double.isNaN {
                    output.append(contentsOf: Self.nanText)
                } else if double.isInfinite {
                    output.append(contentsOf: double < 0 ? Self.minusInfinityText : Self.infinityText)
                } else {
                    output.append(contentsOf: double.debugDescription.utf8)
                }
            case .message(let child): try message(child, segments: .one(body(occurrence)), depth: depth + 1)
            }
        }

        /// A quoted JSON string of the UTF-8 at `start`, escaped as swift-protobuf escapes it (by Unicode scalar:
        /// U+0080–U+009F are `C2 80`–`C2 9F` in UTF-8).
        private mutating func string(_ start: Int, _ count: Int) {
            output.append(UInt8(ascii: "\""))
            var index = start
            let end = start + count
            while index < end {
                let byte = bytes[index]
                switch byte {
                case 8: output.append(contentsOf: [0x5c, UInt8(ascii: "b")])
                case 9: output.append(contentsOf: [0x5c, UInt8(ascii: "t")])
                case 10: output.append(contentsOf: [0x5c, UInt8(ascii: "n")])
                case 12: output.append(contentsOf: [0x5c, UInt8(ascii: "f")])
                case 13: output.append(contentsOf: [0x5c, UInt8(ascii: "r")])
                case 34: output.append(contentsOf: [0x5c, 34])
                case 92: output.append(contentsOf: [0x5c, 0x5c])
                case 0...31, 127: escape(byte)
                case 0xc2 where index + 1 < end && (0x80...0x9f).contains(bytes[index + 1]):
                    index += 1
                    escape(bytes[index])
                default: output.append(byte)
                }
                index += 1
            }
            output.append(UInt8(ascii: "\""))
        }

        /// `\u00XX` for the scalar `value` (below U+0100), upper-case hex as swift-protobuf writes it.
        private mutating func escape(_ value: UInt8) {
            output.append(contentsOf: Self.unicodeEscape)
            output.append(Self.upperHex[Int(value >> 4)])
            output.append(Self.upperHex[Int(value & 0x0f)])
        }

        private mutating func base64(_ start: Int, _ count: Int) {
            output.append(UInt8(ascii: "\""))
            var index = start
            let end = start + count
            while end - index >= 3 {
                let group = Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
                for shift in [18, 12, 6, 0] { output.append(Self.base64Digits[(group >> shift) & 63]) }
                index += 3
            }
            if end - index == 2 {
                let group = Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8
                for shift in [18, 12, 6] { output.append(Self.base64Digits[(group >> shift) & 63]) }
                output.append(UInt8(ascii: "="))
            } else if end - index == 1 {
                let group = Int(bytes[index]) << 16
                for shift in [18, 12] { output.append(Self.base64Digits[(group >> shift) & 63]) }
                output.append(contentsOf: [UInt8(ascii: "="), UInt8(ascii: "=")])
            }
            output.append(UInt8(ascii: "\""))
        }

        private mutating func decimal(_ value: UInt64) {
            let start = output.count
            var rest = value
            repeat {
                output.append(UInt8(ascii: "0") + UInt8(rest % 10))
                rest /= 10
            } while rest > 0
            output[start...].reverse()
        }

        private mutating func signedDecimal(_ value: Int64) {
            if value < 0 {
                output.append(UInt8(ascii: "-"))
                decimal(0 &- UInt64(bitPattern: value))
            } else {
                decimal(UInt64(value))
            }
        }

        private static let lowerHex = Array("0123456789abcdef".utf8)
        private static let upperHex = Array("0123456789ABCDEF".utf8)
        private static let base64Digits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        private static let unicodeEscape = Array(#"\u00"#.utf8)
        private static let trueText = Array("true".utf8)
        private static let falseText = Array("false".utf8)
        private static let nanText = Array(#""NaN""#.utf8)
        private static let infinityText = Array(#""Infinity""#.utf8)
        private static let minusInfinityText = Array(#""-Infinity""#.utf8)
    }
}

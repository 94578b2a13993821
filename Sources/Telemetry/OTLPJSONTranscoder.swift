package import Scenario

/// Writes an OTLP `ExportTraceServiceRequest` or `ExportLogsServiceRequest` as OTLP/JSON straight from its protobuf
/// bytes, without building the generated messages: what a JSON recording holds of the protobuf requests of those
/// signals. (Metrics are not transcoded: their packed, optional and oneof fields are left to swift-protobuf.)
///
/// The output is byte for byte what ``OTLPJSON/encode(_:)`` writes for the message the bytes decode to (with an empty
/// request written `{"resourceSpans":[]}` or `{"resourceLogs":[]}`, as ``RecordingWriter`` writes it), so that a
/// recording does not depend on which path wrote it:
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
/// The bytes are expected to be a request the receiver decoded (the wire decoder and swift-protobuf refuse invalid
/// UTF-8 alike). Bytes that are not valid protobuf throw rather than give partial JSON; string fields are copied as
/// they are, not checked again.
///
/// ```swift
/// let json = try body.withUnsafeReadableBytes { try OTLPJSONTranscoder.json($0, signal: .traces) }
/// ```
package enum OTLPJSONTranscoder {
    /// Whether requests of `signal` are transcoded (traces and logs).
    package static func transcodes(_ signal: Signal) -> Bool { signal != .metrics }

    /// The OTLP/JSON of the `Export…ServiceRequest` of `signal` in `bytes` (an empty buffer is an empty request).
    ///
    /// - Precondition: ``transcodes(_:)`` `signal`.
    /// - Throws: ``ProtobufWireError`` when the bytes are not valid protobuf, or nest deeper than swift-protobuf's
    ///   limit.
    package static func json(_ bytes: UnsafeRawBufferPointer, signal: Signal) throws(ProtobufWireError) -> [UInt8] {
        precondition(transcodes(signal), "metrics are not transcoded")
        var writer = Writer(bytes)
        defer { writer.output.deallocate() }
        try writer.message(signal == .traces ? .traceRequest : .logsRequest, segments: .one(0..<bytes.count), depth: 1)
        guard writer.output.count == 2 else { return writer.output.bytes }
        return Array((signal == .traces ? #"{"resourceSpans":[]}"# : #"{"resourceLogs":[]}"#).utf8)
    }

    /// The OTLP/JSON of the `Export…ServiceRequest` of `signal` in `bytes`.
    package static func json(_ bytes: [UInt8], signal: Signal) throws(ProtobufWireError) -> [UInt8] {
        let result: Result<[UInt8], ProtobufWireError> = bytes.withUnsafeBytes { buffer in
            do throws(ProtobufWireError) { return .success(try json(buffer, signal: signal)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    // MARK: Schema

    /// The messages of an `ExportTraceServiceRequest` and an `ExportLogsServiceRequest`.
    enum MessageType {
        case traceRequest, resourceSpans, resource, entityRef, scopeSpans, scope, span, event, link, status
        case logsRequest, resourceLogs, scopeLogs, logRecord
        case keyValue, anyValue, arrayValue, keyValueList

        /// The field numbered `number`; `nil`: none (an unknown field, left out).
        @inline(__always)
        func field(_ number: Int) -> Field? {
            switch (self, number) {
            case (.traceRequest, 1): Field("\"resourceSpans\":", .message(.resourceSpans), repeated: true)
            case (.resourceSpans, 1), (.resourceLogs, 1): Field("\"resource\":", .message(.resource))
            case (.resourceSpans, 2): Field("\"scopeSpans\":", .message(.scopeSpans), repeated: true)
            case (.resourceSpans, 3), (.scopeSpans, 3), (.entityRef, 1), (.resourceLogs, 3), (.scopeLogs, 3): Field("\"schemaUrl\":", .string)
            case (.resource, 1), (.scope, 3), (.span, 9), (.event, 3), (.link, 4), (.logRecord, 6):
                Field("\"attributes\":", .message(.keyValue), repeated: true)
            case (.resource, 2), (.scope, 4), (.span, 10), (.event, 4), (.link, 5), (.logRecord, 7): Field("\"droppedAttributesCount\":", .uint32)
            case (.resource, 3): Field("\"entityRefs\":", .message(.entityRef), repeated: true)
            case (.entityRef, 2): Field("\"type\":", .string)
            case (.entityRef, 3): Field("\"idKeys\":", .string, repeated: true)
            case (.entityRef, 4): Field("\"descriptionKeys\":", .string, repeated: true)
            case (.scopeSpans, 1), (.scopeLogs, 1): Field("\"scope\":", .message(.scope))
            case (.scopeSpans, 2): Field("\"spans\":", .message(.span), repeated: true)
            case (.scope, 1), (.span, 5), (.event, 2): Field("\"name\":", .string)
            case (.scope, 2): Field("\"version\":", .string)
            case (.span, 1), (.link, 1), (.logRecord, 9): Field("\"traceId\":", .hexBytes)
            case (.span, 2), (.link, 2), (.logRecord, 10): Field("\"spanId\":", .hexBytes)
            case (.span, 3), (.link, 3): Field("\"traceState\":", .string)
            case (.span, 4): Field("\"parentSpanId\":", .hexBytes)
            case (.span, 6): Field("\"kind\":", .enumeration)
            case (.span, 7): Field("\"startTimeUnixNano\":", .fixed64)
            case (.span, 8): Field("\"endTimeUnixNano\":", .fixed64)
            case (.span, 11): Field("\"events\":", .message(.event), repeated: true)
            case (.span, 12): Field("\"droppedEventsCount\":", .uint32)
            case (.span, 13): Field("\"links\":", .message(.link), repeated: true)
            case (.span, 14): Field("\"droppedLinksCount\":", .uint32)
            case (.span, 15): Field("\"status\":", .message(.status))
            case (.span, 16), (.link, 6), (.logRecord, 8): Field("\"flags\":", .fixed32)
            case (.event, 1), (.logRecord, 1): Field("\"timeUnixNano\":", .fixed64)
            case (.logsRequest, 1): Field("\"resourceLogs\":", .message(.resourceLogs), repeated: true)
            case (.resourceLogs, 2): Field("\"scopeLogs\":", .message(.scopeLogs), repeated: true)
            case (.scopeLogs, 2): Field("\"logRecords\":", .message(.logRecord), repeated: true)
            case (.logRecord, 2): Field("\"severityNumber\":", .enumeration)
            case (.logRecord, 3): Field("\"severityText\":", .string)
            case (.logRecord, 5): Field("\"body\":", .message(.anyValue))
            case (.logRecord, 11): Field("\"observedTimeUnixNano\":", .fixed64)
            case (.logRecord, 12): Field("\"eventName\":", .string)
            case (.status, 2): Field("\"message\":", .string)
            case (.status, 3): Field("\"code\":", .enumeration)
            case (.keyValue, 1): Field("\"key\":", .string)
            case (.keyValue, 2): Field("\"value\":", .message(.anyValue))
            case (.keyValue, 3): Field("\"keyStrindex\":", .int32)
            // AnyValue: every field is a case of its oneof `value`.
            case (.anyValue, 1): Field("\"stringValue\":", .string)
            case (.anyValue, 2): Field("\"boolValue\":", .bool)
            case (.anyValue, 3): Field("\"intValue\":", .int64)
            case (.anyValue, 4): Field("\"doubleValue\":", .double)
            case (.anyValue, 5): Field("\"arrayValue\":", .message(.arrayValue))
            case (.anyValue, 6): Field("\"kvlistValue\":", .message(.keyValueList))
            case (.anyValue, 7): Field("\"bytesValue\":", .base64Bytes)
            case (.anyValue, 8): Field("\"stringValueStrindex\":", .int32)
            case (.arrayValue, 1): Field("\"values\":", .message(.anyValue), repeated: true)
            case (.keyValueList, 1): Field("\"values\":", .message(.keyValue), repeated: true)
            default: nil
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

    /// A known field: its key as written (`"name":`), how its values are written, and whether it repeats.
    struct Field {
        var key: StaticString
        var kind: Kind
        var repeated: Bool

        init(_ key: StaticString, _ kind: Kind, repeated: Bool = false) {
            self.key = key
            self.kind = kind
            self.repeated = repeated
        }
    }

    // MARK: Writing

    /// One occurrence of a known field in a message: its number, where it came in the message, and its value (the
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
        /// Deallocated by whoever made the writer, once done.
        var output: OutputBuffer
        /// The occurrences of the messages being written, innermost last: each message's are appended after its
        /// parent's and removed when it is written.
        private var occurrences: [Occurrence] = []

        init(_ bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
            output = OutputBuffer(capacity: bytes.count * 2 + 64)
            occurrences.reserveCapacity(64)
        }

        /// Writes the message of `type` whose fields are in `segments`, `depth` deep (the request is 1 deep).
        ///
        /// A message in one piece whose fields come as every encoder writes them (in order, each singular field
        /// once, no unknown fields) is written as it is read (``streamed(_:segment:depth:)``); any other is read
        /// whole first, then written in field order with protobuf's merging rules.
        mutating func message(_ type: MessageType, segments: Segments, depth: Int) throws(ProtobufWireError) {
            guard depth <= ProtobufWireReader.defaultDepthLimit else { throw ProtobufWireError(.depthLimit, at: 0) }
            if case .one(let segment) = segments, try streamed(type, segment: segment, depth: depth) { return }
            let base = occurrences.count
            defer { occurrences.removeLast(occurrences.count - base) }
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

        /// Writes the message in `segment` as its fields come, if they come in field-number order, each singular
        /// field once, the occurrences of a repeated field together, no field unknown or of another wire type, and
        /// (for `AnyValue`) one case; returns `false`, having written nothing, at the first field that does not.
        private mutating func streamed(_ type: MessageType, segment: Range<Int>, depth: Int) throws(ProtobufWireError) -> Bool {
            let outputStart = output.count
            var reader = ProtobufWireReader(UnsafeRawBufferPointer(rebasing: bytes[segment]), depthLimit: ProtobufWireReader.defaultDepthLimit - depth)
            output.append(UInt8(ascii: "{"))
            var previous = 0
            var openArray = false
            var written = false
            while let tag = try reader.nextTag() {
                guard let field = type.field(tag.fieldNumber), field.kind.wireType == tag.wireType,
                    tag.fieldNumber > previous || (tag.fieldNumber == previous && field.repeated),
                    previous == 0 || type != .anyValue
                else {
                    output.removeLast(output.count - outputStart)
                    return false
                }
                if tag.fieldNumber != previous, openArray {
                    output.append(UInt8(ascii: "]"))
                    openArray = false
                }
                let occurrence = try read(tag.wireType, &reader)
                if field.repeated {
                    if tag.fieldNumber == previous {
                        output.append(UInt8(ascii: ","))
                    } else {
                        if written { output.append(UInt8(ascii: ",")) }
                        append(field.key)
                        output.append(UInt8(ascii: "["))
                        openArray = true
                    }
                } else {
                    // Inside AnyValue's oneof every case is written, defaults included.
                    if type != .anyValue, Self.isDefault(field.kind, occurrence) {
                        previous = tag.fieldNumber
                        continue
                    }
                    if written { output.append(UInt8(ascii: ",")) }
                    append(field.key)
                }
                try value(field.kind, occurrence, depth: depth)
                written = true
                previous = tag.fieldNumber
            }
            if openArray { output.append(UInt8(ascii: "]")) }
            output.append(UInt8(ascii: "}"))
            return true
        }

        /// The value of a field of `wireType`, the reader at it.
        @inline(__always)
        private func read(_ wireType: ProtobufWireReader.WireType, _ reader: inout ProtobufWireReader) throws(ProtobufWireError) -> Occurrence {
            var occurrence = Occurrence(field: 0, sequence: 0, start: 0, count: 0, bits: 0)
            switch wireType {
            case .varint: occurrence.bits = try reader.readVarint()
            case .fixed64: occurrence.bits = try reader.readFixed64()
            case .fixed32: occurrence.bits = UInt64(try reader.readFixed32())
            default:
                let body = try reader.readLengthDelimited()
                occurrence.start = body.isEmpty ? 0 : body.baseAddress! - bytes.baseAddress!
                occurrence.count = body.count
            }
            return occurrence
        }

        /// Appends the known fields of `segment` with the wire type of their kind, in the order they came, numbered
        /// from `sequence` on.
        private mutating func collect(_ type: MessageType, segment: Range<Int>, depth: Int, sequence: inout Int) throws(ProtobufWireError) {
            // The nesting limit as swift-protobuf counts it: the messages around this one, and groups in unknown fields.
            var reader = ProtobufWireReader(UnsafeRawBufferPointer(rebasing: bytes[segment]), depthLimit: ProtobufWireReader.defaultDepthLimit - depth)
            while let tag = try reader.nextTag() {
                guard let field = type.field(tag.fieldNumber), field.kind.wireType == tag.wireType else {
                    try reader.skipField(tag)
                    continue
                }
                var occurrence = try read(tag.wireType, &reader)
                occurrence.field = tag.fieldNumber
                occurrence.sequence = sequence
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
            var first = true
            var start = base
            while start < occurrences.count {
                let number = occurrences[start].field
                var end = start + 1
                while end < occurrences.count, occurrences[end].field == number { end += 1 }
                defer { start = end }
                guard let field = type.field(number) else { continue }  // collected only when known
                if field.repeated {
                    separate(&first)
                    append(field.key)
                    output.append(UInt8(ascii: "["))
                    for index in start..<end {
                        if index > start { output.append(UInt8(ascii: ",")) }
                        try value(field.kind, occurrences[index], depth: depth)
                    }
                    output.append(UInt8(ascii: "]"))
                } else if case .message(let child) = field.kind {
                    separate(&first)
                    append(field.key)
                    try message(child, segments: segments(start..<end), depth: depth + 1)
                } else {
                    let last = occurrences[end - 1]
                    guard !Self.isDefault(field.kind, last) else { continue }
                    separate(&first)
                    append(field.key)
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
            guard let field = MessageType.anyValue.field(winner.field) else { return }  // collected only when known
            append(field.key)
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

        private mutating func append(_ text: StaticString) {
            output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }

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
                    output.append(Self.lowerHex[Int(bytes[offset] >> 4)], Self.lowerHex[Int(bytes[offset] & 0x0f)])
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
                    var text = double.debugDescription
                    text.withUTF8 { output.append(contentsOf: UnsafeRawBufferPointer($0)) }
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
                // The run of bytes written as they are, copied at once.
                var runEnd = index
                while runEnd < end, Self.isPlain(bytes[runEnd]) { runEnd += 1 }
                if runEnd > index {
                    output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<runEnd]))
                    index = runEnd
                    continue
                }
                let byte = bytes[index]
                switch byte {
                case 8: output.append(0x5c, UInt8(ascii: "b"))
                case 9: output.append(0x5c, UInt8(ascii: "t"))
                case 10: output.append(0x5c, UInt8(ascii: "n"))
                case 12: output.append(0x5c, UInt8(ascii: "f"))
                case 13: output.append(0x5c, UInt8(ascii: "r"))
                case 34: output.append(0x5c, 34)
                case 92: output.append(0x5c, 0x5c)
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

        /// Whether `byte` is written as it is in every string: not a control, DEL, `"`, `\`, or the lead byte of
        /// U+0080–U+00BF (`C2`, whose C1 controls are escaped).
        @inline(__always)
        private static func isPlain(_ byte: UInt8) -> Bool {
            byte >= 0x20 && byte != 0x22 && byte != 0x5c && byte != 0x7f && byte != 0xc2
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
                output.append(UInt8(ascii: "="), UInt8(ascii: "="))
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
            output.reverse(from: start)
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

    /// A growable byte buffer that only this transcoder writes, without the copy-on-write checks an array makes per
    /// append; ``deallocate()`` frees it.
    struct OutputBuffer {
        private var base: UnsafeMutablePointer<UInt8>
        private var capacity: Int
        private(set) var count = 0

        init(capacity: Int = 64) {
            self.capacity = max(capacity, 64)
            base = .allocate(capacity: self.capacity)
        }

        /// What was written.
        var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

        func deallocate() { base.deallocate() }

        @inline(__always)
        mutating func append(_ byte: UInt8) {
            if count == capacity { grow(to: count + 1) }
            base[count] = byte
            count += 1
        }

        @inline(__always)
        mutating func append(_ first: UInt8, _ second: UInt8) {
            if count + 2 > capacity { grow(to: count + 2) }
            base[count] = first
            base[count + 1] = second
            count += 2
        }

        @inline(__always)
        mutating func append(contentsOf bytes: UnsafeRawBufferPointer) {
            guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
            if count + bytes.count > capacity { grow(to: count + bytes.count) }
            (base + count).initialize(from: source.assumingMemoryBound(to: UInt8.self), count: bytes.count)
            count += bytes.count
        }

        mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>) { append(contentsOf: UnsafeRawBufferPointer(bytes)) }

        mutating func append(contentsOf bytes: [UInt8]) { bytes.withUnsafeBytes { append(contentsOf: $0) } }

        /// Drops the last `k` bytes written.
        mutating func removeLast(_ k: Int) { count -= k }

        /// Reverses the bytes written from `start` on.
        mutating func reverse(from start: Int) {
            var written = UnsafeMutableBufferPointer(start: base + start, count: count - start)
            written.reverse()
        }

        private mutating func grow(to needed: Int) {
            let newCapacity = max(needed, capacity * 2)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.initialize(from: base, count: count)
            base.deallocate()
            base = grown
            capacity = newCapacity
        }
    }
}

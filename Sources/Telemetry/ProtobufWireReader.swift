/// Why bytes are not a valid protobuf message.
package struct ProtobufWireError: Error, Equatable, CustomStringConvertible {
    /// What was wrong.
    package enum Kind: Sendable, Equatable {
        /// A field, a length or a group runs past the end of its message.
        case truncated
        /// A varint longer than 10 bytes.
        case malformedVarint
        /// A tag with wire type 6 or 7, field number 0, more than 5 bytes, or an end-group tag outside its group.
        case malformedTag
        /// A length of 2 GiB or more (protobuf's limit for strings, bytes and messages).
        case lengthTooLarge
        /// A string field that is not valid UTF-8.
        case invalidUTF8
        /// Messages (and groups) nested deeper than the limit.
        case depthLimit
    }

    package var kind: Kind
    /// The byte of the input at which the problem was found.
    package var offset: Int

    package init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    package var description: String {
        let what =
            switch kind {
            case .truncated: "truncated: a field runs past the end of its message"
            case .malformedVarint: "malformed varint: more than 10 bytes"
            case .malformedTag: "malformed field tag (wire type 6 or 7, field number 0, or a misplaced end-group)"
            case .lengthTooLarge: "length-delimited field of 2 GiB or more"
            case .invalidUTF8: "string field is not valid UTF-8"
            case .depthLimit: "messages nested more than \(ProtobufWireReader.defaultDepthLimit) deep"
            }
        return "\(what) (at byte \(offset))"
    }
}

/// Reads the protobuf binary wire format from a buffer, field by field, without building messages.
///
/// Every length is checked against the bytes left in the current message (never the whole buffer), nesting is
/// limited as swift-protobuf limits it (100 messages or groups, the outermost message included), and the rules
/// of what is accepted are swift-protobuf's `BinaryDecoder`'s, so that a decoder built on it refuses exactly
/// the inputs the generated code refuses: tags of at most 5 bytes, varints of at most 10, strings of valid
/// UTF-8, groups skipped to their matching end, a known field with an unexpected wire type skipped as unknown.
///
/// The reader borrows the buffer: use it only while the buffer is alive.
package struct ProtobufWireReader {
    /// A field's wire type.
    package enum WireType: UInt8, Sendable {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case startGroup = 3
        case endGroup = 4
        case fixed32 = 5
    }

    /// A field's number and wire type.
    package struct Tag: Equatable, Sendable {
        package var fieldNumber: Int
        package var wireType: WireType
    }

    /// swift-protobuf's default `messageDepthLimit`.
    package static let defaultDepthLimit = 100

    private let base: UnsafeRawPointer
    /// The offset of the next byte to read.
    package private(set) var position: Int
    /// The end of the message being read.
    package private(set) var end: Int
    private var depthBudget: Int

    /// A reader of `bytes`, which hold one message; call ``enterOutermostMessage()`` before its first field.
    package init(_ bytes: UnsafeRawBufferPointer, depthLimit: Int = defaultDepthLimit) {
        // A dangling but never dereferenced pointer for an empty buffer: every read checks `end` (0) first.
        self.base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 0x1)!
        self.position = 0
        self.end = bytes.count
        self.depthBudget = depthLimit
    }

    /// Whether the current message has no more bytes.
    package var isAtEnd: Bool { position >= end }

    /// Counts the outermost message against the nesting limit, as swift-protobuf does.
    package mutating func enterOutermostMessage() throws(ProtobufWireError) {
        depthBudget -= 1
        if depthBudget < 0 { throw ProtobufWireError(.depthLimit, at: position) }
    }

    /// The next field's tag, or `nil` at the end of the current message.
    ///
    /// - Throws: ``ProtobufWireError`` for a tag of wire type 6 or 7, of field number 0, of more than 5 bytes
    ///   (or whose fifth byte is over 15), cut short, or an end-group tag (no group is open at message level).
    @inline(__always)
    package mutating func nextTag() throws(ProtobufWireError) -> Tag? {
        guard position < end else { return nil }
        let start = position
        let first = byte(at: position)
        guard let wireType = WireType(rawValue: first & 7) else { throw ProtobufWireError(.malformedTag, at: start) }
        var fieldNumber = Int(first & 0x7f) >> 3
        position += 1
        if first & 0x80 != 0 {
            var shift = 4
            var index = 1
            while true {
                guard position < end else { throw ProtobufWireError(.malformedTag, at: start) }
                let next = byte(at: position)
                if index == 4, next > 15 { throw ProtobufWireError(.malformedTag, at: start) }
                fieldNumber |= Int(next & 0x7f) << shift
                position += 1
                if next & 0x80 == 0 { break }
                shift += 7
                index += 1
            }
        }
        guard fieldNumber != 0, wireType != .endGroup else { throw ProtobufWireError(.malformedTag, at: start) }
        return Tag(fieldNumber: fieldNumber, wireType: wireType)
    }

    /// A varint (up to 10 bytes; bits past the 64th are dropped, as swift-protobuf drops them).
    @inline(__always)
    package mutating func readVarint() throws(ProtobufWireError) -> UInt64 {
        guard position < end else { throw ProtobufWireError(.truncated, at: position) }
        let first = byte(at: position)
        position += 1
        if first & 0x80 == 0 { return UInt64(first) }
        return try readVarintTail(UInt64(first & 0x7f))
    }

    private mutating func readVarintTail(_ low: UInt64) throws(ProtobufWireError) -> UInt64 {
        let start = position - 1
        var value = low
        var shift: UInt64 = 7
        while true {
            guard position < end, shift <= 63 else { throw ProtobufWireError(.malformedVarint, at: start) }
            let next = byte(at: position)
            position += 1
            value |= UInt64(next & 0x7f) &<< shift
            if next & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// A little-endian 4-byte value.
    @inline(__always)
    package mutating func readFixed32() throws(ProtobufWireError) -> UInt32 {
        guard end - position >= 4 else { throw ProtobufWireError(.truncated, at: position) }
        defer { position += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    /// A little-endian 8-byte value.
    @inline(__always)
    package mutating func readFixed64() throws(ProtobufWireError) -> UInt64 {
        guard end - position >= 8 else { throw ProtobufWireError(.truncated, at: position) }
        defer { position += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    /// The body of a length-delimited field (bytes, string or message), which stays in the buffer.
    @inline(__always)
    package mutating func readLengthDelimited() throws(ProtobufWireError) -> UnsafeRawBufferPointer {
        let count = try readLength()
        defer { position += count }
        return UnsafeRawBufferPointer(start: base + position, count: count)
    }

    /// A string field, which must be valid UTF-8.
    @inline(__always)
    package mutating func readString() throws(ProtobufWireError) -> String {
        let start = position
        let body = try readLengthDelimited()
        if body.isEmpty { return "" }
        let codeUnits = body.assumingMemoryBound(to: UInt8.self)
        // ASCII (nearly every key and value) is valid UTF-8 as it is; `String(validating:)` is generic over the
        // encoding and costs a metadata lookup on every call.
        if Self.isASCII(body) { return String(decoding: codeUnits, as: UTF8.self) }
        guard let string = String(validating: codeUnits, as: UTF8.self) else { throw ProtobufWireError(.invalidUTF8, at: start) }
        return string
    }

    /// Whether every byte is below 0x80, 8 at a time. Inlinable: the remote-write receiver calls it per label.
    @inlinable @inline(__always)
    package static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        var highBits: UInt64 = 0
        while bytes.count - index >= 8 {
            highBits |= bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < bytes.count {
            highBits |= UInt64(bytes[index])
            index += 1
        }
        return highBits & 0x8080_8080_8080_8080 == 0
    }

    /// With the reader at the length of a length-delimited field numbered `fieldNumber`: how many such fields
    /// the current message holds from this one on (for reserving room). Stops counting, without throwing, where
    /// the bytes are not valid (reading them will throw).
    package func countLengthDelimitedFields(from fieldNumber: Int) -> Int {
        var scout = self
        var count = 1
        do throws(ProtobufWireError) {
            try scout.skipField(Tag(fieldNumber: fieldNumber, wireType: .lengthDelimited))
            while let tag = try scout.nextTag() {
                if tag.fieldNumber == fieldNumber, tag.wireType == .lengthDelimited { count += 1 }
                try scout.skipField(tag)
            }
        } catch {
            return count
        }
        return count
    }

    /// Starts reading a length-delimited field as a message: until ``leaveMessage(restoring:)``, the reader
    /// ends where the field ends. Returns the end to restore.
    @inline(__always)
    package mutating func enterMessage() throws(ProtobufWireError) -> Int {
        let count = try readLength()
        depthBudget -= 1
        if depthBudget < 0 { throw ProtobufWireError(.depthLimit, at: position) }
        let outerEnd = end
        end = position + count
        return outerEnd
    }

    /// Ends reading the message entered by ``enterMessage()``, which has been read to its end.
    @inline(__always)
    package mutating func leaveMessage(restoring outerEnd: Int) {
        precondition(position == end, "a message is left at its end")
        end = outerEnd
        depthBudget += 1
    }

    /// Goes back to `offset` in the current message, to read its fields again.
    package mutating func rewind(to offset: Int) {
        precondition(offset <= end, "rewinding within the current message")
        position = offset
    }

    /// Skips the body of a field that is not read (unknown, or with a wire type its number does not have),
    /// checking it as swift-protobuf does: a varint's encoding, a fixed value's or a length's bytes, and a
    /// group's fields up to its end tag (groups count against the nesting limit).
    package mutating func skipField(_ tag: Tag) throws(ProtobufWireError) {
        switch tag.wireType {
        case .varint: _ = try readVarint()
        case .fixed64: try skipBytes(8)
        case .fixed32: try skipBytes(4)
        case .lengthDelimited:
            let length = try readVarint()
            guard length <= UInt64(end - position) else { throw ProtobufWireError(.truncated, at: position) }
            position += Int(length)
        case .startGroup: try skipGroup(fieldNumber: tag.fieldNumber)
        case .endGroup: throw ProtobufWireError(.malformedTag, at: position)
        }
    }

    private mutating func skipBytes(_ count: Int) throws(ProtobufWireError) {
        guard end - position >= count else { throw ProtobufWireError(.truncated, at: position) }
        position += count
    }

    /// Skips a group's fields through its end tag. Inside a group, swift-protobuf reads tags as plain varints
    /// (below 2^32 - 1) rather than with its message-level 5-byte reader; so does this.
    private mutating func skipGroup(fieldNumber: Int) throws(ProtobufWireError) {
        depthBudget -= 1
        if depthBudget < 0 { throw ProtobufWireError(.depthLimit, at: position) }
        while true {
            guard position < end else { throw ProtobufWireError(.truncated, at: position) }
            let start = position
            let raw = try readVarint()
            guard raw < UInt64(UInt32.max), raw & ~7 != 0, let wireType = WireType(rawValue: UInt8(raw & 7)) else {
                throw ProtobufWireError(.malformedTag, at: start)
            }
            let inner = Tag(fieldNumber: Int(raw >> 3), wireType: wireType)
            if wireType == .endGroup {
                guard inner.fieldNumber == fieldNumber else { throw ProtobufWireError(.malformedTag, at: start) }
                depthBudget += 1
                return
            }
            try skipField(inner)
        }
    }

    /// A length of a known length-delimited field: below 2 GiB (swift-protobuf's limit) and within the message.
    @inline(__always)
    private mutating func readLength() throws(ProtobufWireError) -> Int {
        let start = position
        let length = try readVarint()
        guard length < 0x7fff_ffff else { throw ProtobufWireError(.lengthTooLarge, at: start) }
        guard length <= UInt64(end - position) else { throw ProtobufWireError(.truncated, at: start) }
        return Int(length)
    }

    @inline(__always)
    private func byte(at offset: Int) -> UInt8 { base.load(fromByteOffset: offset, as: UInt8.self) }
}

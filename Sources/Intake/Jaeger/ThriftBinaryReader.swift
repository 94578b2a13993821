import Telemetry

/// Why a Thrift body could not be decoded: what was being read, where, and what was wrong.
package struct ThriftDecodingError: Error, CustomStringConvertible, Sendable {
    /// A message naming the field path, the byte offset and the problem.
    package var message: String
    package var description: String { message }
}

/// The wire types of the Thrift binary protocol.
enum ThriftType: UInt8, CustomStringConvertible {
    case stop = 0
    case bool = 2
    case byte = 3
    case double = 4
    case i16 = 6
    case i32 = 8
    case i64 = 10
    case string = 11
    case `struct` = 12
    case map = 13
    case set = 14
    case list = 15

    var description: String {
        switch self {
        case .stop: "stop"
        case .bool: "bool"
        case .byte: "byte"
        case .double: "double"
        case .i16: "i16"
        case .i32: "i32"
        case .i64: "i64"
        case .string: "string"
        case .struct: "struct"
        case .map: "map"
        case .set: "set"
        case .list: "list"
        }
    }

    /// The fewest bytes one value of this type takes on the wire: a declared element count times this
    /// must fit in what is left, so a hostile count is refused before anything is allocated for it.
    var minimumEncodedSize: Int {
        switch self {
        case .stop: 0
        case .bool, .byte, .struct: 1
        case .i16: 2
        case .i32, .string: 4
        case .double, .i64: 8
        case .map: 6
        case .set, .list: 5
        }
    }
}

/// A bounds-checked reader of the Thrift binary protocol (big-endian, strict lengths), for untrusted bodies.
///
/// Every length and element count is checked against the bytes that remain and against ``Limits``
/// before anything is allocated; nesting depth is bounded; every failure is a ``ThriftDecodingError``
/// naming the byte offset and, when the reader keeps it (``keepsPath``), the field path (kept by ``enter(_:)``,
/// ``enterElement(_:)`` and ``leave()``, and written out only for an error). It never traps.
///
/// The reader borrows the buffer: use it only while the buffer is alive.
struct ThriftBinaryReader {
    /// Bounds beyond the body's own size.
    struct Limits {
        /// Longest string or binary value. Default 1 MiB.
        var maxValueBytes = 1 << 20
        /// Most elements in one list, set or map. Default 1,000,000.
        var maxElements = 1_000_000
        /// Deepest nesting of structs and containers (Jaeger's Batch needs 5). Default 16.
        var maxDepth = 16
    }

    /// One step of the path to the value being read: a field's name or a list element's index.
    private enum PathStep {
        case field(StaticString)
        case element(Int)
    }

    private let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0
    let limits: Limits
    /// Whether errors name the field path. Keeping it costs an array push and pop per field and element, so a
    /// decoder can read without it and read a body that fails again with it, for the message: the same bytes
    /// fail at the same place.
    let keepsPath: Bool
    private var path: [PathStep] = []
    /// Fields and elements entered and not left: the nesting the limit bounds, path or not.
    private var depth = 0

    /// A reader of `bytes`, which must stay alive while the reader is used.
    init(_ bytes: UnsafeRawBufferPointer, limits: Limits = .init(), keepsPath: Bool = true) {
        self.bytes = bytes
        self.limits = limits
        self.keepsPath = keepsPath
        if keepsPath { path.reserveCapacity(limits.maxDepth * 2) }
    }

    /// Bytes not read yet.
    var remaining: Int { bytes.count - offset }

    /// Names the field about to be read, for error messages.
    @inline(__always)
    mutating func enter(_ name: StaticString) throws(ThriftDecodingError) {
        guard depth < limits.maxDepth * 2 else { throw tooDeep() }
        depth += 1
        if keepsPath { path.append(.field(name)) }
    }

    /// Names the list element about to be read (`[index]`), for error messages.
    @inline(__always)
    mutating func enterElement(_ index: Int) throws(ThriftDecodingError) {
        guard depth < limits.maxDepth * 2 else { throw tooDeep() }
        depth += 1
        if keepsPath { path.append(.element(index)) }
    }

    /// Leaves the field or element named by the last ``enter(_:)`` or ``enterElement(_:)``.
    @inline(__always)
    mutating func leave() {
        depth -= 1
        if keepsPath { _ = path.popLast() }
    }

    @inline(never)
    private func tooDeep() -> ThriftDecodingError { error("nesting deeper than \(limits.maxDepth) levels") }

    /// An error at the current path and offset: `Batch.spans[3].tags[0]: problem (at byte N of M)`.
    ///
    /// Never inlined, nor are the helpers below that build the messages of the reads that are: a message built in
    /// line at every read made the decoders' loops so large that the optimizer stopped inlining into them.
    @inline(never)
    func error(_ problem: String) -> ThriftDecodingError {
        var location = ""
        for step in path {
            switch step {
            case .field(let name):
                if !location.isEmpty { location += "." }
                location += name.description
            case .element(let index): location += "[\(index)]"
            }
        }
        if !location.isEmpty { location += ": " }
        return ThriftDecodingError(message: "\(location)\(problem) (at byte \(offset) of \(bytes.count))")
    }

    // MARK: Scalars

    /// Checks that `count` more bytes are there, and moves past them; returns where they start.
    @inline(__always)
    private mutating func take(_ count: Int, what: StaticString) throws(ThriftDecodingError) -> Int {
        guard count >= 0, count <= remaining else {
            throw truncated(what, needs: count)
        }
        defer { offset += count }
        return offset
    }

    @inline(never)
    private func truncated(_ what: StaticString, needs count: Int) -> ThriftDecodingError {
        error("body is truncated: \(what) needs \(count) bytes but only \(remaining) remain")
    }

    @inline(never)
    private func badStringLength(_ length: Int) -> ThriftDecodingError {
        if length < 0 { return error("string length \(length) is negative") }
        if length > limits.maxValueBytes { return error("string length \(length) is over the \(limits.maxValueBytes)-byte limit") }
        return error("string length \(length) is more than the \(remaining) bytes left: the body is truncated or the length is corrupt")
    }

    @inline(never)
    private func unknownFieldType(_ typeByte: UInt8) -> ThriftDecodingError { error("unknown Thrift field type \(typeByte)") }

    @inline(__always)
    mutating func readByte() throws(ThriftDecodingError) -> UInt8 { bytes[try take(1, what: "a byte")] }

    @inline(__always)
    mutating func readBool() throws(ThriftDecodingError) -> Bool { bytes[try take(1, what: "a bool")] != 0 }

    @inline(__always)
    mutating func readI16() throws(ThriftDecodingError) -> Int16 {
        Int16(bigEndian: bytes.loadUnaligned(fromByteOffset: try take(2, what: "an i16"), as: Int16.self))
    }

    @inline(__always)
    mutating func readI32() throws(ThriftDecodingError) -> Int32 {
        Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: try take(4, what: "an i32"), as: Int32.self))
    }

    @inline(__always)
    mutating func readI64() throws(ThriftDecodingError) -> Int64 {
        Int64(bigEndian: bytes.loadUnaligned(fromByteOffset: try take(8, what: "an i64"), as: Int64.self))
    }

    @inline(__always)
    mutating func readDouble() throws(ThriftDecodingError) -> Double {
        Double(bitPattern: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: try take(8, what: "a double"), as: UInt64.self)))
    }

    /// A length-prefixed byte string, checked against what remains and ``Limits/maxValueBytes``; it stays in
    /// the buffer.
    @inline(__always)
    mutating func readBinary() throws(ThriftDecodingError) -> UnsafeRawBufferPointer {
        let length = Int(try readI32())
        guard length >= 0, length <= limits.maxValueBytes, length <= remaining else { throw badStringLength(length) }
        let start = try take(length, what: "a string")
        return UnsafeRawBufferPointer(rebasing: bytes[start..<start + length])
    }

    /// A string; invalid UTF-8 is refused (Jaeger's strings are UTF-8 text).
    @inline(__always)
    mutating func readString() throws(ThriftDecodingError) -> String { try Self.string(validating: try readBinary(), self) }

    /// The string of `utf8`, a string just read; refused unless it is valid UTF-8.
    ///
    /// ASCII is checked first, by words: `String(validating:as:)` is generic over its sequence and, called from
    /// here, unspecialized (a metadata lookup per string: twice the decoder's time per span in a release build).
    /// Static, with the reader passed after the bytes: as an instance method called as
    /// `string(validating: try readBinary())`, its receiver would be copied before the read, and the error would
    /// name the offset before the string rather than after it (the one the path-keeping reader names).
    @inline(__always)
    static func string(validating utf8: UnsafeRawBufferPointer, _ reader: Self) throws(ThriftDecodingError) -> String {
        if utf8.isEmpty { return "" }
        let units = utf8.assumingMemoryBound(to: UInt8.self)
        guard ProtobufWireReader.isASCII(utf8) || String(validating: units, as: UTF8.self) != nil else { throw reader.notUTF8() }
        return String(decoding: units, as: UTF8.self)
    }

    @inline(never)
    private func notUTF8() -> ThriftDecodingError { error("string is not valid UTF-8") }

    // MARK: Structure

    /// The next field's type and id, or `nil` at the struct's end (STOP).
    @inline(__always)
    mutating func readFieldHeader() throws(ThriftDecodingError) -> (type: ThriftType, id: Int16)? {
        let typeByte = try readByte()
        guard let type = ThriftType(rawValue: typeByte) else { throw unknownFieldType(typeByte) }
        if type == .stop { return nil }
        return (type, try readI16())
    }

    /// A list header whose elements must be of `elementType`; returns the element count, already
    /// checked against the limit and against the bytes left.
    mutating func readListHeader(of elementType: ThriftType) throws(ThriftDecodingError) -> Int {
        let typeByte = try readByte()
        guard let type = ThriftType(rawValue: typeByte) else { throw error("unknown Thrift list element type \(typeByte)") }
        guard type == elementType else { throw error("list holds \(type) elements, jaeger.thrift says \(elementType)") }
        let count = Int(try readI32())
        try checkCount(count, elementSize: type.minimumEncodedSize)
        return count
    }

    private func checkCount(_ count: Int, elementSize: Int) throws(ThriftDecodingError) {
        guard count >= 0 else { throw error("element count \(count) is negative") }
        guard count <= limits.maxElements else { throw error("element count \(count) is over the limit of \(limits.maxElements)") }
        guard count * elementSize <= remaining else {
            throw error("element count \(count) cannot fit in the \(remaining) bytes left: the body is truncated or the count is corrupt")
        }
    }

    /// Skips a value of `type` (a field this reader does not use), within the same bounds.
    mutating func skip(_ type: ThriftType, depth: Int = 0) throws(ThriftDecodingError) {
        guard depth < limits.maxDepth else { throw error("nesting deeper than \(limits.maxDepth) levels") }
        switch type {
        case .stop: return
        case .bool: _ = try take(1, what: "a bool")
        case .byte: _ = try take(1, what: "a byte")
        case .i16: _ = try take(2, what: "an i16")
        case .i32: _ = try take(4, what: "an i32")
        // "a i64", as this reader has always said it.
        case .i64: _ = try take(8, what: "a i64")
        case .double: _ = try take(8, what: "a double")
        case .string: _ = try readBinary()
        case .struct:
            while let field = try readFieldHeader() { try skip(field.type, depth: depth + 1) }
        case .list, .set:
            let typeByte = try readByte()
            guard let element = ThriftType(rawValue: typeByte), element != .stop else {
                throw error("unknown Thrift element type \(typeByte)")
            }
            let count = Int(try readI32())
            try checkCount(count, elementSize: element.minimumEncodedSize)
            for _ in 0..<count { try skip(element, depth: depth + 1) }
        case .map:
            let keyByte = try readByte()
            let valueByte = try readByte()
            guard let key = ThriftType(rawValue: keyByte), key != .stop, let value = ThriftType(rawValue: valueByte), value != .stop else {
                throw error("unknown Thrift map key or value type (\(keyByte), \(valueByte))")
            }
            let count = Int(try readI32())
            try checkCount(count, elementSize: max(1, key.minimumEncodedSize + value.minimumEncodedSize))
            for _ in 0..<count {
                try skip(key, depth: depth + 1)
                try skip(value, depth: depth + 1)
            }
        }
    }
}

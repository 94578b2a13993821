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
/// naming the field path (kept by ``enter(_:)``/``leave()``) and the byte offset. It never traps.
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

    private let bytes: [UInt8]
    private(set) var offset = 0
    let limits: Limits
    private var path: [String] = []

    init(bytes: [UInt8], limits: Limits = .init()) {
        self.bytes = bytes
        self.limits = limits
    }

    /// Bytes not read yet.
    var remaining: Int { bytes.count - offset }

    /// Names the field or element about to be read, for error messages.
    mutating func enter(_ name: String) throws(ThriftDecodingError) {
        guard path.count < limits.maxDepth * 2 else { throw error("nesting deeper than \(limits.maxDepth) levels") }
        path.append(name)
    }

    /// Leaves the field or element named by the last ``enter(_:)``.
    mutating func leave() { _ = path.popLast() }

    /// An error at the current path and offset.
    func error(_ problem: String) -> ThriftDecodingError {
        let location = path.isEmpty ? "" : path.joined(separator: ".").replacingDotBeforeIndex + ": "
        return ThriftDecodingError(message: "\(location)\(problem) (at byte \(offset) of \(bytes.count))")
    }

    // MARK: Scalars

    private mutating func take(_ count: Int, what: String) throws(ThriftDecodingError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw error("body is truncated: \(what) needs \(count) bytes but only \(remaining) remain")
        }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func readByte() throws(ThriftDecodingError) -> UInt8 { try take(1, what: "a byte").first! }

    mutating func readBool() throws(ThriftDecodingError) -> Bool {
        let value = try take(1, what: "a bool")
        return value.first! != 0
    }

    mutating func readI16() throws(ThriftDecodingError) -> Int16 {
        Int16(truncatingIfNeeded: bigEndian(try take(2, what: "an i16")))
    }

    mutating func readI32() throws(ThriftDecodingError) -> Int32 {
        Int32(truncatingIfNeeded: bigEndian(try take(4, what: "an i32")))
    }

    mutating func readI64() throws(ThriftDecodingError) -> Int64 {
        Int64(bitPattern: bigEndian(try take(8, what: "an i64")))
    }

    mutating func readDouble() throws(ThriftDecodingError) -> Double {
        Double(bitPattern: bigEndian(try take(8, what: "a double")))
    }

    /// A length-prefixed byte string, checked against what remains and ``Limits/maxValueBytes``.
    mutating func readBinary() throws(ThriftDecodingError) -> ArraySlice<UInt8> {
        let length = Int(try readI32())
        guard length >= 0 else { throw error("string length \(length) is negative") }
        guard length <= limits.maxValueBytes else {
            throw error("string length \(length) is over the \(limits.maxValueBytes)-byte limit")
        }
        guard length <= remaining else {
            throw error("string length \(length) is more than the \(remaining) bytes left: the body is truncated or the length is corrupt")
        }
        return try take(length, what: "a string")
    }

    /// A string; invalid UTF-8 is refused (Jaeger's strings are UTF-8 text).
    mutating func readString() throws(ThriftDecodingError) -> String {
        let raw = try readBinary()
        guard let text = String(validating: raw, as: UTF8.self) else { throw error("string is not valid UTF-8") }
        return text
    }

    // MARK: Structure

    /// The next field's type and id, or `nil` at the struct's end (STOP).
    mutating func readFieldHeader() throws(ThriftDecodingError) -> (type: ThriftType, id: Int16)? {
        let typeByte = try readByte()
        guard let type = ThriftType(rawValue: typeByte) else { throw error("unknown Thrift field type \(typeByte)") }
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
        case .bool, .byte: _ = try take(1, what: "a \(type)")
        case .i16: _ = try take(2, what: "an i16")
        case .i32: _ = try take(4, what: "an i32")
        case .i64, .double: _ = try take(8, what: "a \(type)")
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

    private func bigEndian(_ slice: ArraySlice<UInt8>) -> UInt64 {
        slice.reduce(0) { $0 << 8 | UInt64($1) }
    }
}

extension String {
    /// `spans.[3].tags` → `spans[3].tags`: list indexes are entered as `[3]`.
    fileprivate var replacingDotBeforeIndex: String {
        var result = ""
        result.reserveCapacity(utf8.count)
        var previous: Character?
        for character in self {
            if character == "[", previous == "." { result.removeLast() }
            result.append(character)
            previous = character
        }
        return result
    }
}

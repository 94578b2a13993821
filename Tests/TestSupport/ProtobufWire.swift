/// A little protobuf writer and field splitter for tests, independent of the code under test.
package enum Wire {
    package struct Field {
        package var tag: [UInt8]
        package var wireType: UInt8
        package var body: [UInt8]
        package var encoded: [UInt8] { wireType == 2 ? tag + varint(UInt64(body.count)) + body : tag + body }
    }

    package static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        return bytes
    }

    package static func lengthPrefixed(_ body: [UInt8]) -> [UInt8] { varint(UInt64(body.count)) + body }

    /// A length-delimited field.
    package static func field(_ number: Int, _ body: [UInt8]) -> [UInt8] { varint(UInt64(number << 3 | 2)) + lengthPrefixed(body) }

    package static func varintField(_ number: Int, _ value: UInt64) -> [UInt8] { varint(UInt64(number << 3)) + varint(value) }

    /// The body of a `KeyValue` with a string value.
    package static func keyValue(_ key: String, _ value: String) -> [UInt8] { field(1, Array(key.utf8)) + field(2, field(1, Array(value.utf8))) }

    /// The top-level fields of `bytes`, or `nil` when they are not a plain sequence of fields (no groups).
    package static func fields(_ bytes: [UInt8]) -> [Field]? {
        var fields: [Field] = []
        var position = 0
        func readVarint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while position < bytes.count, shift < 64 {
                let byte = bytes[position]
                position += 1
                value |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        while position < bytes.count {
            let start = position
            guard let tag = readVarint() else { return nil }
            let tagBytes = Array(bytes[start..<position])
            let wireType = UInt8(tag & 7)
            let bodyStart = position
            switch wireType {
            case 0: guard readVarint() != nil else { return nil }
            case 1: position += 8
            case 5: position += 4
            case 2:
                guard let length = readVarint(), length <= UInt64(bytes.count - position) else { return nil }
                fields.append(Field(tag: tagBytes, wireType: 2, body: Array(bytes[position..<position + Int(length)])))
                position += Int(length)
                continue
            default: return nil
            }
            guard position <= bytes.count else { return nil }
            fields.append(Field(tag: tagBytes, wireType: wireType, body: Array(bytes[bodyStart..<position])))
        }
        return fields
    }
}

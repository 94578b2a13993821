import Foundation

/// Protobuf bytes broken and reshuffled for equivalence tests: `OTLPTraceWireDecoderTests` and
/// `OTLPJSONTranscoderTests` feed the same inputs to the code under test and to swift-protobuf.
enum ProtobufMutations {
    /// `bytes` cut, flipped, overwritten, extended or given a bogus length somewhere.
    static func mutated(_ bytes: [UInt8], _ random: inout SeededRandom) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<random.below(3) + 1 {
            let position = bytes.isEmpty ? 0 : random.below(bytes.count)
            switch random.below(7) {
            case 0: bytes = Array(bytes.prefix(position))
            case 1: if !bytes.isEmpty { bytes[position] ^= UInt8(1 << random.below(8)) }
            case 2: if !bytes.isEmpty { bytes[position] = [0x00, 0x80, 0xff, 0x7f, 0x0b, 0x0c, 0x0e][random.below(7)] }
            case 3: bytes.insert(contentsOf: (0..<random.below(4) + 1).map { _ in UInt8(random.below(256)) }, at: position)
            case 4:
                let length = Wire.varint([0, 1, 127, 128, 300, 0x7fff_fffe, 0x7fff_ffff, UInt64.max][random.below(8)])
                if !bytes.isEmpty { bytes.replaceSubrange(position..<position + 1, with: length) }
            case 5: bytes = structurallyMutated(bytes, &random, depth: 0)
            default: bytes.removeSubrange(position..<min(bytes.count, position + random.below(8) + 1))
            }
        }
        return bytes
    }

    /// `bytes` with fields reordered, repeated or dropped, here and in nested messages.
    static func structurallyMutated(_ bytes: [UInt8], _ random: inout SeededRandom, depth: Int) -> [UInt8] {
        guard depth < 8, var fields = Wire.fields(bytes), !fields.isEmpty else { return bytes }
        switch random.below(5) {
        case 0: fields.shuffle(using: &random)
        case 1: fields.insert(fields[random.below(fields.count)], at: random.below(fields.count + 1))
        case 2: fields.remove(at: random.below(fields.count))
        case 3: fields.append(fields[random.below(fields.count)])
        default: break
        }
        for index in fields.indices where fields[index].wireType == 2 && random.chance(0.5) {
            fields[index].body = structurallyMutated(fields[index].body, &random, depth: depth + 1)
        }
        return fields.flatMap { $0.encoded }
    }
}

/// A little protobuf writer and field splitter, independent of the code under test.
enum Wire {
    struct Field {
        var tag: [UInt8]
        var wireType: UInt8
        var body: [UInt8]
        var encoded: [UInt8] { wireType == 2 ? tag + varint(UInt64(body.count)) + body : tag + body }
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        return bytes
    }

    static func lengthPrefixed(_ body: [UInt8]) -> [UInt8] { varint(UInt64(body.count)) + body }

    /// A length-delimited field.
    static func field(_ number: Int, _ body: [UInt8]) -> [UInt8] { varint(UInt64(number << 3 | 2)) + lengthPrefixed(body) }

    static func varintField(_ number: Int, _ value: UInt64) -> [UInt8] { varint(UInt64(number << 3)) + varint(value) }

    /// The body of a `KeyValue` with a string value.
    static func keyValue(_ key: String, _ value: String) -> [UInt8] { field(1, Array(key.utf8)) + field(2, field(1, Array(value.utf8))) }

    /// The top-level fields of `bytes`, or `nil` when they are not a plain sequence of fields (no groups).
    static func fields(_ bytes: [UInt8]) -> [Field]? {
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

/// SplitMix64: the same numbers for the same seed, on every platform.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound`.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func chance(_ probability: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < probability }
}

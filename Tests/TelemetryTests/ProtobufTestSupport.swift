import Foundation
import TestSupport

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

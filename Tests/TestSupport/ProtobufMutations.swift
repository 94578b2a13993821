import Foundation
package import Workload

/// Protobuf bytes broken and reshuffled for equivalence tests: the wire decoders' tests (`OTLPTraceWireDecoderTests`,
/// `RemoteWriteWireDecoderTests`) and `OTLPJSONTranscoderTests` feed the same inputs to the code under test and to
/// swift-protobuf.
package enum ProtobufMutations {
    /// Bytes written over one of the input's: the ends of the one-byte varint range, a continuation byte, wire
    /// types 3 to 6 in a tag's low bits, and a UTF-8 lead byte without its continuation.
    private static let overwrites: [UInt8] = [0x00, 0x80, 0xff, 0x7f, 0x0b, 0x0c, 0x0e, 0xc3]
    /// Lengths written over one of the input's bytes: around one-byte varints, and far past any body.
    private static let bogusLengths: [UInt64] = [0, 1, 127, 128, 300, 0x7fff_fffe, 0x7fff_ffff, UInt64.max]

    /// `bytes` cut, flipped, overwritten, extended, given a bogus length or reshuffled (``structurallyMutated(_:_:depth:)``)
    /// somewhere, one to three times.
    package static func mutated(_ bytes: [UInt8], _ random: inout SeededRandom) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<random.below(3) + 1 {
            let position = bytes.isEmpty ? 0 : random.below(bytes.count)
            switch random.below(7) {
            case 0: bytes = Array(bytes.prefix(position))
            case 1: if !bytes.isEmpty { bytes[position] ^= UInt8(1 << random.below(8)) }
            case 2: if !bytes.isEmpty { bytes[position] = overwrites[random.below(overwrites.count)] }
            case 3: bytes.insert(contentsOf: (0..<random.below(4) + 1).map { _ in UInt8(random.below(256)) }, at: position)
            case 4:
                let length = Wire.varint(bogusLengths[random.below(bogusLengths.count)])
                if !bytes.isEmpty { bytes.replaceSubrange(position..<position + 1, with: length) }
            case 5: bytes = structurallyMutated(bytes, &random, depth: 0)
            default: bytes.removeSubrange(position..<min(bytes.count, position + random.below(8) + 1))
            }
        }
        return bytes
    }

    /// `bytes` with fields reordered, repeated or dropped, here and in nested messages.
    package static func structurallyMutated(_ bytes: [UInt8], _ random: inout SeededRandom, depth: Int) -> [UInt8] {
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

extension SeededRandom {
    /// A number in `0..<bound`.
    package mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// True with `probability`.
    package mutating func chance(_ probability: Double) -> Bool { unitInterval() <= probability }
}

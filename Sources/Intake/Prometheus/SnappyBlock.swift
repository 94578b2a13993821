/// Why a snappy body could not be decoded.
package struct SnappyError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, and at which byte.
    package var message: String
    package var description: String { message }
}

/// A decoder of snappy's block format (the raw format, not the framed/stream one), as Prometheus remote
/// write compresses its bodies.
///
/// The format: a varint giving the decoded length, then elements tagged by their low two bits: literals
/// (`00`; length-1 in the tag's upper six bits, or in the 1-4 little-endian bytes after it when those bits
/// are 60-63), and copies of earlier output with a 1-byte (`01`: length 4-11, 11-bit offset), 2-byte
/// (`10`) or 4-byte (`11`) offset (length 1-64). The decoded length is checked against `limit` before
/// anything is allocated; every literal, offset and copy is checked against the input left, the output so
/// far and the announced length, so corrupt or hostile input fails with a message and never traps or
/// allocates past the limit.
package enum SnappyBlock {
    /// Encodes `bytes` as a snappy block of literals only: valid snappy that every decoder must accept, for
    /// senders without a compressor (tests, the remote-write benchmark). No compression is attempted.
    package static func encodeLiterals(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var length = UInt64(bytes.count)
        while length >= 0x80 {
            out.append(UInt8(length & 0x7f) | 0x80)
            length >>= 7
        }
        out.append(UInt8(length))
        var start = 0
        while start < bytes.count {
            let chunk = min(65_536, bytes.count - start)
            if chunk <= 60 {
                out.append(UInt8(chunk - 1) << 2)
            } else {
                out.append(61 << 2)  // the literal's length-1 follows in 2 little-endian bytes
                out.append(UInt8((chunk - 1) & 0xff))
                out.append(UInt8((chunk - 1) >> 8))
            }
            out += bytes[start..<start + chunk]
            start += chunk
        }
        return out
    }

    /// The stream identifier that starts snappy's *framed* format (`0xff 0x06 0x00 0x00 "sNaPpY"`).
    static let framedStreamIdentifier: [UInt8] = [0xff, 0x06, 0x00, 0x00] + Array("sNaPpY".utf8)

    /// The decoded length a block announces, without decoding it.
    package static func decodedLength(of input: [UInt8]) throws(SnappyError) -> Int {
        let result = input.withUnsafeBytes { input in
            Result { () throws(SnappyError) in
                var position = 0
                return try readLength(input, &position)
            }
        }
        return try result.get()
    }

    /// Decodes one snappy block of at most `limit` decoded bytes.
    package static func decode(_ input: [UInt8], limit: Int) throws(SnappyError) -> [UInt8] {
        let result = input.withUnsafeBytes { input in Result { () throws(SnappyError) in try decode(input, limit: limit) } }
        return try result.get()
    }

    /// Decodes one snappy block of at most `limit` decoded bytes, read in place (from a request's buffer).
    ///
    /// The output is allocated once, at the announced length, and written through a pointer: a literal is one
    /// copy, and so is a copy of earlier output that does not overlap itself; an overlapping copy (a repeated
    /// pattern) goes byte by byte, front to back, as the format defines it.
    package static func decode(_ input: UnsafeRawBufferPointer, limit: Int) throws(SnappyError) -> [UInt8] {
        if input.starts(with: framedStreamIdentifier) {
            throw SnappyError(
                message:
                    "body is in snappy's framed (stream) format: remote write uses the block format (snappy.Encode / compress_raw, not snappy.NewWriter / compress)"
            )
        }
        var position = 0
        let length = try readLength(input, &position)
        guard length <= limit else {
            throw SnappyError(message: "snappy block announces \(length) decoded bytes, over the \(limit)-byte limit (--max-request-bytes)")
        }
        var failure: SnappyError?
        let output = [UInt8](unsafeUninitializedCapacity: length) { output, initializedCount in
            do throws(SnappyError) {
                initializedCount = try decodeElements(input, from: position, into: output, length: length)
            } catch {
                failure = error
                initializedCount = 0
            }
        }
        if let failure { throw failure }
        return output
    }

    /// Decodes the elements of a block, from `position` (just past the length header) on, into `output`, which
    /// has room for the announced `length` bytes; returns how many bytes were written (`length`, or it throws).
    private static func decodeElements(
        _ input: UnsafeRawBufferPointer,
        from start: Int,
        into output: UnsafeMutableBufferPointer<UInt8>,
        length: Int
    ) throws(SnappyError) -> Int {
        var position = start
        var written = 0
        while position < input.count {
            let tag = input[position]
            position += 1
            switch tag & 0x03 {
            case 0:
                var literalLength = Int(tag >> 2)
                if literalLength >= 60 {
                    let extraBytes = literalLength - 59
                    guard position + extraBytes <= input.count else {
                        throw SnappyError(message: "snappy block is truncated: a literal's length needs \(extraBytes) bytes at byte \(position)")
                    }
                    literalLength = 0
                    for index in 0..<extraBytes { literalLength |= Int(input[position + index]) << (8 * index) }
                    position += extraBytes
                }
                literalLength += 1
                guard literalLength <= input.count - position else {
                    throw SnappyError(
                        message:
                            "snappy block is truncated: a literal of \(literalLength) bytes at byte \(position) has only \(input.count - position) bytes left"
                    )
                }
                guard literalLength <= length - written else {
                    throw SnappyError(message: "snappy block is corrupt: a literal at byte \(position) goes past the announced \(length) bytes")
                }
                // Both checks above keep the copy inside the input and the output.
                UnsafeMutableRawPointer(output.baseAddress! + written).copyMemory(from: input.baseAddress! + position, byteCount: literalLength)
                written += literalLength
                position += literalLength
            default:
                let copyLength: Int
                let offset: Int
                switch tag & 0x03 {
                case 1:
                    guard position < input.count else {
                        throw SnappyError(message: "snappy block is truncated: a copy needs 1 offset byte at byte \(position)")
                    }
                    copyLength = 4 + Int((tag >> 2) & 0x07)
                    offset = Int(tag >> 5) << 8 | Int(input[position])
                    position += 1
                case 2:
                    guard position + 2 <= input.count else {
                        throw SnappyError(message: "snappy block is truncated: a copy needs 2 offset bytes at byte \(position)")
                    }
                    copyLength = 1 + Int(tag >> 2)
                    offset = Int(input[position]) | Int(input[position + 1]) << 8
                    position += 2
                default:
                    guard position + 4 <= input.count else {
                        throw SnappyError(message: "snappy block is truncated: a copy needs 4 offset bytes at byte \(position)")
                    }
                    copyLength = 1 + Int(tag >> 2)
                    offset = Int(UInt32(littleEndian: input.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
                    position += 4
                }
                guard offset > 0, offset <= written else {
                    throw SnappyError(
                        message: "snappy block is corrupt: a copy at byte \(position) refers \(offset) bytes back, but only \(written) are decoded"
                    )
                }
                guard copyLength <= length - written else {
                    throw SnappyError(message: "snappy block is corrupt: a copy at byte \(position) goes past the announced \(length) bytes")
                }
                let from = written - offset
                if offset >= copyLength {
                    (output.baseAddress! + written).initialize(from: output.baseAddress! + from, count: copyLength)
                } else {
                    // The copy overlaps its own output (it repeats a pattern): byte by byte, front to back.
                    for index in 0..<copyLength { output[written + index] = output[from + index] }
                }
                written += copyLength
            }
        }
        guard written == length else {
            throw SnappyError(message: "snappy block is truncated: it decodes to \(written) bytes but announces \(length)")
        }
        return written
    }

    private static func readLength(_ input: UnsafeRawBufferPointer, _ position: inout Int) throws(SnappyError) -> Int {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < input.count else {
                throw SnappyError(
                    message: input.isEmpty ? "body is empty: a snappy block starts with its decoded length" : "snappy block is truncated in its length header"
                )
            }
            let byte = input[position]
            position += 1
            guard shift < 32 else { throw SnappyError(message: "snappy block length header is longer than 5 bytes: not snappy data") }
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        guard value <= UInt64(UInt32.max) else { throw SnappyError(message: "snappy block announces \(value) bytes, more than snappy allows (2³²-1)") }
        return Int(value)
    }
}

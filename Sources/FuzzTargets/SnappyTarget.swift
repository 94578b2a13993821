import Intake

/// Snappy blocks as the remote-write receiver decompresses them (``SnappyBlock``), with a limit.
enum SnappyTarget {
    /// The first byte sets the limit (its value times 64 bytes); the rest is the block.
    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        guard let limitByte = bytes.first else { return }
        let limit = Int(limitByte) * 64
        let block = Array(bytes.dropFirst())
        let decoded: [UInt8]
        do {
            decoded = try SnappyBlock.decode(block, limit: limit)
        } catch {
            if let announced = try? SnappyBlock.decodedLength(of: block), announced > limit {
                try require(error.message.contains("limit"), "a block over the limit is refused for another reason: \(error.message)")
            }
            return
        }
        try require(decoded.count <= limit, "a block decoded to \(decoded.count) bytes, over the \(limit)-byte limit")
        try require((try? SnappyBlock.decodedLength(of: block)) == decoded.count, "a block decoded to another length than it announces")
        // Valid snappy of the same bytes (literals only) decodes to them, at a limit of exactly their length.
        try require(
            (try? SnappyBlock.decode(SnappyBlock.encodeLiterals(decoded), limit: decoded.count)) == decoded,
            "the decoded bytes, encoded again, do not decode to themselves"
        )
    }
}

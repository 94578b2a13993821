import CCompressZlib
package import NIOCore

/// Inflates gzip and zlib ("deflate" in HTTP and gRPC) data from untrusted senders, with a hard size limit.
///
/// zlib is driven directly, so that every way a stream can be bad is told apart and named: corrupt data (zlib's
/// own message, such as "incorrect header check" or "invalid distance too far back"), a failed checksum or
/// length trailer, a stream cut short (zlib alone would give the prefix it could inflate), bytes after the
/// end, and output past the limit. Every call to zlib either consumes input or produces output, or the loop
/// ends: nothing spins, whatever the bytes.
package enum BodyDecompression {
    /// Why data could not be inflated.
    package enum Failure: Error, Equatable, CustomStringConvertible {
        /// The inflated data would exceed the limit.
        case tooLarge(String)
        /// The data is not what its encoding says: corrupt, cut short, or followed by other bytes.
        case corrupt(String)

        package var message: String {
            switch self {
            case .tooLarge(let message), .corrupt(let message): message
            }
        }

        package var description: String { message }
    }

    /// The compressed formats.
    package enum Format: Sendable {
        /// RFC 1952 gzip (`Content-Encoding: gzip`, `grpc-encoding: gzip`); concatenated members inflate to
        /// their concatenation, as `gzip -d` does.
        case gzip
        /// RFC 1950 zlib (`Content-Encoding: deflate`, `grpc-encoding: deflate`).
        case zlib

        /// The name of the format in messages.
        var name: String { self == .gzip ? "gzip" : "deflate (zlib)" }

        /// zlib's `windowBits` for the format: 15, plus 16 for a gzip wrapper.
        fileprivate var windowBits: Int32 { self == .gzip ? 15 + 16 : 15 }
    }

    /// Inflates `body` as an HTTP `Content-Encoding` says (`gzip`, `x-gzip` or `deflate`), never allocating
    /// more than `limit` bytes (plus one) for the output.
    ///
    /// - Throws: ``Failure``, its message naming the encoding and the problem.
    package static func inflate(_ body: ByteBuffer, encoding: String, limit: Int) throws(Failure) -> ByteBuffer {
        try inflate(body, format: encoding == "deflate" ? .zlib : .gzip, what: "\(encoding) body", limit: limit)
    }

    /// Inflates `input` in `format`, never allocating more than `limit` bytes (plus one) for the output: a
    /// decompression bomb costs at most `limit` bytes of memory, never what it expands to.
    ///
    /// - Parameter what: the data's name in messages, such as "gzip body" or "gzip message".
    /// - Throws: ``Failure``: ``Failure/tooLarge(_:)`` past `limit`, ``Failure/corrupt(_:)`` for anything that is
    ///   not one whole stream (or, for gzip, whole members) of `format`.
    package static func inflate(_ input: ByteBuffer, format: Format, what: String, limit: Int) throws(Failure) -> ByteBuffer {
        guard input.readableBytes > 0 else {
            throw .corrupt("\(what) is empty: an empty message or body is not \(format.name) data")
        }
        guard input.readableBytes <= Int(UInt32.max) else {
            throw .tooLarge("\(what) of \(input.readableBytes) compressed bytes is over the \(limit)-byte limit \(Refusal.sizeLimitSetting)")
        }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            inflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        guard CCompressZlib_inflateInit2(stream, format.windowBits) == Z_OK else {
            throw .corrupt("\(what) could not be inflated: zlib could not start (out of memory)")
        }
        let result: Result<ByteBuffer, Failure> = input.withUnsafeReadableBytes { bytes in
            inflate(bytes, stream: stream, format: format, what: what, limit: limit)
        }
        return try result.get()
    }

    private static func inflate(
        _ bytes: UnsafeRawBufferPointer,
        stream: UnsafeMutablePointer<z_stream>,
        format: Format,
        what: String,
        limit: Int
    ) -> Result<ByteBuffer, Failure> {
        // The output grows by doubling from a guess, up to one byte past the limit, which tells "exactly at the
        // limit" from "over it".
        let ceiling = limit == Int.max ? limit : limit + 1
        var output = ByteBufferAllocator().buffer(capacity: min(ceiling, max(4096, bytes.count * 4)))
        stream.pointee.next_in = CCompressZlib_voidPtr_to_BytefPtr(UnsafeMutableRawPointer(mutating: bytes.baseAddress!))
        stream.pointee.avail_in = UInt32(bytes.count)
        let tooLarge = Failure.tooLarge("\(what) inflates to more than the \(limit)-byte limit \(Refusal.sizeLimitSetting)")
        while true {
            guard output.writerIndex < ceiling else { return .failure(tooLarge) }
            if output.writableBytes == 0 { output.reserveCapacity(min(ceiling, output.capacity * 2)) }
            let budget = min(ceiling - output.writerIndex, Int(UInt32.max))
            let availableBefore = stream.pointee.avail_in
            var code: Int32 = Z_OK
            let written = output.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { space in
                let room = min(space.count, budget)
                stream.pointee.next_out = CCompressZlib_voidPtr_to_BytefPtr(space.baseAddress!)
                stream.pointee.avail_out = UInt32(room)
                code = CCompressZlib.inflate(stream, Z_NO_FLUSH)
                return room - Int(stream.pointee.avail_out)
            }
            let consumed = Int(availableBefore - stream.pointee.avail_in)
            let position = bytes.count - Int(stream.pointee.avail_in)
            switch code {
            case Z_STREAM_END:
                guard stream.pointee.avail_in > 0 else { return output.readableBytes > limit ? .failure(tooLarge) : .success(output) }
                // A gzip file may hold several members (gzip -d inflates them all); anything else after the end
                // is not data of the format.
                guard format == .gzip, bytes[position] == 0x1f else {
                    return .failure(
                        .corrupt("\(what) has \(stream.pointee.avail_in) bytes after the end of its \(format.name) stream (at byte \(position))")
                    )
                }
                guard inflateReset(stream) == Z_OK else { return .failure(.corrupt("\(what) could not be inflated: zlib failed to reset")) }
            case Z_OK, Z_BUF_ERROR:
                if stream.pointee.avail_in == 0, stream.pointee.avail_out > 0 {
                    // Every byte read and room left, but no end of stream: zlib would inflate this prefix silently.
                    return .failure(
                        .corrupt(
                            "\(what) is truncated: its \(bytes.count) bytes end inside the \(format.name) stream (after \(output.readableBytes) inflated bytes)"
                        )
                    )
                }
                if consumed == 0, written == 0, stream.pointee.avail_out > 0 {
                    return .failure(.corrupt("\(what) could not be inflated: zlib made no progress at byte \(position)"))
                }
            case Z_NEED_DICT:
                return .failure(.corrupt("\(what) needs a preset dictionary, which HTTP and gRPC do not provide: send it without one"))
            case Z_MEM_ERROR:
                return .failure(.tooLarge("\(what) could not be inflated: zlib ran out of memory"))
            default:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(code)"
                return .failure(.corrupt("\(what) is not valid \(format.name) data: \(reason) (at byte \(position) of \(bytes.count))"))
            }
        }
    }
}

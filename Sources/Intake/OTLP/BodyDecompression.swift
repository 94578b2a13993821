import CompressNIO
import NIOCore

/// Inflates `Content-Encoding: gzip` and `deflate` request bodies with a hard size limit.
enum BodyDecompression {
    /// Why a body could not be inflated.
    enum Failure: Error {
        /// The inflated body would exceed the limit.
        case tooLarge(String)
        /// The body is not what its `Content-Encoding` says.
        case corrupt(String)
    }

    /// Inflates `body` (gzip or zlib-wrapped deflate), never allocating more than `limit` bytes for the output.
    ///
    /// Inflating stops at `limit` bytes, so a gzip bomb costs at most `limit` bytes of memory, never the
    /// gigabytes it expands to. A gzip body's last four bytes give its inflated size (mod 2³²): comparing
    /// it with what was inflated catches truncated bodies, which zlib alone inflates silently to a prefix.
    /// (The trailer is not trusted for a size check before inflating: in a truncated body it is garbage,
    /// and a refusal must name the real problem.)
    static func inflate(_ body: ByteBuffer, encoding: String, limit: Int) throws(Failure) -> ByteBuffer {
        var input = body
        let announced: Int?
        switch encoding {
        case "gzip", "x-gzip":
            guard body.readableBytes >= 18 else {
                throw .corrupt("gzip body of \(body.readableBytes) bytes is truncated (a gzip stream has at least 18)")
            }
            announced = Int(body.getInteger(at: body.writerIndex - 4, endianness: .little, as: UInt32.self) ?? 0)
        default:
            announced = nil
        }
        let algorithm: CompressionAlgorithm = encoding == "deflate" ? .zlib() : .gzip()
        let inflated: ByteBuffer
        do {
            // One byte over the limit tells "exactly at the limit" from "over it".
            inflated = try input.decompress(with: algorithm, maxSize: limit + 1)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw .tooLarge("\(encoding) body inflates to more than the \(limit)-byte limit \(Refusal.sizeLimitSetting)")
        } catch {
            throw .corrupt("\(encoding) body could not be inflated (\(error)): it is not valid \(encoding) data")
        }
        if inflated.readableBytes > limit {
            throw .tooLarge("\(encoding) body inflates to more than the \(limit)-byte limit \(Refusal.sizeLimitSetting)")
        }
        if let announced, UInt32(truncatingIfNeeded: inflated.readableBytes) != UInt32(truncatingIfNeeded: announced) {
            throw .corrupt("gzip body is truncated or corrupt: it inflates to \(inflated.readableBytes) bytes but its trailer says \(announced)")
        }
        return inflated
    }
}

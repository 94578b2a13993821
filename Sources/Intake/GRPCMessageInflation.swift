import GRPCCore
package import NIOCore
import NIOHPACK
import NIOHTTP2

/// Inflates compressed gRPC request messages before grpc-swift-nio-transport sees them, so that its own
/// decompressor never runs.
///
/// grpc-swift-nio-transport 2.9.2 inflates a message with `Z_FINISH` in a loop that only ends at `Z_STREAM_END`,
/// an error code other than `Z_BUF_ERROR`, or the payload limit: a truncated gzip or deflate message (zlib answers
/// `Z_BUF_ERROR` for ever once the input is used up) spins that loop on the connection's event loop for good. The
/// call is never answered, every connection on that event loop stalls (HTTP receivers share the event loops), and
/// graceful shutdown never completes (`Zlib.swift`, `inflate(input:limit:)`).
///
/// This works around it in each HTTP/2 stream's pipeline, ahead of the transport's stream handler: the messages
/// of a `grpc-encoding: gzip` or `deflate` request are deframed, inflated by ``BodyDecompression`` (bounded,
/// every bad stream named), and passed on uncompressed (compressed flag 0). A message that cannot be inflated,
/// or inflates past the limit, is passed on as a ``GRPCInboundRefusal`` that the receiver's deserializer turns
/// into the call's status: INTERNAL for data that does not inflate (as gRPC's status code table says for a
/// message that fails to decompress with a supported algorithm), RESOURCE_EXHAUSTED past the limit, each with a
/// message naming the problem. Uncompressed messages pass through untouched (see ``GRPCMessageInflation`` for the
/// one exception).
final class GRPCMessageInflationHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload

    private let limit: Int
    private var inflation: GRPCMessageInflation?
    private var sawHeaders = false

    /// - Parameter limit: the receiver's size limit on an inflated message.
    init(limit: Int) { self.limit = limit }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = unwrapInboundIn(data)
        switch payload {
        case .headers(let headers) where !sawHeaders:
            sawHeaders = true
            // Read as the transport reads it (canonical form: comma-separated, trimmed), so that no spelling it
            // would inflate itself gets past.
            let encodings = Array(headers.headers.values(forHeader: "grpc-encoding", canonicalForm: true))
            switch encodings.count == 1 ? encodings[0] : nil {
            case "gzip": inflation = GRPCMessageInflation(format: .gzip, limit: limit)
            case "deflate": inflation = GRPCMessageInflation(format: .zlib, limit: limit)
            default: inflation = GRPCMessageInflation(format: nil, limit: limit)  // identity, or refused by the transport
            }
            context.fireChannelRead(data)
        case .data(var frame):
            guard inflation != nil, case .byteBuffer(let bytes) = frame.data else {
                context.fireChannelRead(data)
                return
            }
            var output = inflation!.consume(bytes)
            if frame.endStream { output.writeImmutableBuffer(inflation!.finish()) }
            guard output.readableBytes > 0 || frame.endStream else { return }
            frame.data = .byteBuffer(output)
            frame.paddingBytes = nil
            context.fireChannelRead(wrapInboundOut(.data(frame)))
        default:
            context.fireChannelRead(data)
        }
    }
}

/// The gRPC message framing of one request stream, rewritten: compressed messages (flag 1) inflated and framed
/// uncompressed, uncompressed ones passed on byte for byte, without ever buffering an uncompressed message.
///
/// An uncompressed message longer than the transport takes (``GRPCListener/transportLimit(for:)``, which it
/// enforces by resetting the stream, so that clients retry what can never succeed) is refused as too large
/// instead; shorter ones over the limit are left to ``SizedProtobufDeserializer``, which names the message.
package struct GRPCMessageInflation {
    /// The stream's `grpc-encoding`; `nil`: none (compressed messages are then the transport's to refuse).
    package let format: BodyDecompression.Format?
    /// The most bytes a message may inflate to.
    package let limit: Int
    /// The most compressed bytes a message may take: anything longer cannot inflate to `limit` or less (deflate's
    /// worst case adds 5 bytes per 64 KiB stored block, gzip 18 bytes of header and trailer).
    var compressedLimit: Int { limit > Int.max / 2 ? Int.max : limit + limit / 1000 + 1024 }

    /// Bytes not yet passed on: the start of a message.
    private var pending = ByteBuffer()
    /// Bytes of an uncompressed message still to pass on as they come.
    private var passThrough = 0
    /// Bytes of a refused (too large) message still to drop as they come.
    private var discard = 0

    package init(format: BodyDecompression.Format?, limit: Int) {
        self.format = format
        self.limit = limit
    }

    /// Takes the next bytes of the stream; returns what to pass on for them.
    package mutating func consume(_ bytes: ByteBuffer) -> ByteBuffer {
        var input = bytes
        var output = ByteBuffer()
        while input.readableBytes > 0 {
            if passThrough > 0 {
                let count = min(passThrough, input.readableBytes)
                var slice = input.readSlice(length: count)!
                output.writeBuffer(&slice)
                passThrough -= count
                continue
            }
            if discard > 0 {
                let count = min(discard, input.readableBytes)
                input.moveReaderIndex(forwardBy: count)
                discard -= count
                continue
            }
            pending.writeBuffer(&input)
            deframe(into: &output)
        }
        return output
    }

    /// The stream ended: the bytes of an incomplete message, passed on as they came (the transport refuses them).
    package mutating func finish() -> ByteBuffer {
        defer { pending = ByteBuffer() }
        return pending
    }

    /// Passes on every whole message in `pending`, and the start of an uncompressed one.
    private mutating func deframe(into output: inout ByteBuffer) {
        while let flag = pending.getInteger(at: pending.readerIndex, as: UInt8.self),
            let length = pending.getInteger(at: pending.readerIndex + 1, as: UInt32.self)
        {
            let messageLength = Int(length)
            guard flag == 1, let format else {
                // Uncompressed (the transport reads any flag but 1 so): pass it on as it comes, unless the transport
                // would reset the stream for its length.
                guard messageLength <= GRPCListener.transportLimit(for: limit) else {
                    refuse(
                        GRPCInboundRefusal(
                            kind: .tooLarge,
                            message: "message of \(messageLength) bytes is over the \(limit)-byte limit \(Refusal.sizeLimitSetting)"
                        ),
                        skipping: messageLength,
                        into: &output
                    )
                    if discard > 0 { return }
                    continue
                }
                passThrough = 5 + messageLength
                let count = min(passThrough, pending.readableBytes)
                var slice = pending.readSlice(length: count)!
                output.writeBuffer(&slice)
                passThrough -= count
                if passThrough > 0 { return }
                continue
            }
            guard messageLength <= compressedLimit else {
                refuse(
                    GRPCInboundRefusal(
                        kind: .tooLarge,
                        message: "\(format.name) message of \(messageLength) compressed bytes is over the \(limit)-byte limit \(Refusal.sizeLimitSetting)"
                    ),
                    skipping: messageLength,
                    into: &output
                )
                if discard > 0 { return }
                continue
            }
            guard pending.readableBytes >= 5 + messageLength else { return }
            pending.moveReaderIndex(forwardBy: 5)
            let compressed = pending.readSlice(length: messageLength)!
            do {
                let inflated = try BodyDecompression.inflate(compressed, format: format, what: "\(format.name) message", limit: limit)
                // Marked with its compressed size, which the intake counts as the message's bytes on the wire.
                var marked = GRPCInflatedMessage.header(compressedLength: messageLength)
                marked.writeImmutableBuffer(inflated)
                Self.frame(marked, into: &output)
            } catch {
                let kind: GRPCInboundRefusal.Kind
                switch error {
                case .tooLarge: kind = .tooLarge
                case .corrupt: kind = .undecompressable
                }
                Self.frame(GRPCInboundRefusal(kind: kind, message: error.message).encoded, into: &output)
            }
        }
        if pending.readableBytes == 0 { pending.clear() } else if pending.readerIndex > 65_536 { pending.discardReadBytes() }
    }

    /// Passes on `refusal` in place of the message at the front of `pending`, whose `length` bytes are dropped as
    /// they come.
    private mutating func refuse(_ refusal: GRPCInboundRefusal, skipping length: Int, into output: inout ByteBuffer) {
        Self.frame(refusal.encoded, into: &output)
        discard = 5 + length
        let count = min(discard, pending.readableBytes)
        pending.moveReaderIndex(forwardBy: count)
        discard -= count
    }

    /// Writes `message` with an uncompressed gRPC message prefix.
    private static func frame(_ message: ByteBuffer, into output: inout ByteBuffer) {
        output.writeInteger(UInt8(0))
        output.writeInteger(UInt32(message.readableBytes))
        output.writeImmutableBuffer(message)
    }
}

/// A request message that ``GRPCMessageInflation`` refused, passed to the receiver's deserializer in the
/// message's place, which then ends the call with its status (see ``SizedProtobufDeserializer``).
///
/// Encoded as a byte that no protobuf message starts with (field number 0 is invalid), a token drawn at random
/// once per process (so that no sender can forge one), the kind, and the message in UTF-8.
struct GRPCInboundRefusal: Equatable {
    enum Kind: UInt8 {
        /// The message does not inflate: INTERNAL.
        case undecompressable = 1
        /// The message inflates past the limit: RESOURCE_EXHAUSTED.
        case tooLarge = 2
    }

    var kind: Kind
    var message: String

    private static let token: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        return [0] + (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }()

    var encoded: ByteBuffer {
        var buffer = ByteBuffer(bytes: Self.token)
        buffer.writeInteger(kind.rawValue)
        buffer.writeString(message)
        return buffer
    }

    /// The refusal `bytes` encode, or `nil` for an ordinary message.
    init?(decoding bytes: some Collection<UInt8>) {
        guard bytes.count > Self.token.count, bytes.first == 0, bytes.starts(with: Self.token) else { return nil }
        let rest = bytes.dropFirst(Self.token.count)
        guard let kind = Kind(rawValue: rest.first!) else { return nil }
        self.init(kind: kind, message: String(decoding: rest.dropFirst(), as: UTF8.self))
    }

    init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    /// The status the call ends with.
    var rpcError: RPCError {
        switch kind {
        case .undecompressable: RPCError(code: .internalError, message: message)
        case .tooLarge: RPCError(Refusal(.tooLarge, message))
        }
    }
}

/// A request message that ``GRPCMessageInflation`` inflated, passed to the receiver's deserializer marked with its
/// compressed length, so that the intake counts the bytes that came over the wire
/// (``IntakeCounts/wireBytesAccepted``), not the inflated ones.
///
/// The mark is a token drawn at random once per process (a different one from ``GRPCInboundRefusal``'s, so that no
/// sender can forge it) and the compressed length as a 32-bit big-endian integer, ahead of the inflated bytes.
struct GRPCInflatedMessage {
    /// The message's compressed length on the wire, without its 5-byte prefix.
    var compressedLength: Int
    /// The inflated message.
    var message: [UInt8]

    private static let token: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        return [0] + (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }()

    /// The mark that goes ahead of an inflated message of `compressedLength` bytes on the wire.
    static func header(compressedLength: Int) -> ByteBuffer {
        var buffer = ByteBuffer(bytes: token)
        buffer.writeInteger(UInt32(truncatingIfNeeded: compressedLength))
        return buffer
    }

    /// The marked message `bytes` hold, or `nil` for an unmarked (uncompressed) one.
    init?(decoding bytes: UnsafeRawBufferPointer) {
        let headerLength = Self.token.count + 4
        guard bytes.count >= headerLength, bytes.first == 0, bytes.starts(with: Self.token) else { return nil }
        compressedLength = bytes[Self.token.count..<headerLength].reduce(0) { $0 << 8 | Int($1) }
        message = Array(bytes[headerLength...])
    }
}

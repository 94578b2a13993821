import GRPCCore
package import NIOCore
import NIOHPACK
import NIOHTTP2
package import Telemetry

/// Inflates compressed gRPC request messages before grpc-swift-nio-transport sees them, so that its own
/// decompressor never runs, and reserves room for every request message under the store's memory limit as its bytes
/// arrive, so that the messages the transport assembles are within the limit too.
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
/// message naming the problem. Uncompressed messages pass through as they come, never buffered.
///
/// Given the store, each message is reserved for as its prefix arrives (``GRPCMessageInflation``, ``GRPCMessageBudget``),
/// and one that does not fit is refused retryably in its place (UNAVAILABLE with `RetryInfo`); the reservation goes to
/// the deserializer with the message (``GRPCReservationHandOver``). When the stream closes, whatever reservation the
/// deserializer did not take over is released.
final class GRPCMessageInflationHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload

    private let limit: Int
    private let store: TelemetryStore?
    private var inflation: GRPCMessageInflation?
    private var sawHeaders = false

    /// - Parameters:
    ///   - limit: the receiver's size limit on a message (inflated).
    ///   - store: the store whose memory limit every message is reserved under as it arrives; `nil`: none.
    init(limit: Int, reservingIn store: TelemetryStore? = nil) {
        self.limit = limit
        self.store = store
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = unwrapInboundIn(data)
        switch payload {
        case .headers(let headers) where !sawHeaders:
            sawHeaders = true
            // Read as the transport reads it (canonical form: comma-separated, trimmed), so that no spelling it
            // would inflate itself gets past.
            let encodings = Array(headers.headers.values(forHeader: "grpc-encoding", canonicalForm: true))
            let format: BodyDecompression.Format? =
                switch encodings.count == 1 ? encodings[0] : nil {
                case "gzip": .gzip
                case "deflate": .zlib
                default: nil  // identity, or refused by the transport
                }
            inflation = GRPCMessageInflation(format: format, limit: limit, reservingIn: store)
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

    func channelInactive(context: ChannelHandlerContext) {
        inflation?.releaseReservations()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        inflation?.releaseReservations()
    }
}

/// The gRPC message framing of one request stream, rewritten: compressed messages (flag 1) inflated and framed
/// uncompressed, uncompressed ones passed on byte for byte as they come (behind their reservation's mark, see
/// below), without ever buffering an uncompressed message.
///
/// An uncompressed message over the limit is refused as too large as soon as its prefix arrives, its bytes dropped
/// as they come (the transport, which takes up to ``GRPCListener/transportLimit(for:)`` so that it never resets the
/// stream for a message's size, would assemble it only for the deserializer to refuse it).
///
/// Given a store (``init(format:limit:reservingIn:)``), every message is reserved for under the store's memory limit
/// before any of its bytes are passed on (``GRPCMessageBudget``):
/// - an uncompressed message, as its prefix arrives: what admitting it takes
///   (``Telemetry/ResidentCost/admission(bytes:)`` of its length);
/// - a compressed message, as its prefix arrives: its compressed bytes, while they are buffered; once it is inflated,
///   what admitting the inflated message takes (and the compressed bytes are released). Reserving for the inflated
///   size limit up front instead would take five times `limit` for every compressed message, which would refuse most
///   of a Collector's (compressed) traffic under a small memory limit. The inflation itself runs on the event loop,
///   one message at a time, so what it takes beyond the reservations is at most `limit` per event loop.
///
/// A message that does not fit now is refused in its place as overloaded (``GRPCInboundRefusal/Kind/overloaded``:
/// UNAVAILABLE with `RetryInfo`, as admission refuses), one that never could as too large, and its bytes are dropped as
/// they come. A message that fits is passed on behind a ``GRPCReservedMessage`` mark carrying the id its reservation is
/// deposited under in ``GRPCReservationHandOver``; the deserializer redeems it and hands it to admission. What was
/// not redeemed when the stream closes is released by ``releaseReservations()``.
package struct GRPCMessageInflation {
    /// The stream's `grpc-encoding`; `nil`: none (compressed messages are then the transport's to refuse).
    package let format: BodyDecompression.Format?
    /// The most bytes a message may take, inflated.
    package let limit: Int
    /// The most compressed bytes a message may take: anything longer cannot inflate to `limit` or less (deflate's
    /// worst case adds 5 bytes per 64 KiB stored block, gzip 18 bytes of header and trailer).
    var compressedLimit: Int { limit > Int.max / 2 ? Int.max : limit + limit / 1000 + 1024 }
    /// Where messages are reserved for; `nil`: nowhere (every message passes byte for byte, unmarked).
    private let budget: GRPCMessageBudget?
    /// The longest uncompressed message passed on: the limit, and what a 32-bit prefix can frame behind the mark.
    private var uncompressedLimit: Int {
        budget == nil ? limit : min(limit, Int(UInt32.max) - GRPCReservedMessage.headerLength)
    }

    /// Bytes not yet passed on: the start of a message.
    private var pending = ByteBuffer()
    /// Bytes of an uncompressed message still to pass on as they come.
    private var passThrough = 0
    /// Bytes of a refused message (too large, or overloaded) still to drop as they come.
    private var discard = 0
    /// The compressed bytes of the message at the front of `pending`, reserved while it is buffered.
    private var buffering: Reservation?
    /// The reservations handed over for this stream's messages, by id, which the deserializer may not have redeemed.
    private var handedOver: [UInt64] = []

    /// - Parameter store: the store whose memory limit every message is reserved under; `nil`: none.
    package init(format: BodyDecompression.Format?, limit: Int, reservingIn store: TelemetryStore? = nil) {
        self.format = format
        self.limit = limit
        self.budget = store.map { GRPCMessageBudget(store: $0) }
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
    /// Reservations stay until the stream closes (``releaseReservations()``): the call reads its message after this.
    package mutating func finish() -> ByteBuffer {
        defer { pending = ByteBuffer() }
        return pending
    }

    /// The stream closed: releases what is reserved for a message being buffered, and every reservation handed over
    /// that the deserializer did not redeem (a message cut short, or one the call never read). Idempotent.
    package mutating func releaseReservations() {
        buffering?.release()
        buffering = nil
        for id in handedOver { GRPCReservationHandOver.shared.cancel(id) }
        handedOver = []
    }

    /// Passes on every whole message in `pending`, and the start of an uncompressed one.
    private mutating func deframe(into output: inout ByteBuffer) {
        while let flag = pending.getInteger(at: pending.readerIndex, as: UInt8.self),
            let length = pending.getInteger(at: pending.readerIndex + 1, as: UInt32.self)
        {
            let messageLength = Int(length)
            guard flag == 1, let format else {
                // Uncompressed (the transport reads any flag but 1 so): passed on as it comes, with its own flag (a
                // compressed one on a stream without an encoding is the transport's to refuse).
                guard messageLength <= uncompressedLimit else {
                    let refusal = GRPCInboundRefusal(
                        kind: .tooLarge,
                        message: "message of \(messageLength) bytes is over the \(limit)-byte limit \(Refusal.sizeLimitSetting)"
                    )
                    if refuse(refusal, skipping: messageLength, into: &output) { return }
                    continue
                }
                var mark = ByteBuffer()
                if let budget {
                    do throws(GRPCInboundRefusal) {
                        mark = handOver(try budget.reserveForDecoding(bytes: messageLength))
                    } catch {
                        if refuse(error, skipping: messageLength, into: &output) { return }
                        continue
                    }
                }
                pending.moveReaderIndex(forwardBy: 5)
                output.writeInteger(flag)
                output.writeInteger(UInt32(mark.readableBytes + messageLength))
                output.writeBuffer(&mark)
                passThrough = messageLength
                let count = min(passThrough, pending.readableBytes)
                var slice = pending.readSlice(length: count)!
                output.writeBuffer(&slice)
                passThrough -= count
                if passThrough > 0 { return }
                continue
            }
            guard messageLength <= compressedLimit else {
                let refusal = GRPCInboundRefusal(
                    kind: .tooLarge,
                    message: "\(format.name) message of \(messageLength) compressed bytes is over the \(limit)-byte limit \(Refusal.sizeLimitSetting)"
                )
                if refuse(refusal, skipping: messageLength, into: &output) { return }
                continue
            }
            if let budget, buffering == nil {
                do throws(GRPCInboundRefusal) {
                    buffering = try budget.reserveForBuffering(compressedBytes: messageLength, format: format)
                } catch {
                    if refuse(error, skipping: messageLength, into: &output) { return }
                    continue
                }
            }
            guard pending.readableBytes >= 5 + messageLength else { return }
            pending.moveReaderIndex(forwardBy: 5)
            let compressed = pending.readSlice(length: messageLength)!
            let inflated: ByteBuffer
            do {
                inflated = try BodyDecompression.inflate(compressed, format: format, what: "\(format.name) message", limit: limit)
            } catch {
                let kind: GRPCInboundRefusal.Kind
                switch error {
                case .tooLarge: kind = .tooLarge
                case .corrupt: kind = .undecompressable
                }
                releaseBuffering()
                Self.frame(GRPCInboundRefusal(kind: kind, message: error.message).encoded, into: &output)
                continue
            }
            releaseBuffering()
            var marked = ByteBuffer()
            if let budget {
                do throws(GRPCInboundRefusal) {
                    marked = handOver(try budget.reserveForDecoding(bytes: inflated.readableBytes))
                } catch {
                    Self.frame(error.encoded, into: &output)
                    continue
                }
            }
            // Marked with its compressed size, which the intake counts as the message's bytes on the wire.
            marked.writeImmutableBuffer(GRPCInflatedMessage.header(compressedLength: messageLength))
            marked.writeImmutableBuffer(inflated)
            Self.frame(marked, into: &output)
        }
        if pending.readableBytes == 0 { pending.clear() } else if pending.readerIndex > 65_536 { pending.discardReadBytes() }
    }

    /// Deposits `reservation` for the deserializer (``GRPCReservationHandOver``); returns the mark that goes ahead of
    /// its message.
    private mutating func handOver(_ reservation: Reservation) -> ByteBuffer {
        let id = GRPCReservationHandOver.shared.deposit(reservation)
        handedOver.append(id)
        return GRPCReservedMessage.header(id: id)
    }

    /// The compressed message at the front of `pending` is inflated (or refused): its bytes are no longer held.
    private mutating func releaseBuffering() {
        buffering?.release()
        buffering = nil
    }

    /// Passes on `refusal` in place of the message at the front of `pending`, whose `length` bytes are dropped as
    /// they come; returns whether more of them are still to come (the stream's next bytes are to be dropped).
    private mutating func refuse(_ refusal: GRPCInboundRefusal, skipping length: Int, into output: inout ByteBuffer) -> Bool {
        Self.frame(refusal.encoded, into: &output)
        discard = 5 + length
        let count = min(discard, pending.readableBytes)
        pending.moveReaderIndex(forwardBy: count)
        discard -= count
        return discard > 0
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
struct GRPCInboundRefusal: Error, Equatable {
    enum Kind: UInt8 {
        /// The message does not inflate: INTERNAL.
        case undecompressable = 1
        /// The message is, or inflates, past the size limit, or needs more memory than the whole memory limit:
        /// RESOURCE_EXHAUSTED.
        case tooLarge = 2
        /// The message does not fit under the store's memory limit now: UNAVAILABLE with `RetryInfo`, as
        /// ``Refusal/overloaded(limit:)``.
        case overloaded = 3
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

    /// The store is over its memory limit (`nil`: none): ``Refusal/overloaded(limit:)``'s message.
    static func overloaded(limit: Int?) -> GRPCInboundRefusal {
        GRPCInboundRefusal(kind: .overloaded, message: Refusal.overloaded(limit: limit).message)
    }

    /// The status the call ends with.
    var rpcError: RPCError {
        switch kind {
        case .undecompressable: return RPCError(code: .internalError, message: message)
        case .tooLarge: return RPCError(Refusal(.tooLarge, message))
        case .overloaded:
            // Refusal.overloaded(limit:)'s status and retry signal (RetryInfo), with the message it gave.
            var refusal = Refusal.overloaded(limit: nil)
            refusal.message = message
            return RPCError(refusal)
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

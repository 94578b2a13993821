import GRPCCore
import NIOCore
import Synchronization
import Telemetry

/// The store's memory limit as each gRPC request stream's ``GRPCMessageInflation`` reserves under it, as soon as a
/// message's 5-byte prefix arrives and before any of its bytes reach the transport: the same budget, the same
/// eviction and the same refusals as ``Admission/admit(_:on:bytes:wireBytes:partialSuccess:export:reservation:_:)``.
///
/// grpc-swift-nio-transport assembles a whole message before the receiver's deserializer sees it; reserving only
/// there left every message being assembled outside the limit (at the overload peak, more memory than the limit
/// itself). A message that does not fit is refused in its place (``GRPCInboundRefusal``), its bytes dropped as they
/// come.
struct GRPCMessageBudget: Sendable {
    let store: TelemetryStore

    /// Reserves what admitting a message of `bytes` (uncompressed, or inflated) takes: its bytes and the items decoded
    /// from them (``Telemetry/ResidentCost/admission(bytes:)``), which admission then takes over.
    ///
    /// - Throws: RESOURCE_EXHAUSTED (``Refusal/largerThanTheStore(bytes:reservation:limit:)``) when it could never fit;
    ///   UNAVAILABLE with `RetryInfo` (``Refusal/overloaded(limit:)``) when it does not fit now, after evicting the
    ///   oldest traces and log records.
    func reserveForDecoding(bytes: Int) throws(GRPCInboundRefusal) -> Reservation {
        let needed = ResidentCost.admission(bytes: bytes)
        if let limit = store.limits.maxRetainedBytes, needed > limit {
            throw GRPCInboundRefusal(kind: .tooLarge, message: Refusal.largerThanTheStore(bytes: bytes, reservation: needed, limit: limit).message)
        }
        guard let reservation = Reservation(store: store, bytes: needed) else { throw GRPCInboundRefusal.overloaded(limit: store.limits.maxRetainedBytes) }
        return reservation
    }

    /// Reserves the `bytes` of a compressed message while they are buffered whole before inflating it (released once it
    /// is inflated, when ``reserveForDecoding(bytes:)`` reserves for what it inflated to).
    ///
    /// - Throws: RESOURCE_EXHAUSTED when the compressed bytes alone are more than the whole limit; UNAVAILABLE with
    ///   `RetryInfo` (``Refusal/overloaded(limit:)``) when they do not fit now.
    func reserveForBuffering(compressedBytes bytes: Int, format: BodyDecompression.Format) throws(GRPCInboundRefusal) -> Reservation {
        if let limit = store.limits.maxRetainedBytes, bytes > limit {
            throw GRPCInboundRefusal(
                kind: .tooLarge,
                message: "\(format.name) message of \(bytes) compressed bytes is more than otelbench's whole memory limit of \(limit) bytes, "
                    + "so it can never be stored: send smaller requests or raise --memory-limit"
            )
        }
        guard let reservation = Reservation(store: store, bytes: bytes) else { throw GRPCInboundRefusal.overloaded(limit: store.limits.maxRetainedBytes) }
        return reservation
    }
}

/// Reservations on their way from a stream's ``GRPCMessageInflation``, which took them as their messages arrived, to
/// the receiver's deserializer, which takes them over (``redeem(_:)``) and hands them to admission, so that a message
/// is reserved once, from its first byte until its items are stored.
///
/// The stream's handler deposits each reservation here and marks its message with the id (``GRPCReservedMessage``);
/// whatever was not redeemed when the stream closes (a message cut short, one the call never read because it was
/// refused first, a reset stream) the handler cancels (``cancel(_:)``), which releases it. Redeeming and cancelling
/// both remove the reservation, so it is given back exactly once.
final class GRPCReservationHandOver: Sendable {
    /// The one the gRPC listeners and the receivers' deserializers share: ids are unique in the process, and the mark
    /// that carries one cannot be forged (``GRPCReservedMessage``).
    static let shared = GRPCReservationHandOver()

    private let waiting = Mutex<[UInt64: Reservation]>([:])
    private let lastID = Atomic<UInt64>(0)

    /// Keeps `reservation` for the deserializer; returns the id it redeems it with.
    func deposit(_ reservation: Reservation) -> UInt64 {
        let id = lastID.wrappingAdd(1, ordering: .relaxed).newValue
        waiting.withLock { $0[id] = reservation }
        return id
    }

    /// Takes the reservation deposited as `id` over (the caller gives it back, or hands it to admission); `nil` when
    /// the stream was closed and cancelled it already.
    func redeem(_ id: UInt64) -> Reservation? {
        waiting.withLock { $0.removeValue(forKey: id) }
    }

    /// Releases the reservation deposited as `id`, unless it was redeemed already.
    func cancel(_ id: UInt64) {
        waiting.withLock { $0.removeValue(forKey: id) }?.release()
    }

    /// How many reservations wait to be redeemed (for tests).
    var waitingCount: Int { waiting.withLock { $0.count } }
}

/// The mark ``GRPCMessageInflation`` puts ahead of a request message it reserved room for: the id the deserializer
/// redeems the reservation with (``GRPCReservationHandOver``).
///
/// A token drawn at random once per process (another one than ``GRPCInboundRefusal``'s and ``GRPCInflatedMessage``'s,
/// so that no sender can forge it) and the id as a 64-bit big-endian integer. An inflated message carries this mark
/// first, then ``GRPCInflatedMessage``'s.
struct GRPCReservedMessage {
    /// The id its reservation is deposited under.
    var id: UInt64

    private static let token: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        return [0] + (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }()

    /// The mark's length ahead of the message.
    static var headerLength: Int { token.count + 8 }

    /// The mark for a message whose reservation is deposited as `id`.
    static func header(id: UInt64) -> ByteBuffer {
        var buffer = ByteBuffer(bytes: token)
        buffer.writeInteger(id)
        return buffer
    }

    /// The mark at the start of `bytes`, or `nil` for an unmarked message.
    init?(decoding bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= Self.headerLength, bytes.first == 0, bytes.starts(with: Self.token) else { return nil }
        id = bytes[Self.token.count..<Self.headerLength].reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// A message's bytes after the mark ahead of them, without copying them: what the deserializer decodes.
struct GRPCMessageBytes<Base: GRPCContiguousBytes>: GRPCContiguousBytes {
    private var base: Base
    private let start: Int

    /// The bytes of `base` after its first `count`.
    init(_ base: Base, droppingFirst count: Int) {
        self.base = base
        self.start = count
    }

    init(repeating byte: UInt8, count: Int) { self.init(Base(repeating: byte, count: count), droppingFirst: 0) }

    init<Bytes: Sequence>(_ sequence: Bytes) where Bytes.Element == UInt8 { self.init(Base(sequence), droppingFirst: 0) }

    var count: Int { base.count - start }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try base.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start...])) }
    }

    mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        let start = start
        return try base.withUnsafeMutableBytes { try body(UnsafeMutableRawBufferPointer(rebasing: $0[start...])) }
    }
}

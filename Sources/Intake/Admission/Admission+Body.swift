package import Hummingbird
import NIOCore
import Synchronization
package import Telemetry

/// The bytes of one HTTP request body reserved under the store's memory limit while the request is read, decoded and
/// answered: what its `Content-Length` declares before any of it is read, then whatever more arrives as it arrives.
/// Released once when the request is answered (``release()``).
///
/// A body the limit cannot cover is refused retryably (``Refusal/overloaded(limit:)``): before it is read when its
/// length is declared, else at the chunk that would pass the limit.
package final class BodyReservation: Sendable {
    let store: TelemetryStore
    /// Bytes reserved now.
    private let reserved: Mutex<Int>

    init(store: TelemetryStore, declared: Int) throws(Refusal) {
        self.store = store
        guard store.reserve(bytes: declared) else { throw Refusal.overloaded(limit: store.limits.maxRetainedBytes) }
        reserved = Mutex(declared)
    }

    /// Bytes reserved now.
    package var bytes: Int { reserved.withLock { $0 } }

    /// Makes sure `bytesRead` bytes of the body are reserved, reserving what is missing.
    ///
    /// - Throws: ``Refusal/overloaded(limit:)`` when they cannot be.
    func cover(bytesRead: Int) throws(Refusal) {
        let covered = reserved.withLock { reserved in
            guard bytesRead > reserved else { return true }
            guard store.reserve(bytes: bytesRead - reserved) else { return false }
            reserved = bytesRead
            return true
        }
        if !covered { throw Refusal.overloaded(limit: store.limits.maxRetainedBytes) }
    }

    /// Gives the reservation back: the request was answered.
    package func release() {
        let bytes = reserved.withLock { reserved in
            defer { reserved = 0 }
            return reserved
        }
        store.release(bytes: bytes)
    }
}

extension Admission {
    /// Reserves `request`'s body under the store's memory limit while it is read and decoded: its declared
    /// `Content-Length` now, and as it is read whatever comes beyond that (a chunked body, or one longer than
    /// declared); `request`'s body is replaced by one that reserves as it is read. The caller releases the
    /// reservation once the request is answered (``BodyReservation/release()``).
    ///
    /// A declared length over `maxRequestBytes` reserves nothing (the endpoint refuses it as too large before
    /// reading it).
    ///
    /// - Throws: ``Refusal/overloaded(limit:)`` when the declared length does not fit now, even after evicting the
    ///   oldest traces and log records (retryable; nothing of the body was read);
    ///   ``Refusal/largerThanTheStore(bytes:reservation:limit:)`` when its admission could never fit.
    package func reserveBody(of request: inout Request, maxRequestBytes: Int) throws(Refusal) -> BodyReservation {
        var declared = request.headers[.contentLength].flatMap { Int($0) } ?? 0
        if declared < 0 || declared > maxRequestBytes { declared = 0 }
        if let limit = store.limits.maxRetainedBytes, declared + ResidentCost.admission(bytes: declared) > limit {
            throw Refusal.largerThanTheStore(bytes: declared, reservation: declared + ResidentCost.admission(bytes: declared), limit: limit)
        }
        let reservation = try BodyReservation(store: store, declared: declared)
        request.body = RequestBody(asyncSequence: ReservedBody(base: request.body, reservation: reservation))
        return reservation
    }
}

/// A request body that reserves its bytes as they are read (``BodyReservation/cover(bytesRead:)``).
struct ReservedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let base: RequestBody
    let reservation: BodyReservation

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let reservation: BodyReservation
        var bytesRead = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try await base.next() else { return nil }
            bytesRead += chunk.readableBytes
            try reservation.cover(bytesRead: bytesRead)
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), reservation: reservation) }
}

import Synchronization

/// Bytes reserved under a store's memory limit (``TelemetryStore/reserve(bytes:)``) for one request, given back
/// exactly once: released, taken over by whoever stores the request's items (``take()``), or, for a request
/// dropped on the way (a cancelled call), when the reservation is freed.
///
/// ```swift
/// guard let reservation = Reservation(store: store, bytes: ResidentCost.admission(bytes: message.count)) else { throw overloaded }
/// let decoded = decode(message)          // the memory it takes is accounted for
/// if reservation.take() { store.store(decoded, ..., reservedBytes: reservation.bytes) }
/// ```
package final class Reservation: Sendable {
    let store: TelemetryStore
    /// The bytes reserved.
    package let bytes: Int
    private let held = Atomic<Bool>(true)

    /// Reserves `bytes` in `store` (evicting the oldest traces and log records if that makes room); `nil` when they
    /// do not fit.
    package init?(store: TelemetryStore, bytes: Int) {
        guard store.reserve(bytes: bytes) else { return nil }
        self.store = store
        self.bytes = bytes
    }

    /// Takes the reservation over: the caller now gives the bytes back (storing items with them, or releasing
    /// them). `false` when it was taken or released already.
    package func take() -> Bool { held.exchange(false, ordering: .acquiringAndReleasing) }

    /// Gives the bytes back, unless they were taken over or given back already.
    package func release() {
        if take() { store.release(bytes: bytes) }
    }

    deinit { release() }
}

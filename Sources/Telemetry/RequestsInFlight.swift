import Synchronization

/// The requests an intake is reading, decoding or admitting right now, across all its receivers: what its
/// request limit (Intake's `ConnectionLimits.maxRequestsInFlight`) is checked against before a request's body is read.
///
/// One per ``TelemetryStore`` (``TelemetryStore/requestsInFlight``), so that every receiver storing into one store
/// shares it. Lock-free: entering and leaving are one atomic add each, never a lock held across a suspension.
///
/// ```swift
/// guard store.requestsInFlight.enter(limit: 256) else { throw overloaded }
/// defer { store.requestsInFlight.leave() }
/// ```
package final class RequestsInFlight: Sendable {
    private let count = Atomic<Int>(0)

    /// Creates a count of zero.
    package init() {}

    /// Counts a request in if fewer than `limit` are in flight and returns `true`; otherwise counts nothing and
    /// returns `false`. Every `true` must be matched by exactly one ``leave()``.
    package func enter(limit: Int) -> Bool {
        guard count.wrappingAdd(1, ordering: .relaxed).newValue > limit else { return true }
        count.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    /// Counts a request out: it was answered, refused or abandoned after ``enter(limit:)`` let it in.
    package func leave() {
        count.wrappingSubtract(1, ordering: .relaxed)
    }

    /// The requests in flight now.
    package var current: Int { count.load(ordering: .relaxed) }
}

import NIOCore
import Synchronization

/// What every request of one phase needs: where to send it, how long it may take, and where its end is counted.
struct PhaseContext: Sendable {
    let connections: DriverConnections
    let timeout: Duration
    let live: LiveCounters
    let observer: (any RequestObserver)?
    let tallies: PhaseTallies
    /// Requests (open loop) or users (closed loop) not finished yet.
    let outstanding: Outstanding

    /// The deadline of a request handed over now: waiting for a connection counts against the timeout.
    var deadline: NIODeadline {
        .now() + .nanoseconds(timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
    }

    /// Tells the observer and the live counters that `slot` is about to leave from event loop `loop`.
    func willSend(_ slot: Slot, loop: Int) {
        observer?.sending(slot.trace, name: slot.request.template.name)
        live.send(loop: loop)
    }

    /// Counts a request that ended on event loop `loop`.
    func record(_ request: LoadRequest, sentAt: ContinuousClock.Instant, outcome: RequestOutcome, status: Int?, loop: Int) {
        let end = ContinuousClock.now
        tallies.record(slot: request.slot, sentAt: sentAt, outcome: outcome, status: status, end: end, loop: loop)
        live.complete(outcome, latency: end - request.slot.intended, loop: loop)
    }
}

/// A count of work handed out and not yet finished, and a wait for it to reach zero once no more is handed out.
final class Outstanding: Sendable {
    private struct State {
        var count = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func add(_ amount: Int = 1) { state.withLock { $0.count += amount } }

    func remove(_ amount: Int = 1) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.count -= amount
            guard state.count == 0 else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Returns when everything added has been removed (call after the last `add`).
    func drained() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if state.count == 0 { return true }
                state.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }
}

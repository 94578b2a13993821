import Synchronization

/// A bounded multi-consumer queue of scheduled send times: the scheduler offers slots by the clock, workers
/// take them. A full queue refuses the slot (the driver has fallen behind and says so) instead of growing.
final class SlotQueue<Element: Sendable>: Sendable {
    private struct State {
        var buffer: [Element] = []
        var head = 0
        var waiters: [CheckedContinuation<Element?, Never>] = []
        var finished = false
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Hands `element` to a waiting worker or queues it; `false` when the queue is full.
    private enum Decision {
        case handTo(CheckedContinuation<Element?, Never>)
        case queued
        case full
    }

    func offer(_ element: Element) -> Bool {
        let decision: Decision = state.withLock { state in
            if !state.waiters.isEmpty { return .handTo(state.waiters.removeFirst()) }
            guard state.buffer.count - state.head < capacity else { return .full }
            state.buffer.append(element)
            return .queued
        }
        switch decision {
        case .handTo(let waiter):
            waiter.resume(returning: element)
            return true
        case .queued:
            return true
        case .full:
            return false
        }
    }

    /// The next slot, or `nil` once the queue is finished and empty.
    func take() async -> Element? {
        await withCheckedContinuation { continuation in
            let element: Element?? = state.withLock { state in
                if state.head < state.buffer.count {
                    let element = state.buffer[state.head]
                    state.head += 1
                    if state.head > 1024, state.head * 2 > state.buffer.count {
                        state.buffer.removeFirst(state.head)
                        state.head = 0
                    }
                    return .some(element)
                }
                if state.finished { return .some(nil) }
                state.waiters.append(continuation)
                return nil
            }
            if let element { continuation.resume(returning: element) }
        }
    }

    /// No more slots: waiting workers get `nil`.
    func finish() {
        let waiters = state.withLock { state in
            state.finished = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }
}

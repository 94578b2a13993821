import Synchronization

/// The address a server really bound (the chosen port when asked for port 0), known once it listens.
package final class BoundAddress: Sendable {
    private enum State {
        case waiting([CheckedContinuation<ListenAddress, any Error>])
        case bound(ListenAddress)
        case failed(any Error)
    }

    private let state = Mutex(State.waiting([]))

    package init() {}

    /// Waits until the server is listening and returns its address; throws if it failed to start.
    package func value() async throws -> ListenAddress {
        try await withCheckedThrowingContinuation { continuation in
            let result: Result<ListenAddress, any Error>? = state.withLock { state in
                switch state {
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return nil
                case .bound(let address): return .success(address)
                case .failed(let error): return .failure(error)
                }
            }
            if let result { continuation.resume(with: result) }
        }
    }

    package func resolve(_ result: Result<ListenAddress, any Error>) {
        let waiters: [CheckedContinuation<ListenAddress, any Error>] = state.withLock { state in
            guard case .waiting(let waiters) = state else { return [] }
            switch result {
            case .success(let address): state = .bound(address)
            case .failure(let error): state = .failed(error)
            }
            return waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }
}

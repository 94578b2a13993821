import Synchronization

/// A `HOST:PORT` to listen on. Port 0 asks the system for a free port.
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// Creates an address; no check is made here (see ``init(parsing:)``).
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (loopback).
    ///
    /// - Throws: ``ListenAddressError`` saying what is wrong and what is expected.
    public init(parsing text: String) throws(ListenAddressError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ListenAddressError(message: "'\(text)' is not HOST:PORT: an IPv6 host is written [::1]:4317")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw ListenAddressError(message: "'\(text)' is not HOST:PORT (for example 127.0.0.1:4317, or 127.0.0.1:0 for any free port)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ListenAddressError(message: "'\(text)': port '\(portText)' must be a number from 0 to 65535 (0 picks a free port)")
        }
        self.init(host: host.isEmpty ? "127.0.0.1" : String(host), port: port)
    }

    /// Whether the host is a loopback address (the default; anything else is an explicit choice).
    public var isLoopback: Bool { host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127.") }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A listen address that could not be parsed.
public struct ListenAddressError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The address a server really bound (the chosen port when asked for port 0), known once it listens.
public final class BoundAddress: Sendable {
    private enum State {
        case waiting([CheckedContinuation<ListenAddress, any Error>])
        case bound(ListenAddress)
        case failed(any Error)
    }

    private let state = Mutex(State.waiting([]))

    public init() {}

    /// Waits until the server is listening and returns its address; throws if it failed to start.
    public func value() async throws -> ListenAddress {
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

    func resolve(_ result: Result<ListenAddress, any Error>) {
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

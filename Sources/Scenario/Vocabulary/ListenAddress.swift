import Synchronization

/// A `HOST:PORT` to listen on. Port 0 asks the system for a free port.
package struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    package var host: String
    package var port: Int

    /// Creates an address; no check is made here (see ``init(parsing:)``).
    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (loopback).
    ///
    /// - Throws: ``ListenAddressError`` saying what is wrong and what is expected.
    package init(parsing text: String) throws(ListenAddressError) {
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
    package var isLoopback: Bool { host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127.") }

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A listen address that could not be parsed.
package struct ListenAddressError: Error, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}

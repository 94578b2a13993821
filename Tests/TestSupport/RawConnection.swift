import Foundation

/// A plain TCP connection to a loopback port, driven byte by byte: for clients that real libraries refuse to be
/// (idle, slow-header and slow-body clients, connections that never speak).
package final class RawConnection {
    private let descriptor: Int32
    /// Bytes read past the end of the last response ``readResponse(timeout:)`` returned: the next one's.
    private var pending: [UInt8] = []

    /// Connects to 127.0.0.1:`port`.
    package init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw SocketFailure("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let failure = errno
            close(descriptor)
            throw SocketFailure("connect() to 127.0.0.1:\(port) failed: errno \(failure)")
        }
    }

    deinit { close(descriptor) }

    /// Sends `text` (all of it, or throws when the peer has closed).
    package func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let result = bytes[sent...].withUnsafeBytes { Foundation.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard result > 0 else { throw SocketFailure("send() failed: errno \(errno)") }
            sent += result
        }
    }

    /// What the peer sent until it closed the connection, or until `timeout` passed with the connection open.
    package struct Received: Sendable {
        /// Everything read.
        package var bytes: [UInt8]
        /// Whether the peer closed (end of stream or reset) within the timeout.
        package var closed: Bool
        package var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    /// Reads until the peer closes or `timeout` passes (blocking this thread, in steps of at most 100 ms).
    package func readUntilClosed(timeout: Duration) -> Received {
        let deadline = ContinuousClock.now + timeout
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return Received(bytes: received, closed: true) }
            received += buffer[..<count]
        }
        return Received(bytes: received, closed: false)
    }

    /// Reads until at least `count` bytes have arrived, the peer closes, or `timeout` passes.
    package func read(atLeast count: Int, timeout: Duration) -> Received {
        let deadline = ContinuousClock.now + timeout
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while ContinuousClock.now < deadline, received.count < count {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let read = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if read <= 0 { return Received(bytes: received, closed: true) }
            received += buffer[..<read]
        }
        return Received(bytes: received, closed: false)
    }

    /// Reads one HTTP/1.1 response whose body has a `Content-Length` (waiting at most `timeout`); what arrived after
    /// it is kept for the next call (pipelined responses).
    package func readResponse(timeout: Duration) -> Received {
        let deadline = ContinuousClock.now + timeout
        var received = pending
        pending = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while ContinuousClock.now < deadline {
            if let complete = Self.completeResponse(received) {
                pending = Array(received[complete...])
                return Received(bytes: Array(received[..<complete]), closed: false)
            }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return Received(bytes: received, closed: true) }
            received += buffer[..<count]
        }
        return Received(bytes: received, closed: false)
    }

    private static func completeResponse(_ bytes: [UInt8]) -> Int? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n") else { return nil }
        let head = text[..<headEnd.lowerBound].lowercased()
        let length =
            head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        let total = text[..<headEnd.upperBound].utf8.count + length
        return bytes.count >= total ? total : nil
    }
}

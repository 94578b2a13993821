import Foundation
import NIOCore

/// Reads one HTTP/1.1 response at a time from the bytes a connection receives, in whatever pieces they arrive
/// (RFC 9112): the status code, whether the server will close the connection, and where the message ends
/// (`Content-Length`, `chunked`, or the close itself). Bodies are counted and skipped, never kept: the driver
/// needs the status and the time, and a body of any size costs nothing.
///
/// ```swift
/// var parser = HTTP1ResponseParser()
/// parser.expectResponse(toHead: false)
/// if case .complete(let status, let closes) = try parser.parse(&buffer) { … }
/// ```
struct HTTP1ResponseParser {
    /// What the bytes so far came to.
    enum Progress: Equatable {
        /// The response is not complete yet.
        case needMore
        /// The response ended; `closes`: the server will close the connection (or already has).
        case complete(status: Int, closes: Bool)
    }

    /// A response the parser cannot read; the connection must be closed.
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    /// The status line and header section may not exceed this (nginx's and Node's defaults are 8–80 KiB).
    static let maximumHeaderBytes = 64 * 1024

    private enum State {
        case statusLine
        case headers
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case done
    }

    private var state = State.done
    private var respondsToHead = false
    private var status = 0
    private var httpMinorVersion = 1
    private var contentLength: Int?
    private var chunked = false
    private var connectionClose = false
    private var connectionKeepAlive = false
    private var headerBytes = 0
    /// A line that arrived in pieces (only lines are kept; body bytes are skipped).
    private var partialLine: [UInt8] = []

    init() {}

    /// Starts reading the response to the request just sent; a response to `HEAD` has no body.
    mutating func expectResponse(toHead: Bool) {
        state = .statusLine
        respondsToHead = toHead
        partialLine.removeAll(keepingCapacity: true)
        headerBytes = 0
        resetHead()
    }

    /// Whether the response runs until the server closes (no length given): the close completes it.
    var endsAtClose: Bool {
        if case .untilClose = state { return true }
        return false
    }

    /// The status of a response that ends at the close (call when the connection closed and `endsAtClose`).
    var statusAtClose: Int { status }

    /// Consumes what `buffer` holds of the response; bytes after the end of the response stay in `buffer`.
    ///
    /// - Throws: ``Malformed`` naming what is wrong with the response (nothing else).
    mutating func parse(_ buffer: inout ByteBuffer) throws -> Progress {
        while buffer.readableBytes > 0 {
            switch state {
            case .done:
                return .complete(status: status, closes: closes)
            case .body(let remaining):
                let skipped = min(remaining, buffer.readableBytes)
                buffer.moveReaderIndex(forwardBy: skipped)
                if skipped == remaining {
                    state = .done
                    return .complete(status: status, closes: closes)
                }
                state = .body(remaining: remaining - skipped)
            case .chunkData(let remaining):
                let skipped = min(remaining, buffer.readableBytes)
                buffer.moveReaderIndex(forwardBy: skipped)
                state = skipped == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - skipped)
            case .untilClose:
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            case .statusLine, .headers, .chunkSize, .chunkDataEnd, .trailers:
                let consumed = try buffer.withUnsafeReadableBytes { bytes -> Int in
                    guard let base = bytes.baseAddress, let found = memchr(base, Int32(UInt8(ascii: "\n")), bytes.count) else {
                        try keepPartial(bytes)
                        return bytes.count
                    }
                    let newline = base.distance(to: UnsafeRawPointer(found))
                    let line = UnsafeRawBufferPointer(rebasing: bytes[..<newline])
                    if partialLine.isEmpty {
                        try takeLine(line)
                    } else {
                        try keepPartial(line)
                        let whole = partialLine
                        partialLine.removeAll(keepingCapacity: true)
                        try whole.withUnsafeBytes { try takeLine($0) }
                    }
                    return newline + 1
                }
                buffer.moveReaderIndex(forwardBy: consumed)
                if case .done = state { return .complete(status: status, closes: closes) }
            }
        }
        if case .done = state { return .complete(status: status, closes: closes) }
        return .needMore
    }

    private var closes: Bool {
        connectionClose || (httpMinorVersion == 0 && !connectionKeepAlive)
    }

    private mutating func resetHead() {
        status = 0
        httpMinorVersion = 1
        contentLength = nil
        chunked = false
        connectionClose = false
        connectionKeepAlive = false
    }

    private mutating func keepPartial(_ bytes: UnsafeRawBufferPointer) throws {
        if partialLine.count + bytes.count > Self.maximumHeaderBytes { throw Malformed(description: "a response line longer than 64 KiB") }
        partialLine.append(contentsOf: bytes)
    }

    /// One line without its `\n` (a trailing `\r` is dropped here).
    private mutating func takeLine(_ raw: UnsafeRawBufferPointer) throws {
        let line = raw.last == UInt8(ascii: "\r") ? UnsafeRawBufferPointer(rebasing: raw.dropLast()) : raw
        switch state {
        case .statusLine:
            try readStatusLine(line)
        case .headers:
            headerBytes += raw.count + 1
            if headerBytes > Self.maximumHeaderBytes { throw Malformed(description: "a response header section over 64 KiB") }
            if line.isEmpty {
                try endOfHeaders()
            } else {
                try readHeader(line)
            }
        case .chunkSize:
            state = try readChunkSize(line)
        case .chunkDataEnd:
            guard line.isEmpty else { throw Malformed(description: "a chunk not followed by CRLF") }
            state = .chunkSize
        case .trailers:
            if line.isEmpty { state = .done }
        case .body, .chunkData, .untilClose, .done:
            break
        }
    }

    /// `HTTP/1.x SP 3DIGIT SP [reason]`.
    private mutating func readStatusLine(_ line: UnsafeRawBufferPointer) throws {
        let prefix: StaticString = "HTTP/1."
        guard line.count >= 12, line.prefix(7).elementsEqual(UnsafeRawBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)),
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[7]),
            line[8] == UInt8(ascii: " "), line.count == 12 || line[12] == UInt8(ascii: " ")
        else {
            throw Malformed(description: "not an HTTP/1.x status line: \(Self.printable(line))")
        }
        var code = 0
        for byte in line[9..<12] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                throw Malformed(description: "a status code that is not three digits: \(Self.printable(line))")
            }
            code = code * 10 + Int(byte - UInt8(ascii: "0"))
        }
        guard code >= 100 else { throw Malformed(description: "status code \(code) is below 100") }
        resetHead()
        status = code
        httpMinorVersion = Int(line[7] - UInt8(ascii: "0"))
        headerBytes += line.count
        state = .headers
    }

    private mutating func readHeader(_ line: UnsafeRawBufferPointer) throws {
        guard line[0] != UInt8(ascii: " "), line[0] != UInt8(ascii: "\t") else {
            throw Malformed(description: "a folded header line (obsolete line folding is not allowed in responses)")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
            throw Malformed(description: "a header line without a name and a colon: \(Self.printable(line))")
        }
        let name = UnsafeRawBufferPointer(rebasing: line[..<colon])
        let value = Self.trimmed(UnsafeRawBufferPointer(rebasing: line[(colon + 1)...]))
        if Self.equalsIgnoringCase(name, "content-length") {
            var length = 0
            guard !value.isEmpty else { throw Malformed(description: "an empty Content-Length") }
            for byte in value {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte), length < (1 << 50) else {
                    throw Malformed(description: "Content-Length \(Self.printable(value)) is not a length")
                }
                length = length * 10 + Int(byte - UInt8(ascii: "0"))
            }
            if let earlier = contentLength, earlier != length {
                throw Malformed(description: "two different Content-Length values (\(earlier) and \(length))")
            }
            contentLength = length
        } else if Self.equalsIgnoringCase(name, "transfer-encoding") {
            // The final coding decides: chunked, or the body runs until the close.
            var last: UnsafeRawBufferPointer?
            Self.forEachToken(value) { last = $0 }
            chunked = last.map { Self.equalsIgnoringCase($0, "chunked") } ?? false
            if last != nil && !chunked { connectionClose = true }
        } else if Self.equalsIgnoringCase(name, "connection") {
            Self.forEachToken(value) { token in
                if Self.equalsIgnoringCase(token, "close") { connectionClose = true }
                if Self.equalsIgnoringCase(token, "keep-alive") { connectionKeepAlive = true }
            }
        }
    }

    private mutating func endOfHeaders() throws {
        if (100..<200).contains(status) && status != 101 {
            // An interim response (100 Continue, 103 Early Hints): the final one follows.
            state = .statusLine
            return
        }
        if status == 101 {
            // Switching protocols: the connection is no longer HTTP/1.1 for this driver.
            connectionClose = true
            state = .done
        } else if respondsToHead || status == 204 || status == 304 {
            state = .done
        } else if chunked {
            state = .chunkSize
        } else if let contentLength {
            state = contentLength == 0 ? .done : .body(remaining: contentLength)
        } else {
            connectionClose = true
            state = .untilClose
        }
    }

    /// `1*HEXDIG [; extensions]`.
    private func readChunkSize(_ line: UnsafeRawBufferPointer) throws -> State {
        var size = 0
        var digits = 0
        for byte in line {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A")) + 10
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                guard digits > 0 else { throw Malformed(description: "a chunk size line without a size: \(Self.printable(line))") }
                return size == 0 ? .trailers : .chunkData(remaining: size)
            default:
                throw Malformed(description: "a chunk size that is not hexadecimal: \(Self.printable(line))")
            }
            guard size < (1 << 50) else { throw Malformed(description: "a chunk size over 2^50 bytes") }
            size = size * 16 + value
            digits += 1
        }
        guard digits > 0 else { throw Malformed(description: "an empty chunk size line") }
        return size == 0 ? .trailers : .chunkData(remaining: size)
    }

    private static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") { start += 1 }
        while end > start, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// Calls `body` with each comma-separated token of `value`, trimmed, skipping empty ones (this runs for every
    /// response, so it allocates nothing).
    private static func forEachToken(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = value.startIndex
        while start < value.endIndex {
            var end = start
            while end < value.endIndex, value[end] != UInt8(ascii: ",") { end += 1 }
            let token = trimmed(UnsafeRawBufferPointer(rebasing: value[start..<end]))
            if !token.isEmpty { body(token) }
            start = end + 1
        }
    }

    /// ASCII case-insensitive comparison with a lower-case literal.
    private static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = UnsafeRawBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        for index in 0..<bytes.count {
            var byte = bytes[index]
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte |= 0x20 }
            if byte != expected[index] { return false }
        }
        return true
    }

    private static func printable(_ bytes: UnsafeRawBufferPointer) -> String {
        let shown = bytes.prefix(80).map { (0x20..<0x7f).contains($0) ? Character(Unicode.Scalar($0)) : "?" }
        return "\"" + String(shown) + (bytes.count > 80 ? "…" : "") + "\""
    }
}

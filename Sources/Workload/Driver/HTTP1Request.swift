import Foundation
import NIOCore

/// Where one service's requests go: scheme, host, port and a path prefix, from the base URL the run was given
/// (`http://127.0.0.1:8080`, `https://staging.example.com/api`).
struct TargetOrigin: Sendable, Hashable {
    var secure: Bool
    /// The host to connect to (an IPv6 literal without brackets).
    var host: String
    var port: Int
    /// The `Host` header: the URL's authority as written (`[::1]:8080`; no port when the URL had none).
    var authority: String
    /// Prepended to every request's path (no trailing slash).
    var pathPrefix: String

    /// Reads `http[s]://host[:port][/prefix]`; nil when the URL is not one.
    init?(baseURL: String) {
        guard let components = URLComponents(string: baseURL), let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            var host = components.host, !host.isEmpty, components.query == nil, components.fragment == nil
        else { return nil }
        secure = scheme == "https"
        let bracketed = host.hasPrefix("[")
        if bracketed { host = String(host.dropFirst().dropLast()) }
        self.host = host
        port = components.port ?? (secure ? 443 : 80)
        let shownHost = bracketed || host.contains(":") ? "[\(host)]" : host
        authority = components.port.map { "\(shownHost):\($0)" } ?? shownHost
        var prefix = components.percentEncodedPath
        while prefix.hasSuffix("/") { prefix.removeLast() }
        pathPrefix = prefix
    }

    /// Whether `host` is an IP address (no server name to send in TLS).
    var hostIsAddress: Bool {
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        return inet_pton(AF_INET, host, &ipv4) == 1 || inet_pton(AF_INET6, host, &ipv6) == 1
    }
}

/// The bytes of one HTTP/1.1 request the driver sends, written straight into a buffer: request line, `Host`,
/// the template's headers, the trace context headers (which replace any of the template's of the same name; a
/// name may repeat, and its spelling is sent as given — the W3C suite's multiple-header and casing cases),
/// `Content-Type`/`Content-Length` for a body.
enum HTTP1Request {
    /// Appends the request for `slot` to `origin` to `buffer` (a connection reuses one buffer for all its requests).
    static func encode(_ slot: Slot, to origin: TargetOrigin, into buffer: inout ByteBuffer) {
        let prepared = slot.request
        let template = prepared.template
        let trace = slot.trace
        let body = template.body.map { prepared.bodyHasPlaceholders ? Placeholders.render($0, index: slot.index, traceID: trace.traceID) : $0 }
        buffer.reserveCapacity(minimumWritableBytes: 256 + prepared.headerLines.readableBytes + template.path.utf8.count + (body?.utf8.count ?? 0))
        buffer.writeImmutableBuffer(prepared.methodAndSpace)
        if !origin.pathPrefix.isEmpty { writeTarget(origin.pathPrefix, into: &buffer) }
        if let target = prepared.fixedTarget {
            buffer.writeImmutableBuffer(target)
        } else {
            let path = Placeholders.render(template.path, index: slot.index, traceID: trace.traceID)
            if !path.hasPrefix("/") { buffer.writeInteger(UInt8(ascii: "/")) }
            writeTarget(path, into: &buffer)
        }
        buffer.writeStaticString(" HTTP/1.1\r\n")
        // A W3C suite case brings its own headers; the usual context is written field by field (this runs per
        // request, and building its header strings cost more than writing them).
        let caseHeaders = trace.propagated && trace.invalid != nil ? trace.headers : nil
        let written: (hasHost: Bool, hasContentType: Bool)
        if caseHeaders == nil && prepared.fitsHeaderLines(trace) {
            buffer.writeImmutableBuffer(prepared.headerLines)
            written = (prepared.hasHost, prepared.hasContentType)
        } else {
            written = writeTemplateHeaders(template.headers, into: &buffer) { isTraceHeader($0, of: trace, caseHeaders: caseHeaders) }
        }
        if !written.hasHost { writeHeader("Host", origin.authority, into: &buffer) }
        if let caseHeaders {
            for (name, value) in caseHeaders { writeHeader(name, value, into: &buffer) }
        } else if trace.propagated {
            buffer.writeStaticString("traceparent: 00-")
            writeValue(trace.traceID, into: &buffer)
            buffer.writeInteger(UInt8(ascii: "-"))
            writeValue(trace.spanID, into: &buffer)
            buffer.writeStaticString(trace.sampled ? "-01\r\n" : "-00\r\n")
            if let tracestate = trace.tracestate { writeHeader("tracestate", tracestate, into: &buffer) }
        }
        if let body {
            if !written.hasContentType { buffer.writeStaticString("Content-Type: application/json\r\n") }
            buffer.writeStaticString("Content-Length: ")
            buffer.writeString(String(body.utf8.count))
            buffer.writeStaticString("\r\n\r\n")
            buffer.writeString(body)
        } else {
            buffer.writeStaticString("\r\n")
        }
    }

    /// Writes the template's header lines but those `skipped` names (the trace context's, which replace them) and
    /// the framing headers the driver writes itself; returns whether `Host` and `Content-Type` were among them.
    static func writeTemplateHeaders(
        _ headers: [(String, String)],
        into buffer: inout ByteBuffer,
        skipping skipped: (String) -> Bool
    ) -> (hasHost: Bool, hasContentType: Bool) {
        var hasHost = false
        var hasContentType = false
        for (name, value) in headers {
            if skipped(name) { continue }
            if equalsIgnoringASCIICase(name, "content-length") || equalsIgnoringASCIICase(name, "transfer-encoding") { continue }
            if equalsIgnoringASCIICase(name, "host") { hasHost = true }
            if equalsIgnoringASCIICase(name, "content-type") { hasContentType = true }
            writeHeader(name, value, into: &buffer)
        }
        return (hasHost, hasContentType)
    }

    /// Whether a template header `name` is one the trace context sends (and so replaces), compared as HTTP
    /// compares field names: ASCII letters in any case.
    private static func isTraceHeader(_ name: String, of trace: SentTraceContext, caseHeaders: [(String, String)]?) -> Bool {
        if let caseHeaders { return caseHeaders.contains { equalsIgnoringASCIICase($0.0, name) } }
        return isReplacedByContext(name, propagates: trace.propagated, sendsTracestate: trace.tracestate != nil)
    }

    /// Whether the usual trace context replaces a template header `name`: `traceparent` when it propagates, and
    /// `tracestate` when it also sends one.
    static func isReplacedByContext(_ name: String, propagates: Bool, sendsTracestate: Bool) -> Bool {
        guard propagates else { return false }
        return equalsIgnoringASCIICase(name, "traceparent") || (sendsTracestate && equalsIgnoringASCIICase(name, "tracestate"))
    }

    /// Whether two field names are equal with ASCII letters compared in any case (RFC 9110 §5.1).
    static func equalsIgnoringASCIICase(_ lhs: String, _ rhs: String) -> Bool {
        let (left, right) = (lhs.utf8, rhs.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).allSatisfy { pair in
            let (a, b) = pair
            if a == b { return true }
            let lower = a | 0x20
            return lower == b | 0x20 && lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z")
        }
    }

    /// A header line; bytes that would end the line or the header section (CR, LF, NUL) are sent as spaces, so
    /// a template can never smuggle a second request.
    private static func writeHeader(_ name: String, _ value: String, into buffer: inout ByteBuffer) {
        writeToken(name, into: &buffer)
        buffer.writeStaticString(": ")
        writeValue(value, into: &buffer)
        buffer.writeStaticString("\r\n")
    }

    /// A header value, or part of one: CR, LF and NUL are sent as spaces.
    private static func writeValue(_ value: String, into buffer: inout ByteBuffer) {
        if value.utf8.contains(where: { $0 == 0x0d || $0 == 0x0a || $0 == 0 }) {
            for byte in value.utf8 { buffer.writeInteger(byte == 0x0d || byte == 0x0a || byte == 0 ? UInt8(ascii: " ") : byte) }
        } else {
            buffer.writeString(value)
        }
    }

    /// A method or header name: anything but a token character (RFC 9110 §5.6.2) is sent as `_`.
    static func writeToken(_ token: String, into buffer: inout ByteBuffer) {
        if token.utf8.allSatisfy(isTokenCharacter) {
            buffer.writeString(token)
        } else {
            for byte in token.utf8 { buffer.writeInteger(isTokenCharacter(byte) ? byte : UInt8(ascii: "_")) }
        }
    }

    /// The request target: bytes a request line cannot carry (controls, space, non-ASCII) percent-encoded.
    static func writeTarget(_ target: String, into buffer: inout ByteBuffer) {
        guard target.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7f }) else {
            buffer.writeString(target)
            return
        }
        let hex: StaticString = "0123456789ABCDEF"
        for byte in target.utf8 {
            if byte > 0x20 && byte < 0x7f {
                buffer.writeInteger(byte)
            } else {
                buffer.writeInteger(UInt8(ascii: "%"))
                buffer.writeInteger(hex.utf8Start[Int(byte >> 4)])
                buffer.writeInteger(hex.utf8Start[Int(byte & 0x0f)])
            }
        }
    }

    /// Whether `method` is HEAD (whose answer has no body), in any case.
    static func isHead(_ method: String) -> Bool {
        let utf8 = method.utf8
        return utf8.count == 4 && zip(utf8, "HEAD".utf8).allSatisfy { $0 & 0xdf == $1 }
    }

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"),
            UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"),
            UInt8(ascii: "~"):
            true
        default: false
        }
    }
}

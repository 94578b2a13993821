/// A W3C / OpenTelemetry trace id: 16 bytes, shown as 32 lower-case hex digits.
package struct TraceID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The first 8 bytes, big-endian (Jaeger's `traceIdHigh`).
    package var high: UInt64
    /// The last 8 bytes, big-endian (Jaeger's `traceIdLow`).
    package var low: UInt64

    /// Creates a trace id from its two big-endian halves.
    package init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Creates a trace id from exactly 16 bytes; `nil` for any other length.
    package init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    /// Parses 32 hex digits (either case); `nil` for anything else.
    package init?(hex: some StringProtocol) {
        guard hex.utf8.count == 32, let bytes = HexCoding.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// Whether every byte is zero: W3C and OTLP call that id invalid.
    package var isZero: Bool { high == 0 && low == 0 }

    /// The 16 bytes, big-endian.
    package var bytes: [UInt8] { HexCoding.bigEndianBytes(high) + HexCoding.bigEndianBytes(low) }

    /// 32 lower-case hex digits.
    package var hex: String { HexCoding.encode(bytes) }

    package var description: String { hex }

    package static func < (lhs: TraceID, rhs: TraceID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

/// A W3C / OpenTelemetry span id: 8 bytes, shown as 16 lower-case hex digits.
package struct SpanID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 8 bytes as a big-endian integer.
    package var value: UInt64

    /// Creates a span id from its big-endian integer value.
    package init(value: UInt64) { self.value = value }

    /// Creates a span id from exactly 8 bytes; `nil` for any other length.
    package init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 8 else { return nil }
        self.value = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Parses 16 hex digits (either case); `nil` for anything else.
    package init?(hex: some StringProtocol) {
        guard hex.utf8.count == 16, let bytes = HexCoding.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// Whether every byte is zero: W3C and OTLP call that id invalid.
    package var isZero: Bool { value == 0 }

    /// The 8 bytes, big-endian.
    package var bytes: [UInt8] { HexCoding.bigEndianBytes(value) }

    /// 16 lower-case hex digits.
    package var hex: String { HexCoding.encode(bytes) }

    package var description: String { hex }

    package static func < (lhs: SpanID, rhs: SpanID) -> Bool { lhs.value < rhs.value }
}

/// Hex encoding and decoding of byte strings, as OTLP/JSON and W3C Trace Context write ids.
package enum HexCoding {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lower-case hex of `bytes`.
    package static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Bytes of an even-length hex string (either case); `nil` when a character is not hex or the length is odd.
    package static func decode(_ hex: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    static func bigEndianBytes(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

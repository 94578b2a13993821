/// A `traceparent` header value parsed as W3C Trace Context Level 2 says, including future versions.
///
/// The rules (Trace Context Level 2, "traceparent Header Field Values" and "Versioning of traceparent"):
/// - Optional whitespace (spaces, tabs) around the field value is not part of it (RFC 9110 field values).
/// - `version` is two lowercase hex digits followed by `-`; `ff` is forbidden. Anything else restarts the trace.
/// - Version `00` is exactly `00-<32 hex trace-id>-<16 hex parent-id>-<2 hex trace-flags>` (55 characters).
/// - A higher version is parsed with the version-00 layout: at least 55 characters, and after the flags either the
///   end or a `-` (the unknown fields that follow are ignored, never interpreted).
/// - Hex is lowercase only; an all-zero trace-id or parent-id is invalid.
/// - Only the flags this version defines are kept: `sampled` (0x01) and `random` (0x02). The others are reserved,
///   and a vendor sets them to zero when it sends the header.
///
/// ```swift
/// let parent = W3CTraceParent(parsing: "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-future")
/// parent?.headerValue  // "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"
/// ```
package struct W3CTraceParent: Sendable, Hashable {
    /// The `sampled` flag: the caller may have recorded trace data.
    package static let sampledFlag: UInt8 = 0x01
    /// The Level 2 `random` flag: the right-most 7 bytes of the trace-id are random.
    package static let randomFlag: UInt8 = 0x02
    /// The flags this version defines; the others are sent as zero.
    package static let knownFlags: UInt8 = sampledFlag | randomFlag

    /// The version the header arrived with (a higher one is forwarded as `00`).
    package var version: UInt8
    /// The trace-id: 32 lowercase hex digits, not all zero.
    package var traceID: String
    /// The parent-id: 16 lowercase hex digits, not all zero.
    package var parentID: String
    /// The trace-flags, reduced to ``knownFlags``.
    package var flags: UInt8

    /// Creates a version-00 parent from its parts; `flags` is reduced to ``knownFlags``.
    package init(traceID: String, parentID: String, flags: UInt8) {
        self.version = 0
        self.traceID = traceID
        self.parentID = parentID
        self.flags = flags & Self.knownFlags
    }

    /// Parses `header`; nil when the trace must be restarted.
    package init?(parsing header: String) {
        let bytes = Array(Self.trimmingOptionalWhitespace(Array(header.utf8)))
        // The version prefix: two lowercase hex digits and a dash.
        guard bytes.count >= 3, let version = Self.hexByte(bytes[0], bytes[1]), bytes[2] == Self.dash, version != 0xff else { return nil }
        guard bytes.count >= 55 else { return nil }
        if version == 0 {
            guard bytes.count == 55 else { return nil }
        } else if bytes.count > 55 {
            guard bytes[55] == Self.dash else { return nil }
        }
        guard bytes[35] == Self.dash, bytes[52] == Self.dash else { return nil }
        let traceID = bytes[3..<35]
        let parentID = bytes[36..<52]
        guard traceID.allSatisfy(Self.isLowercaseHex), parentID.allSatisfy(Self.isLowercaseHex) else { return nil }
        guard traceID.contains(where: { $0 != Self.zero }), parentID.contains(where: { $0 != Self.zero }) else { return nil }
        guard let flags = Self.hexByte(bytes[53], bytes[54]) else { return nil }
        self.version = version
        self.traceID = String(decoding: traceID, as: UTF8.self)
        self.parentID = String(decoding: parentID, as: UTF8.self)
        self.flags = flags & Self.knownFlags
    }

    /// Whether the `sampled` flag is set.
    package var isSampled: Bool { flags & Self.sampledFlag != 0 }
    /// Whether the `random` flag is set.
    package var isRandom: Bool { flags & Self.randomFlag != 0 }

    /// The header as this implementation sends it: version `00`, reserved flags zero.
    package var headerValue: String {
        let hex = String(flags & Self.knownFlags, radix: 16)
        return "00-\(traceID)-\(parentID)-\(hex.count == 1 ? "0" + hex : hex)"
    }

    static let dash = UInt8(ascii: "-")
    static let zero = UInt8(ascii: "0")

    static func isLowercaseHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    static func hexByte(_ high: UInt8, _ low: UInt8) -> UInt8? {
        guard let high = hexValue(high), let low = hexValue(low) else { return nil }
        return high << 4 | low
    }

    static func isOptionalWhitespace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    static func trimmingOptionalWhitespace(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        var slice = bytes[...]
        while let first = slice.first, isOptionalWhitespace(first) { slice.removeFirst() }
        while let last = slice.last, isOptionalWhitespace(last) { slice.removeLast() }
        return slice
    }
}

/// A `tracestate` list that passed validation as W3C Trace Context Level 2 defines it.
///
/// The rules ("tracestate Header Field Values", "list", "Key", "Value", "Combined Header Value"):
/// - Several `tracestate` fields are one list, combined in order with commas (RFC 9110 field order).
/// - List members are separated by `,`; spaces and tabs around a member are optional whitespace and removed.
///   Empty and whitespace-only members are allowed and dropped (they are what combining empty fields produces, so
///   they do not count towards the limit).
/// - A member is `key=value`. `key = (lcalpha / DIGIT) 0*255 keychar`, `keychar = lcalpha / DIGIT / _ - * / @`
///   (the current grammar: `@` is an ordinary key character, no tenant/system split, at most 256 characters).
/// - `value = 0*255(chr) nblk-chr`: 1 to 256 printable ASCII characters (0x20–0x7E) except `,` and `=`, not ending
///   in a space; leading spaces are part of the value and kept.
/// - Only one entry per key; at most 32 members.
///
/// A list that breaks any rule is rejected as a whole: the vendor MAY discard the entire `tracestate` it cannot
/// parse, and must not let that affect the `traceparent`. We keep every valid list whole (no truncation: we have
/// no size limit below the spec's 32 × 513 characters, so the 512-character propagation floor always holds).
package struct W3CTraceState: Sendable, Hashable {
    /// One `key=value` member.
    package struct Member: Sendable, Hashable {
        /// The vendor key.
        package var key: String
        /// The opaque value.
        package var value: String

        /// Creates a member (not validated: see ``W3CTraceState/init(combining:)``).
        package init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// The most list members a `tracestate` may hold.
    package static let maximumMembers = 32
    /// The longest key.
    package static let maximumKeyLength = 256
    /// The longest value.
    package static let maximumValueLength = 256

    /// The members, in order.
    package var members: [Member]

    /// A list of already valid `members`.
    package init(members: [Member] = []) { self.members = members }

    /// Combines the `tracestate` fields of a request, in order, and validates the list.
    ///
    /// No fields, or only empty members, give an empty list.
    package init(combining fields: [String]) throws(TraceStateRejection) {
        var members: [Member] = []
        var keys: Set<String> = []
        for field in fields {
            for rawMember in field.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                let member = W3CTraceParent.trimmingOptionalWhitespace(Array(rawMember))
                if member.isEmpty { continue }
                let text = String(decoding: member, as: UTF8.self)
                guard let equals = member.firstIndex(of: UInt8(ascii: "=")) else {
                    throw TraceStateRejection("list member \"\(text)\" has no \"=\"")
                }
                let key = member[member.startIndex..<equals]
                let value = member[member.index(after: equals)...]
                guard Self.isValidKey(key) else { throw TraceStateRejection("key of \"\(text)\" is not (lcalpha / DIGIT) 0*255 keychar") }
                guard Self.isValidValue(value) else {
                    throw TraceStateRejection("value of \"\(text)\" is not 1–256 printable ASCII characters without \",\" or \"=\"")
                }
                let parsed = Member(key: String(decoding: key, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
                guard keys.insert(parsed.key).inserted else { throw TraceStateRejection("key \"\(parsed.key)\" appears twice") }
                members.append(parsed)
            }
        }
        guard members.count <= Self.maximumMembers else {
            throw TraceStateRejection("\(members.count) list members (at most \(Self.maximumMembers))")
        }
        self.members = members
    }

    /// The list as one header value (`key=value` joined by `,`), nil when empty (vendors should not send an empty
    /// `tracestate`).
    package var headerValue: String? {
        members.isEmpty ? nil : members.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    static func isValidKey(_ key: ArraySlice<UInt8>) -> Bool {
        guard let first = key.first, key.count <= maximumKeyLength, isLowercaseAlpha(first) || isDigit(first) else { return false }
        return key.dropFirst().allSatisfy { byte in
            isLowercaseAlpha(byte) || isDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "*")
                || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "@")
        }
    }

    static func isValidValue(_ value: ArraySlice<UInt8>) -> Bool {
        guard let last = value.last, value.count <= maximumValueLength, last != UInt8(ascii: " ") else { return false }
        return value.allSatisfy { byte in
            (0x20...0x7E).contains(byte) && byte != UInt8(ascii: ",") && byte != UInt8(ascii: "=")
        }
    }

    static func isLowercaseAlpha(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) }
    static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}

/// Why a `tracestate` list was discarded.
package struct TraceStateRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong with the list.
    package var message: String

    init(_ message: String) { self.message = message }

    package var description: String { "tracestate discarded: \(message)" }
}

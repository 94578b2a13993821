/// The W3C Trace Context test suite's cases (w3c/trace-context `test/test.py`, strict level 2), as headers the
/// driver sends instead of a plain context (`trace: {w3c: NAME}`; `invalid:` is the older spelling), each with
/// what a correct service does: continue the trace (with which `tracestate`), continue it but drop only the
/// `tracestate`, or start a fresh one. The propagation rule judges each from the spans the services export.
///
/// Where the suite's strict key cases still use the old tenant/system key grammar, the expectation follows the
/// current spec text (`key = (lcalpha / DIGIT) 0*255 keychar`, `@` a key character).
package enum TraceContextCase: String, Sendable, CaseIterable, Hashable, Codable {
    // A traceparent that is invalid, misnamed, duplicated or missing: the service starts a fresh trace.
    case versionFF = "version-ff"
    case shortVersion = "short-version"
    case longVersion = "long-version"
    case illegalVersion = "illegal-version"
    case uppercaseHex = "uppercase-hex"
    case zeroTraceID = "zero-trace-id"
    case zeroSpanID = "zero-span-id"
    case shortTraceID = "short-trace-id"
    case longTraceID = "long-trace-id"
    case shortSpanID = "short-span-id"
    case longSpanID = "long-span-id"
    case nonHex = "non-hex"
    case nonHexSpanID = "non-hex-span-id"
    case shortFlags = "short-flags"
    case longFlags = "long-flags"
    case illegalFlags = "illegal-flags"
    case badSeparator = "bad-separator"
    case extraFieldsVersion00 = "extra-fields-v00"
    case version00Trailer = "version-00-trailer"
    case futureVersionBadTrailer = "future-version-bad-trailer"
    case empty
    case duplicateTraceparent = "duplicate-traceparent"
    case misspeltHeader = "misspelt-header"
    case tracestateWithoutTraceparent = "tracestate-without-traceparent"

    // Valid, if unusual: the service continues the trace.
    case headerNameCasing = "header-name-casing"
    case traceparentWhitespace = "traceparent-whitespace"
    case futureVersion = "future-version"
    case futureVersionTrailer = "future-version-trailer"
    case randomFlag = "random-flag"
    case unknownFlags = "unknown-flags"
    case tracestateHeaderNameCasing = "tracestate-header-name-casing"
    case tracestateEmptyThenMember = "tracestate-empty-then-member"
    case tracestateMultipleHeaders = "tracestate-multiple-headers"
    case tracestateWhitespace = "tracestate-whitespace"
    case tracestateAllAllowedCharacters = "tracestate-all-allowed-characters"
    case tracestate32Members = "tracestate-32-members"
    case tracestate256CharacterKey = "tracestate-256-char-key"
    case tracestateTenantKey = "tracestate-tenant-key"
    case tracestateAtSignKeys = "tracestate-at-sign-keys"

    // A valid traceparent with an invalid tracestate: the service continues the trace and drops the tracestate.
    case tracestate33Members = "tracestate-33-members"
    case tracestate257CharacterKey = "tracestate-257-char-key"
    case tracestateDuplicateKeys = "tracestate-duplicate-keys"
    case tracestateUppercaseKey = "tracestate-uppercase-key"
    case tracestateSpaceInKey = "tracestate-space-in-key"
    case tracestateValueWithEquals = "tracestate-value-with-equals"
    case tracestateEmptyValue = "tracestate-empty-value"

    /// What a correct service does with the case's headers.
    package enum Expectation: Sendable, Hashable {
        /// The traceparent is invalid or missing: a fresh trace, nothing of the sent one forwarded.
        case restart
        /// The trace continues (the first server span's parent is the driver's span) with exactly these
        /// `tracestate` list members (nil: none).
        case continues(tracestate: String?)
        /// The traceparent is valid, the tracestate is not: the trace continues, with no tracestate.
        case dropsTracestate
    }

    /// What a correct service does.
    package var expectation: Expectation {
        switch self {
        case .versionFF, .shortVersion, .longVersion, .illegalVersion, .uppercaseHex, .zeroTraceID, .zeroSpanID, .shortTraceID, .longTraceID,
            .shortSpanID, .longSpanID, .nonHex, .nonHexSpanID, .shortFlags, .longFlags, .illegalFlags, .badSeparator, .extraFieldsVersion00,
            .version00Trailer, .futureVersionBadTrailer, .empty, .duplicateTraceparent, .misspeltHeader, .tracestateWithoutTraceparent:
            .restart
        case .headerNameCasing, .traceparentWhitespace, .futureVersion, .futureVersionTrailer, .randomFlag, .unknownFlags:
            .continues(tracestate: nil)
        case .tracestateHeaderNameCasing, .tracestateEmptyThenMember: .continues(tracestate: "foo=1")
        case .tracestateMultipleHeaders: .continues(tracestate: "foo=1,bar=2,rojo=1,congo=2,baz=3")
        case .tracestateWhitespace: .continues(tracestate: "foo=1,bar=2,baz=3")
        case .tracestateAllAllowedCharacters: .continues(tracestate: Self.allKeyCharacters + "=" + Self.allValueCharacters)
        case .tracestate32Members: .continues(tracestate: Self.members(1...32))
        case .tracestate256CharacterKey: .continues(tracestate: "foo=1," + String(repeating: "z", count: 256) + "=1")
        case .tracestateTenantKey: .continues(tracestate: "foo=1," + String(repeating: "t", count: 242) + "@v=1")
        case .tracestateAtSignKeys: .continues(tracestate: "foo@@bar=1,bar=2")
        case .tracestate33Members, .tracestate257CharacterKey, .tracestateDuplicateKeys, .tracestateUppercaseKey, .tracestateSpaceInKey,
            .tracestateValueWithEquals, .tracestateEmptyValue:
            .dropsTracestate
        }
    }

    /// Whether a correct service starts a fresh trace.
    package var invalidatesTraceparent: Bool { expectation == .restart }

    /// The headers to send for this case, built around the driver's trace id and span id (in order; a name may
    /// repeat, as the suite's multiple-header cases need).
    package func headers(traceID: String, spanID: String) -> [(String, String)] {
        func parent(_ flags: String = "01", version: String = "00", trailer: String = "") -> String { "\(version)-\(traceID)-\(spanID)-\(flags)\(trailer)" }
        let valid = parent()
        func state(_ values: String...) -> [(String, String)] { [("traceparent", valid)] + values.map { ("tracestate", $0) } }
        switch self {
        case .versionFF: return [("traceparent", parent(version: "ff"))]
        case .shortVersion: return [("traceparent", parent(version: "0"))]
        case .longVersion: return [("traceparent", parent(version: "000"))]
        case .illegalVersion: return [("traceparent", parent(version: ".0"))]
        case .uppercaseHex: return [("traceparent", valid.uppercased())]
        case .zeroTraceID: return [("traceparent", "00-\(String(repeating: "0", count: 32))-\(spanID)-01")]
        case .zeroSpanID: return [("traceparent", "00-\(traceID)-\(String(repeating: "0", count: 16))-01")]
        case .shortTraceID: return [("traceparent", "00-\(traceID.dropLast(2))-\(spanID)-01")]
        case .longTraceID: return [("traceparent", "00-\(traceID)0-\(spanID)-01")]
        case .shortSpanID: return [("traceparent", "00-\(traceID)-\(spanID.dropLast(1))-01")]
        case .longSpanID: return [("traceparent", "00-\(traceID)-\(spanID)00-01")]
        case .nonHex: return [("traceparent", "00-\(traceID.dropLast(1))g-\(spanID)-01")]
        case .nonHexSpanID: return [("traceparent", "00-\(traceID)-\(spanID.dropLast(1)).-01")]
        case .shortFlags: return [("traceparent", parent("1"))]
        case .longFlags: return [("traceparent", parent("001"))]
        case .illegalFlags: return [("traceparent", parent(".1"))]
        case .badSeparator: return [("traceparent", "00_\(traceID)_\(spanID)_01")]
        case .extraFieldsVersion00: return [("traceparent", valid + "-extra")]
        case .version00Trailer: return [("traceparent", valid + ".")]
        case .futureVersionBadTrailer: return [("traceparent", parent(version: "cc", trailer: ".what-the-future-will-be-like"))]
        case .empty: return [("traceparent", "")]
        case .duplicateTraceparent:
            // Two traceparents, even one of them the driver's, are invalid together.
            return [("traceparent", "00-\(String(traceID.reversed()))-\(spanID)-01"), ("traceparent", valid)]
        case .misspeltHeader: return [("trace-parent", valid)]
        case .tracestateWithoutTraceparent: return [("tracestate", "foo=1")]
        case .headerNameCasing: return [("TrAcEpArEnT", valid)]
        case .traceparentWhitespace: return [("traceparent", "\t " + valid + " \t")]
        case .futureVersion: return [("traceparent", parent(version: "cc"))]
        case .futureVersionTrailer: return [("traceparent", parent(version: "cc", trailer: "-what-the-future-will-be-like"))]
        case .randomFlag: return [("traceparent", parent("03"))]
        case .unknownFlags: return [("traceparent", parent("ff"))]
        case .tracestateHeaderNameCasing: return [("traceparent", valid), ("TrAcEsTaTe", "foo=1")]
        case .tracestateEmptyThenMember: return state("", "foo=1")
        case .tracestateMultipleHeaders: return state("foo=1,bar=2", "rojo=1,congo=2", "baz=3")
        case .tracestateWhitespace: return state("foo=1 \t , \t bar=2, \t baz=3")
        case .tracestateAllAllowedCharacters: return state(Self.allKeyCharacters + "=" + Self.allValueCharacters)
        case .tracestate32Members: return state(Self.members(1...10), Self.members(11...20), Self.members(21...30), Self.members(31...32))
        case .tracestate256CharacterKey: return state("foo=1", String(repeating: "z", count: 256) + "=1")
        case .tracestateTenantKey: return state("foo=1", String(repeating: "t", count: 242) + "@v=1")
        case .tracestateAtSignKeys: return state("foo@@bar=1,bar=2")
        case .tracestate33Members: return state(Self.members(1...33))
        case .tracestate257CharacterKey: return state(String(repeating: "k", count: 257) + "=v")
        case .tracestateDuplicateKeys: return state("foo=1,foo=2")
        case .tracestateUppercaseKey: return state("FOO=1")
        case .tracestateSpaceInKey: return state("foo =1")
        case .tracestateValueWithEquals: return state("foo=bar=baz")
        case .tracestateEmptyValue: return state("foo=,bar=3")
        }
    }

    /// `bar01=bar01,bar02=bar02,…` for the members in `range`.
    package static func members(_ range: ClosedRange<Int>) -> String {
        range.map { String(format: "bar%02d=bar%02d", $0, $0) }.joined(separator: ",")
    }

    /// Every character a key may have (lowercase letters, digits, `_ - * /`), as the suite's case sends them.
    static let allKeyCharacters = "abcdefghijklmnopqrstuvwxyz0123456789_-*/"
    /// Every character a value may have: printable ASCII but `,` and `=`, from the space (allowed inside a
    /// value) to `~` (a value may not end with a space).
    static let allValueCharacters = String((0x20...0x7E).filter { $0 != 0x2C && $0 != 0x3D }.map { Character(UnicodeScalar(UInt8($0))) })
}

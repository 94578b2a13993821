/// Invalid `traceparent` / `tracestate` headers the driver can send, from the W3C Trace Context test suite
/// plus a few more. A correct service ignores each (starting a fresh trace) and never forwards it.
package enum InvalidTraceContextCase: String, Sendable, CaseIterable, Hashable, Codable {
    case versionFF = "version-ff"
    case uppercaseHex = "uppercase-hex"
    case zeroTraceID = "zero-trace-id"
    case zeroSpanID = "zero-span-id"
    case shortTraceID = "short-trace-id"
    case longSpanID = "long-span-id"
    case nonHex = "non-hex"
    case badSeparator = "bad-separator"
    case extraFieldsVersion00 = "extra-fields-v00"
    case empty
    case tracestate33Members = "tracestate-33-members"
    case tracestate257CharacterKey = "tracestate-257-char-key"

    /// The headers to send for this case, built around a valid trace id and span id.
    package func headers(traceID: String, spanID: String) -> [(String, String)] {
        let valid = "00-\(traceID)-\(spanID)-01"
        switch self {
        case .versionFF: return [("traceparent", "ff-\(traceID)-\(spanID)-01")]
        case .uppercaseHex: return [("traceparent", valid.uppercased())]
        case .zeroTraceID: return [("traceparent", "00-\(String(repeating: "0", count: 32))-\(spanID)-01")]
        case .zeroSpanID: return [("traceparent", "00-\(traceID)-\(String(repeating: "0", count: 16))-01")]
        case .shortTraceID: return [("traceparent", "00-\(traceID.dropLast(2))-\(spanID)-01")]
        case .longSpanID: return [("traceparent", "00-\(traceID)-\(spanID)00-01")]
        case .nonHex: return [("traceparent", "00-\(traceID.dropLast(1))g-\(spanID)-01")]
        case .badSeparator: return [("traceparent", "00_\(traceID)_\(spanID)_01")]
        case .extraFieldsVersion00: return [("traceparent", valid + "-extra")]
        case .empty: return [("traceparent", "")]
        case .tracestate33Members:
            return [("traceparent", valid), ("tracestate", (1...33).map { "k\($0)=v\($0)" }.joined(separator: ","))]
        case .tracestate257CharacterKey:
            return [("traceparent", valid), ("tracestate", String(repeating: "k", count: 257) + "=v")]
        }
    }

    /// Whether the `traceparent` itself is invalid (the tracestate cases keep a valid one: the service must
    /// continue the trace but drop the invalid tracestate).
    package var invalidatesTraceparent: Bool { self != .tracestate33Members && self != .tracestate257CharacterKey }
}

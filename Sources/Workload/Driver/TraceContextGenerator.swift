import Foundation
package import Scenario

/// The W3C trace context the driver sends with one request, and what it chose.
package struct SentTraceContext: Sendable, Hashable, Codable {
    /// 32 hex digits the driver chose (also for an invalid case: the id it built the invalid header around).
    package var traceID: String
    /// 16 hex digits: the driver's span id, which the service's first server span must have as parent.
    package var spanID: String
    package var sampled: Bool
    package var tracestate: String?
    /// The invalid case sent instead of a valid header, if any.
    package var invalid: TraceContextCase?
    /// Whether any trace context header was sent.
    package var propagated: Bool

    package init(traceID: String, spanID: String, sampled: Bool, tracestate: String?, invalid: TraceContextCase?, propagated: Bool) {
        self.traceID = traceID
        self.spanID = spanID
        self.sampled = sampled
        self.tracestate = tracestate
        self.invalid = invalid
        self.propagated = propagated
    }

    /// The headers to send.
    package var headers: [(String, String)] {
        guard propagated else { return [] }
        if let invalid { return invalid.headers(traceID: traceID, spanID: spanID) }
        var headers = [("traceparent", "00-\(traceID)-\(spanID)-\(sampled ? "01" : "00")")]
        if let tracestate { headers.append(("tracestate", tracestate)) }
        return headers
    }
}

extension TraceContextSpec {
    /// A fresh context for one request, ids drawn from `random` (never all zero).
    func generate(random: inout SeededRandom) -> SentTraceContext {
        // Little-endian bytes of successive draws, as lower-case hex (written directly: this runs per request).
        func hex(_ count: Int) -> String {
            let digits: StaticString = "0123456789abcdef"
            var first = random.next()
            let second = count > 8 ? random.next() : 0
            if first == 0 && second == 0 { first = 1 }
            return String(unsafeUninitializedCapacity: count * 2) { text in
                for position in 0..<count {
                    let byte = UInt8(truncatingIfNeeded: (position < 8 ? first : second) >> (8 * UInt64(position % 8)))
                    text[2 * position] = digits.utf8Start[Int(byte >> 4)]
                    text[2 * position + 1] = digits.utf8Start[Int(byte & 0x0f)]
                }
                return count * 2
            }
        }
        return SentTraceContext(traceID: hex(16), spanID: hex(8), sampled: sampled, tracestate: tracestate, invalid: invalid, propagated: propagate)
    }
}

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
        func hex(_ count: Int) -> String {
            var bytes: [UInt8] = []
            while bytes.count < count { withUnsafeBytes(of: random.next()) { bytes.append(contentsOf: $0.prefix(count - bytes.count)) } }
            if bytes.allSatisfy({ $0 == 0 }) { bytes[0] = 1 }
            return bytes.map { String(format: "%02x", $0) }.joined()
        }
        return SentTraceContext(traceID: hex(16), spanID: hex(8), sampled: sampled, tracestate: tracestate, invalid: invalid, propagated: propagate)
    }
}

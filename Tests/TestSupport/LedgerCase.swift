package import Scenario
package import Telemetry
package import Workload

/// One request and the spans it caused, of a kind chosen at random: intact, broken in one of several ways,
/// unsampled, invalid (with the fresh trace a correct service starts), or missing its spans. What the tests of
/// the request ledger (and of the events shards send it) feed it.
package struct LedgerCase: Sendable {
    package var request: SentRequest
    package var spans: [Span]

    package static let driverSpan = "b7ad6b7169203331"
    package static let templates = [
        RequestTemplate(name: "req", service: "tasks", path: "/tasks"),
        RequestTemplate(name: "unsampled", service: "tasks", path: "/tasks", trace: TraceContextSpec(sampled: false)),
        RequestTemplate(name: "bad", service: "tasks", path: "/health/live", trace: TraceContextSpec(invalid: .versionFF)),
    ]

    /// `count` requests and their spans, each of a kind drawn from `seed`.
    package static func cases(count: Int, seed: UInt64) -> [LedgerCase] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { index in
            let trace = String(format: "%032x", index + 1)
            let fresh = String(format: "f%031x", index + 1)
            func span(_ id: Int, parent: String?, kind: SpanKind, path: String = "/tasks", trace: String = trace, state: String = "") -> Span {
                var span = Span(
                    traceID: TraceID(hex: trace)!,
                    spanID: SpanID(hex: String(format: "%016x", index * 16 + id))!,
                    parentSpanID: parent.flatMap { SpanID(hex: $0) },
                    traceState: state,
                    name: "op",
                    kind: kind,
                    endTimeUnixNano: UInt64(1000 + index),
                    channel: .otlpGRPC
                )
                span.attributes = ["http.request.method": .string("GET"), "url.path": .string(path)]
                return span
            }
            let server = String(format: "%016x", index * 16 + 1)
            let client = String(format: "%016x", index * 16 + 2)
            var request = SentRequest(
                name: "req",
                phase: "p",
                intendedOffsetSeconds: Double(index),
                sentOffsetSeconds: Double(index),
                latencySeconds: 0.01,
                outcome: .ok,
                status: 200,
                traceID: trace,
                spanID: driverSpan,
                sampled: true,
                tracestate: nil,
                invalidCase: nil,
                propagated: true
            )
            switch random.next() % 7 {
            case 0, 1:
                return LedgerCase(
                    request: request,
                    spans: [span(1, parent: driverSpan, kind: .server), span(2, parent: server, kind: .client), span(3, parent: client, kind: .server)]
                )
            case 2:  // the callee dropped the context
                return LedgerCase(request: request, spans: [span(1, parent: driverSpan, kind: .server), span(2, parent: server, kind: .client)])
            case 3:  // a service restarted the trace
                return LedgerCase(request: request, spans: [span(1, parent: nil, kind: .server)])
            case 4:
                request.name = "unsampled"
                request.sampled = false
                return LedgerCase(request: request, spans: index % 3 == 0 ? [span(1, parent: driverSpan, kind: .server)] : [])
            case 5:
                request.name = "bad"
                request.invalidCase = TraceContextCase.versionFF.rawValue
                return LedgerCase(request: request, spans: [span(1, parent: nil, kind: .server, path: "/health/live", trace: fresh)])
            default:  // answered, but no span ever arrived
                return LedgerCase(request: request, spans: [])
            }
        }
    }

}

package import Checks
package import Scenario
package import Telemetry
package import Workload

extension DriverReport {
    /// What the driver would report had it sent `requests`: one phase per phase name (in order of first
    /// appearance), with counts, outcomes and latency histograms per request name.
    package init(replaying requests: [SentRequest]) {
        var phaseNames: [String] = []
        var byPhase: [String: [SentRequest]] = [:]
        for request in requests {
            if byPhase[request.phase] == nil { phaseNames.append(request.phase) }
            byPhase[request.phase, default: []].append(request)
        }
        self.init(
            phases: phaseNames.map { name in
                let sent = byPhase[name]!
                var latencies: [String: LatencyRecorder] = [:]
                var outcomes: [String: [String: Int]] = [:]
                for request in sent {
                    latencies[request.name, default: LatencyRecorder()].record(.nanoseconds(Int64(request.latencySeconds * 1e9)))
                    outcomes[request.name, default: [:]][request.outcome.rawValue, default: 0] += 1
                }
                let offsets = sent.map(\.sentOffsetSeconds)
                return PhaseReport(
                    name: name,
                    plannedDuration: .seconds(1),
                    elapsed: .seconds(1),
                    scheduled: sent.count,
                    droppedSlots: 0,
                    requests: Dictionary(
                        uniqueKeysWithValues: latencies.map { name, latency in
                            (name, RequestReport(count: Int(latency.count), outcomes: outcomes[name] ?? [:], latency: latency.summary))
                        }
                    ),
                    latencies: latencies,
                    sentCount: sent.count,
                    sendSpan: offsets.min().map { $0...offsets.max()! },
                    timeline: [:]
                )
            }
        )
    }
}

extension RequestLedger {
    /// A ledger that has followed `store` and heard of `requests` as the driver tells of them (sending, then
    /// ended), judged at the end as a run's would be.
    package convenience init(replaying requests: [SentRequest], store: TelemetryStore, templates: [RequestTemplate] = []) {
        self.init(configuration: .init(templates: templates))
        attach(to: store)
        for request in requests {
            sending(request.traceContext, name: request.name)
            completed(request)
        }
    }
}

extension SentRequest {
    /// The trace context the driver sent with this request.
    package var traceContext: SentTraceContext {
        SentTraceContext(
            traceID: traceID,
            spanID: spanID,
            sampled: sampled,
            tracestate: tracestate,
            invalid: invalidCase.flatMap(TraceContextCase.init(rawValue:)),
            propagated: propagated
        )
    }
}

extension RunData {
    /// A run that received `spans` (into a fresh store) while the driver sent `requests`.
    package static func replaying(spans: [Span], requests: [SentRequest], templates: [RequestTemplate] = []) -> RunData {
        let store = TelemetryStore()
        if !spans.isEmpty { store.store(Batch(spans: spans), channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 0) }
        return RunData(
            store: store,
            driver: DriverReport(replaying: requests),
            requests: RequestLedger(replaying: requests, store: store, templates: templates)
        )
    }
}

package import Scenario
import Synchronization

/// Scripted misbehaviour of the receivers, so a scenario can prove how exporters cope: answer a fraction of
/// requests (or the first requests, in order) with a partial success, 400, 429, 503 or UNAVAILABLE, and add latency;
/// a delay to wait goes with 429 and 503 as `Retry-After` and on gRPC as `RetryInfo` (see `Refusal+ExportAnswer.swift`).
///
/// Requests answered with a fault are counted as refused (or, for partial success, as rejected items) and
/// are not stored: what an exporter does next — retry or drop — is what the run then shows.
package final class FaultInjector: Sendable {
    /// The decision for one request.
    package struct Decision: Sendable, Hashable {
        package var response: IntakeFaultResponse
        package var retryAfterSeconds: Int?
        package var addedLatency: Duration?
    }

    private struct State {
        var sequencePositions: [Int]
        var random: UInt64
    }

    package let rules: [IntakeFault]
    private let state: Mutex<State>

    /// - Parameters:
    ///   - rules: a scenario's `intake.faults`, in order; the first that applies decides.
    ///   - seed: makes the random fraction reproducible.
    package init(rules: [IntakeFault], seed: UInt64 = 0x0fa_017) {
        self.rules = rules
        state = Mutex(State(sequencePositions: Array(repeating: 0, count: rules.count), random: seed | 1))
    }

    /// Whether a rule applies to one service only, so receivers must read each request's `service.name`.
    package var targetsServices: Bool { rules.contains { $0.service != nil } }

    /// What to do with the next request of `signal` from `service` (`nil`: not known; rules for one service skip it).
    package func decide(_ signal: Signal, service: String? = nil) -> Decision {
        state.withLock { state in
            for (index, rule) in rules.enumerated() where (rule.signal == nil || rule.signal == signal) && (rule.service == nil || rule.service == service) {
                if !rule.sequence.isEmpty {
                    guard state.sequencePositions[index] < rule.sequence.count else { continue }
                    let response = rule.sequence[state.sequencePositions[index]]
                    state.sequencePositions[index] += 1
                    return Decision(response: response, retryAfterSeconds: rule.retryAfterSeconds, addedLatency: rule.addedLatency)
                }
                if let rate = rule.rate, let response = rule.respond {
                    // xorshift64: reproducible draws under the lock.
                    state.random ^= state.random << 13
                    state.random ^= state.random >> 7
                    state.random ^= state.random << 17
                    let draw = Double(state.random >> 11) / Double(1 << 53)
                    if draw < rate {
                        return Decision(response: response, retryAfterSeconds: rule.retryAfterSeconds, addedLatency: rule.addedLatency)
                    }
                    if rule.addedLatency != nil { return Decision(response: .ok, retryAfterSeconds: nil, addedLatency: rule.addedLatency) }
                    continue
                }
                if rule.addedLatency != nil { return Decision(response: .ok, retryAfterSeconds: nil, addedLatency: rule.addedLatency) }
            }
            return Decision(response: .ok, retryAfterSeconds: nil, addedLatency: nil)
        }
    }

    /// The message every injected refusal carries, so nobody mistakes it for a real failure.
    static let message = "refused by otelbench fault injection (the scenario's intake.faults)"
}

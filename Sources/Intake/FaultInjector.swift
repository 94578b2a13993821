public import Telemetry
import Synchronization

/// Scripted misbehaviour of the receivers, so a scenario can prove how exporters cope: answer a fraction of
/// requests (or the first requests, in order) with a partial success, 429, 503 or UNAVAILABLE, and add latency.
///
/// Requests answered with a fault are counted as refused (or, for partial success, as rejected items) and
/// are not stored: what an exporter does next — retry or drop — is what the run then shows.
public final class FaultInjector: Sendable {
    /// What the receiver answers instead of accepting.
    public enum Response: Sendable, Hashable {
        case ok
        /// 200 with `partial_success` rejecting every item.
        case partialSuccess
        /// HTTP 429 / gRPC RESOURCE_EXHAUSTED.
        case tooManyRequests
        /// HTTP 503 / gRPC UNAVAILABLE.
        case serviceUnavailable
    }

    /// One rule; the first that applies decides.
    public struct Rule: Sendable, Hashable {
        public var signal: Signal?
        /// Answer this fraction of requests with `response`...
        public var rate: Double?
        public var response: Response?
        /// ...or answer the first requests with these, in order.
        public var sequence: [Response]
        public var retryAfterSeconds: Int?
        public var addedLatency: Duration?

        public init(
            signal: Signal? = nil, rate: Double? = nil, response: Response? = nil, sequence: [Response] = [],
            retryAfterSeconds: Int? = nil, addedLatency: Duration? = nil
        ) {
            self.signal = signal
            self.rate = rate
            self.response = response
            self.sequence = sequence
            self.retryAfterSeconds = retryAfterSeconds
            self.addedLatency = addedLatency
        }
    }

    /// The decision for one request.
    public struct Decision: Sendable, Hashable {
        public var response: Response
        public var retryAfterSeconds: Int?
        public var addedLatency: Duration?
    }

    private struct State {
        var sequencePositions: [Int]
        var random: UInt64
    }

    public let rules: [Rule]
    private let state: Mutex<State>

    /// - Parameter seed: makes the random fraction reproducible.
    public init(rules: [Rule], seed: UInt64 = 0x0fa_017) {
        self.rules = rules
        state = Mutex(State(sequencePositions: Array(repeating: 0, count: rules.count), random: seed | 1))
    }

    /// What to do with the next request of `signal`.
    public func decide(_ signal: Signal) -> Decision {
        state.withLock { state in
            for (index, rule) in rules.enumerated() where rule.signal == nil || rule.signal == signal {
                if !rule.sequence.isEmpty {
                    guard state.sequencePositions[index] < rule.sequence.count else { continue }
                    let response = rule.sequence[state.sequencePositions[index]]
                    state.sequencePositions[index] += 1
                    return Decision(response: response, retryAfterSeconds: rule.retryAfterSeconds, addedLatency: rule.addedLatency)
                }
                if let rate = rule.rate, let response = rule.response {
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

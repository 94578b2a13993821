/// The deliberate bugs the built-in services can have, each one something a check must catch: the words a
/// scenario's `services.builtin.faults`, `otelbench services --fault` and a services configuration file use.
package enum FaultMode: String, Sendable, Hashable, CaseIterable {
    case dropTraceparent = "drop_traceparent"
    case freshParent = "fresh_parent"
    case forwardInvalidTraceparent = "forward_invalid_traceparent"
    case dropTracestate = "drop_tracestate"
    case ignoreSampledFlag = "ignore_sampled_flag"
    case highCardinalityLabel = "high_cardinality_label"
    case wrongBuckets = "wrong_buckets"
    case omitRequiredLabel = "omit_required_label"
    case slowRollbacks = "slow_rollbacks"
    case slowLiveness = "slow_liveness"
    /// Takes a fraction: `drop_spans=0.2` on the command line; `drop_span_fraction` in a scenario.
    case dropSpans = "drop_spans"

    /// What the fault does, for help texts.
    package var summary: String {
        switch self {
        case .dropTraceparent: "outgoing calls carry no traceparent"
        case .freshParent: "the server span's parent is a fresh id instead of the incoming parent"
        case .forwardInvalidTraceparent: "an invalid incoming traceparent is forwarded unchanged"
        case .dropTracestate: "outgoing calls carry no tracestate"
        case .ignoreSampledFlag: "unsampled incoming requests are recorded and exported anyway"
        case .highCardinalityLabel: "task metrics get a task_id label"
        case .wrongBuckets: "histograms use boundaries other than the taxonomy's"
        case .omitRequiredLabel: "metrics lose their first taxonomy label"
        case .slowRollbacks: "rollbacks exceed 180 s at p99"
        case .slowLiveness: "liveness checks exceed 50 ms at p99.9"
        case .dropSpans: "a fraction F of spans is never exported"
        }
    }
}

/// The `rules.retry` rule: how OTLP exporters react to intake's refusals (scripted with `intake.faults`), judged
/// for each exporter (resource and channel) against the OTLP specification's "Failures" and "Throttling" sections.
///
/// ```yaml
/// retry:
///   services: [cf_core.services.tasks]     # default: every exporter that was refused
///   expect: [retried, backoff, delivered]   # default: every point
///   backoff_tolerance: 0.2                  # how much a backoff delay may shrink for jitter (default 0)
/// ```
package struct RetryRule: Sendable, Hashable {
    /// One point of the specification, judged for each exporter.
    package enum Point: String, Sendable, Hashable, CaseIterable {
        /// Every retryable refusal was followed by a retry of the same batch.
        case retried
        /// Without an advertised delay, each wait before a retry was longer than the one before (exponential backoff).
        case backoff
        /// Each retry after a refusal that advertised a delay (`Retry-After`, `RetryInfo`) waited at least that long.
        case advertisedDelay = "advertised_delay"
        /// No batch refused as not retryable (400, INVALID_ARGUMENT, RESOURCE_EXHAUSTED without RetryInfo, a
        /// partial success) was sent again.
        case notRetried = "not_retried"
        /// No batch was stored twice: none was sent again after it was accepted.
        case noDuplicates = "no_duplicates"
        /// Every batch refused as retryable was accepted in the end.
        case delivered

        /// What the point asks, as the report says it.
        package var expectation: String {
            switch self {
            case .retried: "every retryable refusal is followed by a retry of the same batch"
            case .backoff: "without an advertised delay, each wait before a retry is longer than the one before"
            case .advertisedDelay: "a retry waits at least the delay the refusal advertised (Retry-After, RetryInfo)"
            case .notRetried: "a batch refused as not retryable (or partially accepted) is never sent again"
            case .noDuplicates: "no batch is sent again after it was accepted (stored twice)"
            case .delivered: "every batch refused as retryable is accepted in the end"
            }
        }
    }

    /// Only exporters of these services (`service.name`) are judged; every refused exporter when empty.
    package var services: [String] = []
    /// The points judged (`expect:`), in ``Point/allCases`` order.
    package var points: [Point] = Point.allCases
    /// The fraction by which a backoff delay may be shorter than the one before it and still count as growing
    /// (for exporters that jitter their delays); 0 asks every delay to be longer than the one before.
    package var backoffTolerance: Double = 0

    package init(services: [String] = [], points: [Point] = Point.allCases, backoffTolerance: Double = 0) {
        self.services = services
        self.points = points
        self.backoffTolerance = backoffTolerance
    }
}

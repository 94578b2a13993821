/// What a receiver answers instead of accepting, when a scenario's `intake.faults` says so.
package enum IntakeFaultResponse: Sendable, Hashable, CaseIterable {
    /// Accept as usual (a rule that only adds latency).
    case ok
    /// 200 with `partial_success` rejecting every item.
    case partialSuccess
    /// HTTP 429 / gRPC RESOURCE_EXHAUSTED.
    case tooManyRequests
    /// HTTP 503 / gRPC UNAVAILABLE.
    case serviceUnavailable
    /// HTTP 400 / gRPC INVALID_ARGUMENT: not retryable.
    case badRequest

    /// The words a scenario may use for each answer (`503` and `unavailable` are the same answer).
    package static let spellings: [(word: String, response: IntakeFaultResponse)] = [
        ("ok", .ok), ("partial_success", .partialSuccess), ("429", .tooManyRequests), ("503", .serviceUnavailable),
        ("unavailable", .serviceUnavailable), ("400", .badRequest), ("invalid_argument", .badRequest),
    ]

    /// The answer a scenario's word names (`nil` for an unknown word).
    package init?(word: String) {
        guard let match = Self.spellings.first(where: { $0.word == word }) else { return nil }
        self = match.response
    }
}

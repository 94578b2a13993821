import Telemetry

extension Refusal {
    /// The intake has its maximum of requests in flight (``ConnectionLimits/maxRequestsInFlight``): retryable,
    /// after a second. Answered before the request's body is read, so nothing of it is stored.
    package static func tooManyRequestsInFlight(limit: Int) -> Refusal {
        Refusal(
            .unavailable,
            "otelbench is already reading, decoding or admitting its maximum of \(limit) requests: retry later, or raise --max-requests-in-flight",
            retryAfterSeconds: 1
        )
    }
}

extension Admission {
    /// Counts one request in as in flight on the store's shared ``Telemetry/RequestsInFlight``, before any of its body
    /// is read. Every return must be matched by one ``leaveInFlight()`` (with `defer`); a throw needs none.
    ///
    /// - Throws: ``Refusal/tooManyRequestsInFlight(limit:)`` when ``maxRequestsInFlight`` requests are in flight
    ///   already. The receiver counts the refusal.
    package func enterInFlight() throws(Refusal) {
        guard store.requestsInFlight.enter(limit: maxRequestsInFlight) else {
            throw Refusal.tooManyRequestsInFlight(limit: maxRequestsInFlight)
        }
    }

    /// Counts out a request that ``enterInFlight()`` let in: answered, refused or abandoned.
    package func leaveInFlight() {
        store.requestsInFlight.leave()
    }
}

package import Scenario
package import Telemetry

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

    /// The checks a gRPC request passes before its message is read: the bearer token, then the intake's requests
    /// in flight. A refusal is counted on `channel` and `signal` before it is thrown; a return must be matched by
    /// one ``leaveInFlight()`` (with `defer`).
    package func enterBeforeReading(authorization: String?, channel: IntakeChannel, signal: Signal) throws(Refusal) {
        do throws(Refusal) {
            try authenticate(authorization: authorization)
            try enterInFlight()
        } catch {
            countRefusal(error, channel: channel, signal: signal)
            throw error
        }
    }

    /// Whether ``enterInFlight()`` would refuse a request now: the intake has its maximum of requests in flight. A
    /// look, not a reservation: a request let on for this answer must still enter.
    package var isAtRequestsInFlightLimit: Bool {
        store.requestsInFlight.current >= maxRequestsInFlight
    }

    /// Counts out a request that ``enterInFlight()`` let in: answered, refused or abandoned.
    package func leaveInFlight() {
        store.requestsInFlight.leave()
    }
}

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

    /// The refusal a request would get for load before its body is read, judged from its header alone: the intake has
    /// its maximum of requests in flight (``enterInFlight()``), or the memory limit cannot cover the body's declared
    /// length now (``reserveBody(of:maxRequestBytes:)``). A look, not a reservation: a request let on for a `nil`
    /// must still enter and reserve, and may be refused then.
    ///
    /// - Parameter declaredBodyBytes: the body's declared length; `nil`: not known (chunked, or gRPC, whose message is
    ///   reserved as it arrives). A length over `maxRequestBytes`, or one the whole limit could never cover, is left
    ///   to the responder, which refuses it for good (not retryably).
    package func refusalForLoad(declaredBodyBytes: Int? = nil, maxRequestBytes: Int = .max) -> Refusal? {
        if store.requestsInFlight.current >= maxRequestsInFlight { return .tooManyRequestsInFlight(limit: maxRequestsInFlight) }
        guard let declared = declaredBodyBytes, declared > 0, declared <= maxRequestBytes, let limit = store.limits.maxRetainedBytes,
            declared + ResidentCost.admission(bytes: declared) <= limit, let room = store.reservableBytes, declared > room
        else { return nil }
        return .overloaded(limit: limit)
    }

    /// Counts out a request that ``enterInFlight()`` let in: answered, refused or abandoned.
    package func leaveInFlight() {
        store.requestsInFlight.leave()
    }
}

package import Scenario

/// Why intake refuses a request: a code, a message naming the problem (and its fix), and the protocol details
/// a client needs to react (when to retry, which methods to use).
///
/// One type for every receiver; each protocol renders it in its own terms: an HTTP status and a text,
/// `google.rpc.Status` or Elasticsearch body (`Refusal+HTTP.swift`, ``OTLPHTTPEndpoint``,
/// ``ElasticsearchEndpoint``), a gRPC status (`Refusal+GRPC.swift`). Modelled on grpc-swift-2's
/// `RuntimeError`: the code is a struct over a private enum, so adding a code breaks nobody.
///
/// ```swift
/// throw Refusal(.unsupportedMediaType, "Content-Type text/plain is not supported: send application/x-protobuf")
/// ```
package struct Refusal: Error, Sendable, CustomStringConvertible {
    /// What kind of refusal this is, which decides the status on every protocol.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Wrapped: Hashable, Sendable {
            case invalidArgument, unauthenticated, notFound, methodNotAllowed, notAcceptable, tooLarge, unsupportedMediaType, tooManyRequests, unavailable
        }

        let wrapped: Wrapped

        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// Malformed or invalid: fix the sender, do not retry. HTTP 400, gRPC INVALID_ARGUMENT.
        package static let invalidArgument = Code(.invalidArgument)
        /// No credentials, or the wrong ones (``Refusal/authenticationChallenge``). HTTP 401, gRPC UNAUTHENTICATED.
        package static let unauthenticated = Code(.unauthenticated)
        /// No such endpoint. HTTP 404, gRPC NOT_FOUND.
        package static let notFound = Code(.notFound)
        /// The endpoint takes other methods (``Refusal/allowedMethods``). HTTP 405, gRPC UNIMPLEMENTED.
        package static let methodNotAllowed = Code(.methodNotAllowed)
        /// A content type the endpoint cannot answer (Elasticsearch's media type check). HTTP 406, gRPC INVALID_ARGUMENT.
        package static let notAcceptable = Code(.notAcceptable)
        /// Over the size limit: do not retry as is. HTTP 413, gRPC RESOURCE_EXHAUSTED.
        package static let tooLarge = Code(.tooLarge)
        /// A content type or encoding the endpoint does not take. HTTP 415, gRPC INVALID_ARGUMENT.
        package static let unsupportedMediaType = Code(.unsupportedMediaType)
        /// Throttled: retry later. HTTP 429, gRPC RESOURCE_EXHAUSTED.
        package static let tooManyRequests = Code(.tooManyRequests)
        /// Overloaded: retry later. HTTP 503, gRPC UNAVAILABLE (Elasticsearch: 429).
        package static let unavailable = Code(.unavailable)

        package var description: String {
            switch wrapped {
            case .invalidArgument: "invalid argument"
            case .unauthenticated: "unauthenticated"
            case .notFound: "not found"
            case .methodNotAllowed: "method not allowed"
            case .notAcceptable: "not acceptable"
            case .tooLarge: "too large"
            case .unsupportedMediaType: "unsupported media type"
            case .tooManyRequests: "too many requests"
            case .unavailable: "unavailable"
            }
        }
    }

    package var code: Code
    /// What was wrong and what to do about it; the whole text a client sees.
    package var message: String
    /// Seconds a client should wait before retrying (HTTP `Retry-After`); `nil` sends none.
    package var retryAfterSeconds: Int?
    /// The methods the endpoint takes, for ``Code/methodNotAllowed`` (HTTP `Allow`).
    package var allowedMethods: String?
    /// The challenge for ``Code/unauthenticated`` (HTTP `WWW-Authenticate`).
    package var authenticationChallenge: String?
    /// The protocol's own name for the error, where it has one (Elasticsearch's `type`, such as
    /// `invalid_index_name_exception`); `nil`: derived from ``code``.
    package var errorType: String?
    /// The error that caused the refusal, if any (a decoder's error), for logs.
    package var cause: (any Error & Sendable)?

    package init(
        _ code: Code,
        _ message: String,
        retryAfterSeconds: Int? = nil,
        allowedMethods: String? = nil,
        errorType: String? = nil,
        cause: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
        self.allowedMethods = allowedMethods
        self.errorType = errorType
        self.cause = cause
    }

    package var description: String { "\(code): \(message)" }
}

// MARK: The refusals every receiver shares

extension Refusal {
    /// The store is over its memory limit: retryable, after a second.
    package static func overloaded(limit: Int?) -> Refusal {
        let limitText = limit.map { "\($0 / (1 << 20)) MiB" } ?? "its limit"
        return Refusal(
            .unavailable,
            "otelbench's store is full (\(limitText) retained and in flight, after evicting the oldest traces and log records): retry later, or raise --memory-limit",
            retryAfterSeconds: 1
        )
    }

    /// A request larger than the store's whole memory limit: it could never be accepted, so it is too large rather
    /// than retryable.
    ///
    /// - Parameter reservation: what admitting it takes (its body and its decoded items, ``Telemetry/ResidentCost/admission(bytes:)``).
    package static func largerThanTheStore(bytes: Int, reservation: Int, limit: Int) -> Refusal {
        Refusal(
            .tooLarge,
            "request of \(bytes) bytes (decompressed) needs \(reservation) bytes of memory to decode and store, more than otelbench's whole "
                + "memory limit of \(limit) bytes, so it can never be stored: send smaller requests or raise --memory-limit"
        )
    }

    /// A request without the bearer token, or with another one. The message says which, never what the token is.
    package static func unauthenticated(_ failure: BearerToken.Failure) -> Refusal {
        var refusal: Refusal
        switch failure {
        case .missing:
            refusal = Refusal(.unauthenticated, "this intake takes requests with its bearer token only: send Authorization: Bearer <token>")
            refusal.authenticationChallenge = #"Bearer realm="otelbench""#
        case .mismatch:
            refusal = Refusal(.unauthenticated, "the bearer token is not this intake's: send the token it was started with")
            refusal.authenticationChallenge = #"Bearer realm="otelbench", error="invalid_token""#
        }
        return refusal
    }

    /// A refusal scripted by a scenario's `intake.faults`.
    ///
    /// A scripted partial success reaches here only on a protocol that cannot answer one; it is then refused whole
    /// as invalid, which a sender drops as it drops the items of a partial success.
    package static func scripted(_ response: IntakeFaultResponse, retryAfterSeconds: Int?) -> Refusal {
        switch response {
        case .tooManyRequests: Refusal(.tooManyRequests, FaultInjector.message, retryAfterSeconds: retryAfterSeconds)
        case .partialSuccess, .badRequest: Refusal(.invalidArgument, FaultInjector.message)
        case .serviceUnavailable, .ok: Refusal(.unavailable, FaultInjector.message, retryAfterSeconds: retryAfterSeconds)
        }
    }

    /// The hint that names the setting behind a size limit, appended to every size refusal.
    static let sizeLimitSetting = "(--max-request-bytes)"

    /// A request or message over the receiver's size limit.
    static func tooLarge(_ what: String, limit: Int) -> Refusal {
        Refusal(.tooLarge, "\(what) is over the \(limit)-byte limit \(sizeLimitSetting)")
    }
}

package import Hummingbird
import NIOCore

/// A refusal on HTTP: its status and headers, and a plain-text body when the protocol has no error body of its
/// own (Jaeger Thrift, remote write, the read APIs). Thrown out of a Hummingbird router, it renders itself.
extension Refusal: HTTPResponseError {
    /// The HTTP status for the code.
    package var status: HTTPResponse.Status {
        switch code.wrapped {
        case .invalidArgument: .badRequest
        case .unauthenticated: .unauthorized
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .notAcceptable: .notAcceptable
        case .tooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .tooManyRequests: .tooManyRequests
        case .unavailable: .serviceUnavailable
        }
    }

    /// `Retry-After`, `Allow` and `WWW-Authenticate`, when the refusal has them.
    package var headers: HTTPFields {
        var headers: HTTPFields = [:]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        if let allowedMethods { headers[.allow] = allowedMethods }
        if let authenticationChallenge { headers[.wwwAuthenticate] = authenticationChallenge }
        return headers
    }

    /// The refusal as a `text/plain` answer: the message and a newline.
    package var plainTextAnswer: RefusalAnswer {
        var headers = headers
        headers[.contentType] = "text/plain; charset=utf-8"
        return RefusalAnswer(status: status, headers: headers, body: ByteBuffer(string: message + "\n"))
    }

    /// The refusal as a `text/plain` response: the message and a newline.
    package var plainTextResponse: Response { plainTextAnswer.response }

    package func response(from request: Request, context: some RequestContext) throws -> Response { plainTextResponse }
}

/// A refusal's whole HTTP answer, its body already encoded: what an ``HTTPEndpoint`` makes of a ``Refusal``, so that
/// the responder and ``HTTPConnectionGuard`` (which answers on the connection's event loop) write the same bytes.
package struct RefusalAnswer: Sendable {
    package var status: HTTPResponse.Status
    package var headers: HTTPFields
    package var body: ByteBuffer

    package init(status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The answer as a Hummingbird response.
    package var response: Response { Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body)) }
}

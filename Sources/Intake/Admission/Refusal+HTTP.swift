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

    /// The refusal as a `text/plain` response: the message and a newline.
    package var plainTextResponse: Response {
        var headers = headers
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: message + "\n")))
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response { plainTextResponse }
}

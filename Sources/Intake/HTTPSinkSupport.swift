import Hummingbird
import Logging
import NIOCore

/// An HTTP error answer: status, a plain-text message naming the problem, extra headers.
struct HTTPRefusal: Error {
    var status: HTTPResponse.Status
    var message: String
    var headers: HTTPFields = [:]

    /// The refusal as a `text/plain` response.
    var response: Response {
        var headers = headers
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: message + "\n")))
    }
}

/// What the HTTP sinks share: serving a responder on an address, reading bounded bodies.
enum HTTPSink {
    /// Serves `responder` until graceful shutdown, resolving `bound` once listening (or failing it).
    static func serve<Responder: HTTPResponder>(
        _ responder: Responder, address: ListenAddress, bound: BoundAddress, logger: Logger
    ) async throws where Responder.Context == BasicRequestContext {
        let host = address.host
        let application = Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: address.port), serverName: nil),
            onServerRunning: { channel in
                bound.resolve(.success(ListenAddress(host: host, port: channel.localAddress?.port ?? 0)))
            },
            logger: logger
        )
        do {
            try await application.run()
        } catch {
            bound.resolve(.failure(error))
            throw error
        }
    }

    /// Reads a body of at most `limit` bytes, inflating gzip or deflate when `Content-Encoding` says so
    /// (with the limit applied while inflating).
    static func readBody(_ request: Request, limit: Int, allowCompression: Bool = true) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw HTTPRefusal(status: .contentTooLarge, message: "request body of \(length) bytes is over the \(limit)-byte limit (--max-request-bytes)")
        }
        let raw: ByteBuffer
        do {
            raw = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw HTTPRefusal(status: .contentTooLarge, message: "request body is over the \(limit)-byte limit (--max-request-bytes)")
        }
        guard allowCompression else { return raw }
        let encoding = (request.headers[.contentEncoding] ?? "identity").lowercased().trimmingSpaces
        switch encoding {
        case "identity", "":
            return raw
        case "gzip", "x-gzip", "deflate":
            do {
                return try BodyDecompression.inflate(raw, encoding: encoding, limit: limit)
            } catch {
                switch error {
                case .tooLarge(let message): throw HTTPRefusal(status: .contentTooLarge, message: message)
                case .corrupt(let message): throw HTTPRefusal(status: .badRequest, message: message)
                }
            }
        default:
            throw HTTPRefusal(status: .unsupportedMediaType, message: "Content-Encoding \(encoding) is not supported: send gzip, deflate or no encoding")
        }
    }

    /// The media type of a `Content-Type` header, lower-cased, parameters dropped.
    static func mediaType(_ contentType: String?) -> String? {
        guard let contentType else { return nil }
        return contentType.split(separator: ";", maxSplits: 1).first.map { String($0).lowercased().trimmingSpaces }
    }
}

package import Hummingbird
import HummingbirdCore
import HummingbirdTLS
package import Logging
package import NIOCore
package import Scenario

/// What the HTTP sinks share: serving a responder on an address, reading bounded bodies.
package enum HTTPSink {
    /// Serves `responder` until graceful shutdown, resolving `bound` once listening (or failing it).
    ///
    /// - Parameters:
    ///   - tls: the certificate and key to serve HTTPS with (and client certificates to ask for); `nil`: plain HTTP.
    ///     A client that fails the handshake (plain text, an untrusted or missing client certificate) loses its
    ///     connection only.
    ///   - token: a bearer token every request must carry, answered 401 with `WWW-Authenticate: Bearer` when it
    ///     does not; `nil`: none. The receivers check theirs in their ``Admission`` instead, to count the refusal.
    ///   - connections: the connection limit and the idle, header and body timeouts (see ``HTTPConnectionGuard``).
    ///   - loadRefusal: answers a request refused for load from its header alone, on the connection's event loop;
    ///     `nil`: every request goes to `responder`.
    package static func serve<Responder: HTTPResponder>(
        _ responder: Responder,
        address: ListenAddress,
        tls: ServerTLS? = nil,
        token: BearerToken? = nil,
        connections: ConnectionLimits = .default,
        loadRefusal: HTTPLoadRefusal? = nil,
        bound: BoundAddress,
        logger: Logger
    ) async throws where Responder.Context == BasicRequestContext {
        guard let token else {
            try await serve(responder, address: address, tls: tls, connections: connections, loadRefusal: loadRefusal, bound: bound, logger: logger)
            return
        }
        try await serve(
            BearerTokenResponder(inner: responder, token: token),
            address: address,
            tls: tls,
            connections: connections,
            loadRefusal: loadRefusal,
            bound: bound,
            logger: logger
        )
    }

    private static func serve<Responder: HTTPResponder>(
        _ responder: Responder,
        address: ListenAddress,
        tls: ServerTLS?,
        connections: ConnectionLimits,
        loadRefusal: HTTPLoadRefusal?,
        bound: BoundAddress,
        logger: Logger
    ) async throws where Responder.Context == BasicRequestContext {
        let host = address.host
        let server: HTTPServerBuilder
        let count = ConnectionCount()
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [HTTPConnectionGuardInstaller(limits: connections, count: count, loadRefusal: loadRefusal)],
            idleTimeout: .nanoseconds(connections.idleTimeout.timeAmountNanoseconds)
        )
        do {
            server = try tls.map { try .tls(.http1(configuration: http1), tlsConfiguration: $0.configuration) } ?? .http1(configuration: http1)
        } catch {
            bound.resolve(.failure(error))
            throw error
        }
        let application = Application(
            responder: responder,
            server: server,
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
    ///
    /// - Throws: a ``Refusal`` naming what is wrong with the body (too large, corrupt, an unsupported encoding);
    ///   other errors are the connection's.
    package static func readBody(_ request: Request, limit: Int, allowCompression: Bool = true) async throws -> ByteBuffer {
        try await readWireBody(request, limit: limit, allowCompression: allowCompression).body
    }

    /// ``readBody(_:limit:allowCompression:)``, also giving the body's size as it came over the wire (before
    /// inflating), which the intake counts as ``IntakeCounts/wireBytesAccepted``.
    package static func readWireBody(_ request: Request, limit: Int, allowCompression: Bool = true) async throws -> (body: ByteBuffer, wireBytes: Int) {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Refusal.tooLarge("request body of \(length) bytes", limit: limit)
        }
        let raw: ByteBuffer
        do {
            raw = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw Refusal.tooLarge("request body", limit: limit)
        }
        guard allowCompression else { return (raw, raw.readableBytes) }
        let encoding = (request.headers[.contentEncoding] ?? "identity").lowercased().trimmingSpaces
        switch encoding {
        case "identity", "":
            return (raw, raw.readableBytes)
        case "gzip", "x-gzip", "deflate":
            do {
                return (try BodyDecompression.inflate(raw, encoding: encoding, limit: limit), raw.readableBytes)
            } catch {
                switch error {
                case .tooLarge(let message): throw Refusal(.tooLarge, message)
                case .corrupt(let message): throw Refusal(.invalidArgument, message)
                }
            }
        default:
            throw Refusal(.unsupportedMediaType, "Content-Encoding \(encoding) is not supported: send gzip, deflate or no encoding")
        }
    }

    /// The media type of a `Content-Type` header, lower-cased, parameters dropped.
    package static func mediaType(_ contentType: String?) -> String? {
        guard let contentType else { return nil }
        return contentType.split(separator: ";", maxSplits: 1).first.map { String($0).lowercased().trimmingSpaces }
    }
}

/// Answers 401 (with `WWW-Authenticate: Bearer`) to every request without the token, and passes the others on:
/// the read APIs' check (the receivers count theirs in their ``Admission``).
struct BearerTokenResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == BasicRequestContext {
    typealias Context = BasicRequestContext

    let inner: Inner
    let token: BearerToken

    func respond(to request: Request, context: Context) async throws -> Response {
        if let failure = token.check(authorization: request.headers[.authorization]) {
            return Refusal.unauthenticated(failure).plainTextResponse
        }
        return try await inner.respond(to: request, context: context)
    }
}

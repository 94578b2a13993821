package import Hummingbird
package import Logging
import NIOHTTP1
package import Scenario
import ServiceLifecycle
package import Telemetry

/// What one HTTP protocol adds to ``HTTPReceiver``: its paths, how a request is counted, and how a refusal
/// looks on its wire.
package protocol HTTPEndpoint: Sendable {
    /// The port the protocol usually listens on (the default configuration's, on loopback).
    static var defaultPort: Int { get }
    /// Answers one request; a ``Refusal`` thrown is counted and answered by the receiver.
    ///
    /// - Parameter maxRequestBytes: the receiver's size limit.
    func respond(to request: Request, admission: Admission, maxRequestBytes: Int) async throws -> Response
    /// The channel and signal a refused `request` is counted under; `nil`: not counted (it was not intake).
    func accounting(of request: Request) -> (channel: IntakeChannel, signal: Signal)?
    /// `refusal` as this protocol answers it. Called on the connection's event loop as well (for a request refused
    /// for load from its header alone), so it must not block.
    func answer(for refusal: Refusal, to request: Request) -> RefusalAnswer
}

/// An HTTP receiver: serves one ``HTTPEndpoint`` on an address (over TLS when configured), every request through
/// one ``Admission``, which first checks the bearer token when one is configured.
/// Every refusal is counted once and answered in the endpoint's terms; nothing a client sends stops the server
/// or undoes what it accepted before.
///
/// ```swift
/// let receiver = OTLPHTTPReceiver(configuration: .loopback(port: 0), ingestor: Admission(store: store))
/// try await ServiceGroup(services: [receiver], logger: logger).run()
/// ```
package struct HTTPReceiver<Endpoint: HTTPEndpoint>: Service {
    /// Address, size limit, TLS and token.
    package typealias Configuration = ReceiverConfiguration

    package let configuration: Configuration
    /// The address once listening (the real port when asked for port 0).
    package let boundAddress = BoundAddress()
    package let admission: Admission
    let endpoint: Endpoint
    let logger: Logger

    /// Creates the receiver; requests go through `admission`.
    package init(configuration: Configuration = .loopback(port: Endpoint.defaultPort), endpoint: Endpoint, admission: Admission, logger: Logger) {
        self.configuration = configuration
        self.endpoint = endpoint
        self.admission = admission
        self.logger = logger
    }

    package func run() async throws {
        var admission = admission
        admission.token = configuration.security.token
        admission.maxRequestsInFlight = configuration.security.connections.maxRequestsInFlight
        try await HTTPSink.serve(
            Responder(endpoint: endpoint, admission: admission, maxRequestBytes: configuration.maxRequestBytes),
            address: configuration.address,
            tls: configuration.security.tls,
            connections: configuration.security.connections,
            loadRefusal: Self.loadRefusal(endpoint: endpoint, admission: admission, maxRequestBytes: configuration.maxRequestBytes),
            bound: boundAddress,
            logger: logger
        )
    }

    /// Refuses an intake request for load from its header alone, on the connection's event loop (see
    /// ``HTTPConnectionGuard``): when the intake has its maximum of requests in flight, or its memory limit cannot
    /// cover the declared body now (``Admission/refusalForLoad(declaredBodyBytes:maxRequestBytes:)``), a request with a
    /// good token (or none needed) is answered as the responder would answer it, and counted, without a task or a
    /// thread hop. Under overload most requests are refused, and refusing them in the responder cost about as much CPU
    /// as accepting them.
    static func loadRefusal(endpoint: Endpoint, admission: Admission, maxRequestBytes: Int) -> HTTPLoadRefusal {
        { head in
            let declared = head.headers.first(name: "content-length").flatMap { Int($0) }
            guard let refusal = admission.refusalForLoad(declaredBodyBytes: declared, maxRequestBytes: maxRequestBytes),
                let request = Request(header: head), let (channel, signal) = endpoint.accounting(of: request),
                (try? admission.authenticate(authorization: request.headers[.authorization])) != nil
            else { return nil }
            admission.countRefusal(refusal, channel: channel, signal: signal)
            return endpoint.answer(for: refusal, to: request)
        }
    }

    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext

        let endpoint: Endpoint
        let admission: Admission
        let maxRequestBytes: Int

        func respond(to request: Request, context: Context) async throws -> Response {
            do {
                try admission.authenticate(authorization: request.headers[.authorization])
                // Only telemetry counts against the intake's requests in flight (not a read API on the same port);
                // the check comes before the body is read, so an overloaded intake refuses instead of queueing.
                let isIntake = endpoint.accounting(of: request) != nil
                guard isIntake else { return try await endpoint.respond(to: request, admission: admission, maxRequestBytes: maxRequestBytes) }
                try admission.enterInFlight()
                defer { admission.leaveInFlight() }
                // The body is held under the memory limit from before it is read until the request is answered.
                var request = request
                let body = try admission.reserveBody(of: &request, maxRequestBytes: maxRequestBytes)
                defer { body.release() }
                return try await endpoint.respond(to: request, admission: admission, maxRequestBytes: maxRequestBytes)
            } catch let refusal as Refusal {
                if let (channel, signal) = endpoint.accounting(of: request) {
                    admission.countRefusal(refusal, channel: channel, signal: signal)
                }
                var response = endpoint.answer(for: refusal, to: request).response
                if let challenge = refusal.authenticationChallenge, response.headers[.wwwAuthenticate] == nil {
                    response.headers[.wwwAuthenticate] = challenge
                }
                return response
            }
        }
    }
}

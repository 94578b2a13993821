package import GRPCCore
import GRPCProtobuf
import NIOHPACK
package import Scenario
import ServiceLifecycle
import SwiftProtobuf
package import Telemetry

/// What one gRPC protocol adds to ``GRPCReceiver``: its methods, each registered with
/// ``GRPCCore/RPCRouter/registerIntake(_:specName:maxRequestBytes:admission:channel:signal:handler:)``.
package protocol GRPCEndpoint: Sendable {
    /// The port the protocol usually listens on (the default configuration's, on loopback).
    static var defaultPort: Int { get }
    /// Registers the protocol's methods, every request through `admission`.
    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>, admission: Admission, maxRequestBytes: Int)
    /// The channel and signal a call to the method at `path` (`/package.Service/Method`) is counted under, as its
    /// registration counts it; `nil`: not one of the protocol's methods.
    func accounting(ofMethodAt path: String) -> (channel: IntakeChannel, signal: Signal)?
}

/// A gRPC receiver: serves one ``GRPCEndpoint`` on an HTTP/2 port (see ``GRPCListener``), every request through
/// one ``Admission``; every refusal is counted once and ends the call with the refusal's status.
package struct GRPCReceiver<Endpoint: GRPCEndpoint>: Service {
    /// Address, size limit, TLS and token.
    package typealias Configuration = ReceiverConfiguration

    package let configuration: Configuration
    /// The address once listening (the real port when asked for port 0).
    package let boundAddress = BoundAddress()
    package let admission: Admission
    let endpoint: Endpoint

    /// Creates the receiver; requests go through `admission`.
    package init(configuration: Configuration = .loopback(port: Endpoint.defaultPort), endpoint: Endpoint, admission: Admission) {
        self.configuration = configuration
        self.endpoint = endpoint
        self.admission = admission
    }

    package func run() async throws {
        var admission = admission
        admission.token = configuration.security.token
        admission.maxRequestsInFlight = configuration.security.connections.maxRequestsInFlight
        try await GRPCListener.serve(
            [Registration(endpoint: endpoint, admission: admission, maxRequestBytes: configuration.maxRequestBytes)],
            address: configuration.address,
            maxRequestBytes: configuration.maxRequestBytes,
            reservingIn: admission.store,
            tls: configuration.security.tls,
            connections: configuration.security.connections,
            loadRefusal: Self.loadRefusal(endpoint: endpoint, admission: admission),
            bound: boundAddress
        )
    }

    /// Refuses a call for load from its HEADERS alone, on the stream's event loop (see ``GRPCLoadRefusalHandler``):
    /// when the intake has its maximum of requests in flight, a call to one of the endpoint's methods with a good
    /// token (or none needed) ends UNAVAILABLE with `RetryInfo`, as the method's handler would end it, and is counted,
    /// without reaching grpc-swift's server.
    static func loadRefusal(endpoint: Endpoint, admission: Admission) -> GRPCLoadRefusal {
        { headers in
            // The message's length is not in the HEADERS: the memory limit is checked as the message arrives
            // (GRPCMessageInflationHandler).
            guard let refusal = admission.refusalForLoad(), let path = headers.first(name: ":path"),
                let (channel, signal) = endpoint.accounting(ofMethodAt: path),
                (try? admission.authenticate(authorization: headers.first(name: "authorization"))) != nil
            else { return nil }
            admission.countRefusal(refusal, channel: channel, signal: signal)
            return refusal.grpcTrailersOnly
        }
    }

    struct Registration: RegistrableRPCService {
        let endpoint: Endpoint
        let admission: Admission
        let maxRequestBytes: Int

        func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
            endpoint.registerMethods(with: &router, admission: admission, maxRequestBytes: maxRequestBytes)
        }
    }
}

extension RPCRouter {
    /// Registers a unary intake method by hand (not through the generated service protocols), so that the
    /// deserializer can hand the message's size to the memory limiter, and so that every refusal — an
    /// undecodable or too large message, or one `handler` throws — is counted once on `channel`.
    ///
    /// - Parameters:
    ///   - specName: the request message's name in its specification, for errors.
    ///   - keepsBytes: whether each message's bytes are kept with it (``Sized/bytes``), for the recording.
    mutating func registerIntake<Input: SwiftProtobuf.Message & Sendable, Output: SwiftProtobuf.Message & Sendable>(
        _ method: MethodDescriptor,
        specName: String,
        maxRequestBytes: Int,
        admission: Admission,
        channel: IntakeChannel,
        signal: Signal,
        keepsBytes: Bool = false,
        handler: @escaping @Sendable (Sized<Input>) async throws(Refusal) -> Output
    ) {
        registerIntake(
            method,
            deserializer: SizedProtobufDeserializer<Input>(specName: specName, maxBytes: maxRequestBytes, keepsBytes: keepsBytes),
            admission: admission,
            channel: channel,
            signal: signal,
            handler: handler
        )
    }

    /// ``registerIntake(_:specName:maxRequestBytes:admission:channel:signal:handler:)`` with a deserializer of
    /// the method's own (one that converts the message straight from its bytes, as the Jaeger sink's does), which
    /// refuses as ``SizedProtobufDeserializer`` refuses: each refusal is counted once on `channel`.
    mutating func registerIntake<Deserializer: MessageDeserializer, Output: SwiftProtobuf.Message & Sendable>(
        _ method: MethodDescriptor,
        deserializer: Deserializer,
        admission: Admission,
        channel: IntakeChannel,
        signal: Signal,
        handler: @escaping @Sendable (Deserializer.Message) async throws(Refusal) -> Output
    ) where Deserializer.Message: Sendable {
        registerHandler(
            forMethod: method,
            deserializer: deserializer,
            serializer: ProtobufSerializer<Output>()
        ) { streamingRequest, _ in
            // The token and the intake's requests in flight are checked before the message is read: a refused
            // request stores nothing, and an overloaded intake refuses instead of queueing.
            try admission.enterBeforeReading(
                authorization: streamingRequest.metadata[stringValues: "authorization"].first(where: { _ in true }),
                channel: channel,
                signal: signal
            )
            defer { admission.leaveInFlight() }
            let message: Deserializer.Message
            do {
                message = try await ServerRequest(stream: streamingRequest).message
            } catch {
                admission.countRefusal(error, channel: channel, signal: signal)
                throw error
            }
            do throws(Refusal) {
                return StreamingServerResponse(single: ServerResponse(message: try await handler(message)))
            } catch {
                admission.countRefusal(error, channel: channel, signal: signal)
                throw error
            }
        }
    }
}

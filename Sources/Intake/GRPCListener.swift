import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import NIOCore
import Scenario
import ServiceLifecycle
import SwiftProtobuf
import Telemetry

/// What the gRPC receivers share: an HTTP/2 server on an address, accepting gzip and deflate messages, with
/// the receiver's size limit checked where the answer can say so.
enum GRPCListener {
    /// Serves `services` until graceful shutdown, resolving `bound` once listening (or failing it); over TLS when
    /// `tls` is given (a client that fails the handshake loses its connection only), within `connections`' limits
    /// (``GRPCConnectionGuard``, ``GRPCStreamDeadline``, the transport's idle time and stream limit). A stream
    /// answered before its client finished sending is reset with NO_ERROR (``GRPCEarlyAnswerReset``). With
    /// `loadRefusal`, a call refused for load is answered from its HEADERS (``GRPCLoadRefusalHandler``).
    ///
    /// grpc-swift-nio-transport enforces its own payload limit by resetting the stream (clients then see
    /// UNAVAILABLE and retry a request that can never succeed), so the transport gets the wider
    /// ``transportLimit(for:)`` and the real limit is checked ahead of it, where the refusal can be RESOURCE_EXHAUSTED
    /// with a message. Each HTTP/2 stream's ``GRPCMessageInflationHandler`` inflates compressed messages itself (the
    /// transport's own inflate loop spins for ever on a truncated message), refuses a message announcing more than the
    /// limit as its prefix arrives, and reserves room for every other one under `store`'s memory limit before the
    /// transport assembles it (refusing it retryably when it does not fit); ``SizedProtobufDeserializer`` takes the
    /// reservation over and checks the limit again.
    ///
    /// - Parameter store: the store whose memory limit every request message is reserved under as it arrives (the
    ///   receivers' ``Admission/store``); `nil`: none (admission then reserves once the message is decoded).
    static func serve(
        _ services: [any RegistrableRPCService],
        address: ListenAddress,
        maxRequestBytes: Int,
        reservingIn store: TelemetryStore? = nil,
        tls: ServerTLS? = nil,
        connections: ConnectionLimits = .default,
        loadRefusal: GRPCLoadRefusal? = nil,
        bound: BoundAddress
    ) async throws {
        let socketAddress: GRPCNIOTransportCore.SocketAddress =
            address.host.contains(":")
            ? .ipv6(host: address.host, port: address.port)
            : .ipv4(host: address.host == "localhost" ? "127.0.0.1" : address.host, port: address.port)
        let count = ConnectionCount()
        let transport = HTTP2ServerTransport.Posix(
            address: socketAddress,
            transportSecurity: tls?.grpcTransportSecurity ?? .plaintext,
            config: .defaults { config in
                config.rpc.maxRequestPayloadSize = transportLimit(for: maxRequestBytes)
                // The Collector's exporters compress by default. The transport's own decompressor never runs: each
                // stream inflates its messages first (see GRPCMessageInflationHandler for why).
                config.compression.enabledAlgorithms = [.gzip, .deflate]
                // Slow and idle clients, and too many of them (ConnectionLimits).
                config.connection.maxIdleTime = connections.idleTimeout
                config.http2.maxConcurrentStreams = connections.maxConcurrentStreams
                // The transport's default window, 64 KiB, makes a sender of a 200 KB export wait for
                // WINDOW_UPDATEs twice per message; 1 MiB is grpc-java's default. What arrives is still bounded
                // by the stream's own limit and reservation (GRPCMessageInflationHandler), not by the window.
                config.http2.targetWindowSize = Self.flowControlWindow
                config.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let connectionGuard = GRPCConnectionGuard(limits: connections, count: count)
                        try channel.pipeline.syncOperations.addHandler(connectionGuard, position: .first)
                    }
                }
                config.channelDebuggingCallbacks.onAcceptHTTP2Stream = { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            GRPCMessageInflationHandler(limit: maxRequestBytes, reservingIn: store),
                            position: .first
                        )
                        try channel.pipeline.syncOperations.addHandler(GRPCStreamDeadline(timeout: connections.bodyTimeout), position: .first)
                        if let loadRefusal {
                            try channel.pipeline.syncOperations.addHandler(GRPCLoadRefusalHandler(loadRefusal), position: .first)
                        }
                        try channel.pipeline.syncOperations.addHandler(GRPCEarlyAnswerReset(), position: .first)
                    }
                }
            }
        )
        let server = GRPCServer(transport: transport, services: services)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                do {
                    let listening = try await transport.listeningAddress
                    let port = listening.ipv4?.port ?? listening.ipv6?.port ?? 0
                    bound.resolve(.success(ListenAddress(host: address.host, port: port)))
                } catch {
                    bound.resolve(.failure(error))
                }
            }
            try await withGracefulShutdownHandler {
                try await server.serve()
            } onGracefulShutdown: {
                server.beginGracefulShutdown()
            }
        }
    }

    /// The HTTP/2 flow-control window the receiver offers each stream and the connection: 1 MiB.
    static let flowControlWindow = 1 << 20

    /// The transport's payload limit for a receiver limit: four times it, and at least 1 MiB more.
    static func transportLimit(for maxRequestBytes: Int) -> Int {
        let (fourTimes, overflow) = maxRequestBytes.multipliedReportingOverflow(by: 4)
        return overflow ? Int.max : max(fourTimes, maxRequestBytes + (1 << 20))
    }
}

/// A decoded message and the size of its encoding.
struct Sized<Message: Sendable>: Sendable {
    var message: Message
    /// The message's size, inflated when it came compressed.
    var byteCount: Int
    /// The message's size on the wire: its 5-byte gRPC prefix and its bytes as sent (compressed when they were).
    var wireByteCount: Int
    /// Room under the store's memory limit that the stream's ``GRPCMessageInflation`` reserved for the message as it
    /// arrived (``Telemetry/ResidentCost/admission(bytes:)`` of ``byteCount``), for
    /// ``Admission/admit(_:on:bytes:wireBytes:partialSuccess:export:reservation:_:)`` to take over; `nil`: none. A
    /// message dropped before admission took it over gives it back as it goes (``Telemetry/Reservation``).
    var reservation: Reservation? = nil
    /// The message's (inflated) bytes, kept when the deserializer keeps them for a recording
    /// (``SizedMessageDeserializer/keepsBytes``); `nil`: not kept.
    var bytes: [UInt8]? = nil
}

/// A receiver's message deserializer that keeps the message size, for the memory limiter. The steps before
/// decoding are the same for every receiver (``deserialize(_:)``): a message the stream's
/// ``GRPCMessageInflationHandler`` refused ends the call with that refusal's status; the reservation it took for the
/// message is taken over (``Sized/reservation``); one it inflated is decoded inflated, with its compressed size on
/// the wire; one over `maxBytes` is RESOURCE_EXHAUSTED. Then ``decode(_:)`` reads it: an `RPCError` it throws ends
/// the call as it is, any other error is INVALID_ARGUMENT naming the message and the problem. A refused message's
/// reservation is released before the refusal is thrown.
protocol SizedMessageDeserializer: MessageDeserializer where Message == Sized<Decoded> {
    associatedtype Decoded: Sendable
    /// The message's name in its specification, for errors.
    var specName: String { get }
    var maxBytes: Int { get }
    /// Decodes one whole (inflated) message of at most `maxBytes`.
    func decode<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> Decoded
    /// Whether each message's bytes are kept with it (``Sized/bytes``), for a recording to write rather than encode
    /// the message again. False unless a deserializer says otherwise.
    var keepsBytes: Bool { get }
}

extension SizedMessageDeserializer {
    var keepsBytes: Bool { false }

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Sized<Decoded> {
        if let refusal = serializedMessageBytes.withUnsafeBytes({ GRPCInboundRefusal(decoding: $0) }) { throw refusal.rpcError }
        guard let mark = serializedMessageBytes.withUnsafeBytes({ GRPCReservedMessage(decoding: $0) }) else {
            return try deserializeUnreserved(serializedMessageBytes)
        }
        // Reserved by the stream's handler as the message arrived: taken over here (nil if the stream closed and
        // released it first), handed to admission with the message, or released if the message is refused.
        let reservation = GRPCReservationHandOver.shared.redeem(mark.id)
        do {
            var sized = try deserializeUnreserved(GRPCMessageBytes(serializedMessageBytes, droppingFirst: GRPCReservedMessage.headerLength))
            sized.reservation = reservation
            return sized
        } catch {
            reservation?.release()
            throw error
        }
    }

    /// ``deserialize(_:)`` once the reservation mark is off: an inflated message, or one as it came.
    private func deserializeUnreserved<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Sized<Decoded> {
        if let inflated = serializedMessageBytes.withUnsafeBytes({ GRPCInflatedMessage(decoding: $0) }) {
            var sized = try deserializeWhole(inflated.message)
            sized.wireByteCount = 5 + inflated.compressedLength
            return sized
        }
        return try deserializeWhole(serializedMessageBytes)
    }

    /// Checks the size of one whole (inflated) message and decodes it.
    private func deserializeWhole<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Sized<Decoded> {
        guard serializedMessageBytes.count <= maxBytes else {
            throw RPCError(Refusal.tooLarge("\(specName) of \(serializedMessageBytes.count) bytes", limit: maxBytes))
        }
        let decoded: Decoded
        do {
            decoded = try decode(serializedMessageBytes)
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(Refusal(.invalidArgument, "message is not a valid protobuf \(specName): \(error)"))
        }
        return Sized(
            message: decoded,
            byteCount: serializedMessageBytes.count,
            wireByteCount: 5 + serializedMessageBytes.count,
            bytes: keepsBytes ? serializedMessageBytes.withUnsafeBytes { Array($0) } : nil
        )
    }
}

/// Decodes a generated protobuf message (the receivers without a wire decoder of their own), keeping its bytes too
/// when `keepsBytes` (``Sized/bytes``: a recording then writes them rather than encoding the message again).
struct SizedProtobufDeserializer<Decoded: SwiftProtobuf.Message & Sendable>: SizedMessageDeserializer {
    let specName: String
    let maxBytes: Int
    let keepsBytes: Bool
    private let inner = ProtobufDeserializer<Decoded>()

    init(specName: String, maxBytes: Int, keepsBytes: Bool = false) {
        self.specName = specName
        self.maxBytes = maxBytes
        self.keepsBytes = keepsBytes
    }

    func decode<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> Decoded {
        do {
            return try inner.deserialize(bytes)
        } catch let error as RPCError {
            let cause = error.cause.map { "\($0)" } ?? error.message
            throw RPCError(Refusal(.invalidArgument, "message is not a valid protobuf \(specName): \(cause)"))
        }
    }
}

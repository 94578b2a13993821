import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import NIOCore
import Scenario
import ServiceLifecycle
import SwiftProtobuf

/// What the gRPC receivers share: an HTTP/2 server on an address, accepting gzip and deflate messages, with
/// the receiver's size limit checked where the answer can say so.
enum GRPCListener {
    /// Serves `services` until graceful shutdown, resolving `bound` once listening (or failing it); over TLS when
    /// `tls` is given (a client that fails the handshake loses its connection only), within `connections`' limits
    /// (``GRPCConnectionGuard``, ``GRPCStreamDeadline``, the transport's idle time and stream limit).
    ///
    /// grpc-swift-nio-transport enforces its own payload limit by resetting the stream (clients then see
    /// UNAVAILABLE and retry a request that can never succeed), so the transport gets the wider
    /// ``transportLimit(for:)`` and the real limit is checked by ``SizedProtobufDeserializer``, whose refusal is
    /// RESOURCE_EXHAUSTED with a message. Each HTTP/2 stream's ``GRPCMessageInflationHandler`` inflates compressed
    /// messages itself (the transport's own inflate loop spins for ever on a truncated message) and refuses a
    /// message announcing more than the wider limit before the transport would reset the stream for it.
    static func serve(
        _ services: [any RegistrableRPCService],
        address: ListenAddress,
        maxRequestBytes: Int,
        tls: ServerTLS? = nil,
        connections: ConnectionLimits = .default,
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
                config.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let connectionGuard = GRPCConnectionGuard(limits: connections, count: count)
                        try channel.pipeline.syncOperations.addHandler(connectionGuard, position: .first)
                    }
                }
                config.channelDebuggingCallbacks.onAcceptHTTP2Stream = { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(GRPCMessageInflationHandler(limit: maxRequestBytes), position: .first)
                        try channel.pipeline.syncOperations.addHandler(GRPCStreamDeadline(timeout: connections.bodyTimeout), position: .first)
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
}

/// A receiver's message deserializer that keeps the message size, for the memory limiter. The steps before
/// decoding are the same for every receiver (``deserialize(_:)``): a message the stream's guard refused ends
/// the call with that refusal's status; one the stream's ``GRPCMessageInflationHandler`` inflated is decoded
/// inflated, with its compressed size on the wire; one over `maxBytes` is RESOURCE_EXHAUSTED. Then
/// ``decode(_:)`` reads it: an `RPCError` it throws ends the call as it is, any other error is
/// INVALID_ARGUMENT naming the message and the problem.
protocol SizedMessageDeserializer: MessageDeserializer where Message == Sized<Decoded> {
    associatedtype Decoded: Sendable
    /// The message's name in its specification, for errors.
    var specName: String { get }
    var maxBytes: Int { get }
    /// Decodes one whole (inflated) message of at most `maxBytes`.
    func decode<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> Decoded
}

extension SizedMessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Sized<Decoded> {
        if let refusal = serializedMessageBytes.withUnsafeBytes({ GRPCInboundRefusal(decoding: $0) }) { throw refusal.rpcError }
        if let inflated = serializedMessageBytes.withUnsafeBytes({ GRPCInflatedMessage(decoding: $0) }) {
            var sized = try deserialize(inflated.message)
            sized.wireByteCount = 5 + inflated.compressedLength
            return sized
        }
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
        return Sized(message: decoded, byteCount: serializedMessageBytes.count, wireByteCount: 5 + serializedMessageBytes.count)
    }
}

/// Decodes a generated protobuf message (the receivers without a wire decoder of their own).
struct SizedProtobufDeserializer<Decoded: SwiftProtobuf.Message & Sendable>: SizedMessageDeserializer {
    let specName: String
    let maxBytes: Int
    private let inner = ProtobufDeserializer<Decoded>()

    init(specName: String, maxBytes: Int) {
        self.specName = specName
        self.maxBytes = maxBytes
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

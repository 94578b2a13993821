import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf

/// Runs `body` with a real grpc-swift-2 client connected to `port` on loopback.
func withGRPCClient<Result: Sendable>(
    port: Int, _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
) async throws -> Result {
    let transport = try HTTP2ClientTransport.Posix(
        target: .ipv4(address: "127.0.0.1", port: port),
        transportSecurity: .plaintext,
        config: .defaults
    )
    return try await withGRPCClient(transport: transport) { client in try await body(client) }
}

/// A serializer that sends whatever bytes it is given: for malformed-message tests.
struct RawBytesSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
}

package import GRPCCore
package import GRPCNIOTransportHTTP2
import GRPCProtobuf
package import OTelBenchProtos

/// Runs `body` with a real grpc-swift-2 client connected to `port` on loopback.
package func withGRPCClient<Result: Sendable>(
    port: Int,
    compression: CompressionAlgorithm = .none,
    _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
) async throws -> Result {
    let transport = try HTTP2ClientTransport.Posix(
        target: .ipv4(address: "127.0.0.1", port: port),
        transportSecurity: .plaintext,
        config: .defaults { config in
            config.compression.algorithm = compression
            config.compression.enabledAlgorithms = [.gzip, .deflate]
        }
    )
    return try await withGRPCClient(transport: transport) { client in try await body(client) }
}

/// A serializer that sends whatever bytes it is given: for malformed-message tests.
package struct RawBytesSerializer: MessageSerializer {
    package init() {}

    package func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
}

/// Sends raw bytes as the request message of `method` and returns the RPC error the server answers with.
package func rawExport(
    _ bytes: [UInt8],
    method: MethodDescriptor,
    client: GRPCClient<HTTP2ClientTransport.Posix>
) async throws -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse {
    try await client.unary(
        request: ClientRequest(message: bytes),
        descriptor: method,
        serializer: RawBytesSerializer(),
        deserializer: ProtobufDeserializer<Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse>(),
        options: .defaults
    ) { try $0.message }
}

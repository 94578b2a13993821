import AsyncHTTPClient
import Foundation
import Harness
package import Intake
import Logging
import NIOCore
package import NIOHTTP1
import Scenario
import ServiceLifecycle
package import Telemetry

/// An intake (OTLP/gRPC + OTLP/HTTP) listening on ephemeral loopback ports for one test.
package struct RunningIntake: Sendable {
    package let store: TelemetryStore
    package let grpcPort: Int
    package let httpPort: Int

    package func url(_ path: String) -> String { "http://127.0.0.1:\(httpPort)\(path)" }

    /// The OTLP/gRPC endpoint as exporters take it.
    package var grpcEndpoint: String { "http://127.0.0.1:\(grpcPort)" }
    /// The OTLP/HTTP base endpoint.
    package var httpEndpoint: String { "http://127.0.0.1:\(httpPort)" }

    /// A plain HTTP answer.
    package struct HTTPAnswer: Sendable {
        package var status: Int
        package var headers: [String: String]
        package var body: [UInt8]
        package var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Sends one request with AsyncHTTPClient and collects the answer.
    package func send(
        _ path: String,
        method: HTTPMethod = .POST,
        contentType: String? = "application/x-protobuf",
        headers: [(String, String)] = [],
        body: [UInt8]
    ) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: url(path))
        request.method = method
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if method != .GET { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let collected = try await response.body.collect(upTo: 16 << 20)
        var headerMap: [String: String] = [:]
        for header in response.headers { headerMap[header.name.lowercased()] = header.value }
        return HTTPAnswer(status: Int(response.status.code), headers: headerMap, body: Array(buffer: collected))
    }
}

/// Runs `body` against a fresh intake on ports 127.0.0.1:0 and always shuts it down, even when `body` throws.
package func withIntake(
    maxRequestBytes: Int = 64 << 20,
    memoryLimit: Int? = 1 << 30,
    recorder: RecordingWriter? = nil,
    faults: FaultInjector? = nil,
    _ body: @Sendable (RunningIntake) async throws -> Void
) async throws {
    var logger = Logger(label: "test.intake")
    logger.logLevel = .critical
    let store = TelemetryStore(limits: .init(maxRetainedBytes: memoryLimit))
    let ingestor = OTLPIngestor(store: store, recorder: recorder, faults: faults, logger: logger)
    let loopback = ListenAddress(host: "127.0.0.1", port: 0)
    let grpc = OTLPGRPCReceiver(configuration: .init(address: loopback, maxRequestBytes: maxRequestBytes), ingestor: ingestor, logger: logger)
    let http = OTLPHTTPReceiver(configuration: .init(address: loopback, maxRequestBytes: maxRequestBytes), ingestor: ingestor, logger: logger)
    try await withServices([grpc, http], logger: logger) {
        let running = RunningIntake(
            store: store,
            grpcPort: try await grpc.boundAddress.value().port,
            httpPort: try await http.boundAddress.value().port
        )
        try await body(running)
    }
}

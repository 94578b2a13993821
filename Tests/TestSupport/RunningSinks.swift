package import AsyncHTTPClient
package import Foundation
package import Harness
package import Intake
package import Logging
package import NIOCore
package import NIOHTTP1
package import Query
package import Scenario
package import ServiceLifecycle
package import Telemetry

/// Every sink plus the OTLP receivers, on ephemeral loopback ports, sharing one store, for one test.
package struct RunningSinks: Sendable {
    package let store: TelemetryStore
    package let otlpGRPCPort: Int
    package let otlpHTTPPort: Int
    package let jaegerGRPCPort: Int
    package let jaegerThriftPort: Int
    package let jaegerQueryPort: Int
    package let remoteWritePort: Int
    package let expositionPort: Int
    package var elasticsearchPort: Int = 0

    package init(
        store: TelemetryStore,
        otlpGRPCPort: Int,
        otlpHTTPPort: Int,
        jaegerGRPCPort: Int,
        jaegerThriftPort: Int,
        jaegerQueryPort: Int,
        remoteWritePort: Int,
        expositionPort: Int,
        elasticsearchPort: Int = 0
    ) {
        self.store = store
        self.otlpGRPCPort = otlpGRPCPort
        self.otlpHTTPPort = otlpHTTPPort
        self.jaegerGRPCPort = jaegerGRPCPort
        self.jaegerThriftPort = jaegerThriftPort
        self.jaegerQueryPort = jaegerQueryPort
        self.remoteWritePort = remoteWritePort
        self.expositionPort = expositionPort
        self.elasticsearchPort = elasticsearchPort
    }

    /// A plain HTTP answer.
    package struct HTTPAnswer: Sendable {
        package var status: Int
        package var headers: [String: String]
        package var body: [UInt8]
        package var text: String { String(decoding: body, as: UTF8.self) }

        /// The body parsed as a JSON object.
        package func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw TestFailure("not a JSON object: \(text)")
            }
            return object
        }
    }

    /// Sends one request to `port` with AsyncHTTPClient and collects the answer.
    package func send(
        port: Int,
        _ path: String,
        method: HTTPMethod = .POST,
        contentType: String? = nil,
        headers: [(String, String)] = [],
        body: [UInt8] = []
    ) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if method != .GET { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let collected = try await response.body.collect(upTo: 64 << 20)
        var headerMap: [String: String] = [:]
        for header in response.headers { headerMap[header.name.lowercased()] = header.value }
        return HTTPAnswer(status: Int(response.status.code), headers: headerMap, body: Array(buffer: collected))
    }

    /// `GET` on the Jaeger query API.
    package func query(_ path: String) async throws -> HTTPAnswer {
        try await send(port: jaegerQueryPort, path, method: .GET)
    }
}

/// A test's own failure with a message.
package struct TestFailure: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Runs `body` against fresh sinks on ports 127.0.0.1:0 and always shuts them down, even when `body` throws.
package func withSinks(
    maxRequestBytes: Int = 64 << 20,
    memoryLimit: Int? = 1 << 30,
    namespace: String = "",
    constantLabels: [String: String] = [:],
    recorder: RecordingWriter? = nil,
    _ body: @Sendable (RunningSinks) async throws -> Void
) async throws {
    var logger = Logger(label: "test.sinks")
    logger.logLevel = .critical
    let store = TelemetryStore(limits: .init(maxRetainedBytes: memoryLimit))
    let ingestor = OTLPIngestor(store: store, recorder: recorder, logger: logger)
    let loopback = ListenAddress(host: "127.0.0.1", port: 0)
    let otlpGRPC = OTLPGRPCReceiver(configuration: .init(address: loopback, maxRequestBytes: maxRequestBytes), ingestor: ingestor, logger: logger)
    let otlpHTTP = OTLPHTTPReceiver(configuration: .init(address: loopback, maxRequestBytes: maxRequestBytes), ingestor: ingestor, logger: logger)
    let jaegerGRPC = JaegerGRPCSink(configuration: .init(address: loopback, maxRequestBytes: maxRequestBytes), store: store, recorder: recorder, logger: logger)
    let jaegerThrift = JaegerThriftHTTPSink(
        configuration: .init(address: loopback, maxRequestBytes: maxRequestBytes),
        store: store,
        recorder: recorder,
        logger: logger
    )
    let jaegerQuery = JaegerQueryAPI(configuration: .init(address: loopback), store: store, logger: logger)
    let remoteWrite = RemoteWriteReceiver(
        configuration: .init(address: loopback, maxRequestBytes: maxRequestBytes),
        store: store,
        recorder: recorder,
        readAPI: PrometheusQueryAPI(store: store),
        logger: logger
    )
    let exposition = PrometheusExposition(
        configuration: .init(address: loopback, namespace: namespace, constantLabels: constantLabels),
        store: store,
        logger: logger
    )
    let elasticsearch = ElasticsearchSink(
        configuration: .init(address: loopback, maxRequestBytes: maxRequestBytes),
        store: store,
        recorder: recorder,
        logger: logger
    )
    let services: [any Service] = [otlpGRPC, otlpHTTP, jaegerGRPC, jaegerThrift, jaegerQuery, remoteWrite, exposition, elasticsearch]
    try await withServices(services, logger: logger) {
        let running = RunningSinks(
            store: store,
            otlpGRPCPort: try await otlpGRPC.boundAddress.value().port,
            otlpHTTPPort: try await otlpHTTP.boundAddress.value().port,
            jaegerGRPCPort: try await jaegerGRPC.boundAddress.value().port,
            jaegerThriftPort: try await jaegerThrift.boundAddress.value().port,
            jaegerQueryPort: try await jaegerQuery.boundAddress.value().port,
            remoteWritePort: try await remoteWrite.boundAddress.value().port,
            expositionPort: try await exposition.boundAddress.value().port,
            elasticsearchPort: try await elasticsearch.boundAddress.value().port
        )
        try await body(running)
    }
}

extension RunningSinks {
    /// POSTs `body` to the remote-write receiver, with the protocol's headers unless told otherwise.
    package func remoteWrite(
        _ body: [UInt8],
        contentType: String? = "application/x-protobuf",
        headers: [(String, String)] = remoteWriteHeaders
    ) async throws -> HTTPAnswer {
        try await send(port: remoteWritePort, "/api/v1/write", contentType: contentType, headers: headers, body: body)
    }
}

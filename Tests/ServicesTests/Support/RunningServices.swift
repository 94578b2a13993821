import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Scenario
import ServiceLifecycle
import Services
import Synchronization
import Telemetry
import TestSupport
import Testing

/// A configuration for tests: fast exports, a fixed seed, export to `intake` over `transport`.
func testConfiguration(
    intake: RunningIntake,
    transport: OTLPProtocol = .grpc
) throws -> ServicesConfiguration {
    var configuration = ServicesConfiguration(taxonomy: try cfCoreTaxonomy())
    configuration.export.transport = transport
    configuration.export.endpoint = transport == .grpc ? intake.grpcEndpoint : intake.httpEndpoint
    configuration.export.metricsExportInterval = .milliseconds(100)
    configuration.export.spanExportDelay = .milliseconds(20)
    configuration.randomSeed = 7
    return configuration
}

/// The running family, with a small HTTP client for the tests.
struct RunningServices: Sendable {
    let family: CFCoreServices
    let urls: [CFCoreService: String]

    /// A plain HTTP answer.
    struct Answer: Sendable {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }

        /// The body as a JSON object.
        func json() throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], "not a JSON object: \(text)")
        }

        /// The `error.message` of a Hummingbird error answer.
        var errorMessage: String? {
            guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
                let error = object["error"] as? [String: Any]
            else { return nil }
            return error["message"] as? String
        }
    }

    func url(_ service: CFCoreService, _ path: String) -> String { urls[service]! + path }

    /// Sends one request and collects the answer.
    func send(
        _ method: HTTPMethod,
        _ service: CFCoreService,
        _ path: String,
        body: String? = nil,
        headers: [(String, String)] = []
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url(service, path))
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let collected = try await response.body.collect(upTo: 16 << 20)
        var headerMap: [String: String] = [:]
        for header in response.headers { headerMap[header.name.lowercased()] = header.value }
        return Answer(status: Int(response.status.code), headers: headerMap, body: Array(buffer: collected))
    }
}

/// Runs the family in this process (no process-global bootstrap: every service has its own tracer and metrics
/// factory) on ports 127.0.0.1:0, and always shuts it down — flushing telemetry — even when `body` throws.
func withServices(
    _ configuration: ServicesConfiguration,
    _ body: @Sendable (RunningServices) async throws -> Void
) async throws {
    var logger = Logger(label: "test.services")
    logger.logLevel = .critical
    let family = try CFCoreServices(configuration: configuration, logger: logger)
    let group = ServiceGroup(services: [family], logger: logger)
    try await withThrowingTaskGroup { tasks in
        tasks.addTask { try await group.run() }
        do {
            var urls: [CFCoreService: String] = [:]
            for service in CFCoreService.allCases { urls[service] = try await family.baseURL(of: service) }
            try await body(RunningServices(family: family, urls: urls))
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

/// Waits until `condition` holds on the store, polling; gives up after `limit` and returns false. Export is
/// asynchronous, so tests wait for what they expect and then assert on it — never on how long it took.
func eventually(_ limit: Duration = .seconds(30), _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: limit)
    while clock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

/// A fresh, valid W3C trace id and parent id.
struct TestTraceParent {
    var traceID: TraceID
    var parentID: SpanID
    var sampled: Bool = true

    static func random(sampled: Bool = true) -> TestTraceParent {
        TestTraceParent(
            traceID: TraceID(high: UInt64.random(in: 1...UInt64.max), low: UInt64.random(in: 1...UInt64.max)),
            parentID: SpanID(value: UInt64.random(in: 1...UInt64.max)),
            sampled: sampled
        )
    }

    var header: String { "00-\(traceID.hex)-\(parentID.hex)-\(sampled ? "01" : "00")" }
}

extension TelemetryStore {
    /// The spans of one service.
    func spans(ofService serviceName: String) -> [Telemetry.Span] {
        spans.filter { $0.resource.serviceName == serviceName }
    }

    /// The series of one metric.
    func series(named name: String) -> [MetricSeries] { series.filter { $0.name == name } }
}

/// A value a `@Sendable` test body hands back to its caller.
final class Captured<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ initial: Value) { storage = Mutex(initial) }
    var value: Value {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}

import Foundation
import Intake
import Logging
import ServiceLifecycle
import Telemetry

// Adapted from Tests/IntakeTests/Support/RunningIntake.swift: the intake the services export to.

/// An intake (OTLP/gRPC + OTLP/HTTP) listening on ephemeral loopback ports for one test.
struct RunningIntake: Sendable {
    let store: TelemetryStore
    let grpcPort: Int
    let httpPort: Int

    var grpcEndpoint: String { "http://127.0.0.1:\(grpcPort)" }
    var httpEndpoint: String { "http://127.0.0.1:\(httpPort)" }
}

/// Runs `body` against a fresh intake on ports 127.0.0.1:0 and always shuts it down, even when `body` throws.
func withIntake(_ body: @Sendable (RunningIntake) async throws -> Void) async throws {
    var logger = Logger(label: "test.intake")
    logger.logLevel = .critical
    let store = TelemetryStore(limits: .init(maxStoredBytes: 1 << 30))
    let ingestor = OTLPIngestor(store: store, recorder: nil, logger: logger)
    let loopback = ListenAddress(host: "127.0.0.1", port: 0)
    let grpc = OTLPGRPCReceiver(configuration: .init(address: loopback, maxRequestBytes: 64 << 20), ingestor: ingestor, logger: logger)
    let http = OTLPHTTPReceiver(configuration: .init(address: loopback, maxRequestBytes: 64 << 20), ingestor: ingestor, logger: logger)
    let group = ServiceGroup(services: [grpc, http], logger: logger)
    try await withThrowingTaskGroup { tasks in
        tasks.addTask { try await group.run() }
        do {
            let running = RunningIntake(
                store: store, grpcPort: try await grpc.boundAddress.value().port, httpPort: try await http.boundAddress.value().port
            )
            try await body(running)
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

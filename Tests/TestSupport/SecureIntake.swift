package import Harness
package import Intake
import Logging
package import Scenario
import ServiceLifecycle
package import Telemetry

/// The whole intake as `otelbench receive` starts it (the OTLP receivers and every sink), with TLS and a token,
/// on loopback ports of its choosing.
package struct RunningSecureIntake: Sendable {
    package let store: TelemetryStore
    package let endpoints: IntakeServers.Endpoints

    /// Where `kind` listens.
    package func port(of kind: SinkKind) -> Int { endpoints.sinks.first { $0.kind == kind }?.address.port ?? 0 }
}

/// Runs `body` with the OTLP receivers and every sink listening with `security` on 127.0.0.1, and always shuts
/// them down, even when `body` throws.
package func withSecureIntake(security: ListenerSecurity, _ body: @Sendable (RunningSecureIntake) async throws -> Void) async throws {
    var logger = Logger(label: "test.secure-intake")
    logger.logLevel = .critical
    let store = TelemetryStore()
    let loopback = ListenAddress(host: "127.0.0.1", port: 0)
    let intake = IntakeServers(
        otlpGRPC: loopback,
        otlpHTTP: loopback,
        sinks: Dictionary(uniqueKeysWithValues: SinkKind.allCases.map { ($0, loopback) }),
        security: security,
        store: store,
        recorder: nil,
        logger: logger
    )
    try await withServices(intake.services, logger: logger) {
        try await body(RunningSecureIntake(store: store, endpoints: try await intake.listening()))
    }
}

package import Logging
package import ServiceLifecycle

/// Runs `services` in a `ServiceGroup` for as long as `body` runs, then shuts them down gracefully (draining
/// what is in flight) and waits for them, also when `body` throws.
///
/// Signals are not trapped here: the caller decides what a signal means (``Interruptible``).
///
/// ```swift
/// let report = try await withServices([grpcReceiver, httpReceiver], logger: logger) {
///     try await driver.run()
/// }
/// ```
package func withServices<Result: Sendable>(
    _ services: [any Service],
    logger: Logger,
    _ body: () async throws -> Result
) async throws -> Result {
    guard !services.isEmpty else { return try await body() }
    let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { tasks in
        tasks.addTask { try await group.run() }
        let result: Result
        do {
            result = try await body()
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
        // Graceful shutdown drains the servers; cancelling them instead would cut connections mid-request.
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return result
    }
}

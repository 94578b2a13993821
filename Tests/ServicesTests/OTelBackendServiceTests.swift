import Logging
import ServiceLifecycle
import Testing

@testable import Services

/// The wrapper around swift-otel's background services accepts swift-otel 1.6.0's shutdown race and nothing else.
@Suite struct OTelBackendServiceTests {
    /// Stands in for swift-otel's nested group: finishes with `error` after graceful shutdown (or at once).
    struct FailingService: Service {
        var error: any Error
        var waitForShutdown: Bool
        var started: AsyncStream<Void>.Continuation
        func run() async throws {
            started.yield()
            if waitForShutdown { try? await gracefulShutdown() }
            throw error
        }
    }

    struct Unrelated: Error {}

    /// Runs the wrapped service in a group; once it has started, and only if it waits for it, shuts down.
    func run(error: any Error, waitForShutdown: Bool) async throws {
        var logger = Logger(label: "test.backend")
        logger.logLevel = .critical
        let started = AsyncStream<Void>.makeStream()
        let service = FailingService(error: error, waitForShutdown: waitForShutdown, started: started.continuation)
        let group = ServiceGroup(services: [OTelBackendService(base: service)], logger: logger)
        try await withThrowingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            var iterator = started.stream.makeAsyncIterator()
            await iterator.next()
            if waitForShutdown { await group.triggerGracefulShutdown() }
            try await tasks.waitForAll()
        }
    }

    @Test func theRaceDuringShutdownIsAccepted() async throws {
        try await run(error: ServiceGroupError.serviceFinishedUnexpectedly(), waitForShutdown: true)
    }

    @Test func otherErrorsDuringShutdownAreRethrown() async throws {
        await #expect(throws: Unrelated.self) {
            try await run(error: Unrelated(), waitForShutdown: true)
        }
    }

    @Test func theSameErrorBeforeShutdownIsRethrown() async throws {
        await #expect(throws: ServiceGroupError.self) {
            try await run(error: ServiceGroupError.serviceFinishedUnexpectedly(), waitForShutdown: false)
        }
    }
}

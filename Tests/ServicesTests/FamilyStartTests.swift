import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

@testable import Services

/// How the family's start fails: at once, with the bind error, every time.
@Suite struct FamilyStartTests {
    /// A port in use ends the family's run with that error, every time.
    ///
    /// Before the exporters waited for the servers, about 1 bind failure in 30 left swift-otel's metrics backend,
    /// cancelled while still starting, waiting for ever on its final export (a hung `portInUseExitsWithCode2` in
    /// CI). Without the gate, sixty attempts found that hang in two runs of three; each attempt takes about 30 ms.
    @Test func aPortInUseEndsTheRunEveryTime() async throws {
        var logger = Logger(label: "test.family-start")
        logger.logLevel = .critical
        try await HeaderRecorder().run { [logger] url in
            let takenPort = try #require(URLComponents(string: url)?.port)
            try await Self.failToStart(on: takenPort, logger: logger)
        }
    }

    /// Starts the family on `takenPort` as `otelbench services` does (a ServiceGroup; on the bind failure, graceful
    /// shutdown, then cancellation), sixty times.
    static func failToStart(on takenPort: Int, logger: Logger) async throws {
        for attempt in 1...60 {
            var configuration = ServicesConfiguration(taxonomy: try cfCoreTaxonomy())
            configuration.export.endpoint = "http://127.0.0.1:1"  // nothing listens there; nothing must be sent
            configuration.export.metricsExportInterval = .milliseconds(100)
            let family = try CFCoreServices(configuration: configuration, ports: [.tasks: takenPort], logger: logger)
            let bindFailure = Mutex<String?>(nil)
            let outcome = await Self.finishes(within: .seconds(60)) {
                let group = ServiceGroup(services: [family], logger: logger)
                try await withThrowingTaskGroup { tasks in
                    tasks.addTask { try await group.run() }
                    do {
                        _ = try await family.baseURL(of: .tasks)
                    } catch {
                        bindFailure.withLock { $0 = "\(error)" }
                    }
                    await group.triggerGracefulShutdown()
                    tasks.cancelAll()
                    try await tasks.waitForAll()
                }
            }
            let failure = bindFailure.withLock { $0 }
            #expect(failure?.contains("Address already in use") == true, "attempt \(attempt): \(failure ?? "the family listened")")
            switch outcome {
            case .returned: Issue.record("attempt \(attempt): the family ran although port \(takenPort) is taken")
            case .threw(let error): #expect("\(error)".contains("Address already in use"), "attempt \(attempt): \(error)")
            case .hung:
                Issue.record("attempt \(attempt): the family did not stop within 60 s of a failed bind")
                return
            }
        }
    }

    enum Outcome {
        case returned
        case threw(any Error)
        case hung
    }

    /// Runs `body` in a task of its own and waits at most `limit` for it: a hang fails the test instead of the suite
    /// (a task that ignores cancellation cannot be waited for in a task group).
    static func finishes(within limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async -> Outcome {
        let result = Mutex<Result<Void, any Error>?>(nil)
        let task = Task {
            do {
                try await body()
                result.withLock { $0 = .success(()) }
            } catch {
                result.withLock { $0 = .failure(error) }
            }
        }
        guard await eventually(limit, { result.withLock { $0 != nil } }) else {
            task.cancel()
            return .hung
        }
        switch result.withLock({ $0 }) {
        case .success, nil: return .returned
        case .failure(let error): return .threw(error)
        }
    }
}

import UnixSignals
package import Workload

/// Runs the workload until it ends or SIGINT/SIGTERM arrives; on a signal the workload is cancelled and what
/// it did so far is returned, marked interrupted.
package enum Interruptible {
    package static func run(_ body: @escaping @Sendable () async throws -> DriverReport) async throws -> DriverReport {
        try await withThrowingTaskGroup(of: DriverReport?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
                return nil
            }
            while let finished = try await group.next() {
                if var report = finished {
                    group.cancelAll()
                    if Task.isCancelled { report.interrupted = true }
                    return report
                }
                // A signal: stop the workload; its partial report follows.
                group.cancelAll()
            }
            return DriverReport(interrupted: true)
        }
    }
}

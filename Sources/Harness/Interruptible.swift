import Foundation
import Synchronization
import UnixSignals
package import Workload

/// SIGINT and SIGTERM over a whole run, at whatever stage it is: the first signal marks the run interrupted and
/// ends the current wait early (the workload stops, settling stops), and the run still judges what it has and
/// writes its reports, marked interrupted; a second signal ends the process at once (the recording is readable
/// up to its last complete entry).
///
/// ```swift
/// try await RunInterruption.trapping { interruption in
///     let report = try await interruption.cancelling { try await driver.run() }
/// }
/// ```
package final class RunInterruption: Sendable {
    private struct State {
        var signal: String?
        var stage = "starting"
        /// The stage the signal came in.
        var interruptedStage: String?
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())
    /// The stage at which ``init(signalAt:)`` interrupts.
    private let simulatedStage: String?

    package init() { simulatedStage = nil }

    /// An interruption that comes as the run enters `stage` (`starting`, `driving`, `settling`, `judging`,
    /// `writing reports`), as a signal at that moment would: how tests reach every stage without racing a clock.
    package init(signalAt stage: String) { simulatedStage = stage }

    /// Runs `body` while SIGINT and SIGTERM are trapped and fed to an interruption.
    package static func trapping<Result: Sendable>(_ body: (RunInterruption) async throws -> Result) async throws -> Result {
        let interruption = RunInterruption()
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
            group.addTask {
                var count = 0
                for await signal in signals {
                    count += 1
                    if count > 1 {
                        FileHandle.standardError.write(Data("second \(signal): stopping now\n".utf8))
                        exit(1)
                    }
                    interruption.interrupt(by: "\(signal)")
                }
            }
            defer { group.cancelAll() }
            return try await body(interruption)
        }
    }

    /// Marks the run interrupted (what a signal does) and wakes whatever waits for it.
    package func interrupt(by signal: String) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard state.signal == nil else { return [] }
            state.signal = signal
            state.interruptedStage = state.stage
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The stage the run is in, for the report of an interruption.
    package func enter(_ stage: String) {
        state.withLock { $0.stage = stage }
        if stage == simulatedStage { interrupt(by: "SIGTERM") }
    }

    /// Whether a signal came.
    package var isInterrupted: Bool { state.withLock { $0.signal != nil } }

    /// `SIGTERM while settling`, once interrupted.
    package var description: String? { state.withLock { state in state.signal.map { "\($0) while \(state.interruptedStage ?? state.stage)" } } }

    /// Returns once interrupted (at once if already), or when the task is cancelled.
    package func wait() async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if state.signal != nil || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Runs the workload until it ends or the run is interrupted; then it is cancelled and what it did so far is
    /// returned, marked interrupted.
    package func cancelling(_ body: @escaping @Sendable () async throws -> DriverReport) async throws -> DriverReport {
        if isInterrupted { return DriverReport(interrupted: true) }
        return try await withThrowingTaskGroup(of: DriverReport?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                await self.wait()
                return nil
            }
            while let finished = try await group.next() {
                if var report = finished {
                    group.cancelAll()
                    if self.isInterrupted { report.interrupted = true }
                    return report
                }
                // Interrupted: stop the workload; its partial report follows.
                group.cancelAll()
            }
            return DriverReport(interrupted: true)
        }
    }
}

/// Runs the workload until it ends or SIGINT/SIGTERM arrives; on a signal the workload is cancelled and what
/// it did so far is returned, marked interrupted. (A shard's drive; a whole run uses ``RunInterruption``.)
package enum Interruptible {
    package static func run(_ body: @escaping @Sendable () async throws -> DriverReport) async throws -> DriverReport {
        try await RunInterruption.trapping { interruption in try await interruption.cancelling(body) }
    }
}

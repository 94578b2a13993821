import Foundation
package import Logging
package import ServiceLifecycle
import Telemetry

/// Gives the memory that malloc keeps after frees back to the system, every ``interval`` while requests arrive
/// and once more in the first quiet interval after them, so that the receiver's resident memory follows what it
/// retains (the memory limit) rather than its highest point.
///
/// The quiet trim is for what is freed after the last request is counted: buffers of requests refused or
/// answered last, of connections that close when the load stops. Without it, a receiver kept the memory of its
/// busiest moment for as long as it stayed idle.
///
/// glibc's malloc keeps freed memory in the arena of the thread that allocated it and returns it to the system
/// only from the top of the heap. Under churn (spans stored, then evicted at the memory limit, by several event
/// loops) that held 45 MB beside 68 MB in use, with `--memory-limit 64MiB`: `malloc_trim(0)` gave all but 5 MB
/// of it back. Where malloc has no `malloc_trim` (not glibc) this does nothing.
package struct FreedMemoryReturner: Service {
    /// How often by default: a trim walks malloc's free lists, a few milliseconds for a heap of hundreds of MB.
    package static let defaultInterval = Duration.seconds(2)

    private let interval: Duration
    private let changes: @Sendable () -> Int
    private let trim: (@Sendable () -> Void)?
    private let logger: Logger

    /// - Parameters:
    ///   - changes: a count that moves whenever memory was allocated or freed for requests (items accepted plus
    ///     items evicted, say): an idle receiver is not trimmed again and again.
    ///   - trim: what gives the memory back (tests count the calls); by default `malloc_trim(0)`.
    package init(
        interval: Duration = defaultInterval,
        changes: @escaping @Sendable () -> Int,
        trim: (@Sendable () -> Void)? = systemTrim,
        logger: Logger
    ) {
        self.interval = interval
        self.changes = changes
        self.trim = trim
        self.logger = logger
    }

    /// Trims after every ``interval`` in which `changes` moved, and after the first interval in which it stopped
    /// moving, until graceful shutdown.
    package func run() async throws {
        guard let trim else {
            try? await gracefulShutdown()
            return
        }
        var seen = changes()
        var movedSinceLastQuietTrim = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            let now = changes()
            if now != seen {
                seen = now
                movedSinceLastQuietTrim = true
            } else if movedSinceLastQuietTrim {
                movedSinceLastQuietTrim = false
            } else {
                continue
            }
            let took = ContinuousClock().measure(trim)
            logger.debug("returned freed memory to the system", metadata: ["took": "\(took)"])
        }
    }

    /// `malloc_trim(0)` (``Telemetry/FreedMemory``), when malloc has it.
    package static var systemTrim: (@Sendable () -> Void)? {
        guard FreedMemory.canReturn else { return nil }
        return { @Sendable in FreedMemory.returnToSystem() }
    }
}

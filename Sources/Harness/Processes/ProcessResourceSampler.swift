package import Checks
import Scenario
import Synchronization

/// Samples the CPU and resident memory of each process under test, and of its descendants (the command may be
/// a wrapper: `sh -c`, a launcher script, a runtime that forks workers), once a second from its start until it
/// has ended — startup, the workload and the flush after the stop signal alike — from `/proc/PID/stat` and
/// `/proc/PID/status` (see ``ProcessTreeReading`` for how children that come and go are counted).
///
/// Each sample is one ``ProcessResourceUsage/Sample`` (32 bytes) per process per second, about 112 KiB per
/// process per hour, kept whole so that the ceilings' average, p99 and peak are exact; one scan of `/proc`
/// serves every process at each tick.
///
/// ```swift
/// let sampler = ProcessResourceSampler()
/// sampler.track(name: "billing", pid: pid, startedAt: startedAt)
/// await withTaskGroup(of: Void.self) { group in
///     group.addTask { await sampler.run() }
///     // ... the run ...
///     group.cancelAll()
/// }
/// print(sampler.usage["billing"]?.rssPeakBytes ?? 0)
/// ```
package final class ProcessResourceSampler: Sendable {
    /// One process being sampled.
    struct Tracked {
        var name: String
        var pid: Int32
        var startedAt: ContinuousClock.Instant
        /// The root's `starttime` at the first reading: a different one means the pid now names another process.
        var rootStartTicks: UInt64?
        /// The tree's CPU ticks at the last sample (0 at the start: the first sample covers the whole start-up).
        var lastTicks: UInt64 = 0
        var lastAt: ContinuousClock.Instant
        var samples: [ProcessResourceUsage.Sample] = []
        var ended = false
    }

    /// Time between samples. Default one second.
    let interval: Duration
    /// Where `/proc` is (tests may point elsewhere).
    let procRoot: String
    private let tracked = Mutex<[Tracked]>([])

    package init(interval: Duration = .seconds(1), procRoot: String = "/proc") {
        self.interval = interval
        self.procRoot = procRoot
    }

    /// Samples `pid` (and its descendants) under `name` from now on; `startedAt` is when it was spawned.
    package func track(name: String, pid: Int32, startedAt: ContinuousClock.Instant) {
        tracked.withLock { $0.append(Tracked(name: name, pid: pid, startedAt: startedAt, lastAt: startedAt)) }
    }

    /// Samples every process once a second until the task is cancelled. A tick that comes late (a loaded
    /// machine) measures the time it actually covers, and the ticks missed meanwhile are skipped.
    package func run() async {
        let clock = ContinuousClock()
        var next = clock.now + interval
        while !Task.isCancelled {
            do { try await clock.sleep(until: next) } catch { return }
            sample(at: clock.now)
            next += interval
            if next <= clock.now { next = clock.now + interval }
        }
    }

    /// Takes one sample of every process still running. A process whose last sample is less than half an
    /// interval old waits for the next tick, so that no sample measures CPU over a sliver of time (one clock
    /// tick over 50 ms would read as 20% of a core).
    package func sample(at now: ContinuousClock.Instant = .now) {
        guard tracked.withLock({ $0.contains { !$0.ended } }) else { return }
        let stats = ProcessTreeReading.scan(procRoot: procRoot)
        tracked.withLock { processes in
            for index in processes.indices where !processes[index].ended {
                var process = processes[index]
                defer { processes[index] = process }
                let elapsed = (now - process.lastAt).inSeconds
                guard elapsed >= interval.inSeconds / 2 else { continue }
                guard let reading = ProcessTreeReading.of(root: process.pid, in: stats, procRoot: procRoot),
                    process.rootStartTicks == nil || process.rootStartTicks == reading.rootStartTicks
                else {
                    process.ended = true
                    continue
                }
                process.rootStartTicks = reading.rootStartTicks
                // Time that left the tree (an orphan reaped by init) would make this negative: counted as none.
                let ticks = reading.cpuTicks >= process.lastTicks ? reading.cpuTicks - process.lastTicks : 0
                process.samples.append(
                    ProcessResourceUsage.Sample(
                        second: (now - process.startedAt).inSeconds,
                        cpuPercent: Double(ticks) / ProcessTreeReading.ticksPerSecond / elapsed * 100,
                        rssBytes: reading.rssBytes,
                        processes: Int32(clamping: reading.processes)
                    )
                )
                process.lastTicks = reading.cpuTicks
                process.lastAt = now
            }
        }
    }

    /// What each process used so far, by name (a process that ended before its first sample has none).
    package var usage: [String: ProcessResourceUsage] {
        tracked.withLock { processes in
            Dictionary(processes.map { ($0.name, ProcessResourceUsage(name: $0.name, samples: $0.samples)) }) { first, _ in first }
        }
    }
}

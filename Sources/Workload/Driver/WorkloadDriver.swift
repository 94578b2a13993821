import Foundation
package import Scenario
import Synchronization

/// Drives services with a scenario's workload: open-loop arrivals by the clock (latency measured from the
/// *intended* send time, so a stalled service shows in the percentiles instead of hiding — no coordinated
/// omission), or closed-loop users; every request carries a trace context the driver chose and records.
///
/// ```swift
/// let driver = WorkloadDriver(workload: scenario.workload, targets: ["tasks": "http://127.0.0.1:8080"])
/// let report = try await driver.run()
/// ```
package struct WorkloadDriver: Sendable {
    package let workload: WorkloadSection
    /// Base URL per service name.
    package let targets: [String: String]
    /// Multiplies every phase's duration (`--duration-scale`).
    package let durationScale: Double
    package let seed: UInt64
    /// Called about once a second with the progress so far.
    package let progress: (@Sendable (DriverProgress) -> Void)?
    /// Told of every request as it is sent and as it ends; the driver keeps none of them.
    package let observer: (any RequestObserver)?
    /// The part of the schedule this driver sends (all of it by default).
    package let shard: Shard
    /// CAs trusted for `https` targets besides the system's (`--target-ca`); `nil`: the system's only.
    package let trust: TargetTrust?

    /// The seed every run uses unless told otherwise: the same scenario sends the same requests.
    package static let defaultSeed: UInt64 = 0x0be1_c4

    package init(
        workload: WorkloadSection,
        targets: [String: String],
        durationScale: Double = 1,
        seed: UInt64 = WorkloadDriver.defaultSeed,
        shard: Shard = .whole,
        observer: (any RequestObserver)? = nil,
        progress: (@Sendable (DriverProgress) -> Void)? = nil,
        trust: TargetTrust? = nil
    ) {
        self.trust = trust
        self.workload = workload
        self.targets = targets
        self.durationScale = durationScale
        self.seed = seed
        self.shard = shard
        self.observer = observer
        self.progress = progress
    }

    /// Runs every phase in order; cancellation stops the workload early and still returns what ran.
    package func run() async throws -> DriverReport {
        let connections = try DriverConnections(targets: targets, connections: workload.connections, trust: trust)
        let live = LiveCounters(loops: connections.loops.count)
        var report = DriverReport()
        var random = SeededRandom(seed: seed)
        let start = ContinuousClock.now
        let planned = workload.phases.reduce(Duration.zero) { $0 + $1.duration * durationScale }
        let timeline = LatencyTimeline(start: start, windowSeconds: LatencyOverTime.windowSeconds(forPlanned: planned))
        for phase in workload.phases {
            if Task.isCancelled {
                report.interrupted = true
                break
            }
            let scaled = phase.duration * durationScale
            let result = await runPhase(phase, duration: scaled, connections: connections, random: &random, live: live, runStart: start, timeline: timeline)
            report.phases.append(result)
        }
        if Task.isCancelled { report.interrupted = true }
        report.latencyOverTime = timeline.finish()
        await connections.shutdown()
        return report
    }

    private func runPhase(
        _ phase: Phase,
        duration: Duration,
        connections: DriverConnections,
        random: inout SeededRandom,
        live: LiveCounters,
        runStart: ContinuousClock.Instant,
        timeline: LatencyTimeline
    ) async -> PhaseReport {
        let phaseStart = ContinuousClock.now
        var phaseRandom = SeededRandom(seed: random.next())
        let requestPicker = RequestPicker(requests: workload.requests)
        let closedLoop: Bool
        if case .closed = phase.arrival { closedLoop = true } else { closedLoop = false }
        let tallies = PhaseTallies(
            phase: phase.name,
            runStart: runStart,
            observer: observer,
            latencyTimeline: timeline,
            recordsLateness: !closedLoop,
            loops: connections.loops.count
        )
        let context = PhaseContext(
            connections: connections,
            timeout: workload.timeout,
            live: live,
            observer: observer,
            tallies: tallies,
            outstanding: Outstanding()
        )
        var droppedSlots = 0
        var scheduled = 0

        let progressTask = progress.map { progress in
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    if Task.isCancelled { break }
                    let elapsed = ContinuousClock.now - phaseStart
                    progress(live.snapshot(phase: phase.name, elapsed: elapsed, total: duration, targetRate: phase.arrival.rate(at: elapsed, of: duration)))
                }
            }
        }
        defer { progressTask?.cancel() }

        if let arrivals = phase.arrival.arrivals(over: duration, random: SeededRandom(seed: phaseRandom.next())) {
            let slotRandom = SeededRandom(seed: phaseRandom.next())
            let outcome = await OpenLoopScheduler(context: context, shard: shard, picker: requestPicker, random: slotRandom)
                .run(arrivals: arrivals, phaseStart: phaseStart)
            scheduled = outcome.scheduled
            droppedSlots = outcome.dropped
        } else if case .closed(let users, let thinkTime) = phase.arrival {
            let seeds = (0..<users).map { _ in phaseRandom.next() }
            await ClosedLoopUsers(context: context, picker: requestPicker, thinkTime: thinkTime, end: phaseStart + duration)
                .run(seeds: (0..<users).filter { shard.owns($0) }.map { seeds[$0] })
            scheduled = tallies.snapshot.sentCount
        }

        let merged = tallies.snapshot
        let elapsed = ContinuousClock.now - phaseStart
        return PhaseReport(
            name: phase.name,
            plannedDuration: duration,
            elapsed: elapsed,
            scheduled: scheduled,
            droppedSlots: droppedSlots,
            requests: merged.byRequest.mapValues { $0.report },
            latencies: merged.byRequest.mapValues { $0.latency },
            sentCount: merged.sentCount,
            sendSpan: merged.sendSpan,
            timeline: merged.timeline,
            sendLateness: closedLoop ? nil : merged.lateness.summary
        )
    }
}

/// One scheduled request.
struct Slot: Sendable {
    var intended: ContinuousClock.Instant
    var request: PreparedRequest
    var trace: SentTraceContext
    var index: Int
}

/// Picks request templates by weight.
struct RequestPicker: Sendable {
    let requests: [PreparedRequest]
    let cumulative: [Double]

    init(requests: [RequestTemplate]) {
        self.requests = requests.enumerated().map { PreparedRequest($1, index: $0) }
        var total = 0.0
        cumulative = requests.map {
            total += $0.weight
            return total
        }
    }

    func pick(_ random: inout SeededRandom) -> PreparedRequest {
        let point = random.unitInterval() * (cumulative.last ?? 1)
        let index = cumulative.firstIndex { point <= $0 } ?? (requests.count - 1)
        return requests[index]
    }
}

/// `{{counter}}` (the request's index in its phase), `{{uuid}}`, `{{trace_id}}`, `{{random:N}}` (0..<N).
enum Placeholders {
    /// Whether `text` has anything to render (a byte scan first: most paths and bodies have none, and
    /// Foundation's search is slow per request).
    static func hasPlaceholder(_ text: String) -> Bool {
        text.utf8.contains(UInt8(ascii: "{")) && text.contains("{{")
    }

    static func render(_ text: String, index: Int, traceID: String) -> String {
        guard hasPlaceholder(text) else { return text }
        var result = text.replacingOccurrences(of: "{{counter}}", with: String(index))
            .replacingOccurrences(of: "{{trace_id}}", with: traceID)
        while let range = result.range(of: "{{uuid}}") { result.replaceSubrange(range, with: UUID().uuidString.lowercased()) }
        while let open = result.range(of: "{{random:"), let close = result[open.upperBound...].range(of: "}}") {
            let bound = Int(result[open.upperBound..<close.lowerBound]) ?? 1
            result.replaceSubrange(open.lowerBound..<close.upperBound, with: String(Int.random(in: 0..<max(1, bound))))
        }
        return result
    }
}

import Scenario
import Synchronization

/// How one request ended, by class.
package enum RequestOutcome: String, Sendable, Codable, CaseIterable {
    case ok
    case clientError = "4xx"
    case serverError = "5xx"
    case timeout
    case connectionError = "connect"

    /// The case's place in ``allCases``: where per-outcome counts are kept.
    var ordinal: Int {
        switch self {
        case .ok: 0
        case .clientError: 1
        case .serverError: 2
        case .timeout: 3
        case .connectionError: 4
        }
    }
}

/// One request the driver sent: what the checks need to find its trace.
package struct SentRequest: Sendable, Codable, Hashable {
    package var name: String
    package var phase: String
    /// Seconds from the start of the run to the intended send time.
    package var intendedOffsetSeconds: Double
    /// Seconds from the start of the run to when the request really left (later than intended when the driver
    /// had to queue it).
    package var sentOffsetSeconds: Double
    package var latencySeconds: Double
    package var outcome: RequestOutcome
    package var status: Int?
    package var traceID: String
    package var spanID: String
    package var sampled: Bool
    package var tracestate: String?
    package var invalidCase: String?
    package var propagated: Bool

    package init(
        name: String,
        phase: String,
        intendedOffsetSeconds: Double,
        sentOffsetSeconds: Double,
        latencySeconds: Double,
        outcome: RequestOutcome,
        status: Int?,
        traceID: String,
        spanID: String,
        sampled: Bool,
        tracestate: String?,
        invalidCase: String?,
        propagated: Bool
    ) {
        self.name = name
        self.phase = phase
        self.intendedOffsetSeconds = intendedOffsetSeconds
        self.sentOffsetSeconds = sentOffsetSeconds
        self.latencySeconds = latencySeconds
        self.outcome = outcome
        self.status = status
        self.traceID = traceID
        self.spanID = spanID
        self.sampled = sampled
        self.tracestate = tracestate
        self.invalidCase = invalidCase
        self.propagated = propagated
    }
}

/// Counts and latencies of one request name in one phase.
package struct RequestReport: Sendable, Codable {
    package var count: Int
    package var outcomes: [String: Int]
    /// Client-side latency from the intended send time.
    package var latency: LatencySummary

    package init(count: Int, outcomes: [String: Int], latency: LatencySummary) {
        self.count = count
        self.outcomes = outcomes
        self.latency = latency
    }
}

/// One phase as it ran.
package struct PhaseReport: Sendable, Codable {
    package var name: String
    package var plannedDuration: Duration
    package var elapsed: Duration
    /// Requests the schedule called for.
    package var scheduled: Int
    /// Slots not sent because the driver itself fell behind (its queue was full).
    package var droppedSlots: Int
    package var requests: [String: RequestReport]
    /// Client-side latency per request name, from the intended send time, as histograms (mergeable, and
    /// precise to three significant digits).
    package var latencies: [String: LatencyRecorder]
    /// Requests sent (each ended in one of the outcomes).
    package var sentCount: Int
    /// Seconds from the run's start to the first and the last send (nil when nothing was sent).
    package var sendSpan: ClosedRange<Double>?
    /// Per second of the run: requests completed, and how many failed.
    package var timeline: [Int: TimelineBucket]
    /// Open loop: how late each request really left after its intended send time (the driver's scheduling
    /// error: timer precision, a busy event loop, or waiting for a free connection); nil for closed-loop users,
    /// who send when the previous answer arrives.
    package var sendLateness: LatencySummary?

    package init(
        name: String,
        plannedDuration: Duration,
        elapsed: Duration,
        scheduled: Int,
        droppedSlots: Int,
        requests: [String: RequestReport],
        latencies: [String: LatencyRecorder] = [:],
        sentCount: Int,
        sendSpan: ClosedRange<Double>? = nil,
        timeline: [Int: TimelineBucket],
        sendLateness: LatencySummary? = nil
    ) {
        self.name = name
        self.plannedDuration = plannedDuration
        self.elapsed = elapsed
        self.scheduled = scheduled
        self.droppedSlots = droppedSlots
        self.requests = requests
        self.latencies = latencies
        self.sentCount = sentCount
        self.sendSpan = sendSpan
        self.timeline = timeline
        self.sendLateness = sendLateness
    }

    /// Requests sent per second: the count over the time from the first send to the last (the rate the
    /// driver achieved, to compare with the schedule's).
    package var achievedRate: Double {
        guard let span = sendSpan, span.upperBound > span.lowerBound else { return 0 }
        return Double(sentCount - 1) / (span.upperBound - span.lowerBound)
    }
}

/// Requests that ended in one second of the run.
package struct TimelineBucket: Sendable, Codable, Hashable {
    package var completed = 0
    package var failed = 0

    package init(completed: Int = 0, failed: Int = 0) {
        self.completed = completed
        self.failed = failed
    }

    mutating func add(failed didFail: Bool) {
        completed += 1
        if didFail { failed += 1 }
    }
}

/// Everything the driver did.
package struct DriverReport: Sendable, Codable {
    package var phases: [PhaseReport] = []
    /// Ctrl-C or cancellation stopped the workload early.
    package var interrupted = false
    /// Client latency percentiles per second of the run, per request name (empty when nothing was sent).
    package var latencyOverTime = LatencyOverTime()

    package init(phases: [PhaseReport] = [], interrupted: Bool = false) {
        self.phases = phases
        self.interrupted = interrupted
    }

    /// Requests sent in every phase.
    package var sentCount: Int { phases.reduce(0) { $0 + $1.sentCount } }

    /// Client-side latencies per request name over every phase (or only `phase`'s).
    package func latencies(phase: String? = nil) -> [String: LatencyRecorder] {
        var merged: [String: LatencyRecorder] = [:]
        for one in phases where phase == nil || one.name == phase {
            for (name, latency) in one.latencies { merged[name, default: LatencyRecorder()].merge(latency) }
        }
        return merged
    }
}

/// Told of every request the driver sends, as it goes: what the checks that join requests with the spans they
/// caused (propagation, accounting) keep until they have judged them. The driver itself keeps no request.
///
/// Called from the driver's workers, concurrently.
package protocol RequestObserver: Sendable {
    /// Before the request leaves, with the trace context it carries: spans of that trace may arrive from now on.
    func sending(_ context: SentTraceContext, name: String)
    /// After the request ended (answered, timed out or failed to connect).
    func completed(_ request: SentRequest)
}

/// What one phase's requests came to: per request name a count, outcomes and a latency histogram, kept per event
/// loop (``PerLoopState``) and combined when read.
final class PhaseTallies: Sendable {
    struct PerRequest: Sendable {
        var count = 0
        /// Per ``RequestOutcome/ordinal``.
        var outcomeCounts = [Int](repeating: 0, count: RequestOutcome.allCases.count)
        var latency = LatencyRecorder()
        /// The outcomes that happened, by name.
        var outcomes: [String: Int] {
            Dictionary(
                uniqueKeysWithValues: RequestOutcome.allCases.compactMap { outcomeCounts[$0.ordinal] > 0 ? ($0.rawValue, outcomeCounts[$0.ordinal]) : nil }
            )
        }
        var report: RequestReport { RequestReport(count: count, outcomes: outcomes, latency: latency.summary) }

        mutating func add(_ outcome: RequestOutcome, latency duration: Duration) {
            count += 1
            outcomeCounts[outcome.ordinal] += 1
            latency.record(duration)
        }

        mutating func merge(_ other: PerRequest) {
            count += other.count
            for ordinal in outcomeCounts.indices { outcomeCounts[ordinal] += other.outcomeCounts[ordinal] }
            latency.merge(other.latency)
        }
    }

    struct Counts: Sendable {
        /// Per request template, at its ``PreparedRequest/index`` (`nil`: none of it yet); an array, so that
        /// counting a request hashes no name.
        var byTemplate: [(name: String, tally: PerRequest)?] = []
        var sentCount = 0
        var sendSpan: ClosedRange<Double>?
        var timeline: [Int: TimelineBucket] = [:]
        /// Send time minus intended time, over every request.
        var lateness = LatencyRecorder()

        /// Per request name (templates of one name together).
        var byRequest: [String: PerRequest] {
            var result: [String: PerRequest] = [:]
            for case let (name, tally)? in byTemplate { result[name, default: PerRequest()].merge(tally) }
            return result
        }

        mutating func add(_ request: PreparedRequest, _ outcome: RequestOutcome, latency: Duration) {
            if request.index >= byTemplate.count { byTemplate += Array(repeating: nil, count: request.index + 1 - byTemplate.count) }
            if byTemplate[request.index] == nil { byTemplate[request.index] = (request.template.name, PerRequest()) }
            byTemplate[request.index]!.tally.add(outcome, latency: latency)
        }

        mutating func merge(_ other: Counts) {
            if other.byTemplate.count > byTemplate.count { byTemplate += Array(repeating: nil, count: other.byTemplate.count - byTemplate.count) }
            for case let (index, (name, tally)?) in other.byTemplate.enumerated() {
                if byTemplate[index] == nil { byTemplate[index] = (name, PerRequest()) }
                byTemplate[index]!.tally.merge(tally)
            }
            sentCount += other.sentCount
            if let theirs = other.sendSpan {
                sendSpan = sendSpan.map { min($0.lowerBound, theirs.lowerBound)...max($0.upperBound, theirs.upperBound) } ?? theirs
            }
            timeline.merge(other.timeline) { TimelineBucket(completed: $0.completed + $1.completed, failed: $0.failed + $1.failed) }
            lateness.merge(other.lateness)
        }
    }

    let phase: String
    let runStart: ContinuousClock.Instant
    let observer: (any RequestObserver)?
    /// The run's latencies per second, when the driver keeps them.
    let latencyTimeline: LatencyTimeline?
    /// Whether sends have intended times to be late for (open loop).
    let recordsLateness: Bool
    private let counts: PerLoopState<Counts>

    init(
        phase: String,
        runStart: ContinuousClock.Instant,
        observer: (any RequestObserver)?,
        latencyTimeline: LatencyTimeline? = nil,
        recordsLateness: Bool = true,
        loops: Int = 1
    ) {
        counts = PerLoopState(loops: loops, initial: Counts())
        self.recordsLateness = recordsLateness
        self.phase = phase
        self.runStart = runStart
        self.observer = observer
        self.latencyTimeline = latencyTimeline
    }

    /// Counts one request that ended on event loop `loop`, and tells the observer.
    func record(slot: Slot, sentAt: ContinuousClock.Instant, outcome: RequestOutcome, status: Int?, end: ContinuousClock.Instant, loop: Int) {
        let latency = end - slot.intended
        let offset = slot.intended - runStart
        let sentOffset = (sentAt - runStart).inSeconds
        counts.withLock(loop: loop) { counts in
            counts.add(slot.request, outcome, latency: latency)
            let second = Int(offset.components.seconds)
            counts.timeline[second, default: TimelineBucket()].add(failed: outcome != .ok)
            counts.sentCount += 1
            if recordsLateness { counts.lateness.record(sentAt - slot.intended) }
            counts.sendSpan = counts.sendSpan.map { min($0.lowerBound, sentOffset)...max($0.upperBound, sentOffset) } ?? sentOffset...sentOffset
        }
        latencyTimeline?.record(slot.request.template.name, latency: latency)
        observer?.completed(
            SentRequest(
                name: slot.request.template.name,
                phase: phase,
                intendedOffsetSeconds: offset.inSeconds,
                sentOffsetSeconds: sentOffset,
                latencySeconds: latency.inSeconds,
                outcome: outcome,
                status: status,
                traceID: slot.trace.traceID,
                spanID: slot.trace.spanID,
                sampled: slot.trace.sampled,
                tracestate: slot.trace.tracestate,
                invalidCase: slot.trace.invalid?.rawValue,
                propagated: slot.trace.propagated
            )
        )
    }

    /// The counts so far.
    var snapshot: Counts { counts.combined { $0.merge($1) } }
}

/// Live progress of the running phase.
package struct DriverProgress: Sendable {
    package var phase: String
    package var elapsed: Duration
    package var total: Duration
    package var sent: Int
    package var completed: Int
    package var failed: Int
    package var dropped: Int
    /// Requests sent in the last second.
    package var achievedRate: Double
    /// What the schedule calls for now (nil for closed-loop users).
    package var targetRate: Double?
    /// Latency so far in this run, from the intended send time, in milliseconds.
    package var p50: Double
    package var p99: Double

    /// One line: `steady 3/6 s | 24.8/s (target 25.0) | sent 95 | failed 4 | dropped 0 | p50 2.10 ms p99 8.31 ms`.
    package var line: String {
        let elapsedSeconds = Int(elapsed.components.seconds)
        let totalSeconds = Int(total.components.seconds)
        let target = targetRate.map { String(format: " (target %.1f)", $0) } ?? " (closed loop)"
        return "\(phase) \(elapsedSeconds)/\(totalSeconds) s | " + String(format: "%.1f/s", achievedRate) + target
            + " | sent \(sent) | failed \(failed) | dropped \(dropped) | " + String(format: "p50 %.2f ms p99 %.2f ms", p50, p99)
    }
}

/// Counters for the live display only (reports come from the phases' tallies), kept per event loop
/// (``PerLoopState``).
final class LiveCounters: Sendable {
    private struct Counts: Sendable {
        var sent = 0
        var completed = 0
        var failed = 0
        var dropped = 0
        var latency = LatencyRecorder()

        mutating func merge(_ other: Counts) {
            sent += other.sent
            completed += other.completed
            failed += other.failed
            dropped += other.dropped
            latency.merge(other.latency)
        }
    }

    private let counts: PerLoopState<Counts>
    private let sentAtLastSnapshot = Mutex(0)

    init(loops: Int = 1) {
        counts = PerLoopState(loops: loops, initial: Counts())
    }

    func send(loop: Int) { counts.withLock(loop: loop) { $0.sent += 1 } }
    func drop(loop: Int) { counts.withLock(loop: loop) { $0.dropped += 1 } }
    func complete(_ outcome: RequestOutcome, latency: Duration, loop: Int) {
        counts.withLock(loop: loop) {
            $0.completed += 1
            if outcome != .ok { $0.failed += 1 }
            $0.latency.record(latency)
        }
    }

    /// Taken about once a second: the rate is the sends since the previous snapshot.
    func snapshot(phase: String, elapsed: Duration, total: Duration, targetRate: Double?) -> DriverProgress {
        let counts = counts.combined { $0.merge($1) }
        let rate = sentAtLastSnapshot.withLock { last in
            defer { last = counts.sent }
            return Double(counts.sent - last)
        }
        return DriverProgress(
            phase: phase,
            elapsed: elapsed,
            total: total,
            sent: counts.sent,
            completed: counts.completed,
            failed: counts.failed,
            dropped: counts.dropped,
            achievedRate: rate,
            targetRate: targetRate,
            p50: counts.latency.milliseconds(atPercentile: 50),
            p99: counts.latency.milliseconds(atPercentile: 99)
        )
    }
}

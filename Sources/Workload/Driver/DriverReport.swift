import Scenario
import Synchronization

/// How one request ended, by class.
package enum RequestOutcome: String, Sendable, Codable, CaseIterable {
    case ok
    case clientError = "4xx"
    case serverError = "5xx"
    case timeout
    case connectionError = "connect"
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
}

/// One phase as it ran.
package struct PhaseReport: Sendable {
    package var name: String
    package var plannedDuration: Duration
    package var elapsed: Duration
    /// Requests the schedule called for.
    package var scheduled: Int
    /// Slots not sent because the driver itself fell behind (its queue was full).
    package var droppedSlots: Int
    package var requests: [String: RequestReport]
    package var sent: [SentRequest]
    /// Per second of the run: requests completed, and how many failed.
    package var timeline: [Int: TimelineBucket]

    package init(
        name: String,
        plannedDuration: Duration,
        elapsed: Duration,
        scheduled: Int,
        droppedSlots: Int,
        requests: [String: RequestReport],
        sent: [SentRequest],
        timeline: [Int: TimelineBucket]
    ) {
        self.name = name
        self.plannedDuration = plannedDuration
        self.elapsed = elapsed
        self.scheduled = scheduled
        self.droppedSlots = droppedSlots
        self.requests = requests
        self.sent = sent
        self.timeline = timeline
    }

    /// Requests sent per second: the count over the time from the first send to the last (the rate the
    /// driver achieved, to compare with the schedule's).
    package var achievedRate: Double {
        let times = sent.map(\.sentOffsetSeconds)
        guard let first = times.min(), let last = times.max(), last > first else { return 0 }
        return Double(times.count - 1) / (last - first)
    }
}

/// Requests that ended in one second of the run.
package struct TimelineBucket: Sendable, Codable, Hashable {
    package var completed = 0
    package var failed = 0
}

/// Everything the driver did.
package struct DriverReport: Sendable {
    package var phases: [PhaseReport] = []
    /// Ctrl-C or cancellation stopped the workload early.
    package var interrupted = false

    package init(phases: [PhaseReport] = [], interrupted: Bool = false) {
        self.phases = phases
        self.interrupted = interrupted
    }

    /// Every request sent, in intended order.
    package var sent: [SentRequest] { phases.flatMap(\.sent) }
}

/// Per-worker tallies, merged at the end (no shared lock on the hot path).
struct WorkerTallies: Sendable {
    struct PerRequest: Sendable {
        var count = 0
        var outcomes: [String: Int] = [:]
        var latency = LatencyRecorder()
        var report: RequestReport { RequestReport(count: count, outcomes: outcomes, latency: latency.summary) }
    }

    var byRequest: [String: PerRequest] = [:]
    var sent: [SentRequest] = []
    var timeline: [Int: TimelineBucket] = [:]

    mutating func record(
        slot: Slot,
        sentAt: ContinuousClock.Instant,
        outcome: RequestOutcome,
        status: Int?,
        end: ContinuousClock.Instant,
        phase: String,
        runStart: ContinuousClock.Instant
    ) {
        let latency = end - slot.intended
        byRequest[slot.template.name, default: PerRequest()].count += 1
        byRequest[slot.template.name, default: PerRequest()].outcomes[outcome.rawValue, default: 0] += 1
        byRequest[slot.template.name, default: PerRequest()].latency.record(latency)
        let offset = slot.intended - runStart
        let second = Int(offset.components.seconds)
        timeline[second, default: TimelineBucket()].completed += 1
        if outcome != .ok { timeline[second, default: TimelineBucket()].failed += 1 }
        sent.append(
            SentRequest(
                name: slot.template.name,
                phase: phase,
                intendedOffsetSeconds: offset.inSeconds,
                sentOffsetSeconds: (sentAt - runStart).inSeconds,
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

    mutating func merge(_ other: WorkerTallies) {
        for (name, theirs) in other.byRequest {
            var mine = byRequest[name, default: PerRequest()]
            mine.count += theirs.count
            mine.outcomes.merge(theirs.outcomes, uniquingKeysWith: +)
            mine.latency.merge(theirs.latency)
            byRequest[name] = mine
        }
        sent.append(contentsOf: other.sent)
        timeline.merge(other.timeline) { TimelineBucket(completed: $0.completed + $1.completed, failed: $0.failed + $1.failed) }
    }
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

/// Counters shared by every worker for the live display only (reports come from the per-worker tallies).
final class LiveCounters: Sendable {
    private struct Counts {
        var sent = 0
        var completed = 0
        var failed = 0
        var dropped = 0
        var sentAtLastSnapshot = 0
        var latency = LatencyRecorder()
    }

    private let counts = Mutex(Counts())

    func send() { counts.withLock { $0.sent += 1 } }
    func drop() { counts.withLock { $0.dropped += 1 } }
    func complete(_ outcome: RequestOutcome, latency: Duration) {
        counts.withLock {
            $0.completed += 1
            if outcome != .ok { $0.failed += 1 }
            $0.latency.record(latency)
        }
    }

    /// Taken about once a second: the rate is the sends since the previous snapshot.
    func snapshot(phase: String, elapsed: Duration, total: Duration, targetRate: Double?) -> DriverProgress {
        counts.withLock { counts in
            let rate = Double(counts.sent - counts.sentAtLastSnapshot)
            counts.sentAtLastSnapshot = counts.sent
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
}

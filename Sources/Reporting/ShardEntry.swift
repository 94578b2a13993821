package import Workload

/// One shard of a run spread over several machines, as the report shows it beside the merged figures.
package struct ShardEntry: Codable, Sendable, Hashable {
    /// How a shard's part ended.
    package enum Status: String, Codable, Sendable {
        /// It ran its part and reported.
        case finished
        /// It registered and then fell silent before reporting: its requests are missing from the run.
        case died
        /// It never registered: its part of the schedule was never sent.
        case neverRegistered = "never_registered"
    }

    /// 0-based.
    package var index: Int
    package var count: Int
    package var status: Status
    /// What happened, when it did not finish: `no events for 60 s after 12.4 s of driving`.
    package var detail: String?
    /// Where it connected from.
    package var host: String?
    package var scheduled: Int
    package var sent: Int
    package var droppedSlots: Int
    /// Requests that did not end in a 2xx or 3xx answer.
    package var failed: Int
    /// Requests sent per second over the whole run.
    package var achievedRate: Double
    /// Client latency over every request, in milliseconds.
    package var p50: Double
    package var p99: Double

    /// The figures of one shard; `report` is nil for a shard that never reported.
    package init(index: Int, count: Int, status: Status, detail: String? = nil, host: String? = nil, report: DriverReport?) {
        self.index = index
        self.count = count
        self.status = status
        self.detail = detail
        self.host = host
        let phases = report?.phases ?? []
        scheduled = phases.reduce(0) { $0 + $1.scheduled }
        sent = phases.reduce(0) { $0 + $1.sentCount }
        droppedSlots = phases.reduce(0) { $0 + $1.droppedSlots }
        failed = phases.reduce(0) { total, phase in
            total + phase.requests.values.reduce(0) { $0 + $1.count - ($1.outcomes[RequestOutcome.ok.rawValue] ?? 0) }
        }
        let spans = phases.compactMap(\.sendSpan)
        if let first = spans.map(\.lowerBound).min(), let last = spans.map(\.upperBound).max(), last > first {
            achievedRate = Double(sent - 1) / (last - first)
        } else {
            achievedRate = 0
        }
        var latency = LatencyRecorder()
        for recorder in (report?.latencies() ?? [:]).values { latency.merge(recorder) }
        p50 = latency.milliseconds(atPercentile: 50)
        p99 = latency.milliseconds(atPercentile: 99)
    }
}

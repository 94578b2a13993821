extension DriverReport {
    /// The report of shards run together, as one driver sending the whole schedule would have written it: counts,
    /// outcomes, timelines and latency histograms add up exactly (an HDR histogram's merge is exact), and each
    /// phase's durations are the longest shard's.
    ///
    /// Phases are matched by position (every shard runs the same scenario); a shard stopped early contributes the
    /// phases it ran, and the merged report is interrupted if any shard was.
    package static func merging(_ reports: [DriverReport]) -> DriverReport {
        var merged = DriverReport(interrupted: reports.contains { $0.interrupted })
        let phaseCount = reports.map(\.phases.count).max() ?? 0
        for position in 0..<phaseCount {
            let parts = reports.compactMap { $0.phases.indices.contains(position) ? $0.phases[position] : nil }
            merged.phases.append(PhaseReport.merging(parts))
        }
        merged.latencyOverTime = LatencyOverTime.merging(reports.map(\.latencyOverTime))
        return merged
    }
}

extension PhaseReport {
    /// One phase of several shards as one (see `DriverReport.merging`). `parts` is not empty.
    package static func merging(_ parts: [PhaseReport]) -> PhaseReport {
        var latencies: [String: LatencyRecorder] = [:]
        var counts: [String: (count: Int, outcomes: [String: Int])] = [:]
        var timeline: [Int: TimelineBucket] = [:]
        for part in parts {
            for (name, latency) in part.latencies { latencies[name, default: LatencyRecorder()].merge(latency) }
            for (name, request) in part.requests {
                counts[name, default: (0, [:])].count += request.count
                counts[name, default: (0, [:])].outcomes.merge(request.outcomes, uniquingKeysWith: +)
            }
            for (second, bucket) in part.timeline {
                timeline[second, default: TimelineBucket()].completed += bucket.completed
                timeline[second, default: TimelineBucket()].failed += bucket.failed
            }
        }
        let spans = parts.compactMap(\.sendSpan)
        return PhaseReport(
            name: parts[0].name,
            plannedDuration: parts[0].plannedDuration,
            elapsed: parts.map(\.elapsed).max() ?? .zero,
            scheduled: parts.reduce(0) { $0 + $1.scheduled },
            droppedSlots: parts.reduce(0) { $0 + $1.droppedSlots },
            requests: counts.reduce(into: [:]) { requests, entry in
                let summary = latencies[entry.key]?.summary ?? LatencyRecorder().summary
                requests[entry.key] = RequestReport(count: entry.value.count, outcomes: entry.value.outcomes, latency: summary)
            },
            latencies: latencies,
            sentCount: parts.reduce(0) { $0 + $1.sentCount },
            sendSpan: spans.isEmpty ? nil : (spans.map(\.lowerBound).min()!)...(spans.map(\.upperBound).max()!),
            timeline: timeline,
            // Summaries do not add up: the latest shard's stands for all (an upper bound of the merged one).
            sendLateness: parts.compactMap(\.sendLateness).max { $0.p99 < $1.p99 }
        )
    }
}

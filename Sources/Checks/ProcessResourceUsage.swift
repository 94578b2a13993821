import Foundation

/// The CPU and memory one process under test used, as one-second samples from its start until it ended, each
/// covering the process and its descendants (a wrapper's children). What `rules.ceilings` judges and the
/// report plots.
///
/// A sample is 32 bytes, one per second per process: about 112 KiB per process per hour of run, kept whole so
/// that the average, the p99 and the peak are exact (``downsampled(toAtMost:)`` thins the series for plots).
///
/// ```swift
/// let usage = ProcessResourceUsage(name: "billing", samples: samples)
/// print(usage.cpuAveragePercent ?? 0, usage.cpuP99Percent ?? 0, usage.rssPeakBytes ?? 0)
/// ```
package struct ProcessResourceUsage: Sendable, Codable, Hashable {
    /// One sample: the CPU since the previous sample (or since the start) and the resident memory now.
    package struct Sample: Sendable, Codable, Hashable {
        /// Seconds from the process's start to this sample.
        package var second: Double
        /// CPU time used since the previous sample, in percent of one core (200: two cores busy).
        package var cpuPercent: Double
        /// Resident memory (`VmRSS`) of the process and its live descendants, summed, in bytes.
        package var rssBytes: UInt64
        /// How many processes the sample covered: the process and its live descendants.
        package var processes: Int32

        package init(second: Double, cpuPercent: Double, rssBytes: UInt64, processes: Int32 = 1) {
            self.second = second
            self.cpuPercent = cpuPercent
            self.rssBytes = rssBytes
            self.processes = processes
        }
    }

    /// The process's `name` in `services.processes`.
    package var name: String
    /// Every sample, in time order.
    package var samples: [Sample]

    package init(name: String, samples: [Sample]) {
        self.name = name
        self.samples = samples
    }

    /// CPU over everything sampled, in percent of one core: the CPU time of every sample over the time they
    /// cover (each sample weighted by its interval, so a late tick counts for what it spans). Nil without samples.
    package var cpuAveragePercent: Double? {
        guard let last = samples.last, last.second > 0 else { return nil }
        var previous = 0.0
        var cpuSeconds = 0.0
        for sample in samples {
            cpuSeconds += sample.cpuPercent / 100 * (sample.second - previous)
            previous = sample.second
        }
        return cpuSeconds / last.second * 100
    }

    /// The 99th percentile of the samples' CPU (nearest rank: with fewer than 100 samples, the highest).
    package var cpuP99Percent: Double? { percentile(0.99) }

    /// The `quantile` (0...1) of the samples' CPU by nearest rank, nil without samples.
    package func percentile(_ quantile: Double) -> Double? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.map(\.cpuPercent).sorted()
        let rank = Int((quantile * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// The sample with the most resident memory, nil without samples.
    package var rssPeak: Sample? { samples.max { $0.rssBytes < $1.rssBytes } }

    /// The most resident memory of any sample, in bytes.
    package var rssPeakBytes: UInt64? { rssPeak?.rssBytes }

    /// The most processes one sample covered (more than one: a wrapper and its children).
    package var mostProcesses: Int { Int(samples.map(\.processes).max() ?? 0) }

    /// At most `limit` samples for a plot: consecutive samples merged, each merged point at its last sample's
    /// time with the CPU averaged over what it covers and the highest memory, so the plot keeps the peak and
    /// the area under the CPU curve.
    package func downsampled(toAtMost limit: Int) -> [Sample] {
        guard limit > 0, samples.count > limit else { return samples }
        let size = (samples.count + limit - 1) / limit
        var points: [Sample] = []
        points.reserveCapacity(limit)
        var start = 0.0
        for group in stride(from: 0, to: samples.count, by: size).map({ samples[$0..<min($0 + size, samples.count)] }) {
            let end = group.last!.second
            var cpuSeconds = 0.0
            var previous = start
            for sample in group {
                cpuSeconds += sample.cpuPercent / 100 * (sample.second - previous)
                previous = sample.second
            }
            points.append(
                Sample(
                    second: end,
                    cpuPercent: end > start ? cpuSeconds / (end - start) * 100 : group.last!.cpuPercent,
                    rssBytes: group.map(\.rssBytes).max() ?? 0,
                    processes: group.map(\.processes).max() ?? 0
                )
            )
            start = end
        }
        return points
    }
}

/// Formats bytes the way the ceilings are written: `48.2 MiB`, `1.50 GiB`, `512 KiB`.
package func formatBytes(_ bytes: Double) -> String {
    let mebibyte = 1024.0 * 1024
    if bytes >= 1024 * mebibyte { return String(format: "%.2f GiB", bytes / (1024 * mebibyte)) }
    if bytes >= mebibyte { return String(format: "%.1f MiB", bytes / mebibyte) }
    return String(format: "%.0f KiB", bytes / 1024)
}

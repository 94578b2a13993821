package import Checks
import Foundation
package import Scenario

extension RunSummary {
    /// One process under test in `summary.json`: what it used over the run, its ceilings, and its samples.
    package struct ProcessEntry: Codable, Sendable, Hashable {
        /// The limits of `rules.ceilings` for it, each absent when not set.
        package struct Ceiling: Codable, Sendable, Hashable {
            package var cpuAveragePercent: Double?
            package var cpuP99Percent: Double?
            package var rssPeakBytes: Double?
        }

        package var name: String
        package var ceiling: Ceiling?
        /// CPU over the run, in percent of one core (absent without samples).
        package var cpuAveragePercent: Double?
        /// The p99 of the one-second CPU samples, in percent of one core.
        package var cpuP99Percent: Double?
        /// The most resident memory of any sample, in bytes.
        package var rssPeakBytes: UInt64?
        /// How many one-second samples were taken (the averages above use all of them).
        package var sampleCount: Int
        /// The samples, one a second; a run longer than ``maximumPoints`` seconds has them merged into that many
        /// points (CPU averaged over what each covers, memory the highest), each at its last second.
        package var samples: [ProcessResourceUsage.Sample]
    }

    /// Most points per process in `summary.json` and in a plot: an hour of one-second samples.
    package static let maximumPoints = 3600

    /// The entries of `usage`, in the order of `services.processes`, with the scenario's ceilings; nil when
    /// the scenario starts no process.
    package static func processEntries(_ usage: [String: ProcessResourceUsage], scenario: Scenario) -> [ProcessEntry]? {
        guard !scenario.services.processes.isEmpty else { return nil }
        let ceilings = Dictionary(scenario.rules.ceilings.map { ($0.process, $0) }) { first, _ in first }
        return scenario.services.processes.map { process in
            let used = usage[process.name] ?? ProcessResourceUsage(name: process.name, samples: [])
            let ceiling = ceilings[process.name].map {
                ProcessEntry.Ceiling(cpuAveragePercent: $0.cpuAveragePercent, cpuP99Percent: $0.cpuP99Percent, rssPeakBytes: $0.rssPeakBytes)
            }
            // Rounded: milliseconds and hundredths of a percent are all a sample resolves (a clock tick is 10 ms).
            let samples = used.downsampled(toAtMost: maximumPoints).map { sample in
                ProcessResourceUsage.Sample(
                    second: (sample.second * 1000).rounded() / 1000,
                    cpuPercent: (sample.cpuPercent * 100).rounded() / 100,
                    rssBytes: sample.rssBytes,
                    processes: sample.processes
                )
            }
            return ProcessEntry(
                name: process.name,
                ceiling: ceiling,
                cpuAveragePercent: used.cpuAveragePercent,
                cpuP99Percent: used.cpuP99Percent,
                rssPeakBytes: used.rssPeakBytes,
                sampleCount: used.samples.count,
                samples: samples
            )
        }
    }
}

import Foundation

/// The most CPU and memory one process under test may use (`rules.ceilings.NAME`), as the OpenTelemetry
/// Collector's testbed sets `ExpectedMaxCPU` and `ExpectedMaxRAM` for the Collector. Each limit is optional;
/// a ceiling sets at least one.
///
/// ```yaml
/// rules:
///   ceilings:
///     billing: {cpu_average: 50%, cpu_p99: 150%, rss_peak: 200MiB}
/// ```
package struct ResourceCeiling: Sendable, Hashable {
    /// The process it limits: a `services.processes` entry's `name`.
    package var process: String
    /// Most CPU over the whole run, in percent of one core (`cpu_average: 50%`; 200% is two cores busy).
    package var cpuAveragePercent: Double?
    /// Most CPU in the 99th percentile of the one-second samples, in percent of one core (`cpu_p99: 150%`).
    package var cpuP99Percent: Double?
    /// Most resident memory at any sample, in bytes (`rss_peak: 200MiB`).
    package var rssPeakBytes: Double?

    package init(process: String, cpuAveragePercent: Double? = nil, cpuP99Percent: Double? = nil, rssPeakBytes: Double? = nil) {
        self.process = process
        self.cpuAveragePercent = cpuAveragePercent
        self.cpuP99Percent = cpuP99Percent
        self.rssPeakBytes = rssPeakBytes
    }

    /// Parses a CPU limit: a number of percent of one core with its `%`, `50%` or `250%`.
    package static func parsePercent(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasSuffix("%"), let value = Double(trimmed.dropLast().trimmingCharacters(in: .whitespaces)), value.isFinite else { return nil }
        return value
    }

    /// The memory units a limit may carry, in bytes: binary, as `/proc` counts (`KiB`, `MiB`, `GiB`).
    package static let memoryUnits: [(suffix: String, bytes: Double)] = [("KiB", 1024), ("MiB", 1024 * 1024), ("GiB", 1024 * 1024 * 1024)]

    /// Parses a memory limit in bytes: a number with a binary unit, `200MiB`, `1.5GiB`, `512KiB`.
    package static func parseBytes(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, bytes) in memoryUnits where trimmed.hasSuffix(suffix) {
            guard let value = Double(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), value.isFinite else { return nil }
            return value * bytes
        }
        return nil
    }
}

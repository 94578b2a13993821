import Checks
import Foundation

extension HTMLReport {
    /// Each process under test's CPU and resident memory over the run, one chart each, with its ceilings as
    /// dashed levels.
    static func processesSection(_ processes: [RunSummary.ProcessEntry]) -> String {
        var parts = [
            "<h2>Processes under test: CPU and memory</h2>",
            "<p class=meta>one sample a second from start to stop, each covering the process and its descendants; dashed: its ceilings</p>",
        ]
        for process in processes {
            let average = process.cpuAveragePercent.map { String(format: "%.1f%%", $0) } ?? "?"
            let p99 = process.cpuP99Percent.map { String(format: "%.1f%%", $0) } ?? "?"
            let peak = process.rssPeakBytes.map { formatBytes(Double($0)) } ?? "?"
            parts.append(
                "<h3>\(escape(process.name))</h3><p class=meta>CPU average \(average), p99 \(p99) of one core; RSS peak \(peak); \(process.sampleCount) samples</p>"
            )
            guard let last = process.samples.last?.second else {
                parts.append("<p class=meta>no sample: it ended before its first one-second sample</p>")
                continue
            }
            parts.append(cpuChart(process, until: last))
            parts.append(memoryChart(process, until: last))
        }
        return parts.joined(separator: "\n")
    }

    static func cpuChart(_ process: RunSummary.ProcessEntry, until last: Double) -> String {
        var lines = [Line(name: "CPU % of one core", colour: palette[0], points: process.samples.map { ($0.second, $0.cpuPercent) })]
        if let limit = process.ceiling?.cpuAveragePercent {
            lines.append(Line(name: "cpu_average \(format(limit))%", colour: palette[1], points: [(0, limit), (last, limit)], dashed: true))
        }
        if let limit = process.ceiling?.cpuP99Percent {
            lines.append(Line(name: "cpu_p99 \(format(limit))%", colour: palette[3], points: [(0, limit), (last, limit)], dashed: true))
        }
        let highest = (process.samples.map(\.cpuPercent) + [process.ceiling?.cpuAveragePercent, process.ceiling?.cpuP99Percent].compactMap { $0 }).max() ?? 0
        return lineChart(
            lines,
            xMax: last,
            yMax: max(10, highest * 1.1),
            xLabel: { "\(format($0)) s" },
            yLabel: { "\(format($0))%" },
            label: "CPU of \(process.name)"
        )
    }

    static func memoryChart(_ process: RunSummary.ProcessEntry, until last: Double) -> String {
        let mebibyte = 1024.0 * 1024
        var lines = [Line(name: "RSS MiB", colour: palette[2], points: process.samples.map { ($0.second, Double($0.rssBytes) / mebibyte) })]
        if let limit = process.ceiling?.rssPeakBytes {
            lines.append(
                Line(name: "rss_peak \(formatBytes(limit))", colour: palette[3], points: [(0, limit / mebibyte), (last, limit / mebibyte)], dashed: true)
            )
        }
        let highest = (process.samples.map { Double($0.rssBytes) } + [process.ceiling?.rssPeakBytes].compactMap { $0 }).max() ?? 0
        return lineChart(
            lines,
            xMax: last,
            yMax: max(1, highest / mebibyte * 1.1),
            xLabel: { "\(format($0)) s" },
            yLabel: { "\(format($0)) MiB" },
            label: "resident memory of \(process.name)"
        )
    }
}

import Checks
import Foundation

extension HTMLReport {
    /// The scenario's Grafana dashboards, each panel a time series chart over the run: titled as in the
    /// dashboard, its unit on the axis, a legend per series, and a "no data" line naming every query that
    /// returned nothing (never an empty chart without a word).
    static func dashboardsSection(_ dashboards: [DashboardView]) -> String {
        var parts: [String] = []
        for dashboard in dashboards {
            parts.append("<h2>Dashboard: \(escape(dashboard.title))</h2>")
            let step = dashboard.stepSeconds > 0 ? "; PromQL range queries every \(format(dashboard.stepSeconds)) s" : ""
            let file = URL(fileURLWithPath: dashboard.file).lastPathComponent
            parts.append("<p class=meta>\(escape(file))\(step); time in seconds from the run's start (for a recording, from its first sample)</p>")
            for panel in dashboard.panels { parts.append(panelChart(panel)) }
        }
        return parts.joined(separator: "\n")
    }

    /// One panel: its title and unit, its queries, its chart, and what returned no data.
    static func panelChart(_ panel: DashboardView.Panel) -> String {
        let unit = panel.unit.map { " <span class=meta>(\(escape(unitName($0))))</span>" } ?? ""
        var parts = ["<h3>\(escape(panel.title))\(unit)</h3>"]
        parts.append("<p class=meta><code>\(panel.queries.map(escape).joined(separator: "</code><br><code>"))</code></p>")
        for problem in panel.problems { parts.append("<p class=nodata>\(escape(problem))</p>") }
        guard !panel.series.isEmpty else { return parts.joined(separator: "\n") }
        let lines = panel.series.enumerated().map { index, series in
            // Past the palette, colours repeat dashed, so that no two lines look alike.
            Line(
                name: series.legend,
                colour: palette[index % palette.count],
                points: series.points.map { ($0.second, scaled($0.value, unit: panel.unit)) },
                dashed: (index / palette.count) % 2 == 1
            )
        }
        let values = lines.flatMap { $0.points.map(\.y) }
        let xMax = panel.series.flatMap { $0.points.map(\.second) }.max() ?? 1
        parts.append(
            lineChart(
                lines,
                xMax: max(1, xMax),
                yMax: niceCeiling((values.max() ?? 0) * 1.1),
                xLabel: { "\(format($0)) s" },
                yLabel: { axisLabel($0, unit: panel.unit) },
                label: panel.title,
                width: 1100,
                height: max(220, 30 + Double(lines.count) * 16),
                legendWidth: 360,
                axisWidth: 100
            )
        )
        return parts.joined(separator: "\n")
    }

    /// A value in the unit its axis shows: `percentunit` (a ratio) as percent, everything else as it is.
    static func scaled(_ value: Double, unit: String?) -> Double { unit == "percentunit" ? value * 100 : value }

    /// An axis label in the panel's Grafana unit.
    static func axisLabel(_ value: Double, unit: String?) -> String {
        switch unit {
        case "s": value > 0 && value < 1 ? "\(format(value * 1000)) ms" : "\(format(value)) s"
        case "ms": "\(format(value)) ms"
        case "µs": "\(format(value)) µs"
        case "percentunit", "percent": "\(format(value))%"
        case "reqps": "\(format(value)) req/s"
        case "ops", "opsps": "\(format(value)) ops/s"
        case "cps": "\(format(value))/s"
        case "bytes", "decbytes": formatBytes(value)
        case nil, "short", "none", "": format(value)
        case let other?: "\(format(value)) \(other)"
        }
    }

    /// The unit's name beside the panel's title.
    static func unitName(_ unit: String) -> String {
        switch unit {
        case "s": "seconds"
        case "ms": "milliseconds"
        case "percentunit": "percent (of 1.0)"
        case "percent": "percent"
        case "reqps": "requests per second"
        case "ops", "opsps": "operations per second"
        case "cps": "per second"
        case "bytes", "decbytes": "bytes"
        case "short", "none": "count"
        default: unit
        }
    }
}

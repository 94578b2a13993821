import Checks
import Foundation

/// One self-contained HTML file (no scripts, no external resources) with inline SVG plots: latency
/// percentile curves per request, requests and failures over time, the CPU and memory of each process under
/// test against its ceilings, series per metric against the limit, and a waterfall of the first broken trace.
package enum HTMLReport {
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    package static func html(_ summary: RunSummary) -> String {
        var body: [String] = []
        let verdict = summary.passed ? "<span class=pass>passed</span>" : "<span class=fail>FAILED</span>"
        body.append("<h1>otelbench: \(escape(summary.scenario)) — \(verdict)</h1>")
        body.append(
            "<p class=meta>\(escape(summary.scenarioFile)) · started \(escape(summary.startedAt))\(summary.interrupted ? " · <b>interrupted</b>" : "")</p>"
        )
        body.append("<h2>Rules</h2><table><tr><th></th><th>rule</th><th>measured</th><th>expected</th><th>evidence</th></tr>")
        for rule in summary.rules {
            let evidence = rule.evidence.prefix(5).map { "<div>\(escape($0))</div>" }.joined()
            body.append(
                "<tr class=\(rule.passed ? "ok" : "bad")><td>\(rule.passed ? "✓" : "✗")</td><td>\(escape(rule.kind.rawValue)): \(escape(rule.name))</td><td>\(escape(rule.measured))</td><td>\(escape(rule.expected))</td><td class=ev>\(evidence)</td></tr>"
            )
        }
        body.append("</table>")
        if let trace = summary.failingTrace {
            body.append("<h2>First broken trace</h2><p class=meta>\(escape(trace.problem))</p>")
            body.append(waterfall(trace))
        }
        if let alerts = summary.alerts, !alerts.instances.isEmpty {
            body.append("<h2>Alerts</h2><p class=meta>seconds from the first sample; amber: pending, red: firing</p>")
            body.append(alertChart(alerts))
        }
        body.append("<h2>Client latency by percentile</h2><p class=meta>measured from each request's intended send time</p>")
        body.append(latencyChart(summary.latencyCurves))
        if let overTime = summary.latencyOverTime { body.append(latencyOverTimeSection(overTime)) }
        body.append("<h2>Requests per second</h2>")
        body.append(timelineChart(summary.timeline))
        if let dashboards = summary.dashboards { body.append(dashboardsSection(dashboards)) }
        if let processes = summary.processes { body.append(processesSection(processes)) }
        if let estimate = summary.estimate { body.append(estimateSection(estimate)) }
        body.append(
            "<h2>Series per metric</h2><p class=meta>\(summary.cardinality.total) series in all\(summary.cardinalityLimit.map { " (limit \($0))" } ?? "")</p>"
        )
        body.append(cardinalityChart(summary.cardinality, limit: summary.cardinalityLimit))
        body.append(
            "<h2>Phases</h2><table><tr><th>phase</th><th>sent / scheduled</th><th>rate</th><th>dropped</th><th>request</th><th>p50</th><th>p99</th><th>p99.9</th><th>errors</th></tr>"
        )
        for phase in summary.phases {
            for (name, request) in phase.requests.sorted(by: { $0.key < $1.key }) {
                let errors = request.count - (request.outcomes["ok"] ?? 0)
                body.append(
                    String(
                        format:
                            "<tr><td>%@</td><td>%d / %d</td><td>%.1f/s</td><td>%d</td><td>%@</td><td>%.2f ms</td><td>%.2f ms</td><td>%.2f ms</td><td>%d</td></tr>",
                        escape(phase.name),
                        phase.sent,
                        phase.scheduled,
                        phase.achievedRate,
                        phase.droppedSlots,
                        escape(name),
                        request.latency.p50,
                        request.latency.p99,
                        request.latency.p999,
                        errors
                    )
                )
            }
        }
        body.append("</table><h2>Telemetry received</h2><pre>\(escape(summary.intake.text))</pre>")
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>otelbench: \(escape(summary.scenario))</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
            h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}h3{font-size:14px;margin-bottom:2px}
            table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
            tr.bad{background:#fde8e8}tr.ok td:first-child{color:#2a7a2a}tr.bad td:first-child{color:#b00}
            .pass{color:#2a7a2a}.fail{color:#b00}.meta{color:#666;font-size:13px}.ev{font-size:12px;color:#444;max-width:520px}
            pre{background:#f6f6f6;padding:8px;font-size:12px}svg text{font-size:11px;font-family:system-ui,sans-serif}
            .smallmultiples{display:flex;flex-wrap:wrap;gap:0 16px}.smallmultiples h3{margin:10px 0 0}.smallmultiples .meta{margin:0}
            .nodata{color:#b00;font-size:13px;background:#fdf3f3;padding:4px 8px}code{font-size:12px}
            </style></head><body>
            \(body.joined(separator: "\n"))
            </body></html>

            """
    }

    // MARK: Charts

    static func latencyChart(_ curves: [String: [RunSummary.LatencyCurvePoint]]) -> String {
        guard !curves.isEmpty else { return "<p class=meta>no requests</p>" }
        // Every request is drawn: past the palette, colours repeat dashed, and the chart grows to fit the legend.
        let names = curves.keys.sorted()
        let width = 900.0
        let top = 10.0
        let bottom = 30.0
        let height = max(320.0, top + 14 + Double(names.count) * 16 + bottom)
        let left = 60.0
        let right = 200.0
        func colour(_ index: Int) -> String { palette[index % palette.count] }
        func dashing(_ index: Int) -> String { (index / palette.count) % 2 == 1 ? " stroke-dasharray=\"6 3\"" : "" }
        let values = names.flatMap { curves[$0]!.map(\.milliseconds) }.filter { $0 > 0 }
        let low = max(0.01, values.min() ?? 0.01)
        let high = max(low * 10, values.max() ?? 1)
        let columns = curves.values.first?.map(\.percentile) ?? []
        func x(_ index: Int) -> Double { left + Double(index) / Double(max(1, columns.count - 1)) * (width - left - right) }
        func y(_ ms: Double) -> Double {
            let clamped = min(max(ms, low), high)
            return top + (1 - (log10(clamped) - log10(low)) / (log10(high) - log10(low))) * (height - top - bottom)
        }
        var svg = ["<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=img aria-label=\"latency percentiles\">"]
        var tick = pow(10, floor(log10(low)))
        while tick <= high * 1.0001 {
            svg.append(
                "<line x1=\(left) x2=\(width - right) y1=\(y(tick)) y2=\(y(tick)) stroke=#eee /><text x=\(left - 6) y=\(y(tick) + 4) text-anchor=end>\(format(tick)) ms</text>"
            )
            tick *= 10
        }
        for (index, percentile) in columns.enumerated() {
            svg.append("<text x=\(x(index)) y=\(height - 10) text-anchor=middle>p\(format(percentile))</text>")
        }
        for (index, name) in names.enumerated() {
            let points = curves[name]!.enumerated().map { "\(x($0.offset)),\(y($0.element.milliseconds))" }.joined(separator: " ")
            svg.append("<polyline fill=none stroke=\"\(colour(index))\" stroke-width=2\(dashing(index)) points=\"\(points)\" />")
        }
        for (index, name) in names.enumerated() {
            let ly = top + 14 + Double(index) * 16
            svg.append(
                "<line x1=\(width - right + 8) x2=\(width - right + 24) y1=\(ly - 4) y2=\(ly - 4) stroke=\"\(colour(index))\" stroke-width=3\(dashing(index)) /><text x=\(width - right + 28) y=\(ly)>\(escape(name))</text>"
            )
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    static func timelineChart(_ timeline: [RunSummary.TimelineEntry]) -> String {
        guard let last = timeline.map(\.second).max() else { return "<p class=meta>no requests</p>" }
        return lineChart(
            [
                Line(name: "completed", colour: palette[0], points: timeline.map { (Double($0.second), Double($0.completed)) }),
                Line(name: "failed", colour: palette[3], points: timeline.map { (Double($0.second), Double($0.failed)) }),
            ],
            xMax: Double(max(1, last)),
            yMax: Double(max(1, timeline.map(\.completed).max() ?? 1)),
            xLabel: { "\(Int($0)) s" },
            yLabel: { "\(Int($0))/s" },
            label: "requests per second"
        )
    }

    /// One line of a ``lineChart(_:xMax:yMax:xLabel:yLabel:label:)``: a polyline, or a dashed level (a limit).
    struct Line {
        var name: String
        var colour: String
        var points: [(x: Double, y: Double)]
        var dashed = false
    }

    /// A line chart from 0 to `xMax` and from 0 to `yMax` (values above are drawn at the top), with three
    /// labelled levels, about ten labelled ticks along x, and a legend naming each line (`legendWidth` wide, on
    /// the right; make `height` at least 30 + 16 per line so that every name shows; `axisWidth` holds the y labels).
    static func lineChart(
        _ lines: [Line],
        xMax: Double,
        yMax: Double,
        xLabel: (Double) -> String,
        yLabel: (Double) -> String,
        label: String,
        width: Double = 900,
        height: Double = 220,
        legendWidth: Double = 200,
        axisWidth: Double = 60
    ) -> String {
        let left = axisWidth
        let right = legendWidth
        let top = 10.0
        let bottom = 30.0
        let xSpan = max(xMax, 1e-9)
        let ySpan = max(yMax, 1e-9)
        func x(_ value: Double) -> Double { left + value / xSpan * (width - left - right) }
        func y(_ value: Double) -> Double { top + (1 - min(value, ySpan) / ySpan) * (height - top - bottom) }
        var svg = ["<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=img aria-label=\"\(escape(label))\">"]
        for fraction in [0.0, 0.5, 1.0] {
            let value = ySpan * fraction
            svg.append(
                "<line x1=\(left) x2=\(width - right) y1=\(y(value)) y2=\(y(value)) stroke=#eee /><text x=\(left - 6) y=\(y(value) + 4) text-anchor=end>\(escape(yLabel(value)))</text>"
            )
        }
        let step = max(1, (xSpan / 10).rounded(.down))
        for tick in stride(from: 0, through: xSpan, by: step) {
            svg.append("<text x=\(x(tick)) y=\(height - 10) text-anchor=middle>\(escape(xLabel(tick)))</text>")
        }
        for line in lines {
            let points = line.points.map { "\(x($0.x)),\(y($0.y))" }.joined(separator: " ")
            let dash = line.dashed ? " stroke-dasharray=\"5 4\"" : ""
            svg.append("<polyline fill=none stroke=\"\(line.colour)\" stroke-width=2\(dash) points=\"\(points)\" />")
        }
        for (index, line) in lines.enumerated() {
            let ly = top + 14 + Double(index) * 16
            svg.append(
                "<rect x=\(width - right + 12) y=\(ly - 9) width=10 height=10 fill=\"\(line.colour)\" /><text x=\(width - right + 27) y=\(ly)>\(escape(line.name))</text>"
            )
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    static func cardinalityChart(_ table: CardinalityCheck.Table, limit: Int?) -> String {
        let rows = Array(table.rows.prefix(20))
        guard !rows.isEmpty else { return "<p class=meta>no metrics</p>" }
        let width = 900.0
        let labelWidth = 300.0
        let rowHeight = 18.0
        let height = Double(rows.count) * rowHeight + 30
        let scale = Double(max(limit ?? 0, rows.map(\.series).max() ?? 1))
        func barWidth(_ value: Int) -> Double { Double(value) / scale * (width - labelWidth - 80) }
        var svg = ["<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=img aria-label=\"series per metric\">"]
        for (index, row) in rows.enumerated() {
            let y = 10 + Double(index) * rowHeight
            let colour = limit.map { row.series >= $0 } == true ? palette[3] : palette[0]
            svg.append("<text x=\(labelWidth - 6) y=\(y + 12) text-anchor=end>\(escape(row.metric))</text>")
            svg.append("<rect x=\(labelWidth) y=\(y + 2) width=\(max(1, barWidth(row.series))) height=\(rowHeight - 5) fill=\"\(colour)\" />")
            svg.append("<text x=\(labelWidth + barWidth(row.series) + 5) y=\(y + 12)>\(row.series)</text>")
        }
        if let limit {
            let x = labelWidth + barWidth(limit)
            svg.append(
                "<line x1=\(x) x2=\(x) y1=5 y2=\(height - 15) stroke=#b00 stroke-dasharray=\"4 3\" /><text x=\(x) y=\(height - 3) text-anchor=middle fill=#b00>limit \(limit)</text>"
            )
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    /// One row per alert instance: pending (amber) until it fired, firing (red) until it resolved or the run ended.
    static func alertChart(_ alerts: AlertTimeline) -> String {
        let (left, width, rowHeight) = (360.0, 560.0, 18.0)
        let span = max(alerts.evaluatedSeconds, alerts.instances.compactMap { $0.resolvedSeconds }.max() ?? 0, 1)
        let x = { (seconds: Double) in left + width * min(max(seconds / span, 0), 1) }
        var parts: [String] = []
        for (row, instance) in alerts.instances.enumerated() {
            let y = 10 + Double(row) * rowHeight
            let end = instance.resolvedSeconds ?? span
            let firing = instance.firingSeconds ?? end
            parts.append("<text x=\"4\" y=\"\(format(y + 12))\">\(escape(instance.name)) \(escape(instance.labels))</text>")
            parts.append(
                "<rect x=\"\(format(x(instance.pendingSeconds)))\" y=\"\(format(y + 2))\" width=\"\(format(max(x(firing) - x(instance.pendingSeconds), 1)))\" height=\"12\" fill=\"#f0ad4e\"><title>pending from \(format(instance.pendingSeconds)) s</title></rect>"
            )
            if let fired = instance.firingSeconds {
                parts.append(
                    "<rect x=\"\(format(x(fired)))\" y=\"\(format(y + 2))\" width=\"\(format(max(x(end) - x(fired), 1)))\" height=\"12\" fill=\"#d62728\"><title>firing from \(format(fired)) s\(instance.resolvedSeconds.map { ", resolved at \(format($0)) s" } ?? "")</title></rect>"
                )
            }
        }
        let height = 30 + Double(alerts.instances.count) * rowHeight
        parts.append(
            "<line x1=\"\(format(left))\" y1=\"\(format(height - 16))\" x2=\"\(format(left + width))\" y2=\"\(format(height - 16))\" stroke=\"#999\"/>"
        )
        parts.append(
            "<text x=\"\(format(left))\" y=\"\(format(height - 2))\">0 s</text><text x=\"\(format(left + width - 40))\" y=\"\(format(height - 2))\">\(format(span)) s</text>"
        )
        return "<svg width=\"\(format(left + width + 20))\" height=\"\(format(height))\" role=\"img\" aria-label=\"alert timeline\">\(parts.joined())</svg>"
    }

    static func waterfall(_ trace: RunSummary.TraceWaterfall) -> String {
        guard !trace.bars.isEmpty else { return "<p class=meta>no span of this trace arrived</p>" }
        let width = 1100.0
        let labelWidth = 420.0
        let rowHeight = 18.0
        let end = max(0.001, trace.bars.map { $0.startMilliseconds + $0.durationMilliseconds }.max() ?? 1)
        let height = Double(trace.bars.count) * rowHeight + 30
        func x(_ ms: Double) -> Double { labelWidth + ms / end * (width - labelWidth - 20) }
        var svg = ["<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=img aria-label=\"trace waterfall\">"]
        for (index, bar) in trace.bars.enumerated() {
            let y = 10 + Double(index) * rowHeight
            let colour = bar.kind == "client" ? palette[1] : bar.kind == "server" ? palette[0] : palette[7]
            let label = String(repeating: "  ", count: bar.depth) + "\(bar.service.replacingOccurrences(of: "cf_core.services.", with: "")): \(bar.name)"
            svg.append("<text x=4 y=\(y + 12) xml:space=preserve>\(escape(label))</text>")
            svg.append(
                "<rect x=\(x(bar.startMilliseconds)) y=\(y + 2) width=\(max(1, x(bar.startMilliseconds + bar.durationMilliseconds) - x(bar.startMilliseconds))) height=\(rowHeight - 5) fill=\"\(colour)\"><title>\(escape(bar.name)) \(bar.kind) span \(bar.spanID) parent \(bar.parentSpanID ?? "none") \(format(bar.durationMilliseconds)) ms</title></rect>"
            )
        }
        svg.append("<text x=\(labelWidth) y=\(height - 4)>0 ms</text><text x=\(width - 20) y=\(height - 4) text-anchor=end>\(format(end)) ms</text></svg>")
        return svg.joined(separator: "\n")
    }

    static func format(_ value: Double) -> String {
        value >= 100 || value == value.rounded() ? String(Int(value.rounded())) : String(format: "%.3g", value)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

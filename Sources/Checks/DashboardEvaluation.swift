package import Foundation
package import PromQL
import PromQLSyntax
package import Scenario
package import Telemetry

/// A Grafana dashboard evaluated over a run: every panel's queries as range queries of OTelBench's PromQL engine,
/// ready to draw (`summary.json` `dashboards[]`, the HTML report's dashboard charts).
package struct DashboardView: Codable, Sendable, Hashable {
    /// One panel: its series, or why it has none.
    package struct Panel: Codable, Sendable, Hashable {
        package var title: String
        /// Grafana's unit id (`s`, `ms`, `reqps`, `percentunit`, …), nil when the panel sets none.
        package var unit: String?
        /// Each target's PromQL, in order.
        package var queries: [String]
        /// Every series the queries returned, in query order then label order.
        package var series: [Series]
        /// What went wrong, per query: one that returned nothing names itself (`no data: EXPR returned no
        /// series over the run`), one the engine refused gives the engine's message. Empty when every query
        /// returned data.
        package var problems: [String]

        package init(title: String, unit: String?, queries: [String], series: [Series], problems: [String]) {
            self.title = title
            self.unit = unit
            self.queries = queries
            self.series = series
            self.problems = problems
        }
    }

    /// One series of a panel.
    package struct Series: Codable, Sendable, Hashable {
        /// Its name in the legend: the target's `legendFormat` with `{{label}}` filled in, or its labels.
        package var legend: String
        /// The target's `refId`.
        package var refID: String
        /// `[seconds from the run's start, value]`, one per step with a value (NaN and infinite values, which
        /// Grafana leaves out too, are gaps).
        package var points: [Point]
    }

    /// One step of a series.
    package struct Point: Codable, Sendable, Hashable {
        package var second: Double
        package var value: Double
    }

    package var title: String
    /// The dashboard file.
    package var file: String
    /// The range queries' step in seconds (chosen from the run's length: about 300 steps, at least 0.25 s).
    package var stepSeconds: Double
    package var panels: [Panel]
}

/// Evaluates dashboards over what a run received.
package enum DashboardEvaluation {
    /// Most steps of a panel's range query.
    static let targetSteps: Int64 = 300
    /// The shortest step (ms): finer than the services' export interval would only repeat values.
    static let minimumStepMilliseconds: Int64 = 250

    /// Every panel of `dashboards` as range queries from `start` (the run's start; the first sample when nil)
    /// to the newest sample in `store`, at a step of about a 300th of that span.
    package static func evaluate(_ dashboards: [GrafanaDashboard], store: TelemetryStore, from start: Date?) -> [DashboardView] {
        guard !dashboards.isEmpty else { return [] }
        let engine = PromQLEngine(store: store)
        let first = start.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.down)) } ?? engine.earliestTimestamp
        return dashboards.map { evaluate($0, engine: engine, start: first, end: engine.latestTimestamp) }
    }

    /// One dashboard over `[start, end]` (ms); with no sample at all, every panel says so.
    package static func evaluate(_ dashboard: GrafanaDashboard, engine: PromQLEngine, start: Int64?, end: Int64?) -> DashboardView {
        guard let start, let end, end >= start else {
            let panels = dashboard.panels.map { panel in
                DashboardView.Panel(
                    title: panel.title,
                    unit: panel.unit,
                    queries: panel.targets.map(\.expression),
                    series: [],
                    problems: ["no data: no metric sample arrived during the run, so no query can return one"]
                )
            }
            return DashboardView(title: dashboard.title, file: dashboard.file, stepSeconds: 0, panels: panels)
        }
        let step = max(minimumStepMilliseconds, (end - start + targetSteps - 1) / targetSteps)
        let panels = dashboard.panels.map { panel in
            var view = DashboardView.Panel(title: panel.title, unit: panel.unit, queries: panel.targets.map(\.expression), series: [], problems: [])
            for target in panel.targets {
                do throws(PromQLError) {
                    let expression = try PromQLParser.parse(target.expression)
                    let result = try engine.rangeQuery(expression, start: start, end: end, step: step)
                    let series = result.compactMap { one -> DashboardView.Series? in
                        let points = one.samples.filter { $0.value.isFinite }.map {
                            DashboardView.Point(second: Double($0.timestamp - start) / 1000, value: $0.value)
                        }
                        guard !points.isEmpty else { return nil }
                        return DashboardView.Series(legend: legend(target.legendFormat, labels: one.labels), refID: target.refID, points: points)
                    }
                    if series.isEmpty { view.problems.append("no data: \(target.expression) returned no series over the run") }
                    view.series += series
                } catch {
                    view.problems.append("query \(target.refID) failed: \(error.message) (\(target.expression))")
                }
            }
            return view
        }
        return DashboardView(title: dashboard.title, file: dashboard.file, stepSeconds: Double(step) / 1000, panels: panels)
    }

    /// A series' legend as Grafana writes it: `legendFormat` with each `{{name}}` replaced by that label's value
    /// (empty when the series lacks it); without a format (or with `__auto`), its labels as PromQL writes them.
    package static func legend(_ format: String?, labels: Labels) -> String {
        guard let format, !format.isEmpty, format != "__auto" else {
            let pairs = labels.pairs.filter { $0.name != "__name__" }.map { "\($0.name)=\"\($0.value)\"" }
            let name = labels.metricName ?? ""
            return pairs.isEmpty ? (name.isEmpty ? "value" : name) : "\(name){\(pairs.joined(separator: ", "))}"
        }
        var text = format
        while let open = text.range(of: "{{"), let close = text.range(of: "}}", range: open.upperBound..<text.endIndex) {
            let name = text[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            text.replaceSubrange(open.lowerBound..<close.upperBound, with: labels[name] ?? "")
        }
        return text
    }
}

import Checks
import Foundation
import Harness
import TestSupport
import Testing
import Workload

@testable import Reporting

/// The smoke run's report: the seed's dashboards evaluated over the run (every panel's query returns data) and
/// drawn, client latency over time in `summary.json` and `report.html`, and the page as Chromium renders it.
@Suite(.serialized) struct DashboardReportTests {
    @Test func smokeRunDrawsEveryDashboardPanelAndLatencyOverTime() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dashboards-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var options = ScenarioRun.Options(reportDirectory: folder.path)
        options.stopsOnSignal = false
        let run = try ScenarioRun(scenarioPath: repositoryRoot.appendingPathComponent("Scenarios/cf-core-smoke.yaml").path, options: options)
        let outcome = try await run.run()
        let summary = outcome.summary

        // Every panel of both dashboards, every query of each, returned data over the run.
        let dashboards = try #require(summary.dashboards)
        #expect(dashboards.map(\.title) == ["CF Core Migration Overview", "CF Core Service Health"])
        for dashboard in dashboards {
            #expect(dashboard.stepSeconds > 0)
            for panel in dashboard.panels {
                #expect(panel.problems.isEmpty, "\(dashboard.title) / \(panel.title): \(panel.problems)")
                #expect(!panel.series.isEmpty, "\(dashboard.title) / \(panel.title)")
                for series in panel.series {
                    #expect(series.points.allSatisfy { $0.value.isFinite && $0.second >= 0 }, "\(panel.title) \(series.legend)")
                    #expect(!series.legend.contains("{{"), "the legend format was filled in: \(series.legend)")
                }
            }
        }
        let panels = Dictionary(dashboards.flatMap(\.panels).map { ($0.title, $0) }) { first, _ in first }
        // Rollback p99 by operation: one series per rollback operation the services performed.
        let rollback = try #require(panels["Rollback Latency (99th Percentile)"])
        #expect(Set(rollback.series.map(\.legend)).isSubset(of: ["p99 git_restore", "p99 db_restore", "p99 shim_restore"]))
        #expect(panels["Liveness Latency (P99.9)"]?.series.map(\.legend) == ["p99.9 liveness"])
        // Series per metric: the seed's histograms are there, by name.
        let perMetric = Set(panels["Series per Metric"]?.series.map(\.legend) ?? [])
        #expect(perMetric.isSuperset(of: ["rollback_duration_seconds_bucket", "health_check_latency_milliseconds_bucket", "task_create_total"]))

        // Latency over time: per request, whole seconds in order, p50 ≤ p90 ≤ p99, counts adding up to what was sent.
        let overTime = try #require(summary.latencyOverTime)
        #expect(overTime.windowSeconds == 1)
        let sent = summary.phases.reduce(0) { $0 + $1.sent }
        #expect(overTime.requests.values.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } } == sent)
        #expect(Set(overTime.requests.keys) == Set(summary.phases.flatMap(\.requests.keys)))
        for (name, points) in overTime.requests {
            #expect(zip(points, points.dropFirst()).allSatisfy { $0.second < $1.second }, "\(name): seconds increase")
            #expect(points.allSatisfy { $0.count > 0 && $0.p50 > 0 && $0.p50 <= $0.p90 && $0.p90 <= $0.p99 }, "\(name): \(points)")
            let counted = points.reduce(0) { $0 + $1.count }
            #expect(counted == summary.phases.reduce(0) { $0 + ($1.requests[name]?.count ?? 0) }, "\(name)")
        }

        // summary.json carries both, as written.
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("summary.json"))) as? [String: Any]
        )
        let written = try #require(json["latencyOverTime"] as? [String: Any])
        #expect((written["requests"] as? [String: [[String: Any]]])?["live"]?.first?.keys.sorted() == ["count", "p50", "p90", "p99", "second"])
        let writtenDashboards = try #require(json["dashboards"] as? [[String: Any]])
        #expect(writtenDashboards.count == 2)

        // report.html: an SVG per panel, titled as in the dashboard, and one latency chart per request.
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        for panel in dashboards.flatMap(\.panels) {
            #expect(html.contains("aria-label=\"\(HTMLReport.escape(panel.title))\""), "\(panel.title)")
            #expect(html.contains("<h3>\(HTMLReport.escape(panel.title))"), "\(panel.title)")
        }
        for name in overTime.requests.keys {
            #expect(html.contains("aria-label=\"latency over time of \(name)\""), "\(name)")
        }
        #expect(html.contains("Client latency over time"))
        #expect(!html.contains("class=nodata"), "no panel without data")
        #expect(!html.contains("<script"))

        // `check --recording` draws the same panels from the recording, every one with data.
        let check = try RecordingCheck(
            scenarioPath: repositoryRoot.appendingPathComponent("Scenarios/cf-core-smoke.yaml").path,
            recordingPaths: outcome.recordingFiles
        ).run(reportDirectory: folder.appendingPathComponent("check").path)
        let rechecked = try #require(check.summary.dashboards)
        #expect(rechecked.map(\.panels.count) == dashboards.map(\.panels.count))
        #expect(rechecked.flatMap(\.panels).allSatisfy { !$0.series.isEmpty && $0.problems.isEmpty }, "\(rechecked.flatMap(\.panels).map(\.problems))")

        // Headless Chromium renders the page (the README's "Checked as a person would": look at report.png).
        let chromium = URL(fileURLWithPath: "/usr/bin/chromium")
        try #require(FileManager.default.isExecutableFile(atPath: chromium.path), "chromium is missing: run scripts/install-test-deps.sh")
        let screenshot = folder.appendingPathComponent("report.png")
        let result = try await runProcess(
            chromium,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--screenshot=\(screenshot.path)", "--window-size=1280,9000",
                folder.appendingPathComponent("report.html").absoluteString,
            ],
            timeout: .seconds(90)
        )
        #expect(result.status == 0, "\(result.stderr.suffix(500))")
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4e, 0x47]), "a PNG")
        #expect(png.count > 300_000, "a long page of tables and plots, not a blank one (\(png.count) bytes)")
    }

    /// A panel whose query returns nothing says so, naming the query, instead of drawing an empty chart.
    @Test func aPanelWithoutDataNamesItsQuery() {
        let panel = DashboardView.Panel(
            title: "Nothing",
            unit: "s",
            queries: ["rate(misspelt_total[1m])"],
            series: [],
            problems: ["no data: rate(misspelt_total[1m]) returned no series over the run"]
        )
        let html = HTMLReport.panelChart(panel)
        #expect(html.contains("class=nodata"))
        #expect(html.contains("no data: rate(misspelt_total[1m]) returned no series over the run"))
        #expect(!html.contains("<svg"))
    }

    /// Every request has its curve and legend entry in the latency-by-percentile chart, however many there are
    /// (past the palette's ten colours they repeat dashed).
    @Test func theLatencyChartDrawsEveryRequest() {
        let curves = Dictionary(
            uniqueKeysWithValues: (1...16).map { index in
                ("request \(index)", [50.0, 99.0].map { RunSummary.LatencyCurvePoint(percentile: $0, milliseconds: Double(index) * $0 / 50) })
            }
        )
        let svg = HTMLReport.latencyChart(curves)
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 16)
        for index in 1...16 { #expect(svg.contains(">request \(index)</text>"), "request \(index)") }
        #expect(svg.components(separatedBy: "stroke-dasharray").count - 1 == 2 * 6, "the six past the palette, line and legend")
    }
}

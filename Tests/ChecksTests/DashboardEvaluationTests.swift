import Checks
import PromQL
import Scenario
import Testing

/// A dashboard's panels as range queries: series with Grafana's legends, and a named reason for every query
/// without data.
@Suite struct DashboardEvaluationTests {
    /// `requests_total{operation}` growing by 1 (git) and 2 (db) a second for 60 s, from t = 1000 s.
    static let engine: PromQLEngine = {
        func series(_ operation: String, perSecond: Double) -> Series {
            Series(
                labels: Labels(["__name__": "requests_total", "operation": operation, "job": "cf"]),
                samples: (0...60).map { Sample(timestamp: 1_000_000 + Int64($0) * 1000, value: Double($0) * perSecond) }
            )
        }
        return PromQLEngine(series: [series("git", perSecond: 1), series("db", perSecond: 2)])
    }()

    static func dashboard(_ targets: [GrafanaDashboard.Target]) -> GrafanaDashboard {
        GrafanaDashboard(title: "d", file: "d.json", panels: [GrafanaDashboard.Panel(title: "p", type: "timeseries", unit: "ops", targets: targets)])
    }

    @Test func panelsAreRangeQueriesWithGrafanasLegends() throws {
        let view = DashboardEvaluation.evaluate(
            Self.dashboard([
                GrafanaDashboard.Target(refID: "A", expression: "sum by (operation) (rate(requests_total[10s]))", legendFormat: "rate {{ operation }}")
            ]),
            engine: Self.engine,
            start: 1_000_000,
            end: 1_060_000
        )
        // 60 s over about 300 steps: the 250 ms minimum.
        #expect(view.stepSeconds == 0.25)
        let panel = try #require(view.panels.first)
        #expect(panel.problems.isEmpty)
        #expect(panel.series.map(\.legend) == ["rate db", "rate git"])
        // The first step has one sample in its window, so no rate: a gap, not a zero.
        let git = try #require(panel.series.last)
        #expect(git.points.first?.second == 1)
        #expect(git.points.last?.second == 60)
        // Once the 10 s window is full of samples, the rate is exactly one a second (before, Prometheus extrapolates).
        let full = git.points.filter { $0.second >= 10 }
        #expect(full.count == 201)
        #expect(full.allSatisfy { abs($0.value - 1) < 1e-9 }, "\(full.prefix(3))")
    }

    @Test func aLongerRunHasAboutThreeHundredSteps() {
        let view = DashboardEvaluation.evaluate(
            Self.dashboard([GrafanaDashboard.Target(refID: "A", expression: "vector(1)", legendFormat: nil)]),
            engine: Self.engine,
            start: 0,
            end: 3_600_000
        )
        #expect(view.stepSeconds == 12)
        #expect(view.panels[0].series.first?.points.count == 301)
        #expect(view.panels[0].series.first?.legend == "value")
    }

    @Test func everyQueryWithoutDataSaysWhy() throws {
        let view = DashboardEvaluation.evaluate(
            Self.dashboard([
                GrafanaDashboard.Target(refID: "A", expression: "rate(requets_total[1m])", legendFormat: nil),
                GrafanaDashboard.Target(refID: "B", expression: "vector(0) / 0 * 0", legendFormat: nil),
                GrafanaDashboard.Target(refID: "C", expression: "vector(1) + on() requests_total", legendFormat: nil),
                GrafanaDashboard.Target(refID: "D", expression: "requests_total", legendFormat: "__auto"),
            ]),
            engine: Self.engine,
            start: 1_000_000,
            end: 1_060_000
        )
        let panel = try #require(view.panels.first)
        #expect(panel.problems.count == 3, "\(panel.problems)")
        #expect(panel.problems[0] == "no data: rate(requets_total[1m]) returned no series over the run")
        // NaN everywhere is no data, as Grafana draws nothing for it.
        #expect(panel.problems[1] == "no data: vector(0) / 0 * 0 returned no series over the run")
        #expect(panel.problems[2].hasPrefix("query C failed: "), "\(panel.problems[2])")
        #expect(panel.series.map(\.legend) == [#"requests_total{job="cf", operation="db"}"#, #"requests_total{job="cf", operation="git"}"#])
        #expect(panel.series.allSatisfy { $0.refID == "D" })
    }

    @Test func withoutAnySampleEveryPanelSaysSo() {
        let views = DashboardEvaluation.evaluate(
            Self.dashboard([GrafanaDashboard.Target(refID: "A", expression: "up", legendFormat: nil)]),
            engine: PromQLEngine(series: []),
            start: nil,
            end: nil
        )
        #expect(views.panels.map(\.problems) == [["no data: no metric sample arrived during the run, so no query can return one"]])
        #expect(views.panels[0].queries == ["up"])
    }
}

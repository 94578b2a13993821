import Foundation
import PromQLSyntax
import Scenario
import TestSupport
import Testing

/// The shipped Grafana dashboards are Grafana's JSON model with PromQL our parser reads, the provisioning example
/// points at them, and `report.dashboards` mistakes are validation errors with file, line and field.
@Suite struct GrafanaDashboardTests {
    static let dashboardFiles = ["cf-core-migration-overview.json", "cf-core-service-health.json"]

    static func dashboardPath(_ name: String) -> String { repositoryRoot.appendingPathComponent("Scenarios/dashboards/\(name)").path }

    /// The panels the seed names and the issue asks for, by dashboard.
    static let requiredPanels = [
        "cf-core-migration-overview.json": [
            "Phase Success Rate", "Migration Duration by Phase", "Rollback Latency (99th Percentile)", "Migration Success and Failure Rates",
        ],
        "cf-core-service-health.json": [
            "Health Check Latency (P95)", "Liveness Latency (P99.9)", "Test Coverage by Phase", "Task Creation Rate", "Series per Metric",
        ],
    ]

    @Test(arguments: dashboardFiles)
    func shippedDashboardLoadsWithEveryQueryParsing(_ name: String) throws {
        let dashboard = try GrafanaDashboard.load(path: Self.dashboardPath(name))
        #expect(dashboard.panels.map(\.title) == Self.requiredPanels[name])
        for panel in dashboard.panels {
            #expect(panel.unit != nil, "\(panel.title) has a unit")
            for target in panel.targets {
                let expression = try PromQLParser.parse(target.expression)
                #expect(expression.type == .vector || expression.type == .scalar, "\(target.expression)")
            }
        }
    }

    /// What Grafana itself needs of the model: read with a plain JSON parser, not ours.
    @Test(arguments: dashboardFiles)
    func shippedDashboardIsGrafanasModel(_ name: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.dashboardPath(name)))
        let model = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((model["uid"] as? String)?.isEmpty == false)
        #expect(model["schemaVersion"] as? Int != nil)
        let panels = try #require(model["panels"] as? [[String: Any]])
        let ids = panels.compactMap { $0["id"] as? Int }
        #expect(ids.count == panels.count && Set(ids).count == ids.count, "every panel has its own id")
        for panel in panels {
            let title = panel["title"] as? String ?? "?"
            let grid = try #require(panel["gridPos"] as? [String: Int], "\(title): gridPos")
            #expect(Set(grid.keys) == ["h", "w", "x", "y"] && (grid["x"]! + grid["w"]!) <= 24, "\(title): gridPos within Grafana's 24 columns")
            let source = try #require(panel["datasource"] as? [String: String], "\(title): datasource")
            #expect(source == ["type": "prometheus", "uid": "otelbench"], "\(title)")
            let defaults = (panel["fieldConfig"] as? [String: Any])?["defaults"] as? [String: Any]
            #expect(defaults?["unit"] is String, "\(title): fieldConfig.defaults.unit")
            let targets = try #require(panel["targets"] as? [[String: Any]], "\(title): targets")
            #expect(!targets.isEmpty)
            for target in targets {
                #expect(target["expr"] is String && target["refId"] is String, "\(title)")
                #expect((target["datasource"] as? [String: String])?["type"] == "prometheus", "\(title)")
            }
        }
    }

    /// The provisioning example names the data source the dashboards use and loads them from a folder.
    @Test func provisioningPointsAPrometheusDataSourceAtTheQueryAPI() throws {
        let folder = repositoryRoot.appendingPathComponent("deploy/grafana/provisioning")
        let datasource = try String(contentsOf: folder.appendingPathComponent("datasources/otelbench.yaml"), encoding: .utf8)
        #expect(datasource.contains("uid: otelbench"))
        #expect(datasource.contains("type: prometheus"))
        #expect(datasource.contains("url: http://127.0.0.1:9090"))
        let provider = try String(contentsOf: folder.appendingPathComponent("dashboards/otelbench.yaml"), encoding: .utf8)
        #expect(provider.contains("type: file"))
        #expect(provider.contains("path: /var/lib/grafana/dashboards/otelbench"))
    }

    @Test func theSmokeScenarioDrawsBothDashboards() throws {
        let scenario = try ScenarioLoader.load(path: repositoryRoot.appendingPathComponent("Scenarios/cf-core-smoke.yaml").path)
        #expect(scenario.report.dashboards.map(\.title) == ["CF Core Migration Overview", "CF Core Service Health"])
    }

    @Test func rowsAreFlattenedAndTheAPIWrapperIsAccepted() throws {
        let text = """
            {"dashboard": {"title": "wrapped", "panels": [
              {"type": "row", "title": "row", "collapsed": true, "panels": [
                {"type": "timeseries", "title": "inside", "targets": [{"expr": "up", "legendFormat": "{{job}}"}]}
              ]},
              {"type": "text", "title": "notes"},
              {"type": "graph", "title": "old graph", "yaxes": [{"format": "ms"}, {"format": "short"}], "targets": [{"refId": "Q", "expr": "vector(1)"}]}
            ]}}
            """
        let dashboard = try GrafanaDashboard.parse(text, file: "wrapped.json")
        #expect(dashboard.title == "wrapped")
        #expect(dashboard.panels.map(\.title) == ["inside", "old graph"])
        #expect(dashboard.panels[0].targets[0].legendFormat == "{{job}}")
        #expect(dashboard.panels[0].targets[0].refID == "A")
        #expect(dashboard.panels[1].unit == "ms")
        #expect(dashboard.panels[1].targets[0].refID == "Q")
    }

    /// Each mistake in a dashboard file, reported at its line with its JSON path.
    @Test(arguments: [
        (#"{"title": "d", "panels": [{"title": "p", "targets": [{"expr": "rate(x[5m]"}]}]}"#, 1, "panels[0].targets[0].expr", "PromQL"),
        (
            "{\"title\": \"d\",\n \"panels\": [\n  {\"title\": \"p\",\n   \"targets\": [{\"expr\": \"x[5m]\"}]}]}", 4, "panels[0].targets[0].expr",
            "range vector"
        ),
        (
            #"{"title": "d", "panels": [{"title": "p", "targets": [{"expr": "rate(x[$__rate_interval])"}]}]}"#, 1, "panels[0].targets[0].expr",
            "Grafana variable"
        ),
        (
            "{\"title\": \"d\", \"panels\": [\n{\"title\": \"p\", \"datasource\": {\"type\": \"loki\", \"uid\": \"l\"}, \"targets\": [{\"expr\": \"{job=\\\"x\\\"}\"}]}]}",
            2,
            "panels[0].datasource.type", "Prometheus data source"
        ),
        (#"{"title": "d", "panels": [{"title": "p", "targets": [{"refId": "A"}]}]}"#, 1, "panels[0].targets[0]", "needs \"expr\""),
        (#"{"title": "d", "panels": [{"targets": [{"expr": "up"}]}]}"#, 1, "panels[0]", "needs a \"title\""),
        (#"{"panels": []}"#, 1, "", "no title"),
        (#"{"title": "d", "panels": [{"type": "text", "title": "t"}]}"#, 1, "panels", "no panel has a PromQL target"),
    ])
    func dashboardMistakesNameLineAndField(text: String, line: Int, path: String, phrase: String) throws {
        do {
            _ = try GrafanaDashboard.parse(text, file: "bad.json")
            Issue.record("accepted: \(text)")
        } catch {
            let first = try #require(error.errors.first)
            #expect(first.file == "bad.json")
            #expect(first.line == line, "\(first)")
            #expect(first.path == path, "\(first)")
            #expect(first.message.contains(phrase), "\(first)")
        }
    }

    @Test func notJSONIsRefused() {
        #expect(throws: FileErrors.self) { try GrafanaDashboard.parse("title: yaml, not json\n", file: "bad.json") }
    }

    /// `report.dashboards` in a scenario: a missing file, a listed-twice file and a broken dashboard are named at the
    /// scenario's line and field, the broken dashboard's own mistakes at its line and path.
    @Test func scenarioReportMistakes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dashboards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try #"{"title": "ok", "panels": [{"title": "p", "targets": [{"expr": "up"}]}]}"#.write(
            to: folder.appendingPathComponent("ok.json"),
            atomically: true,
            encoding: .utf8
        )
        try "{\"title\": \"broken\",\n \"panels\": [{\"title\": \"p\",\n  \"targets\": [{\"expr\": \"sum(\"}]}]}".write(
            to: folder.appendingPathComponent("broken.json"),
            atomically: true,
            encoding: .utf8
        )
        let scenarioFile = folder.appendingPathComponent("scenario.yaml").path
        let text = """
            name: report
            workload:
              phases: [{name: p, duration: 1s, arrival: constant, rate: 1}]
              requests: [{name: r, service: tasks, path: /}]
            rules: {propagation: true}
            report:
              dashboards:
                - ok.json
                - missing.json
                - ok.json
                - broken.json
            """
        do {
            _ = try ScenarioLoader.parse(text, file: scenarioFile)
            Issue.record("accepted")
        } catch {
            let errors = error.errors
            #expect(errors.contains { $0.line == 9 && $0.path == "report.dashboards[1]" && $0.message.contains("does not exist") }, "\(error)")
            #expect(errors.contains { $0.line == 10 && $0.path == "report.dashboards[2]" && $0.message.contains("listed twice") }, "\(error)")
            #expect(errors.contains { $0.line == 11 && $0.path == "report.dashboards[3]" && $0.message.contains("broken.json has 1 mistake") }, "\(error)")
            #expect(
                errors.contains { $0.file.hasSuffix("broken.json") && $0.line == 3 && $0.path == "panels[0].targets[0].expr" && $0.message.contains("PromQL") },
                "\(error)"
            )
        }
        let good = try ScenarioLoader.parse(
            text.replacingOccurrences(of: "    - missing.json\n    - ok.json\n    - broken.json", with: ""),
            file: scenarioFile
        )
        #expect(good.report.dashboards.map(\.title) == ["ok"])
        do {
            _ = try ScenarioLoader.parse(text.replacingOccurrences(of: "  dashboards:", with: "  dashboard:"), file: scenarioFile)
            Issue.record("accepted a misspelt key")
        } catch {
            #expect(error.errors.contains { $0.path == "report.dashboard" && $0.message.contains("did you mean 'dashboards'") }, "\(error)")
        }
    }
}

import Scenario
import Testing

/// `estimate:`: the data-volume estimate's assumptions, each optional, every mistake named with file, line,
/// column and field.
@Suite struct EstimateLoaderTests {
    /// A scenario whose last line (line 11) is `estimate: VALUE`.
    static func scenario(estimate: String) -> String {
        """
        name: estimate
        services:
          builtin: {}
        workload:
          phases:
            - {name: p, duration: 1s, arrival: constant, rate: 1}
          requests:
            - {name: r, service: tasks, path: /}
        rules:
          propagation: true
        estimate: \(estimate)

        """
    }

    @Test func assumptionsAreReadInTheirUnits() throws {
        let scenario = try ScenarioLoader.parse(
            Self.scenario(estimate: "{traffic_multiplier: 50, retention: 15d, scrape_interval: 1m, replicas: 2}"),
            file: "e.yaml"
        )
        #expect(
            scenario.estimate == EstimateSection(trafficMultiplier: 50, retention: .seconds(15 * 86_400), scrapeInterval: .seconds(60), replicas: 2)
        )
        let partial = try ScenarioLoader.parse(Self.scenario(estimate: "{traffic_multiplier: 2.5}"), file: "e.yaml")
        #expect(partial.estimate == EstimateSection(trafficMultiplier: 2.5), "unset keys keep their defaults: 15 days, measured samples, 1 replica")
        #expect(EstimateSection.default.retention == .seconds(15 * 86_400) && EstimateSection.default.replicas == 1)
    }

    @Test(arguments: [("2w", 14 * 86_400), ("1y", 365 * 86_400), ("36h", 36 * 3600), ("90m", 5400), ("45s", 45)])
    func retentionTakesPrometheusUnits(text: String, seconds: Int) throws {
        let scenario = try ScenarioLoader.parse(Self.scenario(estimate: "{retention: \(text)}"), file: "e.yaml")
        #expect(scenario.estimate?.retention == .seconds(seconds))
    }

    @Test func withoutEstimateTheSectionIsAbsent() throws {
        let text = Self.scenario(estimate: "{}").replacingOccurrences(of: "estimate: {}\n", with: "")
        #expect(try ScenarioLoader.parse(text, file: "e.yaml").estimate == nil)
    }

    static let mistakes: [(String, String)] = [
        ("{traffic_multiplier: 0}", "e.yaml:11:32: estimate.traffic_multiplier: 0 must be > 0"),
        ("{traffic_multiplier: lots}", "e.yaml:11:32: estimate.traffic_multiplier: expected a number"),
        ("{retention: 15 days}", "e.yaml:11:23: estimate.retention: '15 days' is not a retention: write a whole number > 0 with a unit"),
        ("{retention: 0d}", "e.yaml:11:23: estimate.retention: '0d' is not a retention"),
        ("{retention: 1.5d}", "e.yaml:11:23: estimate.retention: '1.5d' is not a retention"),
        ("{scrape_interval: often}", "e.yaml:11:29: estimate.scrape_interval: expected a duration such as 500ms, 30s, 5m or 1h"),
        ("{replicas: -1}", "e.yaml:11:22: estimate.replicas: -1 is out of range: must be 0...100"),
        ("{trafic_multiplier: 5}", "e.yaml:11:12: estimate.trafic_multiplier: unknown key 'trafic_multiplier' (did you mean 'traffic_multiplier'?)"),
        ("50", "e.yaml:11:11: estimate: expected a mapping"),
    ]

    @Test(arguments: mistakes)
    func mistakesNameFileLineAndField(estimate: String, expected: String) {
        #expect {
            try ScenarioLoader.parse(Self.scenario(estimate: estimate), file: "e.yaml")
        } throws: { error in
            "\(error)".contains(expected)
        }
    }
}

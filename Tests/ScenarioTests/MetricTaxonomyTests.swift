import Foundation
import Scenario
import TestSupport
import Testing

@Suite struct MetricTaxonomyTests {
    @Test func cfCoreTaxonomyHasTheSeedMetricsExactly() throws {
        let taxonomy = try cfCoreTaxonomy()
        #expect(taxonomy.metrics.count == 14)
        let seedNames = [
            "migration_duration_seconds", "phase_success_total", "phase_failure_total", "rollback_duration_seconds",
            "rollback_success_total", "rollback_failure_total", "health_check_latency_milliseconds",
            "git_operation_duration_seconds", "db_snapshot_size_bytes", "state_file_write_latency_milliseconds",
            "artifacts_modified_total", "test_coverage_percentage", "task_create_duration_seconds", "task_create_total",
        ]
        #expect(taxonomy.metrics.map(\.name) == seedNames)

        let migration = try #require(taxonomy["migration_duration_seconds"])
        #expect(migration.type == .histogram)
        #expect(migration.unit == "s")
        #expect(migration.buckets == [10, 30, 60, 120, 300, 600, 1800, 3600])
        #expect(
            migration.labels == [
                .init(key: "phase"), .init(key: "status", allowedValues: ["success", "failed", "rolled_back"]),
                .init(key: "dry_run", allowedValues: ["true", "false"]),
            ]
        )
        #expect(taxonomy["rollback_duration_seconds"]?.buckets == [5, 15, 30, 60, 90, 150, 250])
        #expect(taxonomy["health_check_latency_milliseconds"]?.buckets == [1, 5, 10, 50, 100, 500, 1000, 5000])
        #expect(taxonomy["health_check_latency_milliseconds"]?.unit == "ms")
        #expect(taxonomy["git_operation_duration_seconds"]?.buckets == [0.1, 0.5, 1, 5, 10, 30, 60])
        #expect(taxonomy["state_file_write_latency_milliseconds"]?.buckets == [1, 5, 10, 50, 100, 500])
        #expect(taxonomy["db_snapshot_size_bytes"]?.type == .gauge)
        #expect(taxonomy["db_snapshot_size_bytes"]?.unit == "By")
        #expect(taxonomy["test_coverage_percentage"]?.type == .gauge)
        #expect(taxonomy["phase_failure_total"]?.labels.last?.allowedValues == ["validation_failed", "db_error", "git_error", "timeout"])
        #expect(taxonomy["rollback_failure_total"]?.labels.last?.allowedValues == ["git_failed", "db_failed", "shim_failed", "corruption"])
        for metric in taxonomy.metrics where metric.type == .counter { #expect(metric.unit == "1") }
    }

    struct BadTaxonomy: Sendable, CustomTestStringConvertible {
        var yaml: String
        var expected: String
        var testDescription: String { expected }
    }

    static let metricHead = "version: 1\nmetrics:\n  - name: m\n"

    static let badTaxonomies: [BadTaxonomy] = [
        .init(
            yaml: metricHead + "    type: summary\n    unit: s\n    description: d\n",
            expected: "t.yaml:4: metrics[0].type: unknown type summary; expected histogram, counter or gauge"
        ),
        .init(yaml: metricHead + "    type: counter\n    description: d\n", expected: "t.yaml:3: metrics[0].unit: missing"),
        .init(
            yaml: metricHead + "    type: counter\n    unit: \"1\"\n    description: d\n    buckets: [1, 2]\n",
            expected: "t.yaml:7: metrics[0].buckets: only histograms have buckets; remove it or make the type histogram"
        ),
        .init(
            yaml: metricHead + "    type: histogram\n    unit: s\n    description: d\n    buckets: [1, 5, 3]\n",
            expected: "t.yaml:7: metrics[0].buckets: boundaries must increase strictly (3.0 after 5.0)"
        ),
        .init(
            yaml: metricHead + "    type: histogram\n    unit: s\n    description: d\n",
            expected: "t.yaml:3: metrics[0].buckets: a histogram needs explicit bucket boundaries"
        ),
        .init(
            yaml: metricHead + "    type: gauge\n    unit: s\n    description: d\n    colour: red\n",
            expected: "t.yaml:7: metrics[0].colour: unknown field; expected one of buckets, description, labels, name, type, unit"
        ),
        .init(
            yaml: metricHead + "    type: gauge\n    unit: s\n    description: d\n    labels:\n      - key: a\n      - key: a\n",
            expected: "t.yaml:9: metrics[0].labels[1].key: duplicate label a"
        ),
        .init(yaml: "version: 2\nmetrics: []\n", expected: "t.yaml:1: version: unsupported version 2; only 1 is known"),
        .init(yaml: "version: 1\nmetrics: [\n", expected: "t.yaml:3: : not valid YAML"),
    ]

    @Test(arguments: badTaxonomies)
    func errorsNameFileLineAndField(_ bad: BadTaxonomy) throws {
        do {
            _ = try MetricTaxonomy.parse(yaml: bad.yaml, file: "t.yaml")
            Issue.record("accepted: \(bad.yaml)")
        } catch {
            #expect(error.description.hasPrefix(bad.expected), "\(error.description)")
        }
    }
}

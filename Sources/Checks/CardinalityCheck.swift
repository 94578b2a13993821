import PromQL
package import Telemetry

/// Unique series as Prometheus counts them after the Collector's OTLP translation (``PrometheusView``):
/// Prometheus names; point labels plus `job`/`instance` from the resource and the scope's labels; a histogram
/// series is its buckets (with `+Inf`) plus `_sum` and `_count`; a summary its quantiles plus `_sum` and `_count`.
///
/// Subjects: the metrics with the most series when the total is over the limit (at most 5), and a metric over
/// its own limit. A per-metric limit on a metric that never arrived is `no_data`, naming it.
package struct CardinalityCheck: Check {
    /// The total must stay below this.
    package var limit: Int
    /// Limits per metric, by its Prometheus or its OTLP name.
    package var perMetric: [String: Int]

    package init(limit: Int, perMetric: [String: Int] = [:]) {
        self.limit = limit
        self.perMetric = perMetric
    }

    package var kind: RuleResult.Kind { .cardinality }

    /// Series per metric name and the label values that explode.
    package struct Table: Sendable, Codable, Hashable {
        package struct Row: Sendable, Codable, Hashable {
            package var metric: String
            package var series: Int
            /// Distinct values per label key, largest first.
            package var labelValues: [String: Int]
        }
        package var total: Int
        package var rows: [Row]
    }

    package static func table(store: TelemetryStore) -> Table {
        // Exactly the series Prometheus would hold: PrometheusView's names and labels, per base metric name.
        var seriesByMetric: [String: Set<Labels>] = [:]
        for (metric, _) in store.latestSeries {
            seriesByMetric[PrometheusView.metricName(metric), default: []].formUnion(PrometheusView.labelSets(of: metric))
        }
        var rows: [Table.Row] = []
        for (metric, labelSets) in seriesByMetric {
            var values: [String: Set<String>] = [:]
            for labels in labelSets {
                // The bucket and quantile labels are the histogram's shape, not an explosion.
                for pair in labels.pairs where !["__name__", "le", "quantile"].contains(pair.name) { values[pair.name, default: []].insert(pair.value) }
            }
            rows.append(Table.Row(metric: metric, series: labelSets.count, labelValues: values.mapValues(\.count)))
        }
        rows.sort { ($0.series, $1.metric) > ($1.series, $0.metric) }
        return Table(total: rows.reduce(0) { $0 + $1.series }, rows: rows)
    }

    package func evaluate(_ run: RunData) -> [RuleResult] {
        let store = run.store
        let table = Self.table(store: store)
        let offenders = table.rows.prefix(5).map { row in
            let labels = row.labelValues.sorted { $0.value > $1.value }.prefix(3).map { "\($0.key): \($0.value) values" }.joined(separator: ", ")
            return "\(row.metric): \(row.series) series (\(labels))"
        }
        var results = [
            RuleResult(
                kind: .cardinality,
                name: "total series",
                verdict: table.total < limit ? .pass : .fail,
                measured: "\(table.total) series",
                expected: "< \(limit)",
                evidence: table.total < limit ? [] : offenders,
                subjects: table.total < limit ? [] : table.rows.prefix(5).map { .metric(name: $0.metric) }
            )
        ]
        for (metric, metricLimit) in perMetric.sorted(by: { $0.key < $1.key }) {
            // Per-metric limits name the metric by its Prometheus name or its OTLP name.
            let prometheusNames = Set(store.latestSeries.filter { $0.series.name == metric }.map { PrometheusView.metricName($0.series) })
            let row = table.rows.first { $0.metric == metric || prometheusNames.contains($0.metric) }
            guard let row else {
                // A limit on a metric that never arrived proves nothing: a misspelt name would pass forever.
                results.append(
                    RuleResult(
                        kind: .cardinality,
                        name: "series of \(metric)",
                        verdict: .noData,
                        measured: "no series: the metric never arrived",
                        expected: "< \(metricLimit)",
                        evidence: ["no series named \(metric) (by its OTLP or its Prometheus name) was received; check the name in cardinality.per_metric"],
                        subjects: [.metric(name: metric)]
                    )
                )
                continue
            }
            let count = row.series
            let labels = row.labelValues.sorted { $0.value > $1.value }.prefix(3).map { "\($0.key): \($0.value) values" }
            results.append(
                RuleResult(
                    kind: .cardinality,
                    name: "series of \(metric)",
                    verdict: count < metricLimit ? .pass : .fail,
                    measured: "\(count) series",
                    expected: "< \(metricLimit)",
                    evidence: count < metricLimit ? [] : labels,
                    subjects: count < metricLimit ? [] : [.metric(name: row.metric)]
                )
            )
        }
        return results
    }
}

public import Telemetry

/// Unique series as Prometheus counts them after the Collector's OTLP translation: metric name and point
/// labels plus `job`/`instance` from the resource; a histogram series is its buckets (with `+Inf`) plus
/// `_sum` and `_count`; a summary its quantiles plus `_sum` and `_count`.
public enum CardinalityCheck {
    /// Series per metric name and the label values that explode.
    public struct Table: Sendable, Codable, Hashable {
        public struct Row: Sendable, Codable, Hashable {
            public var metric: String
            public var series: Int
            /// Distinct values per label key, largest first.
            public var labelValues: [String: Int]
        }
        public var total: Int
        public var rows: [Row]
    }

    public static func table(store: TelemetryStore) -> Table {
        var seen: [String: Set<[String: String]>] = [:]
        var perSeriesWeight: [String: [[String: String]: Int]] = [:]
        for series in store.series {
            var labels = series.key.attributes.mapValues(\.description)
            labels["job"] = series.key.resource.serviceName
            if let instance = series.key.resource.attributes["service.instance.id"] { labels["instance"] = instance.description }
            let weight: Int
            switch series.points.last {
            case .histogram(let point): weight = point.explicitBounds.count + 1 + 2
            case .summary(let point): weight = point.quantiles.count + 2
            default: weight = 1
            }
            seen[series.name, default: []].insert(labels)
            perSeriesWeight[series.name, default: [:]][labels] = max(perSeriesWeight[series.name]?[labels] ?? 0, weight)
        }
        var rows: [Table.Row] = []
        for (metric, labelSets) in seen {
            var values: [String: Set<String>] = [:]
            for labels in labelSets { for (key, value) in labels { values[key, default: []].insert(value) } }
            rows.append(Table.Row(
                metric: metric, series: perSeriesWeight[metric, default: [:]].values.reduce(0, +),
                labelValues: values.mapValues(\.count)
            ))
        }
        rows.sort { ($0.series, $1.metric) > ($1.series, $0.metric) }
        return Table(total: rows.reduce(0) { $0 + $1.series }, rows: rows)
    }

    public static func evaluate(limit: Int, perMetric: [String: Int], store: TelemetryStore) -> [RuleResult] {
        let table = table(store: store)
        let offenders = table.rows.prefix(5).map { row in
            let labels = row.labelValues.sorted { $0.value > $1.value }.prefix(3).map { "\($0.key): \($0.value) values" }.joined(separator: ", ")
            return "\(row.metric): \(row.series) series (\(labels))"
        }
        var results = [RuleResult(
            kind: .cardinality, name: "total series", verdict: table.total < limit ? .pass : .fail,
            measured: "\(table.total) series", expected: "< \(limit)", evidence: table.total < limit ? [] : offenders
        )]
        for (metric, metricLimit) in perMetric.sorted(by: { $0.key < $1.key }) {
            let row = table.rows.first { $0.metric == metric }
            let count = row?.series ?? 0
            let labels = row?.labelValues.sorted { $0.value > $1.value }.prefix(3).map { "\($0.key): \($0.value) values" } ?? []
            results.append(RuleResult(
                kind: .cardinality, name: "series of \(metric)", verdict: count < metricLimit ? .pass : .fail,
                measured: "\(count) series", expected: "< \(metricLimit)", evidence: count < metricLimit ? [] : labels
            ))
        }
        return results
    }
}

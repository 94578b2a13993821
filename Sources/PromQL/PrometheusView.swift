package import PromQLSyntax
package import Telemetry

/// The store's metrics as Prometheus holds them: one ``Series`` of samples per label set, named as the
/// Collector's `prometheus` exporter names them.
///
/// - OTLP metrics: names by ``PrometheusTranslation``; labels from the point attributes, `job`
///   (`service.namespace/service.name`) and `instance` (`service.instance.id`) from the resource,
///   `otel_scope_name`/`otel_scope_version` from the scope (``labels(for:namespace:constantLabels:)``).
///   Gauges and sums give one sample per point; monotonic sums are counters (`_total`); histograms give
///   cumulative `_bucket{le=…}` series with `+Inf` (= the count), `_sum` and `_count`; summaries
///   `{quantile=…}`, `_sum` and `_count`. Delta points are accumulated into cumulative values, as the
///   exporter does. Exponential histograms have no Prometheus 2.42 form and are left out.
/// - Series that came in as Prometheus (remote write, scrapes: channels named `prometheus-…`) keep their
///   own names and labels.
/// Timestamps are cut to milliseconds; two samples at one millisecond keep the later-arriving one.
package enum PrometheusView {
    /// Every series in `metrics`, sorted by labels.
    package static func series(from metrics: some Sequence<MetricSeries>, namespace: String = "") -> [Series] {
        var samplesByLabels: [Labels: [Sample]] = [:]
        for metric in metrics {
            for (labels, samples) in convert(metric, namespace: namespace) {
                samplesByLabels[labels, default: []] += samples
            }
        }
        return samplesByLabels.map { labels, samples in
            // Samples usually arrive in order, one per millisecond: then there is nothing to sort or merge.
            if zip(samples, samples.dropFirst()).allSatisfy({ $0.timestamp < $1.timestamp }) { return Series(labels: labels, samples: samples) }
            // Stable sort by time, then keep the last sample of each millisecond.
            let ordered = samples.enumerated().sorted { ($0.element.timestamp, $0.offset) < ($1.element.timestamp, $1.offset) }.map(\.element)
            var unique: [Sample] = []
            unique.reserveCapacity(ordered.count)
            for sample in ordered {
                if unique.last?.timestamp == sample.timestamp { unique[unique.count - 1] = sample } else { unique.append(sample) }
            }
            return Series(labels: labels, samples: unique)
        }.sorted { $0.labels < $1.labels }
    }

    /// The label sets (with `__name__`) one store series becomes in Prometheus.
    package static func labelSets(of metric: MetricSeries) -> [Labels] { convert(metric, namespace: "").map(\.0) }

    /// Whether a series arrived in Prometheus' own form and keeps its names: it came by a `prometheus-…`
    /// channel, or it is replayed from a recording that says so in its scope name.
    package static func isNativePrometheus(_ metric: MetricSeries) -> Bool {
        metric.channel.name.hasPrefix("prometheus-") || metric.scope.name.hasPrefix(recordingScopePrefix + "prometheus-")
    }

    /// The scope name prefix under which recordings keep series that came in by a sink (`otelbench.` + channel).
    package static let recordingScopePrefix = "otelbench."

    /// The Prometheus metric name of an OTLP series (for histograms and summaries the base name, before
    /// `_bucket`/`_sum`/`_count`).
    package static func metricName(_ metric: MetricSeries, namespace: String = "") -> String {
        if isNativePrometheus(metric) { return metric.name }
        let kind: PrometheusTranslation.MetricKindForNaming =
            switch metric.kind {
            case .gauge, .sum(isMonotonic: false, _): .gauge
            case .sum(isMonotonic: true, _): .counter
            case .histogram, .exponentialHistogram: .histogram
            case .summary: .summary
            }
        return PrometheusTranslation.metricName(metric.name, unit: metric.unit, kind: kind, namespace: namespace)
    }

    /// The labels of an OTLP series besides its name: attributes (sanitized; keys that collide joined with
    /// `;` in key order), `job`, `instance`, scope name and version, then constant labels where free.
    package static func labels(for metric: MetricSeries, constantLabels: [String: String] = [:]) -> [(String, String)] {
        if isNativePrometheus(metric) {
            return metric.key.attributes.map { ($0.key, $0.value.description) }.filter { !$0.1.isEmpty }.sorted { $0.0 < $1.0 }
        }
        var labels: [String: [(key: String, value: String)]] = [:]
        for (key, value) in metric.key.attributes {
            labels[PrometheusTranslation.labelName(key), default: []].append((key, value.description))
        }
        var merged: [String: String] = labels.mapValues { $0.sorted { $0.key < $1.key }.map(\.value).joined(separator: ";") }
        let resource = metric.key.resource.attributes
        if let job = jobLabel(resource) { merged["job"] = merged["job"] ?? job }
        if let instance = resource.string("service.instance.id") { merged["instance"] = merged["instance"] ?? instance }
        if !metric.scope.name.isEmpty { merged["otel_scope_name"] = metric.scope.name }
        if !metric.scope.version.isEmpty { merged["otel_scope_version"] = metric.scope.version }
        for (name, value) in constantLabels where merged[name] == nil { merged[name] = value }
        return merged.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// `service.namespace/service.name`, or `service.name`, as the exporter's `job` label.
    package static func jobLabel(_ resource: Attributes) -> String? {
        guard let name = resource.string("service.name") else { return nil }
        if let namespace = resource.string("service.namespace"), !namespace.isEmpty { return "\(namespace)/\(name)" }
        return name
    }

    /// One OTLP (or native) series as Prometheus series.
    static func convert(_ metric: MetricSeries, namespace: String) -> [(Labels, [Sample])] {
        let name = metricName(metric, namespace: namespace)
        let base = labels(for: metric)
        func named(_ suffix: String, _ extra: [(String, String)] = []) -> Labels {
            Labels(base + [("__name__", name + suffix)] + extra)
        }
        let inOrder = zip(metric.points, metric.points.dropFirst()).allSatisfy { $0.timeUnixNano <= $1.timeUnixNano }
        let points = inOrder ? metric.points : metric.points.sorted { $0.timeUnixNano < $1.timeUnixNano }
        switch metric.kind {
        case .gauge, .sum:
            var isDelta = false
            if case .sum(_, .delta) = metric.kind { isDelta = true }
            var running = 0.0
            let samples = points.compactMap { point -> Sample? in
                guard case .number(let number) = point else { return nil }
                running = isDelta ? running + number.value.doubleValue : number.value.doubleValue
                return Sample(timestamp: milliseconds(number.timeUnixNano), value: running)
            }
            return [(named(""), samples)]
        case .histogram(let temporality):
            var buckets: [Double: [Sample]] = [:]
            var sums: [Sample] = []
            var counts: [Sample] = []
            var running: HistogramPoint?
            for point in points {
                guard case .histogram(var histogram) = point else { continue }
                if temporality == .delta {
                    if let previous = running, previous.explicitBounds == histogram.explicitBounds, previous.bucketCounts.count == histogram.bucketCounts.count
                    {
                        histogram.count = histogram.count.saturatingAdding(previous.count)
                        histogram.sum = histogram.sum.map { $0 + (previous.sum ?? 0) }
                        for index in histogram.bucketCounts.indices {
                            histogram.bucketCounts[index] = histogram.bucketCounts[index].saturatingAdding(previous.bucketCounts[index])
                        }
                    }
                    running = histogram
                }
                let time = milliseconds(histogram.timeUnixNano)
                var cumulative: UInt64 = 0
                for (index, bound) in histogram.explicitBounds.enumerated() {
                    cumulative = cumulative.saturatingAdding(index < histogram.bucketCounts.count ? histogram.bucketCounts[index] : 0)
                    buckets[bound, default: []].append(Sample(timestamp: time, value: Double(cumulative)))
                }
                buckets[.infinity, default: []].append(Sample(timestamp: time, value: Double(histogram.count)))
                if let sum = histogram.sum { sums.append(Sample(timestamp: time, value: sum)) }
                counts.append(Sample(timestamp: time, value: Double(histogram.count)))
            }
            var result = buckets.map { bound, samples in (named("_bucket", [("le", PromQLFormat.number(bound))]), samples) }
            if !sums.isEmpty { result.append((named("_sum"), sums)) }
            result.append((named("_count"), counts))
            return result
        case .summary:
            var quantiles: [Double: [Sample]] = [:]
            var sums: [Sample] = []
            var counts: [Sample] = []
            for point in points {
                guard case .summary(let summary) = point else { continue }
                let time = milliseconds(summary.timeUnixNano)
                for quantile in summary.quantiles { quantiles[quantile.quantile, default: []].append(Sample(timestamp: time, value: quantile.value)) }
                sums.append(Sample(timestamp: time, value: summary.sum))
                counts.append(Sample(timestamp: time, value: Double(summary.count)))
            }
            return quantiles.map { quantile, samples in (named("", [("quantile", PromQLFormat.number(quantile))]), samples) }
                + [(named("_sum"), sums), (named("_count"), counts)]
        case .exponentialHistogram:
            return []
        }
    }

    static func milliseconds(_ nanoseconds: UInt64) -> Int64 { Int64(nanoseconds / 1_000_000) }
}

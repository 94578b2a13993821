import Foundation
public import Telemetry
public import Workload

/// Evaluates structured SLO rules: a quantile of client latencies, span durations or a received histogram,
/// compared with a threshold.
public enum SLOCheck {
    public static func evaluate(_ rule: SLORule, run: RunData) -> RuleResult {
        let expected = "\(rule.comparison.rawValue) \(rule.thresholdIsDuration ? formatSeconds(rule.threshold) : String(rule.threshold))"
        let label = "p\(formatPercent(rule.quantile))"
        guard let source = rule.source else {
            return RuleResult(kind: .slo, name: rule.name, verdict: .noData, measured: "PromQL expressions are not evaluated yet", expected: rule.expression ?? "")
        }
        let measurement: (value: Double, inSeconds: Bool, evidence: [String])?
        switch source {
        case .client(let request):
            let latencies = (run.driver?.sent ?? []).filter { request == nil || $0.name == request }.map(\.latencySeconds)
            measurement = Quantiles.nearestRank(rule.quantile, of: latencies).map {
                ($0, true, ["\(latencies.count) requests\(request.map { " named \($0)" } ?? ""), client-side latency from the intended send time"])
            }
        case .spans(let name, let service):
            let spans = run.store.spans.filter { span in
                (name == nil || span.name == name) && (service == nil || span.resource.serviceName == service)
                    && rule.selector.allSatisfy { span.attributes[$0.key]?.description == $0.value }
            }
            let durations = spans.map { Double($0.durationNanos) / 1e9 }
            measurement = Quantiles.nearestRank(rule.quantile, of: durations).map { value in
                let slowest = spans.max { $0.durationNanos < $1.durationNanos }
                return (value, true, ["\(spans.count) spans", slowest.map { "slowest: trace \($0.traceID) span \($0.spanID) \(formatSeconds(Double($0.durationNanos) / 1e9))" } ?? ""])
            }
        case .metric(let metricName):
            measurement = metricQuantile(rule, metricName: metricName, store: run.store)
        }
        guard let measurement, !measurement.value.isNaN else {
            return RuleResult(kind: .slo, name: rule.name, verdict: .noData, measured: "no data", expected: "\(label) \(expected)",
                              evidence: ["nothing matched the rule's source and selector, so it cannot hold"])
        }
        // Thresholds with a time unit are in seconds; a metric in milliseconds is compared in its own unit.
        var value = measurement.value
        if rule.thresholdIsDuration, !measurement.inSeconds, case .metric(let name) = source {
            value *= secondsPerUnit(metric: name, store: run.store)
        }
        let holds: Bool =
            switch rule.comparison {
            case .less: value < rule.threshold
            case .lessOrEqual: value <= rule.threshold
            case .greater: value > rule.threshold
            case .greaterOrEqual: value >= rule.threshold
            }
        let shown = rule.thresholdIsDuration ? formatSeconds(value) : String(format: "%g", value)
        return RuleResult(
            kind: .slo, name: rule.name, verdict: holds ? .pass : .fail, measured: "\(label) = \(shown)", expected: "\(label) \(expected)",
            evidence: measurement.evidence.filter { !$0.isEmpty }
        )
    }

    /// `histogram_quantile` over the received histogram `metricName`: the latest cumulative point of every
    /// matching series (or the sum of delta points), summed by bucket bound, as `sum by (le)` would.
    static func metricQuantile(_ rule: SLORule, metricName: String, store: TelemetryStore) -> (Double, Bool, [String])? {
        let series = store.series.filter { series in
            series.name == metricName && rule.selector.allSatisfy { series.key.attributes[$0.key]?.description == $0.value }
        }
        guard !series.isEmpty else { return nil }
        var counts: [Double: Double] = [:]
        var observations: UInt64 = 0
        for one in series {
            let points = one.points.compactMap { point -> HistogramPoint? in
                if case .histogram(let histogram) = point { return histogram }
                return nil
            }
            let window = rule.window.map { Double($0.components.seconds) * 1e9 + Double($0.components.attoseconds) / 1e9 }
            let used: [HistogramPoint]
            switch one.kind {
            case .histogram(temporality: .delta):
                let latest = points.map(\.timeUnixNano).max() ?? 0
                used = points.filter { window == nil || Double(latest) - Double($0.timeUnixNano) < window! }
            default:
                guard let last = points.max(by: { $0.timeUnixNano < $1.timeUnixNano }) else { continue }
                used = [last]
            }
            for point in used where point.bucketCounts.count == point.explicitBounds.count + 1 {
                var cumulative = 0.0
                for (index, count) in point.bucketCounts.enumerated() {
                    cumulative += Double(count)
                    counts[index < point.explicitBounds.count ? point.explicitBounds[index] : .infinity, default: 0] += cumulative
                }
                observations += point.count
            }
        }
        let buckets = counts.map { Quantiles.Bucket(upperBound: $0.key, cumulativeCount: $0.value) }
        let value = Quantiles.histogramQuantile(rule.quantile, buckets: buckets)
        return (value, false, ["\(series.count) series of \(metricName), \(observations) observations, histogram_quantile over sum by (le)"])
    }

    /// Seconds per unit of a metric, from its OTLP unit or, failing that, its name's suffix.
    static func secondsPerUnit(metric: String, store: TelemetryStore) -> Double {
        let unit = store.series.first { $0.name == metric }?.unit ?? ""
        switch unit {
        case "ms": return 1e-3
        case "us": return 1e-6
        case "ns": return 1e-9
        case "min": return 60
        case "s": return 1
        default:
            if metric.hasSuffix("_milliseconds") { return 1e-3 }
            if metric.hasSuffix("_microseconds") { return 1e-6 }
            return 1
        }
    }

    static func formatPercent(_ quantile: Double) -> String {
        let percent = quantile * 100
        return percent == percent.rounded() ? String(Int(percent)) : String(format: "%g", (percent * 1000).rounded() / 1000)
    }
}

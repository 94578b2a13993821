import Foundation
import PromQL
package import Scenario
package import Telemetry
package import Workload

/// Evaluates a structured SLO rule: a quantile of client latencies, span durations or a received histogram,
/// compared with a threshold (a rule written as `expr:` is judged by ``ExpressionSLOCheck``).
///
/// Subjects: the worst group of a `by:` rule; otherwise the request name or the metric the rule measures.
///
/// A `by:` rule is judged over the groups found in the data and the groups the scenario says exist (see
/// ``expectedGroups(_:source:workload:)``); a group without data is `no_data`, named, and so is the rule unless
/// another group fails.
package struct SLOCheck: Check {
    package let rule: SLORule
    /// The scenario's workload, which says which request names and phases exist (for `client:` groups).
    package let workload: WorkloadSection?
    /// For a `spans:` rule: the durations of the spans it measures, fed as they arrive.
    package let durations: SpanDurations?

    package init(rule: SLORule, workload: WorkloadSection? = nil) {
        self.rule = rule
        self.workload = workload
        if case .spans(let name, let service) = rule.source {
            durations = SpanDurations(name: name, service: service, selector: rule.selector, groupBy: rule.groupBy)
        } else {
            durations = nil
        }
    }

    package var kind: RuleResult.Kind { .slo }

    package func attach(to store: TelemetryStore) {
        if let durations { store.attach(durations) }
    }

    package func evaluate(_ run: RunData) -> [RuleResult] { [result(run)] }

    /// Evaluates the rule; with `by:` labels, once per group of label values, holding only if every group holds
    /// (the worst group is the one shown, every group in the evidence).
    package func result(_ run: RunData) -> RuleResult {
        // Attached before the run, this does nothing; attached now, the durations take what the store retains.
        attach(to: run.store)
        guard !rule.groupBy.isEmpty, let source = rule.source else { return evaluateOne(rule, run: run).result }
        let found = groupValues(source: source, run: run)
        let expected = Self.expectedGroups(rule, source: source, workload: workload)
        let groups = (Set(found).union(expected)).sorted { $0.description < $1.description }
        guard !groups.isEmpty else { return evaluateOne(rule, run: run).result }
        let evaluated = groups.map { group -> ([String: String], (result: RuleResult, value: Double?)) in
            var one = rule
            var selector = group
            if case .client = source, let request = group["request"] {
                one.source = .client(request: request)
                selector["request"] = nil
            }
            one.selector.merge(selector) { _, new in new }
            return (group, evaluateOne(one, run: run))
        }
        let describe = { (group: [String: String]) in group.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }
        let failing = evaluated.filter { $0.1.result.verdict == .fail }
        let lowerIsBetter = rule.comparison == .less || rule.comparison == .lessOrEqual
        let worst = (failing.isEmpty ? evaluated : failing).max { lhs, rhs in
            let (a, b) = (lhs.1.value ?? -.infinity, rhs.1.value ?? -.infinity)
            return lowerIsBetter ? a < b : a > b
        }!
        let missing = evaluated.filter { $0.1.result.verdict == .noData }.map(\.0)
        let verdict: RuleResult.Verdict = !failing.isEmpty ? .fail : !missing.isEmpty ? .noData : .pass
        var measured = "\(worst.1.result.measured) (\(describe(worst.0)); worst of \(evaluated.count) groups)"
        var evidence = evaluated.prefix(10).map { "\(describe($0.0)): \($0.1.result.measured)\($0.1.result.verdict == .fail ? " ✗" : "")" }
        if !missing.isEmpty {
            measured += "; \(missing.count) of \(evaluated.count) groups without data"
            evidence.append(
                "no data for \(missing.prefix(10).map { describe($0) }.joined(separator: "; "))\(missing.count > 10 ? " and \(missing.count - 10) more" : "")"
            )
        }
        return RuleResult(
            kind: .slo,
            name: rule.name,
            verdict: verdict,
            measured: measured,
            expected: "\(worst.1.result.expected) in every group by \(rule.groupBy.joined(separator: ", "))",
            evidence: evidence,
            subjects: [.group(labels: worst.0)] + missing.prefix(10).filter { $0 != worst.0 }.map { .group(labels: $0) }
        )
    }

    /// The groups the scenario says must exist, each of which must then have data. For `client:`, grouped by
    /// `request` and/or `phase`: every request name of the workload (only the one the rule names, if it names
    /// one) and every phase, crossed. For `spans:` and `metric:` the scenario says which groups exist only when
    /// `where:` pins every `by:` label: that one group. Otherwise none (the groups found are judged).
    static func expectedGroups(_ rule: SLORule, source: SLORule.Source, workload: WorkloadSection?) -> [[String: String]] {
        switch source {
        case .client(let request):
            guard let workload else { return [] }
            var valuesByKey: [(String, [String])] = []
            for key in rule.groupBy {
                switch key {
                case "request": valuesByKey.append((key, workload.requests.map(\.name).filter { request == nil || $0 == request }))
                case "phase": valuesByKey.append((key, workload.phases.map(\.name)))
                default: return []
                }
            }
            var groups: [[String: String]] = [[:]]
            for (key, values) in valuesByKey {
                groups = groups.flatMap { group in values.map { group.merging([key: $0]) { _, new in new } } }
            }
            return groups
        case .spans, .metric:
            guard rule.groupBy.allSatisfy({ rule.selector[$0] != nil }) else { return [] }
            return [Dictionary(uniqueKeysWithValues: rule.groupBy.map { ($0, rule.selector[$0]!) })]
        }
    }

    /// The distinct values of the `by:` labels in the rule's data.
    func groupValues(source: SLORule.Source, run: RunData) -> [[String: String]] {
        var groups: Set<[String: String]> = []
        switch source {
        case .client(let request):
            for phase in run.driver?.phases ?? [] {
                for (name, latency) in phase.latencies where (request == nil || name == request) && latency.count > 0 {
                    let values = ["request": name, "phase": phase.name]
                    groups.insert(Dictionary(uniqueKeysWithValues: rule.groupBy.compactMap { key in values[key].map { (key, $0) } }))
                }
            }
        case .spans:
            groups.formUnion((durations?.snapshot ?? [:]).keys)
        case .metric(let metricName):
            for (series, _) in run.store.latestSeries
            where series.name == metricName
                && rule.selector.allSatisfy({ series.key.attributes[$0.key]?.description == $0.value })
            {
                let group = rule.groupBy.compactMap { key in series.key.attributes[key].map { (key, $0.description) } }
                if group.count == rule.groupBy.count { groups.insert(Dictionary(uniqueKeysWithValues: group)) }
            }
        }
        return groups.sorted { $0.description < $1.description }
    }

    /// Judges `rule` (this check's rule, or one group of it) over the run.
    func evaluateOne(_ rule: SLORule, run: RunData) -> (result: RuleResult, value: Double?) {
        let expected = "\(rule.comparison.rawValue) \(rule.thresholdIsDuration ? formatSeconds(rule.threshold) : String(rule.threshold))"
        let label = "p\(Self.formatPercent(rule.quantile))"
        guard let source = rule.source else {
            return (ExpressionSLOCheck(rule: rule).result(engine: run.prometheus), nil)
        }
        let subjects: [RuleResult.Subject] =
            switch source {
            case .client(let request): request.map { [.request(name: $0)] } ?? []
            case .spans: []
            case .metric(let name): [.metric(name: name)]
            }
        let measurement: (value: Double, inSeconds: Bool, evidence: [String])?
        switch source {
        case .client(let request):
            // A `phase` group (or `where: {phase: ...}`) keeps that phase's requests only.
            var latencies = LatencyRecorder()
            for (name, latency) in run.driver?.latencies(phase: rule.selector["phase"]) ?? [:] where request == nil || name == request {
                latencies.merge(latency)
            }
            measurement =
                latencies.count == 0
                ? nil
                : (
                    latencies.milliseconds(atPercentile: rule.quantile * 100) / 1000, true,
                    ["\(latencies.count) requests\(request.map { " named \($0)" } ?? ""), client-side latency from the intended send time"]
                )
        case .spans:
            // This rule's group: the groups whose `by:` labels the (group's) selector pins.
            var merged = SpanDurations.Group()
            for (group, durations) in durations?.snapshot ?? [:] where group.allSatisfy({ rule.selector[$0.key] == $0.value }) {
                merged.merge(durations)
            }
            measurement = merged.seconds(atQuantile: rule.quantile).map { value in
                (
                    value, true,
                    [
                        "\(merged.histogram.totalCount) spans",
                        merged.slowest.map { "slowest: trace \($0.traceID) span \($0.spanID) \(formatSeconds(Double($0.nanoseconds) / 1e9))" } ?? "",
                    ]
                )
            }
        case .metric(let metricName):
            measurement = Self.metricQuantile(rule, metricName: metricName, store: run.store)
        }
        guard let measurement, !measurement.value.isNaN else {
            return (
                RuleResult(
                    kind: .slo,
                    name: rule.name,
                    verdict: .noData,
                    measured: "no data",
                    expected: "\(label) \(expected)",
                    evidence: ["nothing matched the rule's source and selector, so it cannot hold"],
                    subjects: subjects
                ), nil
            )
        }
        // Thresholds with a time unit are in seconds; a metric in milliseconds is compared in its own unit.
        var value = measurement.value
        if rule.thresholdIsDuration, !measurement.inSeconds, case .metric(let name) = source {
            value *= Self.secondsPerUnit(metric: name, store: run.store)
        }
        let holds: Bool =
            switch rule.comparison {
            case .less: value < rule.threshold
            case .lessOrEqual: value <= rule.threshold
            case .greater: value > rule.threshold
            case .greaterOrEqual: value >= rule.threshold
            }
        let shown = rule.thresholdIsDuration ? formatSeconds(value) : String(format: "%g", value)
        return (
            RuleResult(
                kind: .slo,
                name: rule.name,
                verdict: holds ? .pass : .fail,
                measured: "\(label) = \(shown)",
                expected: "\(label) \(expected)",
                evidence: measurement.evidence.filter { !$0.isEmpty },
                subjects: subjects
            ), value
        )
    }

    /// `histogram_quantile` over the received histogram `metricName`: the latest cumulative point of every
    /// matching series (or the sum of delta points), summed by bucket bound, as `sum by (le)` would.
    static func metricQuantile(_ rule: SLORule, metricName: String, store: TelemetryStore) -> (Double, Bool, [String])? {
        let series = store.series(named: metricName).filter { series in
            rule.selector.allSatisfy { series.key.attributes[$0.key]?.description == $0.value }
        }
        guard !series.isEmpty else { return nil }
        var counts: [Double: Double] = [:]
        var observations: UInt64 = 0
        for one in series {
            let points = one.points.compactMap { point -> HistogramPoint? in
                if case .histogram(let histogram) = point { return histogram }
                return nil
            }
            let window = rule.window.map { $0.inSeconds * 1e9 }
            let used: [HistogramPoint]
            switch one.kind {
            case .histogram(temporality: .delta):
                let latest = points.map(\.timeUnixNano).max() ?? 0
                used = points.filter { window == nil || Double(latest) - Double($0.timeUnixNano) < window! }
            default:
                guard var last = points.max(by: { $0.timeUnixNano < $1.timeUnixNano }) else { continue }
                // A window: what the cumulative counts grew by since the last point at least `window` older
                // (as `increase` over the range would), or everything when the series is younger than that.
                if let window,
                    let earlier = points.filter({ Double(last.timeUnixNano) - Double($0.timeUnixNano) >= window })
                        .max(by: { $0.timeUnixNano < $1.timeUnixNano }), earlier.explicitBounds == last.explicitBounds,
                    earlier.bucketCounts.count == last.bucketCounts.count, zip(last.bucketCounts, earlier.bucketCounts).allSatisfy({ $0 >= $1 })
                {
                    last.bucketCounts = zip(last.bucketCounts, earlier.bucketCounts).map { $0 - $1 }
                    last.count = last.count >= earlier.count ? last.count - earlier.count : 0
                }
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
        let buckets = counts.map { PromQLFunctions.Bucket(upperBound: $0.key, count: $0.value) }
        let value = PromQLFunctions.bucketQuantile(rule.quantile, buckets: buckets)
        return (value, false, ["\(series.count) series of \(metricName), \(observations) observations, histogram_quantile over sum by (le)"])
    }

    /// Seconds per unit of a metric, from its OTLP unit or, failing that, its name's suffix.
    static func secondsPerUnit(metric: String, store: TelemetryStore) -> Double {
        let unit = store.latestSeries.first { $0.series.name == metric }?.series.unit ?? ""
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

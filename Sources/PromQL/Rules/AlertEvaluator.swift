import Foundation
package import PromQLSyntax
package import Scenario

/// Evaluates a rule file step by step as Prometheus' rule manager does: groups in order, rules in order,
/// recording rules' results visible to later rules; an alert goes pending when its expression returns a
/// series, fires once it has been pending for `for`, and resolves when the series disappears.
package struct AlertEvaluator: Sendable {
    package var file: PrometheusRuleFile
    /// The interval for groups that set none.
    package var defaultInterval: Duration

    package init(file: PrometheusRuleFile, defaultInterval: Duration) {
        self.file = file
        self.defaultInterval = defaultInterval
    }

    /// One alert instance: a rule and a label set.
    package struct Instance: Sendable {
        package var name: String
        package var labels: Labels
        package var annotations: [String: String]
        package var value: Double
        package var activeAt: Int64
        package var firedAt: Int64?
        package var resolvedAt: Int64?
    }

    package struct Evaluation: Sendable {
        package var instances: [Instance]
        /// Evaluation errors by alert name (the last one).
        package var errors: [String: String]
        /// Alerts whose expression returned at least one series at some evaluation (pending or not).
        package var sawSeries: Set<String> = []
        /// Per alert, the selectors of its expression that select no series at all over the run (recording
        /// rules' output included): a misspelt metric or label keeps such an alert silent whatever happens.
        package var unmatchedSelectors: [String: [String]] = [:]
        package var start: Int64
        package var steps: Int
        package var interval: Duration
    }

    /// Evaluates from the first sample to the last (inclusive), or over `times` when given.
    package func run(_ engine: PromQLEngine, times: [Int64]? = nil) -> Evaluation {
        let interval = file.groups.compactMap(\.interval).min() ?? defaultInterval
        let step = max(1, PromQLFormat.milliseconds(interval))
        let start = engine.earliestTimestamp ?? 0
        let end = engine.latestTimestamp ?? 0
        let schedule = times ?? Array(stride(from: start, through: end, by: Int64.Stride(step)).prefix(100_000))
        var active: [String: [Labels: Instance]] = [:]
        var finished: [Instance] = []
        var errors: [String: String] = [:]
        var recorded: [Labels: [Sample]] = [:]
        var sawSeries: Set<String> = []
        for time in schedule {
            // Recording rules' output joins the data for the rules after them.
            var current = recorded.isEmpty ? engine : Self.engine(engine, adding: recorded)
            for group in file.groups {
                for rule in group.rules {
                    let vector: [VectorElement]
                    do throws(PromQLError) {
                        switch try current.instantQuery(rule.expression, at: time) {
                        case .vector(let elements): vector = elements
                        case .scalar(let value): vector = [VectorElement(labels: .empty, value: value)]
                        default: vector = []
                        }
                    } catch {
                        if case .alert(let name) = rule.kind { errors[name] = error.message }
                        continue
                    }
                    switch rule.kind {
                    case .record(let name):
                        for element in vector {
                            var labels = element.labels.setting("__name__", name)
                            for (key, value) in rule.labels { labels = labels.setting(key, value) }
                            recorded[labels, default: []].append(Sample(timestamp: time, value: element.value))
                        }
                        current = Self.engine(engine, adding: recorded)
                    case .alert(let name):
                        if !vector.isEmpty { sawSeries.insert(name) }
                        var seen: Set<Labels> = []
                        var instances = active[name] ?? [:]
                        for element in vector {
                            var labels = element.labels.droppingMetricName
                            let templateData = TemplateData(labels: labels, value: element.value)
                            for (key, value) in rule.labels { labels = labels.setting(key, templateData.expand(value)) }
                            labels = labels.setting("alertname", name)
                            seen.insert(labels)
                            let annotations = rule.annotations.mapValues { TemplateData(labels: labels, value: element.value).expand($0) }
                            var instance =
                                instances[labels] ?? Instance(name: name, labels: labels, annotations: annotations, value: element.value, activeAt: time)
                            instance.value = element.value
                            instance.annotations = annotations
                            if instance.firedAt == nil, time - instance.activeAt >= PromQLFormat.milliseconds(rule.holdDuration) { instance.firedAt = time }
                            instances[labels] = instance
                        }
                        for (labels, var instance) in instances where !seen.contains(labels) {
                            instance.resolvedAt = time
                            finished.append(instance)
                            instances[labels] = nil
                        }
                        active[name] = instances
                    }
                }
            }
        }
        let open = active.values.flatMap(\.values)
        let instances = (finished + open).sorted { ($0.name, $0.activeAt, $0.labels) < ($1.name, $1.activeAt, $1.labels) }
        let everything = recorded.isEmpty ? engine : Self.engine(engine, adding: recorded)
        var unmatched: [String: [String]] = [:]
        for rule in file.groups.flatMap(\.rules) {
            guard case .alert(let name) = rule.kind, !sawSeries.contains(name) else { continue }
            let selectors = PromQLEngine.selectors(in: rule.expression).filter { everything.select($0.matchers).isEmpty }
            if !selectors.isEmpty { unmatched[name] = Array(Set(selectors.map { VectorSelector(matchers: $0.matchers).description })).sorted() }
        }
        return Evaluation(
            instances: instances,
            errors: errors,
            sawSeries: sawSeries,
            unmatchedSelectors: unmatched,
            start: start,
            steps: schedule.count,
            interval: interval
        )
    }

    static func engine(_ base: PromQLEngine, adding recorded: [Labels: [Sample]]) -> PromQLEngine {
        var engine = PromQLEngine(series: base.series + recorded.map { Series(labels: $0.key, samples: $0.value) })
        engine.lookbackDelta = base.lookbackDelta
        return engine
    }
}

/// The part of Prometheus' alert templates rules use most: `{{ $labels.name }}`, `{{ $value }}`,
/// `{{ $value | humanize }}` (and the `.Labels`/`.Value` spellings); anything else is left as written.
struct TemplateData {
    var labels: Labels
    var value: Double

    func expand(_ template: String) -> String {
        var output = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                rest = rest[open.lowerBound...]
                break
            }
            let action = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            output += replacement(action) ?? String(rest[open.lowerBound..<close.upperBound])
            rest = rest[close.upperBound...]
        }
        return output + rest
    }

    private func replacement(_ action: String) -> String? {
        let parts = action.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let subject = parts.first else { return nil }
        if subject == "$value" || subject == ".Value" {
            if parts.count > 1, parts[1] == "humanize" { return Self.humanize(value) }
            return parts.count == 1 ? PromQLFormat.number(value) : nil
        }
        for prefix in ["$labels.", ".Labels."] where subject.hasPrefix(prefix) {
            return labels[String(subject.dropFirst(prefix.count))] ?? ""
        }
        return nil
    }

    /// Prometheus' `humanize`: SI prefixes, 4 significant digits.
    static func humanize(_ value: Double) -> String {
        if value == 0 || value.isNaN || value.isInfinite { return PromQLFormat.number(value) }
        let prefixes: [(Double, String)] = [(1e24, "Y"), (1e21, "Z"), (1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        if abs(value) >= 1 {
            for (size, prefix) in prefixes where abs(value) >= size { return String(format: "%.4g%@", value / size, prefix) }
            return String(format: "%.4g", value)
        }
        let small: [(Double, String)] = [(1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f"), (1e-18, "a"), (1e-21, "z"), (1e-24, "y")]
        for (size, prefix) in small where abs(value) >= size { return String(format: "%.4g%@", value / size, prefix) }
        return String(format: "%.4g", value)
    }
}

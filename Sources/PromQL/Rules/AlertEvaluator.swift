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

    /// Where an evaluation stands: the alerts active and finished so far, recording rules' output, and the next
    /// step. Steps are evaluated in order, and a step at time t reads only samples at or before t, so the steps
    /// may be evaluated as the run goes (over the data so far, some way behind its newest sample) and give what
    /// evaluating them all at the end gives.
    package struct Progress: Sendable {
        /// The first step, once fixed (the first sample's time).
        package var start: Int64?
        /// The next step to evaluate.
        package var next: Int64?
        package var steps = 0
        var active: [String: [Labels: Instance]] = [:]
        var finished: [Instance] = []
        var errors: [String: String] = [:]
        var recorded: [Labels: [Sample]] = [:]
        var sawSeries: Set<String> = []

        package init() {}
    }

    /// The evaluation interval: the smallest group interval, else the default.
    package var interval: Duration { file.groups.compactMap(\.interval).min() ?? defaultInterval }

    /// The most steps one evaluation makes.
    static let maximumSteps = 100_000

    /// Evaluates from the first sample to the last (inclusive), or over `times` when given.
    package func run(_ engine: PromQLEngine, times: [Int64]? = nil) -> Evaluation {
        var progress = Progress()
        if let times {
            progress.start = times.first ?? 0
            for time in times { evaluate(&progress, engine: engine, at: time) }
        } else {
            complete(&progress, engine: engine)
        }
        return finish(progress, engine: engine)
    }

    /// Evaluates the steps left through the newest sample; without any sample at all, one step at time 0 (so
    /// that an alert can say it saw nothing).
    package func complete(_ progress: inout Progress, engine: PromQLEngine) {
        if progress.start == nil, engine.earliestTimestamp == nil {
            progress.start = 0
            evaluate(&progress, engine: engine, at: 0)
            progress.next = Int64(max(1, PromQLFormat.milliseconds(interval)))
            return
        }
        advance(&progress, engine: engine, through: engine.latestTimestamp ?? 0)
    }

    /// Evaluates every step from where `progress` stands through `end` (inclusive), starting at the first sample.
    package func advance(_ progress: inout Progress, engine: PromQLEngine, through end: Int64) {
        let step = Int64(max(1, PromQLFormat.milliseconds(interval)))
        if progress.start == nil {
            guard let first = engine.earliestTimestamp else { return }
            progress.start = first
        }
        var time = progress.next ?? progress.start!
        while time <= end, progress.steps < Self.maximumSteps {
            evaluate(&progress, engine: engine, at: time)
            time += step
        }
        progress.next = time
    }

    /// Evaluates every rule once at `time`.
    func evaluate(_ progress: inout Progress, engine: PromQLEngine, at time: Int64) {
        progress.steps += 1
        // Recording rules' output joins the data for the rules after them.
        var current = progress.recorded.isEmpty ? engine : Self.engine(engine, adding: progress.recorded)
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
                    if case .alert(let name) = rule.kind { progress.errors[name] = error.message }
                    continue
                }
                switch rule.kind {
                case .record(let name):
                    for element in vector {
                        var labels = element.labels.setting("__name__", name)
                        for (key, value) in rule.labels { labels = labels.setting(key, value) }
                        progress.recorded[labels, default: []].append(Sample(timestamp: time, value: element.value))
                    }
                    current = Self.engine(engine, adding: progress.recorded)
                case .alert(let name):
                    if !vector.isEmpty { progress.sawSeries.insert(name) }
                    var seen: Set<Labels> = []
                    var instances = progress.active[name] ?? [:]
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
                        progress.finished.append(instance)
                        instances[labels] = nil
                    }
                    progress.active[name] = instances
                }
            }
        }
    }

    /// The evaluation so far: every instance, and per alert the selectors that matched nothing in `engine`.
    package func finish(_ progress: Progress, engine: PromQLEngine) -> Evaluation {
        let open = progress.active.values.flatMap(\.values)
        let instances = (progress.finished + open).sorted { ($0.name, $0.activeAt, $0.labels) < ($1.name, $1.activeAt, $1.labels) }
        let everything = progress.recorded.isEmpty ? engine : Self.engine(engine, adding: progress.recorded)
        var unmatched: [String: [String]] = [:]
        for rule in file.groups.flatMap(\.rules) {
            guard case .alert(let name) = rule.kind, !progress.sawSeries.contains(name) else { continue }
            let selectors = PromQLEngine.selectors(in: rule.expression).filter { everything.select($0.matchers).isEmpty }
            if !selectors.isEmpty { unmatched[name] = Array(Set(selectors.map { VectorSelector(matchers: $0.matchers).description })).sorted() }
        }
        return Evaluation(
            instances: instances,
            errors: progress.errors,
            sawSeries: progress.sawSeries,
            unmatchedSelectors: unmatched,
            start: progress.start ?? engine.earliestTimestamp ?? 0,
            steps: progress.steps,
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

import Foundation
public import PromQL
public import Workload

/// SLOs written as PromQL comparisons (`expr:`), evaluated over the received metrics under their
/// Prometheus names at the newest sample, as a Prometheus alert would see them at the end of the run.
public enum ExpressionSLOCheck {
    /// Holds when the comparison keeps every series: each one of the left-hand side is shown with its value;
    /// no series at all is `no_data`.
    public static func evaluate(_ rule: SLORule, engine: PromQLEngine) -> RuleResult {
        let text = rule.expression ?? ""
        func result(_ verdict: RuleResult.Verdict, _ measured: String, _ evidence: [String] = []) -> RuleResult {
            RuleResult(kind: .slo, name: rule.name, verdict: verdict, measured: measured, expected: text, evidence: evidence)
        }
        let parsed: PromQLExpression
        do throws(PromQLError) { parsed = try PromQLParser.parse(text) } catch { return result(.fail, "invalid PromQL: \(error)") }
        guard case .binary(var comparison) = parsed.unwrapped, comparison.op.isComparison else {
            return result(.fail, "expr must be a comparison")
        }
        guard let time = engine.latestTimestamp else {
            return result(.noData, "no data", ["no metrics were received, so the expression cannot hold"])
        }
        // The same comparison with `bool` says, series by series, whether it holds; the left side says the value.
        comparison.returnBool = true
        let verdicts: QueryValue
        let measured: QueryValue
        do throws(PromQLError) {
            verdicts = try engine.instantQuery(.binary(comparison), at: time)
            measured = try engine.instantQuery(comparison.lhs, at: time)
        } catch {
            return result(.fail, "evaluation failed: \(error.message)")
        }
        let at = "at \(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(time) / 1000))) (newest sample)"
        switch (verdicts, measured) {
        case (.scalar(let holds), .scalar(let value)):
            return result(holds == 1 ? .pass : .fail, PromQLFormat.number(value), [at])
        case (.vector(let elements), _):
            guard !elements.isEmpty else {
                return result(.noData, "no series", ["\(comparison.lhs) returned nothing \(at): check the metric names (OTLP names appear as Prometheus names: _total, unit suffixes, _bucket)"])
            }
            var values: [Labels: Double] = [:]
            if case .vector(let left) = measured { for element in left { values[element.labels.droppingMetricName] = element.value } }
            if case .scalar(let value) = measured { for element in elements { values[element.labels] = value } }
            let rows = elements.map { (labels: $0.labels, holds: $0.value == 1, value: values[$0.labels]) }.sorted { !$0.holds && $1.holds }
            let failing = rows.filter { !$0.holds }
            let shown = (failing.first ?? rows[0])
            let describe = { (row: (labels: Labels, holds: Bool, value: Double?)) in
                "\(row.labels.pairs.isEmpty ? "{}" : row.labels.description)\(row.value.map { " = \(String(format: "%.6g", $0))" } ?? "")"
            }
            return result(
                failing.isEmpty ? .pass : .fail,
                "\(describe(shown))\(rows.count > 1 ? " (\(failing.isEmpty ? "all" : "\(failing.count) of") \(rows.count) series\(failing.isEmpty ? " hold" : " fail"))" : "")",
                [at] + rows.prefix(10).map { "\(describe($0)) \($0.holds ? "✓" : "✗")" }
            )
        default:
            return result(.fail, "the comparison did not give a scalar or vector")
        }
    }
}

/// Prometheus alerting rules evaluated over a run: which alerts would have fired, when, with which labels.
public enum AlertCheck {
    /// One rule result per alerting rule: it passes when it never fired, or, when named in `expected`, when it
    /// fired. Evidence: every alert instance with when it went pending and firing (relative to the first
    /// sample), its labels and annotations.
    public static func evaluate(
        _ file: PrometheusRuleFile, expected: [String], interval: Duration, engine: PromQLEngine
    ) -> (results: [RuleResult], timeline: AlertTimeline) {
        let evaluation = AlertEvaluator(file: file, defaultInterval: interval).run(engine)
        let start = evaluation.start
        func offset(_ time: Int64) -> String { String(format: "+%.1fs", Double(time - start) / 1000) }
        func seconds(_ time: Int64) -> Double { Double(time - start) / 1000 }
        let timeline = AlertTimeline(
            evaluatedSeconds: Double(max(0, evaluation.steps - 1)) * Double(PromQLFormat.milliseconds(evaluation.interval)) / 1000,
            instances: evaluation.instances.prefix(200).map { instance in
                AlertTimeline.Instance(
                    name: instance.name, labels: instance.labels.removing(["alertname"]).description, pendingSeconds: seconds(instance.activeAt),
                    firingSeconds: instance.firedAt.map(seconds), resolvedSeconds: instance.resolvedAt.map(seconds)
                )
            }
        )
        let results = file.groups.flatMap(\.rules).compactMap { rule -> RuleResult? in
            guard case .alert(let name) = rule.kind else { return nil }
            let instances = evaluation.instances.filter { $0.name == name }
            let fired = instances.filter { $0.firedAt != nil }
            let mustFire = expected.contains(name)
            let verdict: RuleResult.Verdict = fired.isEmpty == !mustFire ? .pass : .fail
            let measured: String
            if let first = fired.min(by: { $0.firedAt! < $1.firedAt! }) {
                measured = "fired at \(offset(first.firedAt!)) for \(first.labels.description)\(fired.count > 1 ? " and \(fired.count - 1) more" : "")"
            } else if let pending = instances.first {
                measured = "pending from \(offset(pending.activeAt)), never fired (for: \(PromQLFormat.duration(rule.holdDuration)))"
            } else if evaluation.errors[name] != nil {
                measured = "could not be evaluated"
            } else {
                measured = "never fired"
            }
            var evidence = instances.prefix(10).map { instance in
                var line = "\(instance.labels.description): pending \(offset(instance.activeAt))"
                if let firedAt = instance.firedAt { line += ", firing \(offset(firedAt))" }
                if let resolvedAt = instance.resolvedAt { line += ", resolved \(offset(resolvedAt))" }
                line += ", value \(PromQLFormat.number(instance.value))"
                if !instance.annotations.isEmpty {
                    line += "; " + instance.annotations.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
                }
                return line
            }
            if let error = evaluation.errors[name] { evidence.append("evaluation error: \(error)") }
            evidence.append("\(evaluation.steps) evaluations every \(PromQLFormat.duration(evaluation.interval)) over the run; \(file.file):\(rule.line)")
            return RuleResult(
                kind: .alert, name: name, verdict: evaluation.errors[name] != nil ? .fail : verdict, measured: measured,
                expected: mustFire ? "fires (expect_alerts)" : "does not fire", evidence: evidence
            )
        }
        return (results, timeline)
    }
}

/// When each alert instance went pending, fired and resolved, in seconds from the first sample: the data of
/// the report's alert timeline.
public struct AlertTimeline: Codable, Sendable, Hashable {
    public struct Instance: Codable, Sendable, Hashable {
        public var name: String
        /// The instance's labels without `alertname`, as `{a="b"}`.
        public var labels: String
        public var pendingSeconds: Double
        public var firingSeconds: Double?
        public var resolvedSeconds: Double?
    }

    /// From the first evaluation to the last.
    public var evaluatedSeconds: Double
    /// Every instance (at most 200), by alert name and start.
    public var instances: [Instance]
}

/// Evaluates a rule file step by step as Prometheus' rule manager does: groups in order, rules in order,
/// recording rules' results visible to later rules; an alert goes pending when its expression returns a
/// series, fires once it has been pending for `for`, and resolves when the series disappears.
public struct AlertEvaluator: Sendable {
    public var file: PrometheusRuleFile
    /// The interval for groups that set none.
    public var defaultInterval: Duration

    public init(file: PrometheusRuleFile, defaultInterval: Duration) {
        self.file = file
        self.defaultInterval = defaultInterval
    }

    /// One alert instance: a rule and a label set.
    public struct Instance: Sendable {
        public var name: String
        public var labels: Labels
        public var annotations: [String: String]
        public var value: Double
        public var activeAt: Int64
        public var firedAt: Int64?
        public var resolvedAt: Int64?
    }

    public struct Evaluation: Sendable {
        public var instances: [Instance]
        /// Evaluation errors by alert name (the last one).
        public var errors: [String: String]
        public var start: Int64
        public var steps: Int
        public var interval: Duration
    }

    /// Evaluates from the first sample to the last (inclusive), or over `times` when given.
    public func run(_ engine: PromQLEngine, times: [Int64]? = nil) -> Evaluation {
        let interval = file.groups.compactMap(\.interval).min() ?? defaultInterval
        let step = max(1, PromQLFormat.milliseconds(interval))
        let start = engine.earliestTimestamp ?? 0
        let end = engine.latestTimestamp ?? 0
        let schedule = times ?? Array(stride(from: start, through: end, by: Int64.Stride(step)).prefix(100_000))
        var active: [String: [Labels: Instance]] = [:]
        var finished: [Instance] = []
        var errors: [String: String] = [:]
        var recorded: [Labels: [Sample]] = [:]
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
                        var seen: Set<Labels> = []
                        var instances = active[name] ?? [:]
                        for element in vector {
                            var labels = element.labels.droppingMetricName
                            let templateData = TemplateData(labels: labels, value: element.value)
                            for (key, value) in rule.labels { labels = labels.setting(key, templateData.expand(value)) }
                            labels = labels.setting("alertname", name)
                            seen.insert(labels)
                            let annotations = rule.annotations.mapValues { TemplateData(labels: labels, value: element.value).expand($0) }
                            var instance = instances[labels] ?? Instance(name: name, labels: labels, annotations: annotations, value: element.value, activeAt: time)
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
        return Evaluation(instances: instances, errors: errors, start: start, steps: schedule.count, interval: interval)
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

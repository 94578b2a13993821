package import Scenario
package import Telemetry

/// Received metrics against a taxonomy: every metric present with the right instrument type, unit, label keys,
/// label values within their allowed sets, and bucket boundaries; nothing received that the taxonomy lacks.
///
/// Subjects: a metric that does not conform; every metric received that the taxonomy lacks.
package struct TaxonomyCheck: Check {
    package var taxonomy: MetricTaxonomy

    package init(taxonomy: MetricTaxonomy) {
        self.taxonomy = taxonomy
    }

    package var kind: RuleResult.Kind { .taxonomy }

    /// One result per taxonomy metric, and one for metrics the taxonomy does not know.
    package func evaluate(_ run: RunData) -> [RuleResult] {
        // Each series' newest point is enough: the taxonomy judges names, types, units, labels and buckets.
        let series = run.store.latestSeries.map(\.series)
        let byName = Dictionary(grouping: series, by: \.name)
        var results: [RuleResult] = []
        for definition in taxonomy.metrics {
            guard let received = byName[definition.name] else {
                results.append(
                    RuleResult(
                        kind: .taxonomy,
                        name: definition.name,
                        verdict: .fail,
                        measured: "not received",
                        expected: "\(definition.type) [\(definition.unit)]",
                        subjects: [.metric(name: definition.name)]
                    )
                )
                continue
            }
            var problems: [String] = []
            let kinds = Set(received.map { Self.describe($0.kind) })
            let wanted = Self.expectedKind(definition.type)
            if kinds != [wanted] { problems.append("instrument type \(kinds.sorted().joined(separator: ", ")), want \(wanted)") }
            let units = Set(received.map(\.unit))
            if units != [definition.unit] { problems.append("unit \(units.sorted().map { "'\($0)'" }.joined(separator: ", ")), want '\(definition.unit)'") }
            let wantedKeys = Set(definition.labelKeys)
            for one in received {
                let keys = Set(one.key.attributes.keys)
                let missing = wantedKeys.subtracting(keys).sorted()
                let extra = keys.subtracting(wantedKeys).sorted()
                if !missing.isEmpty { problems.append("series \(Self.labels(one)) lacks label \(missing.joined(separator: ", "))") }
                if !extra.isEmpty { problems.append("series \(Self.labels(one)) has unexpected label \(extra.joined(separator: ", "))") }
                for label in definition.labels {
                    if let allowed = label.allowedValues, let value = one.key.attributes[label.key]?.description, !allowed.contains(value) {
                        problems.append("\(label.key)=\"\(value)\" is not one of \(allowed.joined(separator: ", "))")
                    }
                }
                if let buckets = definition.buckets, case .histogram(let point)? = one.points.last, point.explicitBounds != buckets {
                    problems.append("buckets \(point.explicitBounds.map(Self.format)) differ from \(buckets.map(Self.format))")
                }
            }
            let unique = uniqueInOrder(problems)
            results.append(
                RuleResult(
                    kind: .taxonomy,
                    name: definition.name,
                    verdict: unique.isEmpty ? .pass : .fail,
                    measured: unique.isEmpty ? "conforms (\(received.count) series)" : "\(unique.count) problems in \(received.count) series",
                    expected: "\(definition.type) [\(definition.unit)] {\(definition.labelKeys.joined(separator: ", "))}",
                    evidence: Array(unique.prefix(10)) + (unique.count > 10 ? ["and \(unique.count - 10) more"] : []),
                    subjects: unique.isEmpty ? [] : [.metric(name: definition.name)]
                )
            )
        }
        let known = Set(taxonomy.metrics.map(\.name))
        let unexpected = byName.keys.filter { !known.contains($0) }.sorted()
        results.append(
            RuleResult(
                kind: .taxonomy,
                name: "no metrics outside the taxonomy",
                verdict: unexpected.isEmpty ? .pass : .fail,
                measured: unexpected.isEmpty ? "none" : "\(unexpected.count) unexpected metrics",
                expected: "only the taxonomy's \(known.count) metrics",
                evidence: unexpected,
                subjects: unexpected.map { .metric(name: $0) }
            )
        )
        return results
    }

    static func expectedKind(_ type: MetricDefinition.InstrumentType) -> String {
        switch type {
        case .histogram: "histogram"
        case .counter: "monotonic sum"
        case .gauge: "gauge"
        }
    }

    static func describe(_ kind: MetricKind) -> String {
        switch kind {
        case .histogram: "histogram"
        case .sum(let isMonotonic, _): isMonotonic ? "monotonic sum" : "non-monotonic sum"
        case .gauge: "gauge"
        case .exponentialHistogram: "exponential histogram"
        case .summary: "summary"
        }
    }

    static func labels(_ series: MetricSeries) -> String {
        "{" + series.key.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",") + "}"
    }

    static func format(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(value) }
}

/// The elements of a sequence in first-seen order, each once.
private func uniqueInOrder(_ items: [String]) -> [String] {
    var seen: Set<String> = []
    return items.filter { seen.insert($0).inserted }
}

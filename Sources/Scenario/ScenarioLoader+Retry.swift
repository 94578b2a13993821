extension ScenarioParser {
    /// `rules.retry`: `true`, or a mapping of `services`, `expect` and `backoff_tolerance`; mistakes are reported
    /// with their line and field.
    func retryRule(_ field: Field) -> RetryRule? {
        if case .scalar = field.node {
            guard let on = reader.bool(field) else { return nil }
            return on ? RetryRule() : nil
        }
        guard let entries = reader.mapping(field, allowed: ["services", "expect", "backoff_tolerance"]) else { return nil }
        var rule = RetryRule()
        if let servicesField = entries["services"], let names = reader.sequence(servicesField) {
            rule.services = names.compactMap { reader.string($0, environment: environment) }
            if names.isEmpty { reader.fail(servicesField, "name at least one service, or leave services out to judge every exporter that was refused") }
        }
        if let expectField = entries["expect"], let words = reader.sequence(expectField) {
            let chosen = Set(words.compactMap { reader.choice($0, of: RetryRule.Point.allCases.map(\.rawValue)) }.compactMap(RetryRule.Point.init(rawValue:)))
            rule.points = RetryRule.Point.allCases.filter(chosen.contains)
            if words.isEmpty { reader.fail(expectField, "name at least one point, or leave expect out to judge them all") }
        }
        if let tolerance = entries["backoff_tolerance"].flatMap({ reader.number($0, minimum: 0, maximum: 0.99) }) { rule.backoffTolerance = tolerance }
        return rule
    }
}

import Foundation

extension ScenarioParser {
    /// The keys of a selector (`select:`, `traces_with:`, and the structural ones nested in them).
    static let selectorKeys = ["service", "name", "name_matches", "kind", "status", "attributes", "root", "child", "descendant", "parent"]

    /// `traces: [{name, traces_with, select, count, duration, attributes, status, root, child, descendant, parent}]`.
    func traceAssertions(_ field: Field) -> [TraceAssertion] {
        guard let entries = reader.sequence(field) else { return [] }
        if entries.isEmpty { reader.fail(field, "name at least one assertion ({name, select, ...}), or leave traces out") }
        var assertions: [TraceAssertion] = []
        var names: Set<String> = []
        for entry in entries {
            guard let assertion = traceAssertion(entry) else { continue }
            if !names.insert(assertion.name).inserted {
                reader.fail(entry, "a second trace assertion named '\(assertion.name)': give each its own name")
                continue
            }
            assertions.append(assertion)
        }
        return assertions
    }

    func traceAssertion(_ field: Field) -> TraceAssertion? {
        let assertionKeys = ["count", "duration", "attributes", "status", "root", "child", "descendant", "parent"]
        guard let entries = reader.mapping(field, allowed: ["name", "traces_with", "select"] + assertionKeys, required: ["name", "select"]) else {
            return nil
        }
        let name = entries["name"].flatMap { reader.string($0) }
        let scope = entries["traces_with"].flatMap(spanSelector)
        let select = entries["select"].flatMap(spanSelector)
        if !assertionKeys.contains(where: { entries[$0] != nil }) {
            reader.fail(field, "give at least one assertion (\(assertionKeys.joined(separator: ", "))): a selector alone asserts nothing")
        }
        guard let name, let select else { return nil }
        var assertion = TraceAssertion(name: name, select: select)
        assertion.scope = scope
        if let countField = entries["count"], let values = reader.mapping(countField, allowed: ["min", "max"]) {
            let range = TraceAssertion.CountRange(
                min: values["min"].flatMap { reader.integer($0, range: 0...1_000_000) },
                max: values["max"].flatMap { reader.integer($0, range: 0...1_000_000) }
            )
            if values.isEmpty {
                reader.fail(countField, "give min, max or both (count: {min: 1})")
            } else if let low = range.min, let high = range.max, low > high {
                reader.fail(countField, "min \(low) is above max \(high)")
            } else if range.min == 0, range.max == nil {
                reader.fail(countField, "count: {min: 0} holds for every trace: give a max, or a min above 0")
            } else {
                assertion.count = range
            }
        }
        if let durationField = entries["duration"], let values = reader.mapping(durationField, allowed: ["min", "max"]) {
            let bounds = TraceAssertion.DurationBounds(
                min: values["min"].flatMap { reader.duration($0, allowZero: true) },
                max: values["max"].flatMap { reader.duration($0) }
            )
            if values.isEmpty {
                reader.fail(durationField, "give min, max or both (duration: {max: 2s})")
            } else if let low = bounds.min, let high = bounds.max, low > high {
                reader.fail(durationField, "min \(low) is above max \(high)")
            } else {
                assertion.duration = bounds
            }
        }
        if let attributesField = entries["attributes"] { assertion.attributes = attributeConditions(attributesField) }
        if let statusField = entries["status"] {
            let fields: [Field]
            if case .sequence = statusField.node { fields = reader.sequence(statusField) ?? [] } else { fields = [statusField] }
            assertion.status = fields.compactMap { reader.choice($0, of: SpanSelector.Status.allCases.map(\.rawValue)).flatMap(SpanSelector.Status.init) }
            if fields.isEmpty { reader.fail(statusField, "name at least one status (unset, ok, error)") }
        }
        assertion.root = entries["root"].flatMap { reader.bool($0) }
        assertion.child = entries["child"].flatMap(spanSelector)
        assertion.descendant = entries["descendant"].flatMap(spanSelector)
        assertion.parent = entries["parent"].flatMap(spanSelector)
        return assertion
    }

    /// A selector: `{service, name, name_matches, kind, status, attributes, root, child, descendant, parent}`.
    func spanSelector(_ field: Field) -> SpanSelector? {
        guard let entries = reader.mapping(field, allowed: Self.selectorKeys) else { return nil }
        var selector = SpanSelector()
        selector.service = entries["service"].flatMap { reader.string($0, environment: environment) }
        selector.name = entries["name"].flatMap { reader.string($0, environment: environment) }
        if let patternField = entries["name_matches"], let source = reader.string(patternField) {
            if entries["name"] != nil {
                reader.fail(patternField, "give either name (exact) or name_matches (a regular expression), not both")
            }
            selector.namePattern = pattern(source, at: patternField)
        }
        selector.kind = entries["kind"].flatMap { reader.choice($0, of: SpanSelector.Kind.allCases.map(\.rawValue)) }.flatMap(SpanSelector.Kind.init)
        selector.status = entries["status"].flatMap { reader.choice($0, of: SpanSelector.Status.allCases.map(\.rawValue)) }
            .flatMap(SpanSelector.Status.init)
        if let attributesField = entries["attributes"] { selector.attributes = attributeConditions(attributesField) }
        selector.root = entries["root"].flatMap { reader.bool($0) }
        if let child = entries["child"].flatMap(spanSelector) { selector.structure.append(.child(child)) }
        if let below = entries["descendant"].flatMap(spanSelector) { selector.structure.append(.descendant(below)) }
        if let parent = entries["parent"].flatMap(spanSelector) { selector.structure.append(.parent(parent)) }
        if selector.root == true, entries["parent"] != nil, let parentField = entries["parent"] {
            reader.fail(parentField, "a root has no parent: give root: true or a parent, not both")
        }
        return selector
    }

    /// `attributes: {KEY: VALUE}` (equals), `{KEY: {equals: V}}`, `{KEY: {matches: RE}}`, `{KEY: {exists: BOOL}}`.
    func attributeConditions(_ field: Field) -> [AttributeCondition] {
        guard let pairs = reader.freeMapping(field) else { return [] }
        if pairs.isEmpty { reader.fail(field, "name at least one attribute, or leave attributes out") }
        var conditions: [AttributeCondition] = []
        for (key, value) in pairs {
            if key.isEmpty {
                reader.fail(value, "an attribute key must not be empty")
                continue
            }
            if case .scalar = value.node {
                if let text = reader.string(value, environment: environment) { conditions.append(AttributeCondition(key: key, test: .equals(text))) }
                continue
            }
            guard let tests = reader.mapping(value, allowed: ["equals", "matches", "exists"]) else { continue }
            guard tests.count == 1, let (kind, testField) = tests.first else {
                reader.fail(value, "give one of equals, matches or exists for \(key)")
                continue
            }
            switch kind {
            case "equals":
                if let text = reader.string(testField, environment: environment) { conditions.append(AttributeCondition(key: key, test: .equals(text))) }
            case "matches":
                if let source = reader.string(testField), let compiled = pattern(source, at: testField) {
                    conditions.append(AttributeCondition(key: key, test: .matches(compiled)))
                }
            default:
                if let present = reader.bool(testField) { conditions.append(AttributeCondition(key: key, test: .exists(present))) }
            }
        }
        return conditions.sorted { $0.key < $1.key }
    }

    /// `semconv: true`, or `semconv: {services: [NAME, ...]}`.
    func semanticConventionsRule(_ field: Field) -> SemanticConventionsRule? {
        if case .scalar = field.node {
            guard let on = reader.bool(field) else { return nil }
            return on ? SemanticConventionsRule() : nil
        }
        guard let entries = reader.mapping(field, allowed: ["services"]) else { return nil }
        var rule = SemanticConventionsRule()
        if let servicesField = entries["services"], let names = reader.sequence(servicesField) {
            rule.services = names.compactMap { reader.string($0, environment: environment) }
            if names.isEmpty { reader.fail(servicesField, "name at least one service, or leave services out to check every service") }
        }
        return rule
    }

    /// A regular expression, compiled; a mistake in it is reported at `field`.
    func pattern(_ source: String, at field: Field) -> TextPattern? {
        do {
            return try TextPattern(source)
        } catch {
            reader.fail(field, "'\(source)' is not a regular expression: \(error)")
            return nil
        }
    }
}

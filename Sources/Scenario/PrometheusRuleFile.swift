package import Foundation
package import PromQLSyntax

/// A standard Prometheus rule file (`groups:` of alerting and recording rules), as `promtool check rules`
/// reads it; every expression parsed by OTelBench's PromQL, every mistake located by file, line and field.
package struct PrometheusRuleFile: Sendable {
    package var file: String
    package var groups: [Group]

    /// One rule group, evaluated in order at its interval.
    package struct Group: Sendable {
        package var name: String
        /// The group's `interval`, nil when it leaves it to the evaluator.
        package var interval: Duration?
        package var rules: [Rule]
    }

    /// An alerting rule (`alert:`) or a recording rule (`record:`).
    package struct Rule: Sendable {
        package enum Kind: Sendable, Hashable {
            case alert(String)
            case record(String)
        }

        package var kind: Kind
        package var expression: PromQLExpression
        package var expressionText: String
        /// How long an alert stays pending before it fires.
        package var holdDuration: Duration = .zero
        package var labels: [String: String] = [:]
        package var annotations: [String: String] = [:]
        /// The rule's line in the file.
        package var line: Int
    }

    /// Every alerting rule's name.
    package var alertNames: [String] {
        groups.flatMap(\.rules).compactMap { if case .alert(let name) = $0.kind { name } else { nil } }
    }

    /// Loads and checks the file at `path`.
    package static func load(path: String) throws(FileErrors) -> PrometheusRuleFile {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw FileErrors(errors: [
                FileLocatedError(file: path, line: 0, column: 0, path: "", message: "cannot read the rule file (missing, unreadable or not UTF-8)")
            ])
        }
        return try parse(text, file: path)
    }

    /// Parses rule-file text; `file` names it in errors.
    package static func parse(_ text: String, file: String) throws(FileErrors) -> PrometheusRuleFile {
        let (reader, root) = YAMLReader.parse(text, file: file)
        guard let root else { throw FileErrors(errors: reader.errors) }
        var groups: [Group] = []
        var groupNames: Set<String> = []
        if let top = reader.mapping(root, allowed: ["groups"], required: ["groups"]), let list = top["groups"].flatMap({ reader.sequence($0) }) {
            for field in list {
                guard let entries = reader.mapping(field, allowed: ["name", "interval", "rules", "limit", "query_offset"], required: ["name", "rules"]) else {
                    continue
                }
                guard let name = entries["name"].flatMap({ reader.string($0) }) else { continue }
                if !groupNames.insert(name).inserted { reader.fail(entries["name"]!, "groupname \"\(name)\" is repeated in the same file") }
                let interval = entries["interval"].flatMap { prometheusDuration($0, reader: reader) }
                let rules = entries["rules"].flatMap { reader.sequence($0) }?.compactMap { rule($0, reader: reader) } ?? []
                groups.append(Group(name: name, interval: interval, rules: rules))
            }
        }
        guard reader.errors.isEmpty else { throw FileErrors(errors: reader.errors) }
        return PrometheusRuleFile(file: file, groups: groups)
    }

    private static func rule(_ field: YAMLReader.Field, reader: YAMLReader) -> Rule? {
        let keys = ["alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"]
        guard let entries = reader.mapping(field, allowed: keys, required: ["expr"]) else { return nil }
        let kind: Rule.Kind
        switch (entries["alert"].flatMap { reader.string($0) }, entries["record"].flatMap { reader.string($0) }) {
        case (let alert?, nil):
            guard !alert.isEmpty else {
                reader.fail(entries["alert"]!, "an alert needs a name")
                return nil
            }
            kind = .alert(alert)
        case (nil, let record?):
            guard PrometheusNames.isMetricName(record) else {
                reader.fail(entries["record"]!, "invalid recording rule name \"\(record)\": metric names match [a-zA-Z_:][a-zA-Z0-9_:]*")
                return nil
            }
            kind = .record(record)
            for key in ["for", "keep_firing_for", "annotations"] where entries[key] != nil {
                reader.fail(entries[key]!, "invalid field '\(key)' in recording rule")
            }
        case (.some, .some):
            reader.fail(field, "only one of 'record' and 'alert' must be set")
            return nil
        case (nil, nil):
            reader.fail(field, "one of 'record' or 'alert' must be set")
            return nil
        }
        if let keep = entries["keep_firing_for"] { reader.fail(keep, "keep_firing_for is not supported (Prometheus 2.42 does not have it either)") }
        let hold = entries["for"].flatMap { prometheusDuration($0, reader: reader) }
        var labels: [String: String] = [:]
        var annotations: [String: String] = [:]
        for key in ["labels", "annotations"] {
            guard let mapping = entries[key].flatMap({ reader.freeMapping($0) }) else { continue }
            for (name, value) in mapping {
                guard let value = reader.string(value) else { continue }
                if key == "labels" {
                    if !PrometheusNames.isLabelName(name) { reader.fail(entries[key]!, "invalid label name \"\(name)\"") }
                    labels[name] = value
                } else {
                    annotations[name] = value
                }
            }
        }
        guard let exprField = entries["expr"], let text = reader.string(exprField) else { return nil }
        let expression: PromQLExpression
        do throws(PromQLError) {
            expression = try PromQLParser.parse(text)
        } catch {
            reader.fail(exprField, "could not parse expression: \(error)")
            return nil
        }
        guard expression.type == .vector || expression.type == .scalar else {
            reader.fail(exprField, "invalid expression type \"\(expression.type.rawValue)\": a rule needs an instant vector or scalar")
            return nil
        }
        var rule = Rule(kind: kind, expression: expression, expressionText: text, line: exprField.node.mark?.line ?? 0)
        rule.holdDuration = hold ?? .zero
        rule.labels = labels
        rule.annotations = annotations
        return rule
    }

    /// A Prometheus duration (`5m`, `1h30m`, `500ms`).
    private static func prometheusDuration(_ field: YAMLReader.Field, reader: YAMLReader) -> Duration? {
        guard let text = reader.string(field) else { return nil }
        if let duration = PromQLParser.duration(text) { return duration }
        if text == "0" || text == "0s" { return .zero }
        reader.fail(field, "not a valid duration: \"\(text)\" (e.g. 30s, 5m, 1h30m)")
        return nil
    }
}

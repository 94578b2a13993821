import PromQLSyntax

extension PromQLFunctions {
    /// `label_replace(v, dst, replacement, src, regex)`: where `regex` matches all of `src`'s value, `dst`
    /// becomes `replacement` with `$1`, `${name}` expanded (Go's template rules; an empty result removes
    /// `dst`); elements that do not match pass unchanged. The metric name is kept.
    static func labelReplace(
        _ elements: [VectorElement],
        destination: String,
        replacement: String,
        source: String,
        pattern: String
    ) throws(PromQLError) -> [VectorElement] {
        // Matched as RE2 matches (Prometheus' engine): on Unicode scalars, with ASCII-only classes, as label
        // matchers are (`AnchoredPattern`); Swift's default would take "e\u{301}" as one `.`.
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex("^(?:\(pattern))$").matchingSemantics(.unicodeScalar).asciiOnlyCharacterClasses().wordBoundaryKind(.simple)
        } catch {
            throw PromQLError(message: "invalid regular expression in label_replace(): \(pattern)", offset: 0)
        }
        guard PrometheusNames.isLabelName(destination) else {
            throw PromQLError(message: "invalid destination label name in label_replace(): \(destination)", offset: 0)
        }
        var replaced: [Labels: Labels] = [:]
        return elements.map { element in
            if let known = replaced[element.labels] { return VectorElement(labels: known, value: element.value) }
            let value = element.labels[source] ?? ""
            var labels = element.labels
            if let match = try? regex.wholeMatch(in: value) {
                let groups = match.output.map { (name: $0.name, text: $0.substring.map(String.init)) }
                let expanded = expandTemplate(replacement, groups: groups)
                labels = expanded.isEmpty ? labels.removing([destination]) : labels.setting(destination, expanded)
            }
            replaced[element.labels] = labels
            return VectorElement(labels: labels, value: element.value)
        }
    }

    /// `label_join(v, dst, separator, src...)`: `dst` becomes the source labels' values joined (an empty
    /// result removes it). The metric name is kept.
    static func labelJoin(
        _ elements: [VectorElement],
        destination: String,
        separator: String,
        sources: [String]
    ) throws(PromQLError)
        -> [VectorElement]
    {
        for source in sources where !PrometheusNames.isLabelName(source) {
            throw PromQLError(message: "invalid source label name in label_join(): \(source)", offset: 0)
        }
        guard PrometheusNames.isLabelName(destination) else {
            throw PromQLError(message: "invalid destination label name in label_join(): \(destination)", offset: 0)
        }
        return elements.map { element in
            let joined = sources.map { element.labels[$0] ?? "" }.joined(separator: separator)
            let labels = joined.isEmpty ? element.labels.removing([destination]) : element.labels.setting(destination, joined)
            return VectorElement(labels: labels, value: element.value)
        }
    }

    /// Go's `Regexp.Expand`: `$$` is `$`; `$name`/`${name}` the named or numbered group (the longest run of
    /// letters, digits and `_` makes the name, so `$1x` is the group named `1x`); unknown or unmatched
    /// groups are empty; a `$` not followed by a name stays as it is.
    static func expandTemplate(_ template: String, groups: [(name: String?, text: String?)]) -> String {
        var output = ""
        var rest = Substring(template)
        while let dollar = rest.firstIndex(of: "$") {
            output += rest[..<dollar]
            rest = rest[rest.index(after: dollar)...]
            if rest.first == "$" {
                output += "$"
                rest = rest.dropFirst()
                continue
            }
            var candidate = rest
            let braced = candidate.first == "{"
            if braced { candidate = candidate.dropFirst() }
            let name = candidate.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            candidate = candidate.dropFirst(name.count)
            if name.isEmpty || (braced && candidate.first != "}") {
                output += "$"
                continue
            }
            if braced { candidate = candidate.dropFirst() }
            rest = candidate
            let isNumber = name.allSatisfy { $0.isASCII && $0.isNumber } && name.count <= 8 && !(name.first == "0" && name.count > 1)
            if isNumber, let number = Int(name) {
                if number < groups.count, let text = groups[number].text { output += text }
            } else if let group = groups.first(where: { $0.name == String(name) }), let text = group.text {
                output += text
            }
        }
        return output + rest
    }
}

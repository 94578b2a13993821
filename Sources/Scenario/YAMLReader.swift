import Foundation
package import Yams

/// A mistake in a YAML file, located by file, line, column and field path.
package struct FileLocatedError: Error, CustomStringConvertible, Sendable, Hashable {
    package var file: String
    package var line: Int
    package var column: Int
    /// The field, e.g. `workload.phases[1].arrival.rate`.
    package var path: String
    package var message: String

    package var description: String { "\(file):\(line):\(column): \(path.isEmpty ? "" : "\(path): ")\(message)" }
}

/// All the mistakes found in one file.
package struct FileErrors: Error, CustomStringConvertible, Sendable {
    package var errors: [FileLocatedError]
    package var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Walks a YAML document node by node, collecting every mistake with its position instead of stopping at
/// the first, so `otelbench validate` can list them all.
package final class YAMLReader {
    /// A node and where it sits in the document.
    package struct Field {
        package let node: Node
        package let path: String

        /// The mark of the node (1-based line and column).
        var line: Int { node.mark?.line ?? 0 }
        var column: Int { node.mark?.column ?? 0 }
    }

    package let file: String
    package private(set) var errors: [FileLocatedError] = []

    init(file: String) { self.file = file }

    /// Parses `text`; a syntax error becomes the only error, with YAML's own position.
    package static func parse(_ text: String, file: String) -> (YAMLReader, Field?) {
        let reader = YAMLReader(file: file)
        do {
            guard let node = try compose(text) else {
                reader.errors.append(FileLocatedError(file: file, line: 1, column: 1, path: "", message: "the file is empty"))
                return (reader, nil)
            }
            return (reader, Field(node: node, path: ""))
        } catch let error as YamlError {
            reader.errors.append(Self.locate(error, file: file))
            return (reader, nil)
        } catch let error as YAMLShapeError {
            reader.errors.append(FileLocatedError(file: file, line: error.line, column: error.column, path: error.path, message: error.message))
            return (reader, nil)
        } catch {
            reader.errors.append(FileLocatedError(file: file, line: 1, column: 1, path: "", message: "\(error)"))
            return (reader, nil)
        }
    }

    /// Yams' `compose(yaml:)` with UTF-8 named (left to its default, Yams reads the whole process environment,
    /// for `YAMS_DEFAULT_ENCODING`, on every parse: 8 % of parsing a rule file), after `YAMLShapeCheck`, which
    /// refuses a key that is not a name (`YAMLShapeError`) before Yams' duplicate-key check can take exponential time.
    static func compose(_ text: String) throws -> Node? {
        try YAMLShapeCheck.check(text)
        return try Yams.compose(yaml: text, .default, .default, .utf8)
    }

    private static func locate(_ error: YamlError, file: String) -> FileLocatedError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return FileLocatedError(file: file, line: mark.line, column: mark.column, path: "", message: "YAML syntax: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return FileLocatedError(
                file: file,
                line: context.mark.line,
                column: context.mark.column,
                path: "",
                message: "duplicate keys \(duplicates.joined(separator: ", "))"
            )
        default:
            return FileLocatedError(file: file, line: 1, column: 1, path: "", message: "YAML: \(error)")
        }
    }

    /// Records a mistake at `field`.
    package func fail(_ field: Field, _ message: String) {
        errors.append(FileLocatedError(file: file, line: field.line, column: field.column, path: field.path, message: message))
    }

    /// Adds mistakes found in another file this one refers to (a rule file, a taxonomy).
    package func include(_ other: [FileLocatedError]) {
        errors += other
    }

    // MARK: Structure

    /// The entries of a mapping whose keys must be among `allowed` (unknown keys are reported with a
    /// "did you mean"); `required` keys that are missing are reported at the mapping.
    package func mapping(_ field: Field, allowed: [String], required: [String] = []) -> [String: Field]? {
        guard case .mapping(let mapping) = field.node else {
            fail(field, "expected a mapping with keys \(allowed.joined(separator: ", ")), found \(Self.kind(field.node))")
            return nil
        }
        var entries: [String: Field] = [:]
        for (keyNode, valueNode) in mapping {
            // A mapping or a list as a key (YAML's `? ` form) names no field. `parse` refuses such keys before
            // composing (`YAMLShapeCheck`); a node composed elsewhere is named by its kind, never described (that
            // quotes the whole node, and a did-you-mean against it took seconds: the scenario-yaml fuzz target).
            guard let key = keyNode.string else {
                fail(
                    Field(node: keyNode, path: field.path),
                    "a key must be a name, found \(Self.kind(keyNode)); expected one of \(allowed.joined(separator: ", "))"
                )
                continue
            }
            let childPath = field.path.isEmpty ? key : "\(field.path).\(key)"
            guard allowed.contains(key) else {
                let hint = Self.closest(key, in: allowed).map { " (did you mean '\($0)'?)" } ?? ""
                fail(Field(node: keyNode, path: childPath), "unknown key '\(key)'\(hint); expected one of \(allowed.joined(separator: ", "))")
                continue
            }
            entries[key] = Field(node: valueNode, path: childPath)
        }
        for key in required where entries[key] == nil {
            fail(field, "missing required key '\(key)'")
        }
        return entries
    }

    /// The elements of a sequence.
    package func sequence(_ field: Field) -> [Field]? {
        guard case .sequence(let sequence) = field.node else {
            fail(field, "expected a list, found \(Self.kind(field.node))")
            return nil
        }
        return sequence.enumerated().map { Field(node: $1, path: "\(field.path)[\($0)]") }
    }

    /// A mapping of string keys to fields, any keys allowed (headers, selectors).
    package func freeMapping(_ field: Field) -> [(String, Field)]? {
        guard case .mapping(let mapping) = field.node else {
            fail(field, "expected a mapping, found \(Self.kind(field.node))")
            return nil
        }
        return mapping.map { key, value in (key.string ?? "\(key)", Field(node: value, path: "\(field.path).\(key.string ?? "?")")) }
    }

    // MARK: Scalars

    /// A scalar's text as written, before any `${VAR}` is replaced; nil (and no mistake) for other nodes.
    package func rawString(_ field: Field) -> String? {
        guard case .scalar(let scalar) = field.node else { return nil }
        return scalar.string
    }

    /// A string scalar, with `${VAR}` replaced from `environment` (an unset variable is a mistake) and
    /// `${VAR:-default}` replaced by the default when `VAR` is unset or empty.
    package func string(_ field: Field, environment: [String: String] = [:]) -> String? {
        guard case .scalar(let scalar) = field.node else {
            fail(field, "expected a string, found \(Self.kind(field.node))")
            return nil
        }
        return substitute(scalar.string, field: field, environment: environment)
    }

    package func bool(_ field: Field) -> Bool? {
        guard case .scalar(let scalar) = field.node, let value = Bool.construct(from: scalar) else {
            fail(field, "expected true or false, found \(Self.describe(field.node))")
            return nil
        }
        return value
    }

    package func integer(_ field: Field, range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let scalar) = field.node, let value = Int(scalar.string) else {
            fail(field, "expected a whole number, found \(Self.describe(field.node))")
            return nil
        }
        guard range.contains(value) else {
            fail(field, "\(value) is out of range: must be \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return value
    }

    package func number(_ field: Field, minimum: Double, maximum: Double = .greatestFiniteMagnitude, exclusiveMinimum: Bool = false) -> Double? {
        guard case .scalar(let scalar) = field.node, let value = Double(scalar.string), value.isFinite else {
            fail(field, "expected a number, found \(Self.describe(field.node))")
            return nil
        }
        if exclusiveMinimum ? value <= minimum : value < minimum {
            fail(field, "\(scalar.string) must be \(exclusiveMinimum ? ">" : ">=") \(Self.format(minimum))")
            return nil
        }
        if value > maximum {
            fail(field, "\(scalar.string) must be <= \(Self.format(maximum))")
            return nil
        }
        return value
    }

    /// A duration: a number with a unit, `250ms`, `30s`, `5m`, `1h` (`us` and `ns` too).
    package func duration(_ field: Field, allowZero: Bool = false) -> Duration? {
        guard case .scalar(let scalar) = field.node, let duration = Self.parseDuration(scalar.string) else {
            fail(field, "expected a duration such as 500ms, 30s, 5m or 1h (at most about 292 years), found \(Self.describe(field.node))")
            return nil
        }
        if !allowZero && duration <= .zero {
            fail(field, "duration must be > 0 (got \(scalar.string))")
            return nil
        }
        return duration
    }

    /// One of `choices`, with a "did you mean" when it is not.
    package func choice(_ field: Field, of choices: [String]) -> String? {
        guard let value = string(field) else { return nil }
        guard choices.contains(value) else {
            let hint = Self.closest(value, in: choices).map { " (did you mean '\($0)'?)" } ?? ""
            fail(field, "unknown value '\(value)'\(hint); expected one of \(choices.joined(separator: ", "))")
            return nil
        }
        return value
    }

    /// Parses `250ms`, `1.5s`, `5m`, `1h`, `100us`, `10ns`; nil for anything else, and for a duration longer than
    /// `Int64.max` nanoseconds (about 292 years).
    package static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, seconds) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), value.isFinite, value >= 0 else {
                return nil
            }
            // Whole nanoseconds in an Int64, as Duration is built here: about 292 years at most. A longer one is no
            // duration (converting it trapped: found by the scenario-yaml fuzz target).
            return Int64(exactly: (value * seconds * 1e9).rounded()).map { .nanoseconds($0) }
        }
        return nil
    }

    // MARK: Helpers

    private func substitute(_ text: String, field: Field, environment: [String: String]) -> String? {
        guard text.contains("${") else { return text }
        var result = ""
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            result += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                fail(field, "unterminated ${ in '\(text)'")
                return nil
            }
            // `${NAME:-default}` falls back to the default when NAME is unset or empty, as in the shell.
            let reference = rest[open.upperBound..<close]
            let name: String
            let fallback: String?
            if let separator = reference.range(of: ":-") {
                name = String(reference[..<separator.lowerBound])
                fallback = String(reference[separator.upperBound...])
            } else {
                name = String(reference)
                fallback = nil
            }
            if let value = environment[name], !value.isEmpty {
                result += value
            } else if let fallback {
                result += fallback
            } else {
                fail(
                    field,
                    "environment variable \(name) is not set: export it (e.g. \(name)=https://staging.example.com), give a default (${\(name):-VALUE}) or remove the reference"
                )
                return nil
            }
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    /// What a node is, for messages: a scalar quoted, otherwise "a mapping", "a list" or "an alias".
    package static func kind(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): "'\(scalar.string)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    static func describe(_ node: Node) -> String { kind(node) }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// The allowed word closest to `word` (edit distance at most 2, or a prefix), for "did you mean".
    package static func closest(_ word: String, in candidates: [String]) -> String? {
        let limit = max(2, word.count / 3)
        let lowered = Array(word.lowercased())
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let other = Array(candidate.lowercased())
            // The distance is at least the difference in length: a candidate too far off in length is not
            // compared, so a long word costs nothing (not its length times each candidate's).
            guard abs(lowered.count - other.count) <= limit else { continue }
            let distance = editDistance(lowered, other)
            if distance < best?.distance ?? Int.max { best = (candidate, distance) }
        }
        if let best, best.distance <= limit { return best.candidate }
        guard !word.isEmpty else { return nil }
        return candidates.first { $0.hasPrefix(word) || word.hasPrefix($0) }
    }

    /// The Levenshtein distance between `a` and `b` (insertions, deletions and substitutions of one character).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = Array(repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

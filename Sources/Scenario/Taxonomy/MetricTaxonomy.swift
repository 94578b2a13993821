package import Foundation
import Yams

/// A metric taxonomy: the metrics a family of services must emit, with their types, units, labels and buckets.
///
/// Written as data in `Scenarios/taxonomy/*.yaml`; the built-in services are instrumented from it and the
/// taxonomy check compares what arrives against it.
///
/// ```swift
/// let taxonomy = try MetricTaxonomy.load(path: "Scenarios/taxonomy/cf-core.yaml")
/// let rollback = taxonomy["rollback_duration_seconds"]   // .histogram, buckets [5, 15, ..., 250]
/// ```
package struct MetricTaxonomy: Sendable, Hashable {
    /// Every metric, in file order.
    package var metrics: [MetricDefinition]

    /// Creates a taxonomy from its metrics.
    package init(metrics: [MetricDefinition]) { self.metrics = metrics }

    /// The metric with this name, or nil.
    package subscript(name: String) -> MetricDefinition? { metrics.first { $0.name == name } }

    /// The metric with this name; throws when the taxonomy lacks it (a taxonomy file that drifted from the code).
    package func definition(_ name: String) throws(TaxonomyError) -> MetricDefinition {
        guard let definition = self[name] else {
            throw TaxonomyError(file: "", line: nil, field: "metrics", message: "no metric named \(name); add it to the taxonomy")
        }
        return definition
    }
}

/// One metric of a taxonomy.
package struct MetricDefinition: Sendable, Hashable {
    /// The OTLP instrument type.
    package enum InstrumentType: String, Sendable, Hashable, CaseIterable {
        /// An explicit-bucket histogram.
        case histogram
        /// A monotonic cumulative sum.
        case counter
        /// A gauge (last value).
        case gauge
    }

    /// One label key and, where the taxonomy restricts it, its allowed values.
    package struct Label: Sendable, Hashable {
        /// The label (attribute) key.
        package var key: String
        /// The allowed values; nil when any value is allowed.
        package var allowedValues: [String]?

        /// Creates a label.
        package init(key: String, allowedValues: [String]? = nil) {
            self.key = key
            self.allowedValues = allowedValues
        }
    }

    /// The metric name.
    package var name: String
    /// The instrument type.
    package var type: InstrumentType
    /// The OTLP unit (UCUM: `s`, `ms`, `By`, `%`, `1`).
    package var unit: String
    /// A human description.
    package var description: String
    /// Every label the metric carries; all are required.
    package var labels: [Label]
    /// Explicit bucket boundaries (histograms only, strictly increasing), in the metric's unit.
    package var buckets: [Double]?

    /// Creates a definition.
    package init(name: String, type: InstrumentType, unit: String, description: String, labels: [Label], buckets: [Double]? = nil) {
        self.name = name
        self.type = type
        self.unit = unit
        self.description = description
        self.labels = labels
        self.buckets = buckets
    }

    /// The label keys, in taxonomy order.
    package var labelKeys: [String] { labels.map(\.key) }
}

/// An error in a taxonomy file: which file, line and field, and what to fix.
package struct TaxonomyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file the error is in.
    package var file: String
    /// The 1-based line, when known.
    package var line: Int?
    /// The field path, e.g. `metrics[3].buckets`.
    package var field: String
    /// What is wrong and how to fix it.
    package var message: String

    /// Creates an error.
    package init(file: String, line: Int?, field: String, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    package var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return "\(location): \(field): \(message)"
    }
}

extension MetricTaxonomy {
    /// The cf_core taxonomy's path relative to the package root.
    package static let cfCoreRelativePath = "Scenarios/taxonomy/cf-core.yaml"

    /// Loads and validates a taxonomy file.
    ///
    /// - Throws: ``TaxonomyError`` naming file, line and field when the file cannot be read, is not YAML, or a
    ///   metric is malformed (unknown type, missing unit, buckets on a non-histogram, unsorted buckets, a
    ///   duplicate name or label).
    package static func load(path: String) throws(TaxonomyError) -> MetricTaxonomy {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw TaxonomyError(file: path, line: nil, field: "", message: "cannot read the taxonomy file (\(error.localizedDescription))")
        }
        return try parse(yaml: text, file: path)
    }

    /// Parses and validates taxonomy YAML; `file` names the source in errors.
    package static func parse(yaml: String, file: String = "<taxonomy>") throws(TaxonomyError) -> MetricTaxonomy {
        let root: Node?
        do {
            root = try YAMLReader.compose(yaml)
        } catch let error as YamlError {
            throw TaxonomyError(file: file, line: error.line, field: "", message: "not valid YAML: \(error)")
        } catch {
            throw TaxonomyError(file: file, line: nil, field: "", message: "not valid YAML: \(error)")
        }
        var reader = NodeReader(file: file)
        guard let root, root.mapping != nil else {
            throw TaxonomyError(file: file, line: root?.mark.map(reader.line), field: "", message: "expected a mapping with `version: 1` and `metrics:`")
        }
        return try reader.taxonomy(root)
    }
}

extension YamlError {
    fileprivate var line: Int? {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }
}

/// Reads taxonomy nodes, turning each mistake into a `TaxonomyError` with the node's line.
private struct NodeReader {
    let file: String

    func line(_ mark: Mark) -> Int { mark.line }

    func error(_ node: Node?, _ field: String, _ message: String) -> TaxonomyError {
        TaxonomyError(file: file, line: node?.mark?.line, field: field, message: message)
    }

    mutating func taxonomy(_ root: Node) throws(TaxonomyError) -> MetricTaxonomy {
        try checkKeys(root, field: "", allowed: ["version", "metrics"])
        guard let version = root["version"] else { throw error(root, "version", "missing; write `version: 1`") }
        guard version.int == 1 else { throw error(version, "version", "unsupported version \(version.string ?? "?"); only 1 is known") }
        guard let metricsNode = root["metrics"], case .sequence(let sequence) = metricsNode else {
            throw error(root["metrics"] ?? root, "metrics", "expected a list of metrics")
        }
        var metrics: [MetricDefinition] = []
        var seen: Set<String> = []
        for (index, node) in sequence.enumerated() {
            let field = "metrics[\(index)]"
            let metric = try definition(node, field: field)
            guard seen.insert(metric.name).inserted else {
                throw error(node["name"], "\(field).name", "duplicate metric name \(metric.name); each metric appears once")
            }
            metrics.append(metric)
        }
        guard !metrics.isEmpty else { throw error(metricsNode, "metrics", "the list is empty; define at least one metric") }
        return MetricTaxonomy(metrics: metrics)
    }

    func checkKeys(_ node: Node, field: String, allowed: Set<String>) throws(TaxonomyError) {
        guard let mapping = node.mapping else { throw error(node, field, "expected a mapping") }
        for (key, _) in mapping {
            let name = key.string ?? ""
            if !allowed.contains(name) {
                let path = field.isEmpty ? name : "\(field).\(name)"
                throw error(key, path, "unknown field; expected one of \(allowed.sorted().joined(separator: ", "))")
            }
        }
    }

    func requiredString(_ node: Node, _ key: String, field: String) throws(TaxonomyError) -> String {
        guard let value = node[key] else { throw error(node, "\(field).\(key)", "missing") }
        guard value.scalar != nil, let string = value.string, !string.isEmpty else {
            throw error(value, "\(field).\(key)", "expected a non-empty string")
        }
        return string
    }

    func definition(_ node: Node, field: String) throws(TaxonomyError) -> MetricDefinition {
        try checkKeys(node, field: field, allowed: ["name", "type", "unit", "description", "labels", "buckets"])
        let name = try requiredString(node, "name", field: field)
        let typeName = try requiredString(node, "type", field: field)
        guard let type = MetricDefinition.InstrumentType(rawValue: typeName) else {
            throw error(node["type"], "\(field).type", "unknown type \(typeName); expected histogram, counter or gauge")
        }
        let unit = try requiredString(node, "unit", field: field)
        let description = try requiredString(node, "description", field: field)
        var labels: [MetricDefinition.Label] = []
        if let labelsNode = node["labels"] {
            guard case .sequence(let sequence) = labelsNode else { throw error(labelsNode, "\(field).labels", "expected a list of {key, values}") }
            for (index, labelNode) in sequence.enumerated() {
                let labelField = "\(field).labels[\(index)]"
                try checkKeys(labelNode, field: labelField, allowed: ["key", "values"])
                let key = try requiredString(labelNode, "key", field: labelField)
                guard !labels.contains(where: { $0.key == key }) else {
                    throw error(labelNode["key"], "\(labelField).key", "duplicate label \(key)")
                }
                var allowed: [String]?
                if let valuesNode = labelNode["values"] {
                    guard case .sequence(let values) = valuesNode, !values.isEmpty else {
                        throw error(valuesNode, "\(labelField).values", "expected a non-empty list of strings (quote \"true\" and \"false\")")
                    }
                    allowed = []
                    for value in values {
                        guard let string = value.string, value.scalar != nil else {
                            throw error(value, "\(labelField).values", "expected strings")
                        }
                        allowed?.append(string)
                    }
                }
                labels.append(.init(key: key, allowedValues: allowed))
            }
        }
        var buckets: [Double]?
        if let bucketsNode = node["buckets"] {
            guard type == .histogram else {
                throw error(bucketsNode, "\(field).buckets", "only histograms have buckets; remove it or make the type histogram")
            }
            guard case .sequence(let sequence) = bucketsNode, !sequence.isEmpty else {
                throw error(bucketsNode, "\(field).buckets", "expected a non-empty list of numbers")
            }
            var bounds: [Double] = []
            for value in sequence {
                guard let number = value.float ?? value.int.map(Double.init), number.isFinite else {
                    throw error(value, "\(field).buckets", "expected a finite number (got \(value.string ?? "?"))")
                }
                if let last = bounds.last, number <= last {
                    throw error(value, "\(field).buckets", "boundaries must increase strictly (\(number) after \(last))")
                }
                bounds.append(number)
            }
            buckets = bounds
        } else if type == .histogram {
            throw error(node, "\(field).buckets", "a histogram needs explicit bucket boundaries")
        }
        return MetricDefinition(name: name, type: type, unit: unit, description: description, labels: labels, buckets: buckets)
    }
}

extension MetricTaxonomy {
    /// Finds `Scenarios/taxonomy/cf-core.yaml`: in the current directory or one of its parents, else next to
    /// the running executable or one of its parents (a binary under `.build/` finds its package's copy).
    package static func locateCFCore(
        currentDirectory: String = FileManager.default.currentDirectoryPath,
        executablePath: String? = CommandLine.arguments.first
    ) -> String? {
        var starts = [URL(fileURLWithPath: currentDirectory)]
        if let executablePath { starts.append(URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()) }
        for start in starts {
            var directory = start.standardizedFileURL
            while true {
                let candidate = directory.appendingPathComponent(cfCoreRelativePath)
                if FileManager.default.fileExists(atPath: candidate.path) { return candidate.path }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        return nil
    }
}

extension Scenario {
    /// The scenario's `rules.taxonomy` (relative to the scenario file), or, when it names none and
    /// `fallBackToCFCore` allows, the repository's cf_core taxonomy; nil when there is none to use.
    package func taxonomyPath(fallBackToCFCore: Bool) -> String? {
        if let path = rules.taxonomy {
            return path.hasPrefix("/") ? path : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(path).path
        }
        return fallBackToCFCore ? MetricTaxonomy.locateCFCore() : nil
    }
}

import Foundation

extension ScenarioParser {
    /// `rules.collector_config`: a path, or `{file: PATH, collector_version: X.Y.Z}`. The file must exist (its
    /// contents are the rule's to judge, not the scenario's); the version must look like one.
    func collectorConfigRule(_ field: Field) -> CollectorConfigRule? {
        let fileField: Field
        var version: String?
        if case .mapping = field.node {
            guard let entries = reader.mapping(field, allowed: ["file", "collector_version"], required: ["file"]), let path = entries["file"] else {
                return nil
            }
            fileField = path
            if let versionField = entries["collector_version"], let text = reader.string(versionField) {
                guard Self.looksLikeCollectorVersion(text) else {
                    reader.fail(versionField, "'\(text)' is not a Collector version: write it as 0.90.0 (or v0.90.0)")
                    return nil
                }
                version = text
            }
        } else {
            fileField = field
        }
        guard let path = reader.string(fileField, environment: environment) else { return nil }
        guard !path.isEmpty else {
            reader.fail(fileField, "give the path of a Collector configuration, relative to the scenario (e.g. collector/otel-collector.yaml)")
            return nil
        }
        let resolved = path.hasPrefix("/") ? path : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(path).path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), !isDirectory.boolValue else {
            reader.fail(fileField, "Collector configuration \(resolved) does not exist: the path is relative to the scenario file")
            return nil
        }
        return CollectorConfigRule(file: resolved, collectorVersion: version)
    }

    /// `0.90.0`, `v0.90.0` or `0.90`.
    static func looksLikeCollectorVersion(_ text: String) -> Bool {
        let digits = text.hasPrefix("v") ? text.dropFirst() : Substring(text)
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        return (2...3).contains(parts.count) && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }
}

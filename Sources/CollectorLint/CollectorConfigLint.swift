import Foundation
import Scenario
import Yams

/// Lints an OpenTelemetry Collector configuration: its structure (every pipeline's components defined, every
/// defined component used, each component able to carry its pipeline's signal), its components against the
/// versioned ``ComponentTable`` (unknown, removed, deprecated, and their changed settings), and the Collector's
/// documented best practices (`memory_limiter` first with a check interval and a limit, queues on exporters).
///
/// ```swift
/// let report = try CollectorConfigLint(version: CollectorVersion("0.90.0")).lint(file: "otel-collector.yaml")
/// for finding in report.findings { print(finding) }   // 94:3: error [removed-component] exporters.jaeger: ...
/// ```
package struct CollectorConfigLint: Sendable {
    package var table: ComponentTable
    /// The Collector release the configuration is judged for (default: the table's newest).
    package var version: CollectorVersion

    package init(table: ComponentTable = .shipped, version: CollectorVersion? = nil) {
        self.table = table
        self.version = version ?? table.newest
    }

    /// Lints the file at `path`.
    ///
    /// - Throws: ``CollectorConfigUnreadable`` when the file cannot be read or is not valid YAML.
    package func lint(file path: String) throws(CollectorConfigUnreadable) -> CollectorLintReport {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw CollectorConfigUnreadable(file: path, line: 0, column: 0, message: "cannot read the file (missing, unreadable or not UTF-8)")
        }
        return try lint(text: text, file: path)
    }

    /// Lints configuration text; `file` names it in the report.
    package func lint(text: String, file: String) throws(CollectorConfigUnreadable) -> CollectorLintReport {
        let (reader, root) = YAMLReader.parse(text, file: file)
        guard let root else {
            let first = reader.errors.first
            throw CollectorConfigUnreadable(
                file: file,
                line: max(first?.line ?? 1, 1),
                column: max(first?.column ?? 1, 1),
                message: first?.message ?? "not valid YAML"
            )
        }
        let linter = Linter(table: table, version: version)
        linter.lint(root.node)
        let findings = linter.findings.sorted { ($0.line, $0.column, $0.path) < ($1.line, $1.column, $1.path) }
        return CollectorLintReport(file: file, collectorVersion: version, findings: findings)
    }
}

/// One pass over one configuration, collecting findings.
private final class Linter {
    /// A component defined in a top-level section.
    struct Defined {
        var kind: ComponentKind
        var id: String
        var type: String
        var key: Node
        var value: Node
        /// Nil when the table does not know it or it is removed: nothing more is judged of it.
        var spec: ComponentSpec?
    }

    let table: ComponentTable
    let version: CollectorVersion
    var findings: [CollectorFinding] = []
    var defined: [ComponentKind: [String: Defined]] = [:]
    /// Every id a pipeline uses, by section.
    var used: [ComponentKind: Set<String>] = [:]
    /// A connector's uses: the signals of the pipelines it ends (as exporter) and starts (as receiver).
    var connectorSides: [String: (exporter: [(PipelineSignal, Node)], receiver: [(PipelineSignal, Node)])] = [:]
    /// `auth.authenticator` references: the extension id and the node naming it.
    var authenticators: [(id: String, node: Node, path: String)] = []

    static let samplingProcessors: Set<String> = ["tail_sampling", "probabilistic_sampler"]

    init(table: ComponentTable, version: CollectorVersion) {
        self.table = table
        self.version = version
    }

    // MARK: Reporting

    func report(_ severity: CollectorFinding.Severity, _ check: CollectorFinding.Check, at node: Node, _ path: String, _ message: String, fix: String) {
        findings.append(
            CollectorFinding(
                severity: severity,
                check: check,
                line: node.mark?.line ?? 1,
                column: node.mark?.column ?? 1,
                path: path,
                message: message,
                fix: fix
            )
        )
    }

    // MARK: YAML helpers

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The entries of a mapping in file order (an empty value counts as an empty mapping); nil for anything else.
    /// A key that is a mapping or a list (YAML's `? ` form; `YAMLReader.parse` refuses a document with one, so only
    /// a node composed elsewhere has it) is named by its kind, not quoted node by node.
    static func entries(_ node: Node) -> [(key: Node, value: Node, name: String)]? {
        if isNull(node) { return [] }
        guard case .mapping(let mapping) = node else { return nil }
        return mapping.map { (key: $0.key, value: $0.value, name: $0.key.string ?? "(\(kind($0.key)) as a key)") }
    }

    static func value(_ node: Node, _ key: String) -> Node? {
        entries(node)?.first { $0.name == key }?.value
    }

    static func kind(_ node: Node) -> String {
        YAMLReader.kind(node)
    }

    static func didYouMean(_ word: String, in candidates: [String]) -> String? {
        YAMLReader.closest(word, in: candidates)
    }

    // MARK: The whole file

    func lint(_ root: Node) {
        guard let top = Self.entries(root) else {
            report(
                .error,
                .structure,
                at: root,
                "",
                "the configuration is \(Self.kind(root)), not a mapping",
                fix: "start from receivers:, processors:, exporters: and service:"
            )
            return
        }
        let sections = ComponentKind.allCases.map(\.section) + ["service"]
        for entry in top where !sections.contains(entry.name) {
            let hint = Self.didYouMean(entry.name, in: sections).map { "write '\($0)'" } ?? "remove it"
            report(
                .error,
                .structure,
                at: entry.key,
                entry.name,
                "unknown top-level key '\(entry.name)'; the Collector takes \(sections.joined(separator: ", "))",
                fix: hint
            )
        }
        for kind in ComponentKind.allCases {
            guard let section = top.first(where: { $0.name == kind.section }) else { continue }
            guard let components = Self.entries(section.value) else {
                report(
                    .error,
                    .structure,
                    at: section.value,
                    kind.section,
                    "expected a mapping of \(kind.rawValue) ids to their settings, found \(Self.kind(section.value))",
                    fix: "write \(kind.section): {ID: {...}}"
                )
                continue
            }
            for component in components { define(kind, component.key, component.value, id: component.name) }
        }
        guard let service = top.first(where: { $0.name == "service" }) else {
            report(
                .error,
                .structure,
                at: root,
                "service",
                "there is no service section, so no pipeline runs",
                fix: "add service: {pipelines: {traces: {receivers: [...], exporters: [...]}}}"
            )
            return
        }
        lintService(service.value)
        reportUnused()
        checkConnectors()
        checkAuthenticators(service.value)
    }

    // MARK: Components

    func define(_ kind: ComponentKind, _ key: Node, _ value: Node, id: String) {
        let path = "\(kind.section).\(id)"
        let parts = id.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let type = parts[0]
        guard Self.isValidType(type), parts.count == 1 || !parts[1].isEmpty else {
            report(
                .error,
                .structure,
                at: key,
                path,
                "'\(id)' is not a component id: write type[/name], the type a letter then letters, digits or _",
                fix: "rename it, e.g. \(kind == .exporter ? "otlp/backend" : "batch/traces")"
            )
            return
        }
        var component = Defined(kind: kind, id: id, type: type, key: key, value: value, spec: nil)
        defer { defined[kind, default: [:]][id] = component }
        guard let spec = table.spec(kind, type) else {
            let hint = Self.didYouMean(type, in: table.types(kind)).map { "did you mean '\($0)'? " } ?? ""
            report(
                .error,
                .unknownComponent,
                at: key,
                path,
                "'\(type)' is not a \(kind.rawValue) type of \(table.distribution) that this lint knows",
                fix:
                    "\(hint)check the type in the component's README; if your own Collector build has it, add it to Sources/CollectorLint/ComponentTable+Data.swift"
            )
            return
        }
        if let removed = spec.removed, removed <= version {
            report(
                .error,
                .removedComponent,
                at: key,
                path,
                "the \(type) \(kind.rawValue) was removed in \(removed) (judged for \(version))",
                fix: spec.fix ?? "remove it"
            )
            return
        }
        if let since = spec.since, version < since {
            report(
                .error,
                .unavailableComponent,
                at: key,
                path,
                "the \(type) \(kind.rawValue) first shipped in \(since); \(version) does not have it",
                fix: "upgrade the Collector to \(since) or later, or judge for that version with --collector-version"
            )
            return
        }
        if let deprecated = spec.deprecated, deprecated <= version {
            let removal = spec.removed.map { ", and is removed in \($0)" } ?? ""
            report(
                .warning,
                .deprecatedComponent,
                at: key,
                path,
                "the \(type) \(kind.rawValue) is deprecated (as of \(deprecated))\(removal)",
                fix: spec.fix ?? "replace it"
            )
        }
        component.spec = spec
        checkSettings(spec, component, path: path)
        if kind == .processor, type == "memory_limiter" { checkMemoryLimiter(component, path: path) }
        if kind == .exporter, !spec.queueSettings.isEmpty { checkQueue(spec, component, path: path) }
        collectAuthenticators(value, path: path)
    }

    static func isValidType(_ type: String) -> Bool {
        guard let first = type.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII, type.count <= 63 else { return false }
        return type.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }

    func checkSettings(_ spec: ComponentSpec, _ component: Defined, path: String) {
        guard let settings = Self.entries(component.value) else { return }
        for setting in spec.settings {
            guard let entry = settings.first(where: { $0.name == setting.name }) else { continue }
            if let removed = setting.removed, removed <= version {
                report(
                    .error,
                    .removedSetting,
                    at: entry.key,
                    "\(path).\(setting.name)",
                    "'\(setting.name)' is no longer a setting of \(spec.type) (\(setting.source))",
                    fix: setting.fix
                )
            } else if setting.deprecated.map({ $0 <= version }) ?? (setting.removed == nil) {
                report(
                    .warning,
                    .deprecatedSetting,
                    at: entry.key,
                    "\(path).\(setting.name)",
                    "'\(setting.name)' is deprecated (\(setting.source))",
                    fix: setting.fix
                )
            }
        }
    }

    /// The Collector refuses a memory_limiter without a positive `check_interval` and a positive limit.
    func checkMemoryLimiter(_ component: Defined, path: String) {
        let settings = Self.entries(component.value) ?? []
        let interval = settings.first { $0.name == "check_interval" }
        if let interval {
            if let duration = interval.value.string.flatMap(YAMLReader.parseDuration), duration <= .zero {
                report(
                    .error,
                    .memoryLimiter,
                    at: interval.value,
                    "\(path).check_interval",
                    "check_interval must be greater than zero",
                    fix: "check every second: check_interval: 1s"
                )
            }
        } else {
            report(
                .error,
                .memoryLimiter,
                at: component.key,
                path,
                "memory_limiter has no check_interval: the Collector refuses it ('check_interval' must be greater than zero)",
                fix: "add check_interval: 1s"
            )
        }
        let limits = settings.filter { ["limit_mib", "limit_percentage"].contains($0.name) }
        let positive = limits.contains { ($0.value.string.flatMap(Double.init) ?? 0) > 0 }
        if !positive {
            report(
                .error,
                .memoryLimiter,
                at: limits.first?.value ?? component.key,
                limits.first.map { "\(path).\($0.name)" } ?? path,
                "memory_limiter has no limit: the Collector refuses it ('limit_mib' or 'limit_percentage' must be greater than zero)",
                fix: "add limit_percentage: 80 (with spike_limit_percentage: 25), or limit_mib sized to the container's memory"
            )
        }
    }

    func checkQueue(_ spec: ComponentSpec, _ component: Defined, path: String) {
        let names = Set((Self.entries(component.value) ?? []).map(\.name))
        guard names.isDisjoint(with: spec.queueSettings) else { return }
        report(
            .warning,
            .exporterQueue,
            at: component.key,
            path,
            "the \(spec.type) exporter can queue and retry but sets neither \(spec.queueSettings.joined(separator: " nor ")): an outage of the backend is met with whatever the defaults are",
            fix: "write \(spec.queueSettings[0]) (size it for the outage to ride out) and \(spec.queueSettings[1]) (with max_elapsed_time) explicitly"
        )
    }

    /// Finds `auth: {authenticator: ID}` anywhere in a component's settings.
    func collectAuthenticators(_ node: Node, path: String) {
        switch node {
        case .mapping:
            for entry in Self.entries(node) ?? [] {
                let childPath = "\(path).\(entry.name)"
                if entry.name == "authenticator", let id = entry.value.string, path.hasSuffix(".auth") {
                    authenticators.append((id, entry.value, childPath))
                } else {
                    collectAuthenticators(entry.value, path: childPath)
                }
            }
        case .sequence(let sequence):
            for (index, item) in sequence.enumerated() { collectAuthenticators(item, path: "\(path)[\(index)]") }
        default:
            break
        }
    }

    // MARK: service

    /// An error for each key of `entries` that is not `allowed`, at `path.KEY`, suggesting the closest allowed one.
    func reportUnknownKeys(_ entries: [(key: Node, value: Node, name: String)], allowed: [String], path: String, in context: String) {
        for entry in entries where !allowed.contains(entry.name) {
            report(
                .error,
                .structure,
                at: entry.key,
                "\(path).\(entry.name)",
                "unknown key '\(entry.name)' in \(context); expected \(allowed.joined(separator: ", "))",
                fix: Self.didYouMean(entry.name, in: allowed).map { "write '\($0)'" } ?? "remove it"
            )
        }
    }

    func lintService(_ service: Node) {
        guard let entries = Self.entries(service) else {
            report(
                .error,
                .structure,
                at: service,
                "service",
                "expected a mapping with pipelines, found \(Self.kind(service))",
                fix: "write service: {pipelines: {...}}"
            )
            return
        }
        reportUnknownKeys(entries, allowed: ["extensions", "pipelines", "telemetry"], path: "service", in: "service")
        lintServiceExtensions(entries.first { $0.name == "extensions" }?.value)
        guard let pipelines = entries.first(where: { $0.name == "pipelines" }) else {
            report(
                .error,
                .structure,
                at: service,
                "service.pipelines",
                "service has no pipelines, so nothing flows",
                fix: "add service.pipelines with at least one of traces, metrics, logs"
            )
            return
        }
        guard let list = Self.entries(pipelines.value), !list.isEmpty else {
            report(
                .error,
                .structure,
                at: pipelines.value,
                "service.pipelines",
                "expected a mapping of pipelines (traces, metrics, logs), found \(Self.kind(pipelines.value))",
                fix: "write pipelines: {traces: {receivers: [...], exporters: [...]}}"
            )
            return
        }
        for pipeline in list { lintPipeline(pipeline.key, pipeline.value, id: pipeline.name) }
    }

    func lintServiceExtensions(_ node: Node?) {
        let definedExtensions = defined[.extension] ?? [:]
        var enabled: Set<String> = []
        if let node {
            if case .sequence(let items) = node {
                for (index, item) in items.enumerated() {
                    guard let id = item.string else { continue }
                    enabled.insert(id)
                    if definedExtensions[id] == nil {
                        report(
                            .error,
                            .undefinedComponent,
                            at: item,
                            "service.extensions[\(index)]",
                            "extension '\(id)' is enabled but not defined under extensions:",
                            fix: "define it under extensions: (\(id): {...}) or remove it from service.extensions"
                        )
                    }
                }
            } else if !Self.isNull(node) {
                report(
                    .error,
                    .structure,
                    at: node,
                    "service.extensions",
                    "expected a list of extension ids, found \(Self.kind(node))",
                    fix: "write extensions: [health_check]"
                )
            }
        }
        for (id, component) in definedExtensions where !enabled.contains(id) {
            report(
                .warning,
                .unusedComponent,
                at: component.key,
                "extensions.\(id)",
                "extension '\(id)' is defined but not listed in service.extensions, so it never starts",
                fix: "add it to service.extensions, or remove it"
            )
        }
        used[.extension] = enabled
    }

    func lintPipeline(_ key: Node, _ value: Node, id: String) {
        let path = "service.pipelines.\(id)"
        let signalName = String(id.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0])
        let signal = PipelineSignal(rawValue: signalName)
        if signal == nil {
            report(
                .error,
                .structure,
                at: key,
                path,
                "'\(signalName)' is not a signal: a pipeline id is traces, metrics or logs, optionally /NAME",
                fix: "rename it to traces/\(signalName), metrics/\(signalName) or logs/\(signalName)"
            )
        }
        guard let entries = Self.entries(value) else {
            report(
                .error,
                .structure,
                at: value,
                path,
                "expected a mapping with receivers, processors and exporters, found \(Self.kind(value))",
                fix: "write \(id): {receivers: [...], exporters: [...]}"
            )
            return
        }
        let roles = ["receivers", "processors", "exporters"]
        reportUnknownKeys(entries, allowed: roles, path: path, in: "a pipeline")
        for role in ["receivers", "exporters"] where (entries.first { $0.name == role }.flatMap { Self.ids($0.value) } ?? []).isEmpty {
            report(
                .error,
                .structure,
                at: entries.first { $0.name == role }?.value ?? key,
                "\(path).\(role)",
                "the pipeline has no \(role): the Collector refuses it",
                fix: "list at least one of the defined \(role) in \(path).\(role)"
            )
        }
        var processorTypes: [(type: String, node: Node)] = []
        for role in roles {
            guard let list = entries.first(where: { $0.name == role })?.value else { continue }
            guard case .sequence(let items) = list else {
                if !Self.isNull(list) {
                    report(
                        .error,
                        .structure,
                        at: list,
                        "\(path).\(role)",
                        "expected a list of component ids, found \(Self.kind(list))",
                        fix: "write \(role): [ID, ...]"
                    )
                }
                continue
            }
            for (index, item) in items.enumerated() {
                guard let reference = item.string else { continue }
                let itemPath = "\(path).\(role)[\(index)]"
                let component = resolve(role, reference, item, itemPath, signal: signal)
                if role == "processors", let component { processorTypes.append((component.type, item)) }
            }
        }
        checkProcessorOrder(processorTypes, path: path, signal: signal, at: entries.first { $0.name == "processors" }?.value ?? key)
    }

    static func ids(_ node: Node) -> [String]? {
        guard case .sequence(let items) = node else { return nil }
        return items.compactMap(\.string)
    }

    /// Finds the component a pipeline names, marks it used and checks it can carry the pipeline's signal.
    @discardableResult
    func resolve(_ role: String, _ id: String, _ node: Node, _ path: String, signal: PipelineSignal?) -> Defined? {
        let kind: ComponentKind = role == "receivers" ? .receiver : role == "processors" ? .processor : .exporter
        let component = defined[kind]?[id] ?? (kind == .processor ? nil : defined[.connector]?[id])
        guard let component else {
            let candidates = (defined[kind] ?? [:]).keys.sorted() + (kind == .processor ? [] : (defined[.connector] ?? [:]).keys.sorted())
            let hint = Self.didYouMean(id, in: candidates).map { "did you mean '\($0)'? Otherwise " } ?? ""
            report(
                .error,
                .undefinedComponent,
                at: node,
                path,
                "\(kind.rawValue) '\(id)' is used here but not defined under \(kind.section):",
                fix: "\(hint)define it under \(kind.section): (\(id): {...}), or remove it from the pipeline"
            )
            return nil
        }
        used[component.kind, default: []].insert(id)
        guard let signal, let spec = component.spec else { return component }
        if component.kind == .connector {
            var sides = connectorSides[id] ?? ([], [])
            if kind == .exporter { sides.exporter.append((signal, node)) } else { sides.receiver.append((signal, node)) }
            connectorSides[id] = sides
            let accepted = kind == .exporter ? spec.from : spec.to
            if !accepted.contains(signal) {
                let side = kind == .exporter ? "end (as an exporter)" : "start (as a receiver)"
                report(
                    .error,
                    .signalMismatch,
                    at: node,
                    path,
                    "the \(spec.type) connector cannot \(side) a \(signal.rawValue) pipeline; it takes \(accepted.map(\.rawValue).joined(separator: ", "))",
                    fix: "use it in a pipeline of \(accepted.map(\.rawValue).joined(separator: " or ")) here"
                )
            }
        } else if !spec.signals.contains(signal) {
            report(
                .error,
                .signalMismatch,
                at: node,
                path,
                "the \(spec.type) \(component.kind.rawValue) does not handle \(signal.rawValue) (it handles \(spec.signals.map(\.rawValue).joined(separator: ", ")))",
                fix:
                    "move it to a \(spec.signals.map(\.rawValue).joined(separator: " or ")) pipeline, or use a \(component.kind.rawValue) that handles \(signal.rawValue)"
            )
        }
        return component
    }

    /// The Collector's documented order: memory_limiter first, then sampling processors, then batch.
    func checkProcessorOrder(_ processors: [(type: String, node: Node)], path: String, signal: PipelineSignal?, at node: Node) {
        let types = processors.map(\.type)
        if let index = types.firstIndex(of: "memory_limiter") {
            if index != 0 {
                report(
                    .warning,
                    .processorOrder,
                    at: processors[index].node,
                    "\(path).processors[\(index)]",
                    "memory_limiter is processor \(index + 1) of \(types.count); the Collector's docs put it first, so that it refuses data before anything else spends memory on it",
                    fix: "move memory_limiter to the start of \(path).processors"
                )
            }
        } else {
            report(
                .warning,
                .processorOrder,
                at: node,
                "\(path).processors",
                "the pipeline has no memory_limiter: under load the Collector can run out of memory",
                fix: "define a memory_limiter processor (check_interval: 1s, limit_percentage: 80) and list it first"
            )
        }
        if let batch = types.firstIndex(of: "batch"), let sampler = types.lastIndex(where: { Self.samplingProcessors.contains($0) }), sampler > batch {
            report(
                .warning,
                .processorOrder,
                at: processors[batch].node,
                "\(path).processors[\(batch)]",
                "batch comes before the \(types[sampler]) processor; the Collector's docs put sampling before batch",
                fix: "move batch after \(types[sampler])"
            )
        }
    }

    // MARK: After the pipelines

    func reportUnused() {
        for kind in [ComponentKind.receiver, .processor, .exporter, .connector] {
            for (id, component) in defined[kind] ?? [:] where !(used[kind] ?? []).contains(id) {
                report(
                    .warning,
                    .unusedComponent,
                    at: component.key,
                    "\(kind.section).\(id)",
                    "\(kind.rawValue) '\(id)' is defined but no pipeline uses it",
                    fix: "list it in a pipeline under service.pipelines, or remove it"
                )
            }
        }
    }

    func checkConnectors() {
        for (id, component) in defined[.connector] ?? [:] {
            guard let sides = connectorSides[id], let spec = component.spec else { continue }
            let path = "connectors.\(id)"
            if sides.exporter.isEmpty || sides.receiver.isEmpty {
                let missing = sides.exporter.isEmpty ? "an exporter" : "a receiver"
                report(
                    .error,
                    .structure,
                    at: component.key,
                    path,
                    "connector '\(id)' is never used as \(missing): a connector joins the pipeline it ends to the one it starts",
                    fix: "list it as \(missing) of another pipeline"
                )
                continue
            }
            guard spec.sameSignal else { continue }
            let ends = Set(sides.exporter.map(\.0))
            for (signal, node) in sides.receiver where !ends.contains(signal) {
                report(
                    .error,
                    .signalMismatch,
                    at: node,
                    path,
                    "the \(spec.type) connector passes a signal on as itself, but no \(signal.rawValue) pipeline exports to it",
                    fix: "export to '\(id)' from a \(signal.rawValue) pipeline, or start this pipeline from a receiver"
                )
            }
        }
    }

    func checkAuthenticators(_ service: Node) {
        let enabled = used[.extension] ?? []
        for reference in authenticators {
            if defined[.extension]?[reference.id] == nil {
                report(
                    .error,
                    .undefinedComponent,
                    at: reference.node,
                    reference.path,
                    "the authenticator '\(reference.id)' is not defined under extensions:, so the Collector cannot start this component",
                    fix: "define it under extensions: (e.g. \(reference.id): {client_auth: {username: ..., password: ...}}) and list it in service.extensions"
                )
            } else if !enabled.contains(reference.id) {
                report(
                    .error,
                    .undefinedComponent,
                    at: reference.node,
                    reference.path,
                    "the authenticator '\(reference.id)' is defined but not listed in service.extensions, so it never starts",
                    fix: "add \(reference.id) to service.extensions"
                )
            }
        }
    }
}

import Foundation
import Yams

/// The kinds of Collector component, by the top-level section that defines them.
package enum ComponentKind: String, Sendable, Hashable, CaseIterable, Codable {
    case receiver, processor, exporter, connector, `extension`

    /// The configuration section: `receivers`, `processors`, ...
    package var section: String { rawValue + "s" }
}

/// The telemetry signals a pipeline carries (`service.pipelines.<signal>[/<name>]`).
package enum PipelineSignal: String, Sendable, Hashable, CaseIterable, Codable {
    case traces, metrics, logs
}

/// What the shipped table knows of one component type: the signals it handles, when it came and went, and the
/// settings of it that were deprecated or removed. See `ComponentTable+Data.swift` for the sources.
package struct ComponentSpec: Sendable, Hashable, Decodable {
    /// A setting of the component that changed.
    package struct Setting: Sendable, Hashable, Decodable {
        /// The key, under the component's own configuration (`ballast_size_mib`).
        package var name: String
        /// From this version on it is only accepted with a warning (nil with no `removed`: deprecated in every
        /// release the table describes)...
        package var deprecated: CollectorVersion?
        /// ...and from this one on the Collector refuses it.
        package var removed: CollectorVersion?
        /// What to write instead.
        package var fix: String
        /// Where the fact comes from.
        package var source: String
    }

    package var kind: ComponentKind
    package var type: String
    /// The signals a receiver, processor or exporter handles; empty for extensions and connectors.
    package var signals: [PipelineSignal] = []
    /// A connector's exporter side: the pipelines it may end.
    package var from: [PipelineSignal] = []
    /// A connector's receiver side: the pipelines it may start.
    package var to: [PipelineSignal] = []
    /// Whether a connector only passes a signal on as itself (`forward`, `routing`): traces to traces, etc.
    package var sameSignal: Bool = false
    /// The first release that has it, when later than the table's oldest.
    package var since: CollectorVersion?
    package var deprecated: CollectorVersion?
    package var removed: CollectorVersion?
    /// What to use instead when it is deprecated or removed.
    package var fix: String?
    /// For an exporter that queues and retries: the settings of which one should be written out.
    package var queueSettings: [String] = []
    package var settings: [Setting] = []
    package var source: String?

    enum CodingKeys: String, CodingKey {
        case kind, type, signals, from, to, since, deprecated, removed, fix, settings, source
        case sameSignal = "same_signal"
        case queueSettings = "queue_settings"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(ComponentKind.self, forKey: .kind)
        type = try container.decode(String.self, forKey: .type)
        signals = try container.decodeIfPresent([PipelineSignal].self, forKey: .signals) ?? []
        from = try container.decodeIfPresent([PipelineSignal].self, forKey: .from) ?? []
        to = try container.decodeIfPresent([PipelineSignal].self, forKey: .to) ?? []
        sameSignal = try container.decodeIfPresent(Bool.self, forKey: .sameSignal) ?? false
        since = try container.decodeIfPresent(CollectorVersion.self, forKey: .since)
        deprecated = try container.decodeIfPresent(CollectorVersion.self, forKey: .deprecated)
        removed = try container.decodeIfPresent(CollectorVersion.self, forKey: .removed)
        fix = try container.decodeIfPresent(String.self, forKey: .fix)
        queueSettings = try container.decodeIfPresent([String].self, forKey: .queueSettings) ?? []
        settings = try container.decodeIfPresent([Setting].self, forKey: .settings) ?? []
        source = try container.decodeIfPresent(String.self, forKey: .source)
    }
}

/// The versioned table of Collector components the lint judges a configuration against, shipped as data inside
/// the binary (``ComponentTable/shipped``), so that a binary copied alone into a container still has it.
///
/// ```swift
/// let table = ComponentTable.shipped
/// let jaeger = table.spec(.exporter, "jaeger")   // removed in v0.85.0
/// ```
package struct ComponentTable: Sendable {
    /// The distribution the table describes (`otelcol-contrib`).
    package var distribution: String
    /// The newest release the table describes: the lint's default target.
    package var newest: CollectorVersion
    /// The oldest release it describes: an older target is refused.
    package var oldest: CollectorVersion
    private var specs: [ComponentKind: [String: ComponentSpec]]

    private struct Document: Decodable {
        var distribution: String
        var newest: CollectorVersion
        var oldest: CollectorVersion
        var components: [ComponentSpec]
    }

    /// Reads a table written as ``ComponentTable+Data`` writes it.
    package init(yaml: String) throws {
        let document = try YAMLDecoder().decode(Document.self, from: yaml)
        distribution = document.distribution
        newest = document.newest
        oldest = document.oldest
        specs = [:]
        for spec in document.components {
            specs[spec.kind, default: [:]][spec.type] = spec
        }
    }

    /// The table compiled into the binary.
    package static let shipped: ComponentTable = {
        do {
            return try ComponentTable(yaml: componentTableYAML)
        } catch {
            // The text is a constant of this module and a test decodes it: failing here is a build mistake.
            preconditionFailure("the shipped component table does not decode: \(error)")
        }
    }()

    /// What the table knows of `type` as a `kind`, or nil.
    package func spec(_ kind: ComponentKind, _ type: String) -> ComponentSpec? { specs[kind]?[type] }

    /// Every type of `kind` the table knows, sorted.
    package func types(_ kind: ComponentKind) -> [String] { (specs[kind] ?? [:]).keys.sorted() }

    /// The number of components the table describes.
    package var count: Int { specs.values.reduce(0) { $0 + $1.count } }
}

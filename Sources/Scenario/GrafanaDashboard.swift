import Foundation
import PromQLSyntax
import Yams

/// A Grafana dashboard as Grafana imports it (the dashboard JSON model), reduced to what OTelBench draws:
/// its title and, per panel, the title, the unit and the PromQL of each Prometheus target.
///
/// ```swift
/// let dashboard = try GrafanaDashboard.load(path: "Scenarios/dashboards/cf-core-service-health.json")
/// for panel in dashboard.panels { print(panel.title, panel.targets.map(\.expression)) }
/// ```
///
/// The file is either the model itself (`{"title", "panels": [...]}`, what Grafana's file provisioning reads)
/// or the model wrapped as the HTTP API takes it (`{"dashboard": {...}}`). Rows are flattened: a collapsed
/// row's own `panels` count, in order. Panels without targets (text, rows) are not drawn. Every target must
/// be a PromQL query against a Prometheus data source (`datasource.type: prometheus`, or no datasource,
/// which is the dashboard's default); its `expr` must parse with OTelBench's PromQL parser and be an instant
/// vector or a scalar, the types a range query evaluates. Mistakes are ``FileErrors`` with the file's line,
/// column and JSON path (`panels[2].targets[0].expr`).
package struct GrafanaDashboard: Sendable, Hashable {
    /// One panel that queries Prometheus.
    package struct Panel: Sendable, Hashable {
        /// The panel's title, as Grafana shows it.
        package var title: String
        /// Grafana's visualisation (`timeseries`, `graph`, `gauge`, `stat`, `table`, …): OTelBench draws every
        /// panel as a time series.
        package var type: String
        /// `fieldConfig.defaults.unit` (or the old graph panel's `yaxes[0].format`), a Grafana unit id such as
        /// `s`, `ms`, `reqps`, `percentunit`; nil when the panel sets none.
        package var unit: String?
        /// The panel's queries, in order.
        package var targets: [Target]

        package init(title: String, type: String, unit: String?, targets: [Target]) {
            self.title = title
            self.type = type
            self.unit = unit
            self.targets = targets
        }
    }

    /// One query of a panel.
    package struct Target: Sendable, Hashable {
        /// `refId` (`A`, `B`, …).
        package var refID: String
        /// The PromQL text (`expr`).
        package var expression: String
        /// How a series is named in the legend: `{{label}}` is replaced by the series' value of `label`;
        /// nil, empty or `__auto` names it by its labels.
        package var legendFormat: String?

        package init(refID: String, expression: String, legendFormat: String?) {
            self.refID = refID
            self.expression = expression
            self.legendFormat = legendFormat
        }
    }

    /// The dashboard's title.
    package var title: String
    /// Its `uid`, when it has one.
    package var uid: String?
    /// The file it was read from.
    package var file: String
    /// Every panel with at least one target, rows flattened, in the file's order.
    package var panels: [Panel]

    package init(title: String, uid: String? = nil, file: String, panels: [Panel]) {
        self.title = title
        self.uid = uid
        self.file = file
        self.panels = panels
    }

    /// Reads the dashboard JSON at `path`.
    ///
    /// - Throws: ``FileErrors`` listing every mistake, each with the file's line and the field's JSON path.
    package static func load(path: String) throws(FileErrors) -> GrafanaDashboard {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw FileErrors(errors: [
                FileLocatedError(file: path, line: 0, column: 0, path: "", message: "cannot read the dashboard (missing, unreadable or not UTF-8)")
            ])
        }
        return try parse(text, file: path)
    }

    /// Parses dashboard JSON; `file` names it in errors.
    package static func parse(_ text: String, file: String) throws(FileErrors) -> GrafanaDashboard {
        // JSON is YAML's flow style, so the YAML reader gives every field its line, as in scenario files; the
        // strict JSON parser first, so that a file Grafana would refuse is refused here too.
        guard (try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: Any] else {
            throw FileErrors(errors: [
                FileLocatedError(
                    file: file,
                    line: 1,
                    column: 1,
                    path: "",
                    message: "not a JSON object: a Grafana dashboard is the JSON model Grafana exports (Share → Export → Save to file)"
                )
            ])
        }
        let (reader, root) = YAMLReader.parse(text, file: file)
        guard let root else { throw FileErrors(errors: reader.errors) }
        let dashboard = DashboardParser(reader: reader, file: file).dashboard(root)
        guard reader.errors.isEmpty, let dashboard else { throw FileErrors(errors: reader.errors) }
        return dashboard
    }
}

/// The dashboard grammar: the fields OTelBench uses, checked; every other field of Grafana's model ignored.
private struct DashboardParser {
    typealias Field = YAMLReader.Field
    let reader: YAMLReader
    let file: String

    /// The value of `key` in a mapping node, as a field with its JSON path.
    func child(_ field: Field, _ key: String) -> Field? {
        guard case .mapping(let mapping) = field.node, let node = mapping[key] else { return nil }
        return Field(node: node, path: field.path.isEmpty ? key : "\(field.path).\(key)")
    }

    func dashboard(_ root: Field) -> GrafanaDashboard? {
        let model = child(root, "dashboard") ?? root
        guard case .mapping = model.node else {
            reader.fail(model, "expected the dashboard model, a JSON object with title and panels")
            return nil
        }
        guard let titleField = child(model, "title"), let title = reader.rawString(titleField), !title.isEmpty else {
            reader.fail(model, "the dashboard has no title: give it \"title\", as Grafana requires")
            return nil
        }
        guard let panelsField = child(model, "panels"), let list = reader.sequence(panelsField) else {
            reader.fail(model, "the dashboard has no panels: give it \"panels\": [...]")
            return nil
        }
        let panels = flattened(list).compactMap(panel)
        if panels.isEmpty, reader.errors.isEmpty {
            reader.fail(panelsField, "no panel has a PromQL target: give a panel \"targets\": [{\"expr\": \"...\"}]")
        }
        return GrafanaDashboard(title: title, uid: child(model, "uid").flatMap(reader.rawString), file: file, panels: panels)
    }

    /// Panels in order, a row's nested `panels` (a collapsed row keeps them there) right after the row.
    func flattened(_ list: [Field]) -> [Field] {
        list.flatMap { field -> [Field] in
            guard let nested = child(field, "panels"), case .sequence = nested.node, let inner = reader.sequence(nested) else { return [field] }
            return [field] + flattened(inner)
        }
    }

    func panel(_ field: Field) -> GrafanaDashboard.Panel? {
        guard case .mapping = field.node else {
            reader.fail(field, "expected a panel, a JSON object")
            return nil
        }
        let type = child(field, "type").flatMap(reader.rawString) ?? "graph"
        guard type != "row", let targetsField = child(field, "targets") else { return nil }
        guard let titleField = child(field, "title"), let title = reader.rawString(titleField), !title.isEmpty else {
            reader.fail(field, "a panel with targets needs a \"title\": the report names its chart by it")
            return nil
        }
        if let source = child(field, "datasource"), !isPrometheus(source) { return nil }
        guard let list = reader.sequence(targetsField) else { return nil }
        let targets = list.enumerated().compactMap { target($1, position: $0) }
        guard targets.count == list.count else { return nil }
        guard !targets.isEmpty else {
            reader.fail(targetsField, "panel \"\(title)\" has no target: give it at least one {\"expr\": \"...\"}")
            return nil
        }
        var unit = child(field, "fieldConfig").flatMap { child($0, "defaults") }.flatMap { child($0, "unit") }.flatMap(reader.rawString)
        if unit == nil, let axes = child(field, "yaxes"), case .sequence(let list) = axes.node, let first = list.first {
            unit = child(Field(node: first, path: "\(axes.path)[0]"), "format").flatMap(reader.rawString)
        }
        return GrafanaDashboard.Panel(title: title, type: type, unit: unit.flatMap { $0.isEmpty ? nil : $0 }, targets: targets)
    }

    /// Whether a `datasource` names a Prometheus data source (`{"type": "prometheus", "uid": …}`, or the old
    /// form: a data source's name as a string, or `${DS_…}`, which Grafana resolves on import).
    func isPrometheus(_ source: Field) -> Bool {
        if case .scalar = source.node { return true }
        guard let typeField = child(source, "type"), let type = reader.rawString(typeField) else { return true }
        guard type == "prometheus" else {
            reader.fail(
                typeField,
                "data source type '\(type)': OTelBench evaluates PromQL panels only; point the panel at a Prometheus data source (\"type\": \"prometheus\")"
            )
            return false
        }
        return true
    }

    func target(_ field: Field, position: Int) -> GrafanaDashboard.Target? {
        guard case .mapping = field.node else {
            reader.fail(field, "expected a target, a JSON object with expr")
            return nil
        }
        if let source = child(field, "datasource"), !isPrometheus(source) { return nil }
        guard let exprField = child(field, "expr"), let text = reader.rawString(exprField) else {
            reader.fail(field, "a target needs \"expr\": the PromQL query to draw")
            return nil
        }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            reader.fail(exprField, "the query is empty: write the PromQL to draw")
            return nil
        }
        if let variable = text.range(of: #"\$\{?[A-Za-z_]+"#, options: .regularExpression) {
            reader.fail(
                exprField,
                "'\(text[variable])' is a Grafana variable, which OTelBench does not expand: write the value (e.g. [5m] for $__rate_interval)"
            )
            return nil
        }
        do throws(PromQLError) {
            let expression = try PromQLParser.parse(text)
            guard expression.type == .vector || expression.type == .scalar else {
                reader.fail(exprField, "'\(text)' is a \(expression.type == .matrix ? "range vector" : "string"): a panel draws an instant vector or a scalar")
                return nil
            }
        } catch {
            reader.fail(exprField, "PromQL: \(error)")
            return nil
        }
        let refID = child(field, "refId").flatMap(reader.rawString) ?? String(UnicodeScalar(UInt8(65 + position % 26)))
        let legend = child(field, "legendFormat").flatMap(reader.rawString)
        return GrafanaDashboard.Target(refID: refID, expression: text, legendFormat: legend)
    }
}

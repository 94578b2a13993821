import Foundation

extension ScenarioParser {
    /// `report: {dashboards: [PATH, ...]}`: each path relative to the scenario's folder, a Grafana dashboard JSON
    /// file whose own mistakes are reported with its line and JSON path.
    func reportSection(_ field: Field) -> ReportSection {
        var section = ReportSection()
        guard let entries = reader.mapping(field, allowed: ["dashboards"]) else { return section }
        guard let dashboardsField = entries["dashboards"], let list = reader.sequence(dashboardsField) else { return section }
        var seen: Set<String> = []
        for item in list {
            guard let path = reader.string(item, environment: environment) else { continue }
            guard !path.isEmpty else {
                reader.fail(item, "give the path of a Grafana dashboard JSON file, relative to the scenario (e.g. dashboards/cf-core-service-health.json)")
                continue
            }
            let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
            let resolved = path.hasPrefix("/") ? path : folder.appendingPathComponent(path).standardizedFileURL.path
            guard seen.insert(resolved).inserted else {
                reader.fail(item, "\(path) is listed twice: name each dashboard once")
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), !isDirectory.boolValue else {
                reader.fail(item, "dashboard \(resolved) does not exist: the path is relative to the scenario file")
                continue
            }
            do throws(FileErrors) {
                section.dashboards.append(try GrafanaDashboard.load(path: resolved))
            } catch {
                reader.fail(item, "dashboard \(path) has \(error.errors.count) mistake\(error.errors.count == 1 ? "" : "s") (below)")
                reader.include(error.errors)
            }
        }
        return section
    }
}

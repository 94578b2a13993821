import Foundation

extension ScenarioParser {
    /// The keys of one process's ceiling.
    static let ceilingKeys = ["cpu_average", "cpu_p99", "rss_peak"]

    /// `ceilings: {NAME: {cpu_average: 50%, cpu_p99: 150%, rss_peak: 200MiB}}`, one entry per process under test.
    ///
    /// - Parameter processes: the names of `services.processes`; nil when that section has mistakes of its own,
    ///   which are reported there (a name is then not checked against it).
    func ceilingsSection(_ field: Field, processes: [String]?) -> [ResourceCeiling] {
        guard let entries = reader.freeMapping(field) else { return [] }
        if let processes, processes.isEmpty {
            reader.fail(field, "ceilings limit processes the run starts, and the scenario starts none: add services.processes, or remove ceilings")
            return []
        }
        var ceilings: [ResourceCeiling] = []
        for (name, limitsField) in entries {
            if let processes, !processes.contains(name) {
                let hint = YAMLReader.closest(name, in: processes).map { " (did you mean '\($0)'?)" } ?? ""
                reader.fail(limitsField, "unknown process '\(name)'\(hint); services.processes has \(processes.joined(separator: ", "))")
                continue
            }
            guard let limits = reader.mapping(limitsField, allowed: Self.ceilingKeys) else { continue }
            guard !limits.isEmpty else {
                reader.fail(limitsField, "give at least one limit: \(Self.ceilingKeys.joined(separator: ", ")) (e.g. {cpu_average: 50%, rss_peak: 200MiB})")
                continue
            }
            var ceiling = ResourceCeiling(process: name)
            ceiling.cpuAveragePercent = limits["cpu_average"].flatMap(cpuLimit)
            ceiling.cpuP99Percent = limits["cpu_p99"].flatMap(cpuLimit)
            ceiling.rssPeakBytes = limits["rss_peak"].flatMap(memoryLimit)
            ceilings.append(ceiling)
        }
        return ceilings
    }

    /// A CPU limit in percent of one core: `50%`, `250%` (more than one core).
    func cpuLimit(_ field: Field) -> Double? {
        guard let text = reader.string(field) else { return nil }
        guard let percent = ResourceCeiling.parsePercent(text) else {
            reader.fail(field, "'\(text)' is not a CPU limit: write percent of one core with %, e.g. 50% (half a core) or 150% (one and a half)")
            return nil
        }
        guard percent > 0 else {
            reader.fail(field, "\(text) allows no CPU at all: a running process always uses some; give a limit > 0%")
            return nil
        }
        return percent
    }

    /// A memory limit in bytes: `200MiB`, `1.5GiB`, `512KiB`.
    func memoryLimit(_ field: Field) -> Double? {
        guard let text = reader.string(field) else { return nil }
        guard let bytes = ResourceCeiling.parseBytes(text) else {
            let units = ResourceCeiling.memoryUnits.map(\.suffix).joined(separator: ", ")
            reader.fail(field, "'\(text)' is not a memory size: write a number with \(units) (binary units, as /proc counts), e.g. 200MiB")
            return nil
        }
        guard bytes > 0 else {
            reader.fail(field, "\(text) allows no memory at all: give a limit > 0, e.g. 200MiB")
            return nil
        }
        return bytes
    }
}

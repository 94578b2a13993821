import Foundation
package import Scenario
import Yams

extension ServicesConfiguration {
    /// Applies a services configuration file (YAML) on top of this configuration.
    ///
    /// ```yaml
    /// time_scale: 0.001            # wall seconds per simulated second
    /// environment: bench           # deployment.environment
    /// service_version: 1.0.0       # service.version
    /// snapshot_db_type: sqlite     # db_type label of db_snapshot_size_bytes
    /// random_seed: 42              # repeatable latency and error draws
    /// otlp:
    ///   endpoint: http://127.0.0.1:4317
    ///   protocol: grpc             # or http
    ///   metrics_export_interval_ms: 1000
    ///   span_export_delay_ms: 200
    /// operations:                  # per operation: latency model and error rate
    ///   rollback.db_restore:
    ///     latency: {type: lognormal, median: 40, p99: 120}   # or {type: fixed, seconds: 1}, {type: uniform, min: 1, max: 2}
    ///     error_rate: 0.01
    /// faults:                      # per service (tasks, projects, sprints, migrations) or all
    ///   projects: [drop_traceparent]
    ///   all: [drop_spans=0.1]
    /// ```
    ///
    /// - Throws: ``ConfigurationError`` whose message starts with `file:line: field:`.
    package mutating func apply(configurationFile path: String) throws(ConfigurationError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("\(path): cannot read the services configuration (\(error.localizedDescription))")
        }
        try apply(configurationYAML: text, file: path)
    }

    /// Applies services configuration YAML; `file` names the source in errors.
    package mutating func apply(configurationYAML yaml: String, file: String = "<services configuration>") throws(ConfigurationError) {
        let root: Node?
        do {
            // UTF-8 named: Yams' default reads the whole process environment on every parse.
            root = try Yams.compose(yaml: yaml, .default, .default, .utf8)
        } catch {
            throw ConfigurationError("\(file): not valid YAML: \(error)")
        }
        guard let root else { return }
        let reader = ConfigurationReader(file: file)
        try reader.apply(root, to: &self)
    }
}

private struct ConfigurationReader {
    let file: String

    func error(_ node: Node?, _ field: String, _ message: String) -> ConfigurationError {
        let location = node?.mark.map { "\(file):\($0.line)" } ?? file
        return ConfigurationError("\(location): \(field): \(message)")
    }

    func mapping(_ node: Node, _ field: String, allowed: Set<String>) throws(ConfigurationError) -> [(String, Node, Node)] {
        guard let mapping = node.mapping else { throw error(node, field, "expected a mapping") }
        var pairs: [(String, Node, Node)] = []
        for (key, value) in mapping {
            let name = key.string ?? ""
            guard allowed.isEmpty || allowed.contains(name) else {
                throw error(key, field.isEmpty ? name : "\(field).\(name)", "unknown setting; expected one of \(allowed.sorted().joined(separator: ", "))")
            }
            pairs.append((name, key, value))
        }
        return pairs
    }

    func number(_ node: Node, _ field: String) throws(ConfigurationError) -> Double {
        guard node.scalar != nil, let value = node.float ?? node.int.map(Double.init), value.isFinite else {
            throw error(node, field, "expected a number (got \(node.string ?? "a non-scalar"))")
        }
        return value
    }

    func string(_ node: Node, _ field: String) throws(ConfigurationError) -> String {
        guard node.scalar != nil, let value = node.string, !value.isEmpty else { throw error(node, field, "expected a non-empty string") }
        return value
    }

    func apply(_ root: Node, to configuration: inout ServicesConfiguration) throws(ConfigurationError) {
        let keys: Set<String> = ["time_scale", "environment", "service_version", "snapshot_db_type", "random_seed", "otlp", "operations", "faults", "host"]
        for (name, _, value) in try mapping(root, "", allowed: keys) {
            switch name {
            case "time_scale": configuration.timeScale = try number(value, name)
            case "environment": configuration.deploymentEnvironment = try string(value, name)
            case "service_version": configuration.serviceVersion = try string(value, name)
            case "snapshot_db_type": configuration.snapshotDatabaseType = try string(value, name)
            case "host": configuration.host = try string(value, name)
            case "random_seed":
                guard let seed = value.int, seed >= 0 else { throw error(value, name, "expected a non-negative integer") }
                configuration.randomSeed = UInt64(seed)
            case "otlp": try applyExport(value, to: &configuration.export)
            case "operations":
                for (operation, key, behaviourNode) in try mapping(value, name, allowed: []) {
                    guard OperationCatalog.defaults[operation] != nil else {
                        throw error(
                            key,
                            "operations.\(operation)",
                            "unknown operation; known: \(OperationCatalog.defaults.keys.sorted().joined(separator: ", "))"
                        )
                    }
                    configuration.operations[operation] = try behaviour(
                        behaviourNode,
                        "operations.\(operation)",
                        default: OperationCatalog.defaults[operation]!
                    )
                }
            case "faults":
                for (serviceName, key, list) in try mapping(value, name, allowed: Set(CFCoreService.allCases.map(\.rawValue) + ["all"])) {
                    guard case .sequence(let names) = list else { throw error(list, "faults.\(serviceName)", "expected a list of fault names") }
                    let services = serviceName == "all" ? CFCoreService.allCases : [CFCoreService(rawValue: serviceName)!]
                    for nameNode in names {
                        let faultName = try string(nameNode, "faults.\(serviceName)")
                        for service in services {
                            do {
                                try configuration.faults[service, default: .none].enable(faultName)
                            } catch {
                                throw self.error(nameNode, "faults.\(serviceName)", error.message)
                            }
                        }
                    }
                    _ = key
                }
            default: break
            }
        }
    }

    func applyExport(_ node: Node, to export: inout TelemetryExportConfiguration) throws(ConfigurationError) {
        for (name, _, value) in try mapping(node, "otlp", allowed: ["endpoint", "protocol", "metrics_export_interval_ms", "span_export_delay_ms"]) {
            let field = "otlp.\(name)"
            switch name {
            case "endpoint": export.endpoint = try string(value, field)
            case "protocol":
                let raw = try string(value, field)
                guard let transport = OTLPProtocol(rawValue: raw) else {
                    throw error(value, field, "expected grpc or http (got \(raw))")
                }
                export.transport = transport
            case "metrics_export_interval_ms":
                let milliseconds = try number(value, field)
                guard milliseconds >= 10 else { throw error(value, field, "must be at least 10 ms (got \(milliseconds))") }
                export.metricsExportInterval = .milliseconds(Int64(milliseconds))
            case "span_export_delay_ms":
                let milliseconds = try number(value, field)
                guard milliseconds >= 1 else { throw error(value, field, "must be at least 1 ms (got \(milliseconds))") }
                export.spanExportDelay = .milliseconds(Int64(milliseconds))
            default: break
            }
        }
    }

    func behaviour(_ node: Node, _ field: String, default base: OperationBehaviour) throws(ConfigurationError) -> OperationBehaviour {
        var behaviour = base
        for (name, _, value) in try mapping(node, field, allowed: ["latency", "error_rate"]) {
            switch name {
            case "error_rate":
                let rate = try number(value, "\(field).error_rate")
                guard rate >= 0, rate <= 1 else { throw error(value, "\(field).error_rate", "must be between 0 and 1 (got \(rate))") }
                behaviour.errorRate = rate
            case "latency": behaviour.latency = try latency(value, "\(field).latency")
            default: break
            }
        }
        return behaviour
    }

    func latency(_ node: Node, _ field: String) throws(ConfigurationError) -> LatencyModel {
        var values: [String: Double] = [:]
        var type: String?
        for (name, _, value) in try mapping(node, field, allowed: ["type", "seconds", "min", "max", "median", "p99"]) {
            if name == "type" { type = try string(value, "\(field).type") } else { values[name] = try number(value, "\(field).\(name)") }
        }
        func require(_ key: String) throws(ConfigurationError) -> Double {
            guard let value = values[key] else { throw error(node, "\(field).\(key)", "missing for latency type \(type ?? "?")") }
            return value
        }
        let model: LatencyModel
        switch type {
        case "fixed": model = .fixed(seconds: try require("seconds"))
        case "uniform": model = .uniform(min: try require("min"), max: try require("max"))
        case "lognormal": model = .logNormal(median: try require("median"), p99: try require("p99"))
        default: throw error(node, "\(field).type", "expected fixed, uniform or lognormal (got \(type ?? "nothing"))")
        }
        do {
            try model.validate()
        } catch {
            throw self.error(node, field, error.message)
        }
        return model
    }
}

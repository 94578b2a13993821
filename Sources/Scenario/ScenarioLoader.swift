package import Foundation
import PromQLSyntax
import Scenario

/// Reads and validates scenario files, reporting every mistake with file, line, column and field path.
///
/// ```swift
/// let scenario = try ScenarioLoader.load(path: "Scenarios/cf-core-smoke.yaml")
/// ```
package enum ScenarioLoader {
    /// Loads the file at `path`.
    ///
    /// - Parameter environment: values for `${VAR}` references (the process environment by default).
    /// - Throws: ``FileErrors`` listing every mistake.
    package static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(FileErrors) -> Scenario {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw FileErrors(errors: [
                FileLocatedError(file: path, line: 0, column: 0, path: "", message: "cannot read the file (missing, unreadable or not UTF-8)")
            ])
        }
        return try parse(text, file: path, environment: environment)
    }

    /// Parses scenario text; `file` names it in errors.
    package static func parse(_ text: String, file: String, environment: [String: String] = [:]) throws(FileErrors) -> Scenario {
        let (reader, root) = YAMLReader.parse(text, file: file)
        guard let root else { throw FileErrors(errors: reader.errors) }
        let scenario = ScenarioParser(reader: reader, environment: environment, file: file).scenario(root)
        guard reader.errors.isEmpty, let scenario else { throw FileErrors(errors: reader.errors) }
        return scenario
    }
}

/// The scenario grammar, one function per section.
struct ScenarioParser {
    typealias Field = YAMLReader.Field
    let reader: YAMLReader
    let environment: [String: String]
    let file: String

    func scenario(_ root: Field) -> Scenario? {
        guard
            let top = reader.mapping(
                root,
                allowed: ["name", "description", "services", "intake", "workload", "rules", "settle", "scrape", "report", "estimate"],
                required: ["name", "workload"]
            )
        else { return nil }
        let name = top["name"].flatMap { reader.string($0) }
        let description = top["description"].flatMap { reader.string($0) } ?? ""
        let services = top["services"].map(servicesSection) ?? ServicesSection(builtin: BuiltinServices(), targets: [:])
        let intake = top["intake"].map(intakeSection) ?? IntakeSection()
        let workload = top["workload"].flatMap { workloadSection($0, services: services) }
        let errorsBeforeRules = reader.errors.count
        let rules = top["rules"].map { rulesSection($0, processes: services?.processes.map(\.name)) } ?? RulesSection()
        // Without a rule a run passes for lack of evidence. A scraped target is an exposition rule of its own;
        // a rules section with mistakes is reported by those instead.
        if rules.isEmpty, top["scrape"] == nil, reader.errors.count == errorsBeforeRules {
            let message =
                "a scenario needs at least one rule (slos, alert_rules, propagation, cardinality, taxonomy, accounting, ceilings or collector_config, "
                + "or a scrape target): without one every run passes for lack of evidence"
            if let field = top["rules"] {
                reader.fail(field, message)
            } else {
                reader.include([FileLocatedError(file: file, line: root.line, column: root.column, path: "rules", message: message)])
            }
        }
        let settle = top["settle"].map(settleSection) ?? SettleSection()
        let scrape = top["scrape"].map(scrapeSection) ?? ScrapeSection()
        let report = top["report"].map(reportSection) ?? ReportSection()
        let estimate = top["estimate"].flatMap(estimateSection)
        guard let name, let workload, let services else { return nil }
        return Scenario(
            name: name,
            description: description,
            file: file,
            services: services,
            intake: intake,
            workload: workload,
            rules: rules,
            settle: settle,
            scrape: scrape,
            report: report,
            estimate: estimate
        )
    }

    // MARK: services

    func servicesSection(_ field: Field) -> ServicesSection? {
        guard let entries = reader.mapping(field, allowed: ["builtin", "targets", "processes"]) else { return nil }
        var section = ServicesSection(builtin: nil, targets: [:])
        if let processes = entries["processes"], let list = reader.sequence(processes) {
            section.processes = list.compactMap(processUnderTest)
            var seen: Set<String> = []
            for (process, item) in zip(section.processes, list) where !seen.insert(process.name).inserted {
                reader.fail(item, "a second process named '\(process.name)': give each process its own name")
            }
        }
        if let builtin = entries["builtin"] {
            section.builtin = builtinServices(builtin)
        }
        if let targets = entries["targets"], let pairs = reader.freeMapping(targets) {
            for (name, value) in pairs {
                guard let url = reader.string(value, environment: environment) else { continue }
                guard url.hasPrefix("http://") || url.hasPrefix("https://"), URL(string: url)?.host != nil else {
                    reader.fail(value, "'\(url)' is not an http:// or https:// URL")
                    continue
                }
                section.targets[name] = url
            }
        }
        if entries["builtin"] == nil && section.targets.isEmpty && entries["processes"] == nil {
            reader.fail(
                field,
                "name the built-in services (builtin: {}), at least one external target (targets: {tasks: URL}) or a process to start (processes: [...])"
            )
        }
        let served = ProcessUnderTest.servedServices(of: section.processes)
        for process in section.processes {
            for name in [process.name] + (served[process.name] ?? [])
            where section.targets[name] != nil || (section.builtin != nil && Self.builtinServiceNames.contains(name)) {
                reader.fail(field, "process '\(process.name)' serves '\(name)', the name of another service: give it its own")
            }
        }
        return section
    }

    /// One entry of `services.processes`.
    func processUnderTest(_ field: Field) -> ProcessUnderTest? {
        guard
            let entries = reader.mapping(
                field,
                allowed: ["name", "command", "env", "directory", "ready", "stop", "otlp_protocol"],
                required: ["name", "command"]
            )
        else { return nil }
        // `${PORT}` and `${PORT:NAME}` are ports the run picks when it starts the processes: kept as written until then.
        var environment = self.environment
        environment["PORT"] = "${PORT}"
        guard let name = entries["name"].flatMap({ reader.string($0) }) else { return nil }
        guard let commandField = entries["command"], let words = reader.sequence(commandField) else { return nil }
        let environmentFields = entries["env"].flatMap { reader.freeMapping($0) } ?? []
        var namedPorts: [String] = []
        var usesOwnPort = false
        for field in words + environmentFields.map(\.1) {
            guard let raw = reader.rawString(field) else { continue }
            usesOwnPort = usesOwnPort || raw.contains("${PORT}")
            for portName in ProcessUnderTest.namedPortReferences(in: raw) {
                guard PrometheusNames.isLabelName(portName.replacingOccurrences(of: "-", with: "_")) else {
                    reader.fail(field, "'${PORT:\(portName)}': name a service or process (letters, digits, _ and -)")
                    continue
                }
                environment["PORT:\(portName)"] = "${PORT:\(portName)}"
                if !namedPorts.contains(portName) { namedPorts.append(portName) }
            }
        }
        let command = words.compactMap { reader.string($0, environment: environment) }
        guard command.count == words.count else { return nil }
        guard let program = command.first, !program.isEmpty else {
            reader.fail(commandField, "the command is empty: give the program and its arguments, e.g. [python3, -m, billing.server]")
            return nil
        }
        var process = ProcessUnderTest(name: name, command: command)
        process.namedPorts = namedPorts
        process.usesOwnPort = usesOwnPort
        if let field = entries["directory"], let directory = reader.string(field, environment: environment) {
            let resolved = directory.hasPrefix("/") ? directory : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(directory).path
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), isDirectory.boolValue {
                process.directory = resolved
            } else {
                reader.fail(field, "directory \(resolved) does not exist")
            }
        }
        let directory = process.directory ?? URL(fileURLWithPath: file).deletingLastPathComponent().path
        if ProcessUnderTest.resolveExecutable(program, in: directory, environment: self.environment) == nil {
            reader.fail(
                words[0],
                "'\(program)' is not an executable file\(program.contains("/") ? "" : " on PATH"): install it, or give its path (relative to the scenario's folder)"
            )
        }
        for (key, value) in environmentFields {
            if let text = reader.string(value, environment: environment) { process.environment[key] = text }
        }
        if let field = entries["ready"], let ready = reader.mapping(field, allowed: ["http", "tcp", "timeout"]) {
            if let path = ready["http"].flatMap({ reader.string($0) }) {
                if path.hasPrefix("/") { process.readiness = .http(path: path) } else { reader.fail(ready["http"]!, "path '\(path)' must start with /") }
                if ready["tcp"] != nil { reader.fail(field, "give either http: PATH or tcp: true, not both") }
            } else if let tcp = ready["tcp"] {
                if reader.bool(tcp) == false { reader.fail(tcp, "tcp: false leaves no way to know it is ready: give http: PATH, or tcp: true") }
            }
            if let timeout = ready["timeout"].flatMap({ reader.duration($0) }) { process.readyTimeout = timeout }
        }
        if let field = entries["stop"], let stop = reader.mapping(field, allowed: ["signal", "grace"]) {
            if let signal = stop["signal"].flatMap({ reader.choice($0, of: ProcessUnderTest.stopSignals.keys.sorted()) }) { process.stopSignal = signal }
            if let grace = stop["grace"].flatMap({ reader.duration($0, allowZero: true) }) { process.stopGrace = grace }
        }
        if let value = entries["otlp_protocol"].flatMap({ reader.choice($0, of: OTLPProtocol.allCases.map(\.rawValue)) }) {
            process.otlpProtocol = OTLPProtocol(rawValue: value) ?? .http
        }
        return process
    }

    func builtinServices(_ field: Field) -> BuiltinServices {
        var builtin = BuiltinServices()
        if case .scalar(let scalar) = field.node, scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null" { return builtin }
        guard let entries = reader.mapping(field, allowed: ["time_scale", "otlp_protocol", "export_interval", "faults", "drop_span_fraction", "config"]) else {
            return builtin
        }
        if let value = entries["time_scale"].flatMap({ reader.number($0, minimum: 0, maximum: 1000, exclusiveMinimum: true) }) {
            builtin.timeScale = value
        }
        if let value = entries["otlp_protocol"].flatMap({ reader.choice($0, of: OTLPProtocol.allCases.map(\.rawValue)) }) {
            builtin.otlpProtocol = OTLPProtocol(rawValue: value) ?? .grpc
        }
        if let value = entries["export_interval"].flatMap({ reader.duration($0) }) { builtin.exportInterval = value }
        if let value = entries["drop_span_fraction"].flatMap({ reader.number($0, minimum: 0, maximum: 1) }) { builtin.dropSpanFraction = value }
        if let field = entries["config"], let path = reader.string(field, environment: environment) {
            let resolved = path.hasPrefix("/") ? path : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(path).path
            if FileManager.default.fileExists(atPath: resolved) {
                builtin.configFile = resolved
            } else {
                reader.fail(field, "services configuration \(resolved) does not exist")
            }
        }
        if let faults = entries["faults"].flatMap({ reader.sequence($0) }) {
            builtin.faults = faults.compactMap { fault in
                reader.choice(fault, of: FaultMode.allCases.map(\.rawValue)).flatMap(FaultMode.init(rawValue:))
            }
        }
        return builtin
    }

    // MARK: intake

    func intakeSection(_ field: Field) -> IntakeSection {
        var intake = IntakeSection()
        let sinkKeys = SinkKind.allCases.map(\.scenarioKey)
        guard let entries = reader.mapping(field, allowed: ["otlp_grpc", "otlp_http"] + sinkKeys + ["faults", "tls", "auth_token_file"]) else {
            return intake
        }
        // Every address given, in file order, to find two receivers on one port.
        var listeners: [(field: Field, address: ListenAddress)] = []
        for key in ["otlp_grpc", "otlp_http"] + sinkKeys {
            guard let valueField = entries[key], let value = address(valueField) else { continue }
            switch key {
            case "otlp_grpc": intake.otlpGRPC = value
            case "otlp_http": intake.otlpHTTP = value
            default: if let kind = SinkKind(rawValue: key) { intake.sinks[kind] = value }
            }
            listeners.append((valueField, value))
        }
        checkDistinctPorts(listeners.sorted { ($0.field.line, $0.field.column) < ($1.field.line, $1.field.column) })
        if let faults = entries["faults"].flatMap({ reader.sequence($0) }) {
            intake.faults = faults.compactMap(intakeFault)
        }
        if let tls = entries["tls"], let files = reader.mapping(tls, allowed: ["cert", "key", "client_ca"], required: ["cert", "key"]) {
            let certificate = files["cert"].flatMap(existingFile)
            let key = files["key"].flatMap(existingFile)
            let clientCA = files["client_ca"].flatMap(existingFile)
            if let certificate, let key { intake.tls = TLSFiles(certificate: certificate, key: key, clientCA: clientCA) }
        }
        intake.authTokenFile = entries["auth_token_file"].flatMap(existingFile)
        return intake
    }

    /// A file named in the scenario (relative to the scenario file's folder), which must exist.
    func existingFile(_ field: Field) -> String? {
        guard let text = reader.string(field, environment: environment), !text.isEmpty else { return nil }
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
        let resolved = text.hasPrefix("/") ? text : folder.appendingPathComponent(text).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: resolved) else {
            reader.fail(field, "\(resolved) does not exist")
            return nil
        }
        return resolved
    }

    /// Two receivers cannot listen on one port (unless it is 0, any free port): the later one is the mistake,
    /// named with the earlier one's field and line.
    func checkDistinctPorts(_ listeners: [(field: Field, address: ListenAddress)]) {
        var seen: [(field: Field, host: String, port: Int)] = []
        for (field, address) in listeners where address.port != 0 {
            let (host, port) = (address.host, address.port)
            let wildcard: Set<String> = ["", "0.0.0.0", "::"]
            if let earlier = seen.first(where: { $0.port == port && ($0.host == host || wildcard.contains($0.host) || wildcard.contains(host)) }) {
                reader.fail(
                    field,
                    "port \(port) is already taken by \(earlier.field.path) (line \(earlier.field.line)): every receiver and sink needs its own port (0 picks a free one)"
                )
            } else {
                seen.append((field, host, port))
            }
        }
    }

    func address(_ field: Field) -> ListenAddress? {
        guard let text = reader.string(field, environment: environment) else { return nil }
        do {
            return try ListenAddress(parsing: text)
        } catch {
            reader.fail(field, "'\(text)' is not HOST:PORT (for example 127.0.0.1:4317, or 127.0.0.1:0 for a free port)")
            return nil
        }
    }

    func intakeFault(_ field: Field) -> IntakeFault? {
        guard let entries = reader.mapping(field, allowed: ["signal", "service", "rate", "respond", "sequence", "retry_after", "latency"]) else { return nil }
        let responses = IntakeFaultResponse.spellings.map(\.word)
        var fault = IntakeFault(signal: nil, rate: nil, respond: nil, sequence: [], retryAfter: nil, addedLatency: nil)
        fault.signal = entries["signal"].flatMap { reader.choice($0, of: Signal.allCases.map(\.rawValue)) }.flatMap(Signal.init(rawValue:))
        fault.service = entries["service"].flatMap { reader.string($0, environment: environment) }
        fault.rate = entries["rate"].flatMap { reader.number($0, minimum: 0, maximum: 1) }
        fault.respond = entries["respond"].flatMap { reader.choice($0, of: responses) }.flatMap(IntakeFaultResponse.init(word:))
        fault.sequence =
            entries["sequence"].flatMap { reader.sequence($0) }?.compactMap {
                reader.choice($0, of: responses).flatMap(IntakeFaultResponse.init(word:))
            } ?? []
        fault.retryAfter = entries["retry_after"].flatMap { reader.duration($0) }
        fault.addedLatency = entries["latency"].flatMap { reader.duration($0) }
        if entries["respond"] != nil && entries["sequence"] != nil {
            reader.fail(field, "give either respond (with rate) or sequence, not both")
        } else if entries["respond"] == nil && entries["sequence"] == nil && entries["latency"] == nil {
            reader.fail(field, "a fault needs respond (with rate), sequence, or latency")
        }
        if entries["respond"] != nil && entries["rate"] == nil {
            reader.fail(field, "respond needs a rate: the fraction of requests (0...1) answered that way")
        }
        return fault
    }

    // MARK: workload

    func workloadSection(_ field: Field, services: ServicesSection?) -> WorkloadSection? {
        guard let entries = reader.mapping(field, allowed: ["phases", "requests", "connections", "timeout"], required: ["phases", "requests"]) else {
            return nil
        }
        let phases = entries["phases"].flatMap { reader.sequence($0) }?.compactMap(phase) ?? []
        let requests = entries["requests"].flatMap { reader.sequence($0) }?.compactMap { request($0, services: services) } ?? []
        if let phasesField = entries["phases"], phases.isEmpty, reader.errors.isEmpty { reader.fail(phasesField, "the workload needs at least one phase") }
        if let requestsField = entries["requests"], requests.isEmpty, reader.errors.isEmpty {
            reader.fail(requestsField, "the workload needs at least one request")
        }
        var workload = WorkloadSection(phases: phases, requests: requests)
        if let value = entries["connections"].flatMap({ reader.integer($0, range: 1...10_000) }) { workload.connections = value }
        if let value = entries["timeout"].flatMap({ reader.duration($0) }) { workload.timeout = value }
        return workload
    }

    func phase(_ field: Field) -> Phase? {
        let keys = ["name", "duration", "arrival", "rate", "from", "to", "users", "think_time"]
        guard let entries = reader.mapping(field, allowed: keys, required: ["name", "duration", "arrival"]) else { return nil }
        let name = entries["name"].flatMap { reader.string($0) }
        let duration = entries["duration"].flatMap { reader.duration($0) }
        guard let arrivalField = entries["arrival"], let kind = reader.choice(arrivalField, of: ["constant", "ramp", "poisson", "closed"]) else {
            return nil
        }
        let needed: [String: [String]] = ["constant": ["rate"], "poisson": ["rate"], "ramp": ["from", "to"], "closed": ["users"]]
        let optional: [String: [String]] = ["closed": ["think_time"]]
        for key in ["rate", "from", "to", "users", "think_time"] where entries[key] != nil {
            if !(needed[kind, default: []] + optional[kind, default: []]).contains(key), let extra = entries[key] {
                reader.fail(
                    extra,
                    "'\(key)' does not apply to a \(kind) arrival (it takes \((needed[kind, default: []] + optional[kind, default: []]).joined(separator: ", ")))"
                )
            }
        }
        for key in needed[kind, default: []] where entries[key] == nil {
            reader.fail(arrivalField, "a \(kind) arrival needs '\(key)'")
        }
        let arrival: ArrivalSchedule?
        switch kind {
        case "constant":
            arrival = entries["rate"].flatMap { reader.number($0, minimum: 0, exclusiveMinimum: true) }.map { .constant(rate: $0) }
        case "poisson":
            arrival = entries["rate"].flatMap { reader.number($0, minimum: 0, exclusiveMinimum: true) }.map { .poisson(rate: $0) }
        case "ramp":
            let from = entries["from"].flatMap { reader.number($0, minimum: 0) }
            let to = entries["to"].flatMap { reader.number($0, minimum: 0) }
            if let from, let to, from == 0, to == 0, let field = entries["to"] { reader.fail(field, "a ramp from 0 to 0 sends nothing") }
            arrival = from.flatMap { from in to.map { .ramp(from: from, to: $0) } }
        default:
            let users = entries["users"].flatMap { reader.integer($0, range: 1...100_000) }
            let think = entries["think_time"].flatMap { reader.duration($0, allowZero: true) } ?? .zero
            arrival = users.map { .closed(users: $0, thinkTime: think) }
        }
        guard let name, let duration, let arrival else { return nil }
        return Phase(name: name, duration: duration, arrival: arrival)
    }

    static let builtinServiceNames = ["tasks", "projects", "sprints", "migrations"]

    func request(_ field: Field, services: ServicesSection?) -> RequestTemplate? {
        guard
            let entries = reader.mapping(
                field,
                allowed: ["name", "weight", "service", "method", "path", "body", "headers", "trace"],
                required: ["name", "service", "path"]
            )
        else { return nil }
        let name = entries["name"].flatMap { reader.string($0) }
        let weight = entries["weight"].flatMap { reader.number($0, minimum: 0, exclusiveMinimum: true) } ?? 1
        var service = entries["service"].flatMap { reader.string($0) }
        if let serviceName = service, let services, let serviceField = entries["service"] {
            let known =
                (services.builtin != nil ? Self.builtinServiceNames : []) + services.targets.keys.sorted() + services.processes.map(\.name)
                + ProcessUnderTest.servedServices(of: services.processes).values.flatMap { $0 }.sorted()
            if !known.contains(serviceName) {
                let hint = YAMLReader.closest(serviceName, in: known).map { " (did you mean '\($0)'?)" } ?? ""
                reader.fail(serviceField, "unknown service '\(serviceName)'\(hint); the scenario has \(known.joined(separator: ", "))")
                service = nil
            }
        }
        let method = entries["method"].flatMap { reader.choice($0, of: ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]) } ?? "GET"
        let path = entries["path"].flatMap { reader.string($0, environment: environment) }
        if let path, !path.hasPrefix("/"), let pathField = entries["path"] { reader.fail(pathField, "path '\(path)' must start with /") }
        let body = entries["body"].flatMap { reader.string($0, environment: environment) }
        let headers =
            entries["headers"].flatMap { reader.freeMapping($0) }?.compactMap { key, value in
                reader.string(value, environment: environment).map { (key, $0) }
            } ?? []
        let trace = entries["trace"].map(traceSpec) ?? TraceContextSpec()
        guard let name, let service, let path else { return nil }
        return RequestTemplate(name: name, weight: weight, service: service, method: method, path: path, body: body, headers: headers, trace: trace)
    }

    func traceSpec(_ field: Field) -> TraceContextSpec {
        var spec = TraceContextSpec()
        guard let entries = reader.mapping(field, allowed: ["propagate", "sampled", "tracestate", "w3c", "invalid"]) else { return spec }
        if let value = entries["propagate"].flatMap({ reader.bool($0) }) { spec.propagate = value }
        if let value = entries["sampled"].flatMap({ reader.bool($0) }) { spec.sampled = value }
        spec.tracestate = entries["tracestate"].flatMap { reader.string($0) }
        // `w3c:` names any case of the W3C suite; `invalid:` (the older spelling) the same names.
        if let old = entries["invalid"], entries["w3c"] != nil {
            reader.fail(old, "give either w3c or invalid (the older spelling of w3c), not both")
        }
        spec.invalid = (entries["w3c"] ?? entries["invalid"]).flatMap { reader.choice($0, of: TraceContextCase.allCases.map(\.rawValue)) }
            .flatMap(TraceContextCase.init(rawValue:))
        if spec.invalid != nil, let tracestate = entries["tracestate"] {
            reader.fail(tracestate, "a w3c case sends its own tracestate: remove tracestate, or the w3c case")
        }
        return spec
    }

    // MARK: rules

    /// - Parameter processes: the names of `services.processes` (nil when that section has mistakes of its own).
    func rulesSection(_ field: Field, processes: [String]?) -> RulesSection {
        var rules = RulesSection()
        let keys = [
            "slos", "alert_rules", "expect_alerts", "silent_alerts", "alert_interval", "propagation", "cardinality", "taxonomy", "accounting", "regression",
            "ceilings", "traces", "semconv", "collector_config", "retry",
        ]
        guard let entries = reader.mapping(field, allowed: keys) else { return rules }
        rules.collectorConfig = entries["collector_config"].flatMap(collectorConfigRule)
        rules.slos = entries["slos"].flatMap { reader.sequence($0) }?.compactMap(slo) ?? []
        if let ruleField = entries["alert_rules"], let path = reader.string(ruleField) {
            let resolved = path.hasPrefix("/") ? path : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(path).path
            do throws(FileErrors) {
                rules.alertRules = try PrometheusRuleFile.load(path: resolved)
            } catch {
                if error.errors.count == 1, error.errors[0].line == 0 {
                    reader.fail(ruleField, "cannot read the rule file \(resolved): it must exist, relative to the scenario")
                } else {
                    reader.include(error.errors)
                }
            }
        }
        if let expected = entries["expect_alerts"], let names = reader.sequence(expected)?.compactMap({ reader.string($0) }) {
            rules.expectedAlerts = names
            if let known = rules.alertRules?.alertNames {
                for name in names where !known.contains(name) { reader.fail(expected, "expect_alerts names \"\(name)\", which no rule in alert_rules defines") }
            } else if entries["alert_rules"] == nil {
                reader.fail(expected, "expect_alerts needs alert_rules: a rule file that defines the alerts")
            }
        }
        if let silent = entries["silent_alerts"], let names = reader.sequence(silent)?.compactMap({ reader.string($0) }) {
            rules.silentAlerts = names
            if let known = rules.alertRules?.alertNames {
                for name in names where !known.contains(name) { reader.fail(silent, "silent_alerts names \"\(name)\", which no rule in alert_rules defines") }
            } else if entries["alert_rules"] == nil {
                reader.fail(silent, "silent_alerts needs alert_rules: a rule file that defines the alerts")
            }
            for name in names where rules.expectedAlerts.contains(name) {
                reader.fail(silent, "silent_alerts names \"\(name)\", which expect_alerts says must fire: an alert that sees no series cannot fire")
            }
        }
        if let value = entries["alert_interval"].flatMap({ reader.duration($0) }) { rules.alertInterval = value }
        if let value = entries["propagation"].flatMap({ reader.bool($0) }) { rules.propagation = value }
        if let cardinality = entries["cardinality"], let values = reader.mapping(cardinality, allowed: ["limit", "per_metric"]) {
            rules.cardinalityLimit = values["limit"].flatMap { reader.integer($0, range: 1...100_000_000) } ?? 1000
            for (metric, limit) in values["per_metric"].flatMap({ reader.freeMapping($0) }) ?? [] {
                if let value = reader.integer(limit, range: 1...100_000_000) { rules.cardinalityPerMetric[metric] = value }
            }
        }
        rules.taxonomy = entries["taxonomy"].flatMap { reader.string($0) }
        if let regression = entries["regression"], let values = reader.mapping(regression, allowed: ["p99_increase", "throughput_decrease"]) {
            if let value = values["p99_increase"].flatMap({ reader.number($0, minimum: 0, maximum: 100) }) { rules.regressionP99Increase = value }
            if let value = values["throughput_decrease"].flatMap({ reader.number($0, minimum: 0, maximum: 1) }) { rules.regressionThroughputDecrease = value }
        }
        if let accounting = entries["accounting"], let values = reader.mapping(accounting, allowed: ["tolerance"]) {
            rules.accountingTolerance = values["tolerance"].flatMap { reader.number($0, minimum: 0, maximum: 1) } ?? 0
        }
        if let ceilings = entries["ceilings"] { rules.ceilings = ceilingsSection(ceilings, processes: processes) }
        if let traces = entries["traces"] { rules.traces = traceAssertions(traces) }
        if let semconv = entries["semconv"] { rules.semanticConventions = semanticConventionsRule(semconv) }
        if let retry = entries["retry"] { rules.retry = retryRule(retry) }
        return rules
    }

    func slo(_ field: Field) -> SLORule? {
        let keys = ["name", "client", "spans", "service", "metric", "where", "by", "objective", "window", "expr"]
        guard let entries = reader.mapping(field, allowed: keys, required: ["name"]) else { return nil }
        guard let name = entries["name"].flatMap({ reader.string($0) }) else { return nil }
        var rule = SLORule(name: name)
        if let expr = entries["expr"] {
            for key in ["client", "spans", "metric", "objective", "where", "by"] where entries[key] != nil {
                reader.fail(entries[key]!, "'\(key)' does not go with expr: an expr rule is a whole PromQL comparison")
            }
            rule.expression = reader.string(expr)
            if let text = rule.expression {
                do throws(PromQLError) {
                    let parsed = try PromQLParser.parse(text)
                    guard case .binary(let operation) = parsed.unwrapped, operation.op.isComparison else {
                        reader.fail(expr, "expr must compare, e.g. 'histogram_quantile(0.99, ...) < 180': a bare query has no verdict")
                        return rule
                    }
                } catch {
                    reader.fail(expr, "PromQL: \(error)")
                }
            }
            return rule
        }
        let sources = ["client", "spans", "metric"].filter { entries[$0] != nil }
        guard sources.count == 1 else {
            reader.fail(
                field,
                sources.isEmpty ? "an SLO needs one source: client, spans or metric (or an expr)" : "give one source, not \(sources.joined(separator: " and "))"
            )
            return nil
        }
        switch sources[0] {
        case "client": rule.source = .client(request: entries["client"].flatMap { reader.string($0) }.flatMap { $0 == "*" ? nil : $0 })
        case "spans":
            rule.source = .spans(
                name: entries["spans"].flatMap { reader.string($0) }.flatMap { $0 == "*" ? nil : $0 },
                service: entries["service"].flatMap { reader.string($0) }
            )
        default:
            guard let metric = entries["metric"].flatMap({ reader.string($0) }) else { return nil }
            rule.source = .metric(name: metric)
        }
        rule.selector = Dictionary(
            uniqueKeysWithValues: (entries["where"].flatMap { reader.freeMapping($0) } ?? []).compactMap { key, value in
                reader.string(value).map { (key, $0) }
            }
        )
        rule.groupBy = entries["by"].flatMap { reader.sequence($0) }?.compactMap { reader.string($0) } ?? []
        rule.window = entries["window"].flatMap { reader.duration($0) }
        guard let objectiveField = entries["objective"] else {
            reader.fail(field, "an SLO needs an objective such as 'p99 < 180s' or 'p99.9 < 50ms'")
            return nil
        }
        guard let objectiveText = reader.string(objectiveField) else { return nil }
        guard let objective = Objective(parsing: objectiveText, isLatency: true) else {
            reader.fail(objectiveField, "'\(objectiveText)' is not an objective: write pQUANTILE OP THRESHOLD, e.g. 'p99 < 180s', 'p99.9 <= 50ms'")
            return nil
        }
        rule.quantile = objective.quantile
        rule.comparison = objective.comparison
        rule.threshold = objective.threshold
        rule.thresholdIsDuration = objective.thresholdIsDuration
        return rule
    }

    // MARK: settle

    func settleSection(_ field: Field) -> SettleSection {
        var settle = SettleSection()
        guard let entries = reader.mapping(field, allowed: ["timeout", "quiet"]) else { return settle }
        if let value = entries["timeout"].flatMap({ reader.duration($0) }) { settle.timeout = value }
        if let value = entries["quiet"].flatMap({ reader.duration($0) }) { settle.quiet = value }
        return settle
    }
}

/// `p99 < 180s`: a quantile, a comparison and a threshold (a duration, or a plain number).
struct Objective {
    var quantile: Double
    var comparison: SLORule.Comparison
    /// Seconds when the threshold has a time unit.
    var threshold: Double
    var thresholdIsDuration: Bool

    init?(parsing text: String, isLatency: Bool) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[0].hasPrefix("p"), let quantile = Self.quantile(fromPercentile: parts[0].dropFirst()),
            let comparison = SLORule.Comparison(rawValue: String(parts[1]))
        else { return nil }
        if let duration = YAMLReader.parseDuration(String(parts[2])) {
            threshold = duration.inSeconds
            thresholdIsDuration = true
        } else if let number = Double(parts[2]), number.isFinite {
            threshold = number
            thresholdIsDuration = false
        } else {
            return nil
        }
        self.quantile = quantile
        self.comparison = comparison
    }

    /// `99.9` → 0.999, by moving the decimal point in the text (dividing by 100 would give 0.9990000000000001).
    static func quantile(fromPercentile text: Substring) -> Double? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = parts.first, (1...2).contains(whole.count),
            (whole + (parts.count == 2 ? parts[1] : "")).allSatisfy(\.isNumber), parts.count == 1 || !parts[1].isEmpty,
            let value = Double("0." + String(repeating: "0", count: 2 - whole.count) + whole + (parts.count == 2 ? parts[1] : "")),
            value > 0, value < 1
        else { return nil }
        return value
    }
}

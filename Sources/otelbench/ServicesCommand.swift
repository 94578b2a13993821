import ArgumentParser
import Foundation
import Logging
package import Scenario
import ServiceLifecycle
import Services

/// `otelbench services`: runs the built-in cf_core services standalone, exporting OTLP.
struct ServicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "services",
        abstract: "Run the built-in cf_core services (tasks, projects, sprints, migrations), instrumented with swift-otel.",
        discussion: """
            Serves tasks on --ports-from P, projects on P+1, sprints on P+2 and migrations on P+3 (P 0 picks free \
            ports), prints each service's URL, and exports traces and metrics over OTLP to --otlp-endpoint. \
            Settings come from --config (YAML), then the flags. Stops on SIGINT/SIGTERM after flushing spans and \
            exporting metrics once more. Without --otlp-endpoint or --otlp-protocol (or an endpoint in --config), \
            the standard OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_PROTOCOL (grpc, http/protobuf) apply, \
            as they do for any service with an OpenTelemetry SDK; OTEL_SERVICE_NAME and OTEL_PROPAGATORS do not \
            (each of the four services names itself and propagates W3C trace context). Scaled time: a simulated latency L sleeps L × --time-scale of wall time \
            and is recorded (span timestamps, metrics) as L; real work counts at wall speed. Faults (off by default): \
            \(FaultModes.names.map(\.name).joined(separator: ", ")); prefix one with a service and a colon \
            (projects:drop_traceparent) to limit it to that service.
            """
    )

    @Option(help: ArgumentHelp("First port: tasks P, projects P+1, sprints P+2, migrations P+3 (0: free ports).", valueName: "P"))
    var portsFrom: Int = 8080

    @Option(
        name: .customLong("port"),
        help: ArgumentHelp("One service's port, over --ports-from (repeatable; 0 picks a free one).", valueName: "service=port")
    )
    var servicePorts: [String] = []

    @Option(help: ArgumentHelp("Address to listen on.", valueName: "host"))
    var host: String?

    @Option(help: ArgumentHelp("OTLP endpoint (default http://127.0.0.1:4317 for grpc, http://127.0.0.1:4318 for http).", valueName: "url"))
    var otlpEndpoint: String?

    @Option(help: ArgumentHelp("OTLP transport.", valueName: "protocol"))
    var otlpProtocol: OTLPProtocol?

    @Option(help: ArgumentHelp("Wall seconds per simulated second (default 0.001).", valueName: "scale"))
    var timeScale: Double?

    @Option(help: ArgumentHelp("Metrics export interval, e.g. 1s or 500ms (default 1s).", valueName: "duration"))
    var metricsInterval: DurationArgument?

    @Option(name: .customLong("fault"), help: ArgumentHelp("Turn on a fault, for all services or SERVICE:FAULT (repeatable).", valueName: "fault"))
    var faults: [String] = []

    @Option(help: ArgumentHelp("Services configuration file (YAML).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Metric taxonomy file (default: Scenarios/taxonomy/cf-core.yaml, searched upwards).", valueName: "file"))
    var taxonomy: String?

    @Option(help: ArgumentHelp("Seed for latency and error draws.", valueName: "n"))
    var seed: UInt64?

    @Option(help: ArgumentHelp("Directory for snapshots and .migration-state.json (default: a new temporary one).", valueName: "dir"))
    var workingDirectory: String?

    @OptionGroup var log: LogOptions

    func validate() throws {
        guard (0...65532).contains(portsFrom) else { throw ValidationError("--ports-from must be between 0 and 65532 (got \(portsFrom))") }
        _ = try ports()
        if let timeScale, !(timeScale > 0 && timeScale <= 1) {
            throw ValidationError("--time-scale must be > 0 and <= 1 (got \(timeScale))")
        }
    }

    /// Each service's port: `--port SERVICE=PORT`, else from `--ports-from` (0 everywhere when it is 0).
    func ports() throws -> [CFCoreService: Int] {
        var ports: [CFCoreService: Int] = [:]
        for service in CFCoreService.allCases { ports[service] = portsFrom == 0 ? 0 : portsFrom + service.portOffset }
        for entry in servicePorts {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            let names = CFCoreService.allCases.map(\.rawValue).joined(separator: ", ")
            guard parts.count == 2, let service = CFCoreService(rawValue: parts[0]) else {
                throw ValidationError("--port \(entry): expected SERVICE=PORT with SERVICE one of \(names)")
            }
            guard let port = Int(parts[1]), (0...65535).contains(port) else {
                throw ValidationError("--port \(entry): the port must be a number between 0 and 65535")
            }
            ports[service] = port
        }
        return ports
    }

    /// The effective configuration: defaults, then the file, then the standard OTLP environment, then the flags.
    func resolvedConfiguration(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServicesConfiguration {
        guard let taxonomyPath = taxonomy ?? MetricTaxonomy.locateCFCore() else {
            throw UsageError("cannot find \(MetricTaxonomy.cfCoreRelativePath) here or above; pass --taxonomy FILE")
        }
        var configuration: ServicesConfiguration
        do {
            configuration = ServicesConfiguration(taxonomy: try MetricTaxonomy.load(path: taxonomyPath))
        } catch {
            throw UsageError("\(error)")
        }
        var endpointFromFile = false
        if let config {
            let before = configuration.export.endpoint
            do {
                try configuration.apply(configurationFile: config)
            } catch {
                throw UsageError(error.message)
            }
            endpointFromFile = configuration.export.endpoint != before
        }
        if let host { configuration.host = host }
        if let otlpProtocol {
            configuration.export.transport = otlpProtocol
        } else if let standard = environment["OTEL_EXPORTER_OTLP_PROTOCOL"], !standard.isEmpty {
            switch standard {
            case "grpc": configuration.export.transport = .grpc
            case "http/protobuf": configuration.export.transport = .http
            default: throw UsageError("OTEL_EXPORTER_OTLP_PROTOCOL=\(standard): the services export grpc or http/protobuf")
            }
        }
        if let otlpEndpoint {
            configuration.export.endpoint = otlpEndpoint
        } else if !endpointFromFile {
            if let standard = environment["OTEL_EXPORTER_OTLP_ENDPOINT"], !standard.isEmpty {
                configuration.export.endpoint = standard
            } else {
                configuration.export.endpoint = configuration.export.transport == .grpc ? "http://127.0.0.1:4317" : "http://127.0.0.1:4318"
            }
        }
        if let timeScale { configuration.timeScale = timeScale }
        if let metricsInterval {
            guard metricsInterval.duration >= .milliseconds(10) else { throw UsageError("--metrics-interval must be at least 10ms") }
            configuration.export.metricsExportInterval = metricsInterval.duration
        }
        if let seed { configuration.randomSeed = seed }
        for fault in faults {
            var services = CFCoreService.allCases
            var name = fault
            if let colon = fault.firstIndex(of: ":") {
                let serviceName = String(fault[..<colon])
                guard let service = CFCoreService(rawValue: serviceName) else {
                    throw UsageError(
                        "--fault \(fault): unknown service \(serviceName); expected one of \(CFCoreService.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                services = [service]
                name = String(fault[fault.index(after: colon)...])
            }
            for service in services {
                do {
                    try configuration.faults[service, default: .none].enable(name)
                } catch {
                    throw UsageError("--fault \(fault): \(error.message)")
                }
            }
        }
        do {
            try configuration.validate()
        } catch {
            throw UsageError(error.message)
        }
        return configuration
    }

    func run() async throws {
        let logger = log.logger(label: "otelbench.services")
        let configuration = try resolvedConfiguration()
        let ports = try ports()
        // swift-otel applies the OTEL_* environment over each service's own settings. Two of them the services
        // must decide themselves: one OTEL_SERVICE_NAME for four services would merge them, and OTEL_PROPAGATORS
        // with `baggage` (the specification's default, which a run gives its processes) stops swift-otel 1.6
        // with a fatal error: the services propagate W3C trace context, as configured.
        for (variable, reason) in [
            ("OTEL_SERVICE_NAME", "each service names itself"), ("OTEL_PROPAGATORS", "the services propagate W3C trace context"),
        ] where ProcessInfo.processInfo.environment[variable] != nil {
            logger.notice("\(variable) is ignored: \(reason)")
            unsetenv(variable)
        }
        let family: CFCoreServices
        do {
            family = try CFCoreServices(
                configuration: configuration,
                ports: ports,
                workingDirectory: workingDirectory.map { URL(fileURLWithPath: $0) },
                logger: logger
            )
        } catch {
            throw UsageError("\(error)")
        }
        let group = ServiceGroup(
            configuration: .init(services: [family], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                for service in CFCoreService.allCases {
                    let url = try await family.baseURL(of: service)
                    Terminal.out("\(service.rawValue) listening on \(url) (service.name \(service.serviceName))")
                }
            } catch {
                // Nothing is serving yet, so nothing needs a graceful end: cancelling the group ends every service
                // now. A graceful shutdown alone could wait for ever on a service whose start failed (seen as a hung
                // `portInUseExitsWithCode2` in CI).
                await group.triggerGracefulShutdown()
                tasks.cancelAll()
                throw UsageError("cannot listen: \(error). Choose another --ports-from (0 picks free ports) or --host.")
            }
            Terminal.out(
                "exporting OTLP/\(configuration.export.transport.rawValue) to \(configuration.export.endpoint); working directory \(family.workingDirectory.path)"
            )
            let faulty = CFCoreService.allCases.compactMap { service -> String? in
                let names = configuration.faults[service]?.enabledNames ?? []
                return names.isEmpty ? nil : "\(service.rawValue): \(names.joined(separator: ", "))"
            }
            Terminal.out(faulty.isEmpty ? "faults: none (healthy)" : "faults: " + faulty.joined(separator: "; "))
            try await tasks.waitForAll()
        }
        Terminal.out("stopped; telemetry flushed")
    }
}

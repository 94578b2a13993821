import AsyncHTTPClient
package import Foundation
import Hummingbird
package import Logging
import NIOCore
import Scenario
package import ServiceLifecycle
import Synchronization

/// The cf_core service family — tasks, projects, sprints and migrations — as real Hummingbird HTTP services,
/// each with its own swift-otel tracer and metrics backend, talking to each other over HTTP with W3C
/// propagation.
///
/// Run it in a `ServiceGroup` (it is a `Service`); graceful shutdown stops the HTTP servers first, then flushes
/// spans and exports metrics one last time.
///
/// ```swift
/// var configuration = ServicesConfiguration(taxonomy: try MetricTaxonomy.load(path: "Scenarios/taxonomy/cf-core.yaml"))
/// configuration.export.endpoint = "http://127.0.0.1:4317"
/// let family = try CFCoreServices(configuration: configuration, ports: [.tasks: 8080, .projects: 8081, .sprints: 8082, .migrations: 8083])
/// let group = ServiceGroup(configuration: .init(services: [family], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
/// try await group.run()
/// ```
package final class CFCoreServices: Service, Sendable {
    /// The family's configuration.
    package let configuration: ServicesConfiguration
    /// The directory for snapshots and the migration state file.
    package let workingDirectory: URL
    let telemetries: [CFCoreService: ServiceTelemetry]
    let requestedPorts: [CFCoreService: Int]
    let peers: PeerDirectory
    let logger: Logger
    private let started = Mutex(false)

    /// Builds the family.
    ///
    /// - Parameters:
    ///   - configuration: time scale, behaviour, faults, export; validated here.
    ///   - ports: the port of each service (0 picks a free one; read the real one with ``baseURL(of:)``).
    ///   - workingDirectory: where the migrations database (`cf_core.sqlite`), its snapshots and
    ///     `.migration-state.json` go; nil makes a fresh temporary one.
    ///   - logger: for the servers and swift-otel's diagnostics.
    package init(
        configuration: ServicesConfiguration,
        ports: [CFCoreService: Int] = [:],
        workingDirectory: URL? = nil,
        logger: Logger = Logger(label: "otelbench.services")
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        self.requestedPorts = ports
        self.logger = logger
        self.peers = PeerDirectory(host: configuration.host)
        if let workingDirectory {
            self.workingDirectory = workingDirectory
        } else {
            self.workingDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-services-\(UUID().uuidString)")
        }
        do {
            try FileManager.default.createDirectory(at: self.workingDirectory, withIntermediateDirectories: true)
        } catch {
            throw ConfigurationError("cannot create the working directory \(self.workingDirectory.path): \(error.localizedDescription)")
        }
        var telemetries: [CFCoreService: ServiceTelemetry] = [:]
        for service in CFCoreService.allCases {
            telemetries[service] = try ServiceTelemetry(service: service, configuration: configuration, logger: logger)
        }
        self.telemetries = telemetries
    }

    /// The base URL (`http://host:port`) of `service`, once it listens.
    package func baseURL(of service: CFCoreService) async throws -> String {
        try await peers.baseURL(of: service)
    }

    /// The base URL of `service` under another host name (`http://host:port`): how machines elsewhere reach it
    /// when it listens on all addresses.
    package func baseURL(of service: CFCoreService, host: String) async throws -> String {
        let port = try await peers.port(of: service).value().port
        return "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// Runs every service and its telemetry until graceful shutdown, then flushes.
    ///
    /// - Throws: ``ConfigurationError`` when the family is already running (it runs once), or whatever stopped a
    ///   server (a port in use, for instance).
    package func run() async throws {
        let alreadyStarted = started.withLock { started in
            defer { started = true }
            return started
        }
        guard !alreadyStarted else { throw ConfigurationError("this CFCoreServices has already run; make a new one") }
        // One client for all outgoing calls; made here rather than in init so that it is always shut down.
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let database = MigrationDatabase(path: workingDirectory.appendingPathComponent("cf_core.sqlite").path, logger: logger)
        var applications: [any Service] = []
        for service in CFCoreService.allCases {
            applications.append(makeApplication(for: service, httpClient: httpClient, database: database))
        }
        // Telemetry first: a ServiceGroup stops in reverse order, so the servers stop before the exporters flush.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        for service in CFCoreService.allCases {
            for background in telemetries[service]!.backgroundServices {
                services.append(.init(service: TelemetryOnceListening(telemetry: background, peers: peers)))
            }
        }
        for application in applications { services.append(.init(service: application)) }
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        do {
            try await group.run()
        } catch {
            for service in CFCoreService.allCases { peers.port(of: service).resolve(.failure(error)) }
            try? await httpClient.shutdown()
            await database.close()
            throw error
        }
        try await httpClient.shutdown()
        await database.close()
    }

    func makeApplication(for service: CFCoreService, httpClient: HTTPClient, database: MigrationDatabase) -> any Service {
        let telemetry = telemetries[service]!
        let environment = ServiceEnvironment(
            telemetry: telemetry,
            configuration: configuration,
            client: ServiceClient(telemetry: telemetry, httpClient: httpClient),
            peers: peers
        )
        let router = Router()
        router.middlewares.add(ServerSpanMiddleware(telemetry: telemetry))
        HealthRoutes(environment: environment).add(to: router)
        TraceContextTestRoutes(environment: environment).add(to: router)
        switch service {
        case .tasks: TasksRoutes(environment: environment).add(to: router)
        case .projects: ProjectsRoutes(environment: environment).add(to: router)
        case .sprints: SprintsRoutes(environment: environment).add(to: router)
        case .migrations:
            MigrationsRoutes(environment: environment, database: database, workingDirectory: workingDirectory, databaseType: configuration.snapshotDatabaseType)
                .add(to: router)
        }
        let bound = peers.port(of: service)
        return ServiceApplication(
            application: Application(
                router: router,
                configuration: .init(address: .hostname(configuration.host, port: requestedPorts[service] ?? 0), serverName: nil),
                onServerRunning: { [host = configuration.host] channel in
                    bound.resolve(.success(ListenAddress(host: host, port: channel.localAddress?.port ?? 0)))
                },
                logger: logger
            ),
            bound: bound
        )
    }
}

/// A Hummingbird application whose bound port fails when it cannot start, so waiters learn why.
private struct ServiceApplication: Service {
    let application: Application<RouterResponder<BasicRequestContext>>
    let bound: BoundAddress

    func run() async throws {
        do {
            try await application.run()
        } catch {
            bound.resolve(.failure(error))
            throw error
        }
        // Stopped (cancelled or shut down) before it listened: waiters must not wait for ever. Once bound, a no-op.
        bound.resolve(.failure(CancellationError()))
    }
}

/// One of a service's telemetry background services, started only once every server of the family listens.
///
/// A port in use must end the family at once. swift-otel 1.6.0's metrics backend, cancelled while it is still
/// starting, can leave its final export waiting for ever on a gRPC client whose connections never ran (seen as a
/// hung `portInUseExitsWithCode2`, in about 1 of 30 bind failures: `OTelPeriodicExportingMetricsReader` logged
/// "Exporting metrics." and never returned). Nothing is exported before a server answers a request, so the
/// exporters lose nothing by starting after the bind; when a bind fails they never start.
private struct TelemetryOnceListening: Service {
    let telemetry: any Service
    let peers: PeerDirectory

    func run() async throws {
        try await peers.allListening()
        try await telemetry.run()
    }
}

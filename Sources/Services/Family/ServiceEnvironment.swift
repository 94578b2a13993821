import AsyncHTTPClient
import Hummingbird
import Scenario
import Tracing

/// What a service's routes share: its telemetry, the family configuration, its HTTP client, and where its peers
/// listen.
struct ServiceEnvironment: Sendable {
    let telemetry: ServiceTelemetry
    let configuration: ServicesConfiguration
    let client: ServiceClient
    let peers: PeerDirectory

    var service: CFCoreService { telemetry.service }
    var instruments: TaxonomyInstruments { telemetry.instruments }

    /// Runs an operation: an internal span named `operation`, its simulated latency and error rate, then `body`.
    func operation<T>(_ operation: String, _ body: (any Span) async throws -> T) async throws -> T {
        try await telemetry.withSpan(operation) { span in
            try await telemetry.perform(operation, configuration: configuration)
            return try await body(span)
        }
    }

    /// Repository work: an internal span with database attributes around `body`.
    func repository<T>(_ table: String, _ action: String, system: String = "in-memory", _ body: () async throws -> T) async throws -> T {
        try await telemetry.withSpan("\(table).repository.\(action)") { span in
            span.attributes["db.system.name"] = system
            span.attributes["db.collection.name"] = table
            span.attributes["db.operation.name"] = action
            return try await body()
        }
    }
}

/// Where the services of the family listen, known once each has bound its port.
final class PeerDirectory: Sendable {
    private let ports: [CFCoreService: BoundAddress]
    let host: String

    init(host: String) {
        self.host = host
        var ports: [CFCoreService: BoundAddress] = [:]
        for service in CFCoreService.allCases { ports[service] = BoundAddress() }
        self.ports = ports
    }

    func port(of service: CFCoreService) -> BoundAddress { ports[service]! }

    /// Returns once every service of the family listens; throws the first failure to start (a port in use, or a
    /// server stopped before it listened).
    func allListening() async throws {
        for service in CFCoreService.allCases { _ = try await port(of: service).value() }
    }

    /// The base URL of `service`, waiting until it listens.
    func baseURL(of service: CFCoreService) async throws -> String {
        let port = try await port(of: service).value().port
        let urlHost = host.contains(":") ? "[\(host)]" : host
        return "http://\(urlHost):\(port)"
    }
}

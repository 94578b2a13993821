package import Scenario

/// One of the built-in cf_core services.
package enum CFCoreService: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Task CRUD.
    case tasks
    /// Project CRUD and `create_with_tasks` (calls tasks over HTTP).
    case projects
    /// Sprint lifecycle (calls projects and tasks over HTTP).
    case sprints
    /// Migration phases, rollbacks and snapshots.
    case migrations

    /// The `service.name` resource attribute: `cf_core.services.tasks`, ...
    package var serviceName: String { "cf_core.services.\(rawValue)" }

    /// The port offset from `--ports-from`: tasks +0, projects +1, sprints +2, migrations +3.
    package var portOffset: Int {
        switch self {
        case .tasks: 0
        case .projects: 1
        case .sprints: 2
        case .migrations: 3
        }
    }

    package var description: String { rawValue }
}

/// The deliberate bugs a service can have, each one something a check must catch. All off by default.
package struct FaultModes: Sendable, Hashable {
    /// Outgoing calls carry no `traceparent` (the callee starts a new trace).
    package var dropTraceparent = false
    /// The incoming `traceparent`'s parent id is replaced by a fresh random one before extraction, so the server
    /// span's parent does not resolve.
    package var freshParent = false
    /// An invalid incoming `traceparent` is forwarded unchanged on outgoing calls instead of the service's own.
    package var forwardInvalidTraceparent = false
    /// Outgoing calls carry no `tracestate`.
    package var dropTracestate = false
    /// An incoming unsampled `traceparent` (flags 00) is treated as sampled: spans are recorded and exported.
    package var ignoreSampledFlag = false
    /// `task_create_total` and `task_create_duration_seconds` get a `task_id` label (one series per task).
    package var highCardinalityLabel = false
    /// Histograms use boundaries that differ from the taxonomy's (each boundary doubled).
    package var wrongBuckets = false
    /// Every metric is recorded without its first taxonomy label (`phase`, `endpoint`, `status`, ...).
    package var omitRequiredLabel = false
    /// Rollback operations take log-normal median 120 s, p99 400 s (simulated): past the 180 s SLO at p99.
    package var slowRollbacks = false
    /// Liveness checks take log-normal median 2 ms, p99 30 ms (simulated), so p99.9 is about 73 ms: past the
    /// 50 ms SLO at p99.9 while p99 still looks fine.
    package var slowLiveness = false
    /// This fraction of spans (0...1) is started but never ended, so the SDK never exports them (as with code that
    /// forgets `end()`); their children still name them as parent. swift-otel keeps each such span in memory, so
    /// leave this off in long load tests.
    package var dropSpanFraction: Double = 0

    /// Healthy: no fault.
    package static let none = FaultModes()

    /// Creates a fault set (all off unless given).
    package init() {}

    /// The fault names accepted by `--fault` and the configuration file, with what each does.
    package static var names: [(name: String, summary: String)] {
        FaultMode.allCases.map { ($0 == .dropSpans ? "\($0.rawValue)=F" : $0.rawValue, $0.summary) }
    }

    /// Turns on the fault with this name (`drop_traceparent` or `drop-traceparent`; `drop_spans=0.2`).
    package mutating func enable(_ name: String) throws(ConfigurationError) {
        let normalized = name.replacingOccurrences(of: "-", with: "_")
        let parts = normalized.split(separator: "=", maxSplits: 1).map(String.init)
        guard let mode = parts.first.flatMap(FaultMode.init(rawValue:)) else {
            throw ConfigurationError("unknown fault \(name); known faults: \(Self.names.map(\.name).joined(separator: ", "))")
        }
        if mode == .dropSpans {
            guard parts.count == 2, let fraction = Double(parts[1]), fraction >= 0, fraction <= 1 else {
                throw ConfigurationError("fault drop_spans needs a fraction between 0 and 1, e.g. drop_spans=0.2 (got \(name))")
            }
            enable(mode, dropSpanFraction: fraction)
        } else {
            guard parts.count == 1 else { throw ConfigurationError("fault \(mode.rawValue) takes no value (got \(name))") }
            enable(mode)
        }
    }

    /// Turns on `mode`; `dropSpanFraction` is the share of spans ``FaultMode/dropSpans`` loses.
    package mutating func enable(_ mode: FaultMode, dropSpanFraction: Double = 0.1) {
        switch mode {
        case .dropTraceparent: dropTraceparent = true
        case .freshParent: freshParent = true
        case .forwardInvalidTraceparent: forwardInvalidTraceparent = true
        case .dropTracestate: dropTracestate = true
        case .ignoreSampledFlag: ignoreSampledFlag = true
        case .highCardinalityLabel: highCardinalityLabel = true
        case .wrongBuckets: wrongBuckets = true
        case .omitRequiredLabel: omitRequiredLabel = true
        case .slowRollbacks: slowRollbacks = true
        case .slowLiveness: slowLiveness = true
        case .dropSpans: self.dropSpanFraction = dropSpanFraction
        }
    }
}

/// Where and how the services export telemetry.
package struct TelemetryExportConfiguration: Sendable, Hashable {
    /// The OTLP endpoint, e.g. `http://127.0.0.1:4317` (gRPC) or `http://127.0.0.1:4318` (HTTP). Default: gRPC on
    /// 127.0.0.1:4317.
    package var endpoint: String = "http://127.0.0.1:4317"
    /// The transport. Default: gRPC.
    package var transport: OTLPProtocol = .grpc
    /// How often metrics are exported; they are also exported once more at shutdown. Default: 1 s.
    package var metricsExportInterval: Duration = .seconds(1)
    /// How long finished spans wait in the batch processor before export. Default: 200 ms.
    package var spanExportDelay: Duration = .milliseconds(200)

    /// Creates the default export configuration.
    package init() {}
}

/// What one operation costs and how often it fails.
package struct OperationBehaviour: Sendable, Hashable {
    /// Simulated latency of the operation's own work.
    package var latency: LatencyModel
    /// The probability (0...1) that the operation fails.
    package var errorRate: Double

    /// Creates a behaviour.
    package init(latency: LatencyModel, errorRate: Double = 0) {
        self.latency = latency
        self.errorRate = errorRate
    }
}

/// Everything the cf_core family is configured by: time scale, latency models, error rates, faults, export.
///
/// ```swift
/// var configuration = ServicesConfiguration()
/// configuration.timeScale = 0.01
/// try configuration.faults[.projects, default: .none].enable("drop_traceparent")
/// ```
package struct ServicesConfiguration: Sendable {
    /// Wall seconds per simulated second. Default 0.001: a simulated 180 s rollback sleeps 180 ms. See
    /// ``SimulatedClock`` for how recorded and wall durations relate.
    package var timeScale: Double = 0.001
    /// The `service.version` resource attribute. Default `1.0.0`.
    package var serviceVersion = "1.0.0"
    /// The `deployment.environment` resource attribute. Default `bench`.
    package var deploymentEnvironment = "bench"
    /// The listen host. Default 127.0.0.1.
    package var host = "127.0.0.1"
    /// Where telemetry goes.
    package var export = TelemetryExportConfiguration()
    /// Per-operation latency and error rate, keyed by operation name (`tasks.create`, `rollback.git_restore`);
    /// operations not listed use ``OperationCatalog/defaults``.
    package var operations: [String: OperationBehaviour] = [:]
    /// Faults per service; services not listed are healthy.
    package var faults: [CFCoreService: FaultModes] = [:]
    /// The metric taxonomy the instruments follow.
    package var taxonomy: MetricTaxonomy
    /// The `db_type` label of `db_snapshot_size_bytes` (one of the taxonomy's values). Default `sqlite`, which is
    /// what the migrations service really uses: its phase states live in SQLite and a snapshot is an SQLite file
    /// made with `VACUUM INTO`, whose size is recorded. Another value only relabels that measurement.
    package var snapshotDatabaseType = "sqlite"
    /// A seed for latency and error draws, so a run can be repeated; nil draws from the system generator.
    package var randomSeed: UInt64?

    /// Creates a configuration around a taxonomy (normally `Scenarios/taxonomy/cf-core.yaml`).
    package init(taxonomy: MetricTaxonomy) { self.taxonomy = taxonomy }

    /// The behaviour of an operation: the configured one, else the catalog default.
    package func behaviour(of operation: String, service: CFCoreService) -> OperationBehaviour {
        if let configured = operations[operation] { return configured }
        let faults = faults[service] ?? .none
        if faults.slowRollbacks, operation.hasPrefix("rollback.") {
            return OperationBehaviour(latency: .logNormal(median: 120, p99: 400))
        }
        // About 0.6 % of checks over 50 ms, while p99 (40 ms) stays under it: p99.9 fails without doubt from a few
        // thousand checks (at 0.3 %, 3,000 checks left p99.9 under 50 ms in about one run of thirty).
        if faults.slowLiveness, operation == "health.live" {
            return OperationBehaviour(latency: .logNormal(median: 0.002, p99: 0.040))
        }
        return OperationCatalog.defaults[operation] ?? OperationBehaviour(latency: .none)
    }

    /// Checks every value; the message names the setting and the fix.
    package func validate() throws(ConfigurationError) {
        guard timeScale.isFinite, timeScale > 0, timeScale <= 1 else {
            throw ConfigurationError("time_scale must be > 0 and <= 1 (got \(timeScale)); 0.001 runs a simulated second in a millisecond")
        }
        for (name, behaviour) in operations {
            guard OperationCatalog.defaults[name] != nil else {
                throw ConfigurationError("unknown operation \(name); known operations: \(OperationCatalog.defaults.keys.sorted().joined(separator: ", "))")
            }
            do {
                try behaviour.latency.validate()
            } catch {
                throw ConfigurationError("operation \(name): \(error.message)")
            }
            guard behaviour.errorRate >= 0, behaviour.errorRate <= 1 else {
                throw ConfigurationError("operation \(name): error_rate must be between 0 and 1 (got \(behaviour.errorRate))")
            }
        }
        if let allowed = taxonomy["db_snapshot_size_bytes"]?.labels.first(where: { $0.key == "db_type" })?.allowedValues,
            !allowed.contains(snapshotDatabaseType)
        {
            throw ConfigurationError("snapshot_db_type must be one of \(allowed.joined(separator: ", ")) (got \(snapshotDatabaseType))")
        }
        guard export.endpoint.hasPrefix("http://") || export.endpoint.hasPrefix("https://") else {
            throw ConfigurationError("the OTLP endpoint must start with http:// or https:// (got \(export.endpoint))")
        }
    }
}

/// The operations of the cf_core family and their default, healthy behaviour (simulated seconds).
package enum OperationCatalog {
    /// Default latency and error rate per operation.
    package static let defaults: [String: OperationBehaviour] = {
        var table: [String: OperationBehaviour] = [:]
        let crud = LatencyModel.logNormal(median: 0.002, p99: 0.010)
        for name in ["tasks.create", "tasks.get", "tasks.list", "tasks.update", "tasks.delete"] { table[name] = .init(latency: crud) }
        for name in ["projects.create", "projects.get", "projects.list", "projects.update", "projects.delete", "projects.create_with_tasks"] {
            table[name] = .init(latency: crud)
        }
        for name in ["sprints.plan", "sprints.start", "sprints.complete", "sprints.get"] { table[name] = .init(latency: crud) }
        // Liveness well inside its SLO: p99.9 about 8.5 ms against 50 ms.
        table["health.live"] = .init(latency: .logNormal(median: 0.001, p99: 0.005))
        table["health.ready"] = .init(latency: .logNormal(median: 0.002, p99: 0.010))
        table["health.config"] = .init(latency: .logNormal(median: 0.003, p99: 0.020))
        // A migration phase: minutes.
        table["migration.phase"] = .init(latency: .logNormal(median: 120, p99: 900))
        // Rollback operations: inside the 180 s SLO even at p99.99, below 120 s — the bucket bound under 180 s,
        // also with the wrong_buckets fault's doubled bounds — so that a p99 estimated from a short run's few
        // rollbacks, interpolated within its bucket, cannot pass 180 s by chance.
        table["rollback.git_restore"] = .init(latency: .logNormal(median: 20, p99: 60))
        table["rollback.db_restore"] = .init(latency: .logNormal(median: 30, p99: 60))
        table["rollback.shim_restore"] = .init(latency: .logNormal(median: 8, p99: 30))
        for name in ["git.tag", "git.commit", "git.checkout", "git.revert"] {
            table[name] = .init(latency: .logNormal(median: 0.3, p99: 3))
        }
        table["db.snapshot"] = .init(latency: .logNormal(median: 2, p99: 10))
        return table
    }()
}

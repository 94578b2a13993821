import Foundation

/// A scenario file: which services to drive, where telemetry goes, the workload, the rules the run must
/// satisfy, and how long to wait for telemetry to settle. See the README for the format.
package struct Scenario: Sendable {
    package var name: String
    package var description: String
    /// The file it was read from.
    package var file: String
    package var services: ServicesSection
    package var intake: IntakeSection
    package var workload: WorkloadSection
    package var rules: RulesSection
    package var settle: SettleSection
    /// Prometheus targets scraped during the run (`scrape:`); none by default.
    package var scrape: ScrapeSection = ScrapeSection()
    /// What the report draws beyond the rules (`report:`): Grafana dashboards; none by default.
    package var report: ReportSection = ReportSection()
    /// What the data-volume estimate assumes (`estimate:`); `nil`: ``EstimateSection/default``.
    package var estimate: EstimateSection? = nil
}

/// The services under test: the built-in cf_core family and/or external targets.
package struct ServicesSection: Sendable {
    /// The built-in cf_core family, run in-process; `nil` when the scenario only names external targets.
    package var builtin: BuiltinServices?
    /// External targets by service name (`tasks`, `projects`, `sprints`, `health`, ...): base URLs.
    package var targets: [String: String]
    /// The user's own services, started by the run as processes (`processes:`), each a workload `service:`.
    package var processes: [ProcessUnderTest] = []
}

/// A service of the user's, in any language, that the run starts as a process, points at its intake with the
/// OpenTelemetry SDK environment, waits for, drives, and stops so that it flushes.
package struct ProcessUnderTest: Sendable, Hashable {
    /// How the run knows the process is ready to be driven.
    package enum Readiness: Sendable, Hashable {
        /// `GET` this path answers 2xx.
        case http(path: String)
        /// Its port accepts a TCP connection.
        case tcp
    }

    /// The workload's `service:` name; also `OTEL_SERVICE_NAME`.
    package var name: String
    /// The program and its arguments; `${PORT}` (in an argument or an `env` value) is the port the run picked,
    /// `${PORT:NAME}` the port of service NAME (see ``namedPorts``).
    package var command: [String]
    /// Every NAME of a `${PORT:NAME}` in its command and `env`, in order of first use. A NAME that is another
    /// process's name is that process's port (a peer to call); any other NAME is a service, a workload `service:`
    /// on a port of its own, served by the first process that names it (a process serving several services,
    /// like `otelbench services`) and called by any later one (``servedServices(of:)``).
    package var namedPorts: [String] = []
    /// Whether its command or `env` uses `${PORT}`: the port it serves under its own name.
    package var usesOwnPort: Bool = false
    /// Set in its environment, over the OpenTelemetry variables the run sets.
    package var environment: [String: String] = [:]
    /// Where it runs (default: the scenario file's folder).
    package var directory: String?
    package var readiness: Readiness = .tcp
    /// How long it may take to become ready.
    package var readyTimeout: Duration = .seconds(30)
    /// The signal that asks it to stop (`TERM` by default), by its name without `SIG`.
    package var stopSignal: String = "TERM"
    /// How long it may take to stop (and flush) before SIGKILL; part of settling.
    package var stopGrace: Duration = .seconds(10)
    /// How its SDK exports (`OTEL_EXPORTER_OTLP_PROTOCOL`).
    package var otlpProtocol: OTLPProtocol = .http

    /// The services each process serves besides its own name, by process name: every NAME of its
    /// ``namedPorts`` that is no process's name and that no process before it in `processes` names (a later
    /// process naming it calls it).
    package static func servedServices(of processes: [ProcessUnderTest]) -> [String: [String]] {
        let processNames = Set(processes.map(\.name))
        var named: Set<String> = []
        var served: [String: [String]] = [:]
        for process in processes {
            served[process.name] = process.namedPorts.filter { !processNames.contains($0) && !named.contains($0) }
            named.formUnion(process.namedPorts)
        }
        return served
    }

    /// The NAMEs of the `${PORT:NAME}` references in `text`, in order.
    package static func namedPortReferences(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "${PORT:") {
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            let name = String(rest[open.upperBound..<close])
            // `${PORT:-default}` is the shell's default, not a named port.
            if !name.hasPrefix("-") { names.append(name) }
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// The signals a process may be asked to stop with.
    package static let stopSignals: [String: Int32] = ["TERM": 15, "INT": 2, "HUP": 1, "QUIT": 3, "USR1": 10, "USR2": 12, "KILL": 9]

    package init(name: String, command: [String]) {
        self.name = name
        self.command = command
    }

    /// The executable `program` names: a path (relative to `directory`) or a name found on `PATH`.
    package static func resolveExecutable(_ program: String, in directory: String, environment: [String: String]) -> String? {
        if program.contains("/") {
            let path = program.hasPrefix("/") ? program : URL(fileURLWithPath: directory).appendingPathComponent(program).path
            return FileManager.default.isExecutableFile(atPath: path) ? path : nil
        }
        let searchPath = environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in searchPath.split(separator: ":") where !folder.isEmpty {
            let path = "\(folder)/\(program)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// Settings of the built-in cf_core services.
package struct BuiltinServices: Sendable {
    /// Simulated seconds per wall second (default 0.001: a 180 s rollback takes 180 ms).
    package var timeScale: Double = 0.001
    /// How the services export to the intake.
    package var otlpProtocol: OTLPProtocol = .grpc
    /// How often the services export metrics.
    package var exportInterval: Duration = .seconds(1)
    /// Deliberate bugs to switch on (see ``FaultMode``).
    package var faults: [FaultMode] = []
    /// The fraction of spans dropped by the `drop_spans` fault.
    package var dropSpanFraction: Double = 0.1
    /// A services configuration file (latency models, error rates; the format of `otelbench services --config`),
    /// as written in the scenario: relative to the scenario file. The scenario's own settings win over it.
    package var configFile: String?
}

/// Receivers to start and faults to inject at them.
package struct IntakeSection: Sendable {
    package var otlpGRPC = ListenAddress(host: "127.0.0.1", port: 0)
    package var otlpHTTP = ListenAddress(host: "127.0.0.1", port: 0)
    /// Sinks started beside the OTLP receivers, by kind: port 0 for any free port. Sinks not named do not run.
    package var sinks: [SinkKind: ListenAddress] = [:]
    /// Faults the receivers inject, in order of evaluation.
    package var faults: [IntakeFault] = []
    /// TLS for every receiver and sink (`tls: {cert, key, client_ca}`); `nil`: plain text.
    package var tls: TLSFiles?
    /// A file holding the bearer token every request must carry (`auth_token_file:`); `nil`: none asked for.
    package var authTokenFile: String?
}

/// The PEM files of a listener's TLS, as paths (a scenario's relative to its file).
package struct TLSFiles: Sendable, Hashable {
    /// The server's certificate, then any intermediates (`--tls-cert`, `tls.cert`).
    package var certificate: String
    /// The certificate's private key, unencrypted (`--tls-key`, `tls.key`).
    package var key: String
    /// CA certificates a client's certificate must chain to; `nil`: no client certificate asked for
    /// (`--tls-client-ca`, `tls.client_ca`).
    package var clientCA: String?

    package init(certificate: String, key: String, clientCA: String? = nil) {
        self.certificate = certificate
        self.key = key
        self.clientCA = clientCA
    }
}

/// A scripted answer of the receivers: for a fraction of requests, or as a sequence.
package struct IntakeFault: Sendable, Hashable {
    /// Only requests of this signal (`nil`: all).
    package var signal: Signal?
    /// Only OTLP requests whose resource's `service.name` is this (`nil`: every sender).
    package var service: String?
    /// Answer a random fraction of requests with `respond`...
    package var rate: Double?
    package var respond: IntakeFaultResponse?
    /// ...or answer the first requests with these, in order.
    package var sequence: [IntakeFaultResponse]
    /// `Retry-After` sent with 429/503.
    package var retryAfter: Duration?
    /// Latency added before answering.
    package var addedLatency: Duration?

    package init(
        signal: Signal? = nil,
        rate: Double? = nil,
        respond: IntakeFaultResponse? = nil,
        sequence: [IntakeFaultResponse] = [],
        retryAfter: Duration? = nil,
        addedLatency: Duration? = nil
    ) {
        self.signal = signal
        self.rate = rate
        self.respond = respond
        self.sequence = sequence
        self.retryAfter = retryAfter
        self.addedLatency = addedLatency
    }

    /// `retryAfter` in whole seconds as `Retry-After` carries it (at least 1).
    package var retryAfterSeconds: Int? { retryAfter.map { Int(max(1, $0.components.seconds)) } }
}

/// The workload: phases in order and the weighted mix of requests sent in every phase.
package struct WorkloadSection: Sendable {
    package var phases: [Phase]
    package var requests: [RequestTemplate]
    /// HTTP/1.1 keep-alive connections per target host.
    package var connections: Int = 32
    /// Per-request timeout.
    package var timeout: Duration = .seconds(10)

    package init(phases: [Phase], requests: [RequestTemplate], connections: Int = 32, timeout: Duration = .seconds(10)) {
        self.phases = phases
        self.requests = requests
        self.connections = connections
        self.timeout = timeout
    }

    /// Total scheduled duration.
    package var duration: Duration { phases.reduce(.zero) { $0 + $1.duration } }
}

/// One phase of the workload.
package struct Phase: Sendable {
    package var name: String
    package var duration: Duration
    package var arrival: ArrivalSchedule

    package init(name: String, duration: Duration, arrival: ArrivalSchedule) {
        self.name = name
        self.duration = duration
        self.arrival = arrival
    }
}

/// When requests are sent.
package enum ArrivalSchedule: Sendable, Hashable {
    /// Open loop, evenly spaced at `rate` per second.
    case constant(rate: Double)
    /// Open loop, the rate moving linearly from `from` to `to` per second over the phase.
    case ramp(from: Double, to: Double)
    /// Open loop, exponential inter-arrival times with mean 1/`rate`.
    case poisson(rate: Double)
    /// Closed loop: `users` each send, wait for the answer, think, and send again.
    case closed(users: Int, thinkTime: Duration)
}

/// One kind of request in the mix.
package struct RequestTemplate: Sendable {
    package var name: String
    package var weight: Double
    /// The service (built-in name or a `services.targets` key) it goes to.
    package var service: String
    package var method: String
    /// Path with placeholders: `{{counter}}`, `{{uuid}}`, `{{random:N}}`.
    package var path: String
    package var body: String?
    package var headers: [(String, String)]
    package var trace: TraceContextSpec

    package init(
        name: String,
        weight: Double = 1,
        service: String,
        method: String = "GET",
        path: String,
        body: String? = nil,
        headers: [(String, String)] = [],
        trace: TraceContextSpec = .init()
    ) {
        self.name = name
        self.weight = weight
        self.service = service
        self.method = method
        self.path = path
        self.body = body
        self.headers = headers
        self.trace = trace
    }
}

/// The trace context the driver sends with a request.
package struct TraceContextSpec: Sendable, Hashable {
    /// Send a `traceparent` at all.
    package var propagate: Bool = true
    /// The sampled flag.
    package var sampled: Bool = true
    /// A `tracestate` to send (and expect unchanged on every span).
    package var tracestate: String?
    /// Send this case of the W3C test suite instead (`w3c:`), to check the service continues the trace, drops
    /// only the tracestate, or starts a fresh trace, as the case requires.
    package var invalid: TraceContextCase?

    package init(propagate: Bool = true, sampled: Bool = true, tracestate: String? = nil, invalid: TraceContextCase? = nil) {
        self.propagate = propagate
        self.sampled = sampled
        self.tracestate = tracestate
        self.invalid = invalid
    }
}

/// The rules a run is checked against (the checks evaluate them).
package struct RulesSection: Sendable {
    package var slos: [SLORule] = []
    /// A Prometheus rule file (`alert_rules:`, relative to the scenario), loaded and checked.
    package var alertRules: PrometheusRuleFile?
    /// Alerts that must fire (`expect_alerts:`); every other alert must stay silent.
    package var expectedAlerts: [String] = []
    /// Alerts allowed to see no series during the whole run (`silent_alerts:`); any other alert whose
    /// expression finds no data is `no_data`.
    package var silentAlerts: [String] = []
    /// How often alerting rules are evaluated over the run, unless their group sets an interval.
    package var alertInterval: Duration = .seconds(1)
    package var propagation: Bool = false
    package var cardinalityLimit: Int?
    package var cardinalityPerMetric: [String: Int] = [:]
    /// Taxonomy file, relative to the scenario file.
    package var taxonomy: String?
    /// Allowed loss as a fraction (0 = nothing may be lost); `nil`: no accounting rule.
    package var accountingTolerance: Double?
    /// With `--baseline`: how much a request's p99 may grow (fraction, default 0.2) and throughput may fall
    /// (fraction, default 0.1) before it counts as a regression.
    package var regressionP99Increase: Double = 0.2
    package var regressionThroughputDecrease: Double = 0.1
    /// CPU and memory limits of the processes under test (`ceilings:`), in the file's order.
    package var ceilings: [ResourceCeiling] = []
    /// Assertions over every trace of the run (`traces:`), in the file's order.
    package var traces: [TraceAssertion] = []
    /// Spans checked against the semantic conventions (`semconv:`); nil: no such rule.
    package var semanticConventions: SemanticConventionsRule?
    /// An OpenTelemetry Collector configuration to lint (`collector_config:`), judged as one rule.
    package var collectorConfig: CollectorConfigRule?
    /// How OTLP exporters retry intake's refusals (`retry:`); nil: no such rule.
    package var retry: RetryRule?

    /// Whether the section asks for no rule at all (a baseline's regressions come from the command line).
    package var isEmpty: Bool {
        slos.isEmpty && alertRules == nil && !propagation && cardinalityLimit == nil && taxonomy == nil && accountingTolerance == nil
            && ceilings.isEmpty && traces.isEmpty && semanticConventions == nil && collectorConfig == nil
            && retry == nil
    }
}

/// A service-level objective.
package struct SLORule: Sendable, Hashable {
    /// Where the measurements come from.
    package enum Source: Sendable, Hashable {
        /// Client-side latency of a request name (from the driver's HDR histograms).
        case client(request: String?)
        /// Span durations by span name and/or service.
        case spans(name: String?, service: String?)
        /// A received histogram metric.
        case metric(name: String)
    }

    /// `<`, `<=`, `>`, `>=`.
    package enum Comparison: String, Sendable, Hashable, CaseIterable {
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
    }

    package var name: String
    /// The structured form; `nil` when the rule is a PromQL `expr`.
    package var source: Source?
    package var selector: [String: String] = [:]
    package var groupBy: [String] = []
    /// 0...1 (0.99 for p99).
    package var quantile: Double = 0.99
    package var comparison: Comparison = .less
    /// In seconds when ``thresholdIsDuration``; otherwise in the measurement's own unit.
    package var threshold: Double = 0
    /// Whether the objective gave the threshold with a time unit (`180s`, `50ms`).
    package var thresholdIsDuration: Bool = true
    package var window: Duration?
    /// A PromQL expression that must return a non-empty, all-true result.
    package var expression: String?

    package init(name: String, source: Source? = nil, expression: String? = nil) {
        self.name = name
        self.source = source
        self.expression = expression
    }
}

/// When telemetry counts as settled after the last request.
package struct SettleSection: Sendable {
    /// Give up waiting after this long.
    package var timeout: Duration = .seconds(10)
    /// Settled once nothing new arrived for this long (and every expected span is in).
    package var quiet: Duration = .seconds(1)
}

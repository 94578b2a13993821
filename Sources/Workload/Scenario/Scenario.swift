/// A scenario file: which services to drive, where telemetry goes, the workload, the rules the run must
/// satisfy, and how long to wait for telemetry to settle. See the README for the format.
public struct Scenario: Sendable {
    public var name: String
    public var description: String
    /// The file it was read from.
    public var file: String
    public var services: ServicesSection
    public var intake: IntakeSection
    public var workload: WorkloadSection
    public var rules: RulesSection
    public var settle: SettleSection
    /// Prometheus targets scraped during the run (`scrape:`); none by default.
    public var scrape: ScrapeSection = ScrapeSection()
}

/// The services under test: the built-in cf_core family and/or external targets.
public struct ServicesSection: Sendable {
    /// The built-in cf_core family, run in-process; `nil` when the scenario only names external targets.
    public var builtin: BuiltinServices?
    /// External targets by service name (`tasks`, `projects`, `sprints`, `health`, ...): base URLs.
    public var targets: [String: String]
}

/// Settings of the built-in cf_core services.
public struct BuiltinServices: Sendable {
    /// Simulated seconds per wall second (default 0.001: a 180 s rollback takes 180 ms).
    public var timeScale: Double = 0.001
    /// How the services export to the intake.
    public var otlpProtocol: String = "grpc"
    /// How often the services export metrics.
    public var exportInterval: Duration = .seconds(1)
    /// Deliberate bugs to switch on (see ``FaultMode``).
    public var faults: [FaultMode] = []
    /// The fraction of spans dropped by the `drop_spans` fault.
    public var dropSpanFraction: Double = 0.1
    /// A services configuration file (latency models, error rates; the format of `otelbench services --config`),
    /// as written in the scenario: relative to the scenario file. The scenario's own settings win over it.
    public var configFile: String?
}

/// The deliberate bugs the built-in services can have, each one a check must catch.
public enum FaultMode: String, Sendable, CaseIterable {
    case dropTraceparent = "drop_traceparent"
    case freshParent = "fresh_parent"
    case forwardInvalidTraceparent = "forward_invalid_traceparent"
    case dropTracestate = "drop_tracestate"
    case ignoreSampledFlag = "ignore_sampled_flag"
    case highCardinalityLabel = "high_cardinality_label"
    case wrongBuckets = "wrong_buckets"
    case omitRequiredLabel = "omit_required_label"
    case slowRollbacks = "slow_rollbacks"
    case slowLiveness = "slow_liveness"
    case dropSpans = "drop_spans"
}

/// Receivers to start and faults to inject at them.
public struct IntakeSection: Sendable {
    public var otlpGRPC: String = "127.0.0.1:0"
    public var otlpHTTP: String = "127.0.0.1:0"
    /// Sinks started beside the OTLP receivers, by key (one of ``sinkKeys``): `HOST:PORT` each, port 0 for any
    /// free port. Sinks not named do not run.
    public var sinks: [String: String] = [:]
    /// Faults the receivers inject, in order of evaluation.
    public var faults: [IntakeFault] = []

    /// The sinks a scenario can name under `intake:`: Jaeger gRPC `PostSpans`, Jaeger Thrift over HTTP,
    /// Jaeger's query API, Prometheus remote write, the Prometheus exposition of received OTLP metrics,
    /// Elasticsearch's document API.
    public static let sinkKeys = ["jaeger_grpc", "jaeger_thrift", "jaeger_query", "prometheus", "exposition", "elasticsearch"]
}

/// A scripted answer of the receivers: for a fraction of requests, or as a sequence.
public struct IntakeFault: Sendable, Hashable {
    /// What the receiver answers instead of accepting.
    public enum Response: String, Sendable, CaseIterable {
        case ok
        case partialSuccess = "partial_success"
        case tooManyRequests = "429"
        case serviceUnavailable = "503"
        case unavailable
    }

    /// Only requests of this signal (`nil`: all).
    public var signal: String?
    /// Answer a random fraction of requests with `respond`...
    public var rate: Double?
    public var respond: Response?
    /// ...or answer the first requests with these, in order.
    public var sequence: [Response]
    /// `Retry-After` sent with 429/503.
    public var retryAfter: Duration?
    /// Latency added before answering.
    public var addedLatency: Duration?
}

/// The workload: phases in order and the weighted mix of requests sent in every phase.
public struct WorkloadSection: Sendable {
    public var phases: [Phase]
    public var requests: [RequestTemplate]
    /// HTTP/1.1 keep-alive connections per target host.
    public var connections: Int = 32
    /// Per-request timeout.
    public var timeout: Duration = .seconds(10)

    public init(phases: [Phase], requests: [RequestTemplate], connections: Int = 32, timeout: Duration = .seconds(10)) {
        self.phases = phases
        self.requests = requests
        self.connections = connections
        self.timeout = timeout
    }

    /// Total scheduled duration.
    public var duration: Duration { phases.reduce(.zero) { $0 + $1.duration } }
}

/// One phase of the workload.
public struct Phase: Sendable {
    public var name: String
    public var duration: Duration
    public var arrival: ArrivalSchedule

    public init(name: String, duration: Duration, arrival: ArrivalSchedule) {
        self.name = name
        self.duration = duration
        self.arrival = arrival
    }
}

/// When requests are sent.
public enum ArrivalSchedule: Sendable, Hashable {
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
public struct RequestTemplate: Sendable {
    public var name: String
    public var weight: Double
    /// The service (built-in name or a `services.targets` key) it goes to.
    public var service: String
    public var method: String
    /// Path with placeholders: `{{counter}}`, `{{uuid}}`, `{{random:N}}`.
    public var path: String
    public var body: String?
    public var headers: [(String, String)]
    public var trace: TraceContextSpec

    public init(
        name: String, weight: Double = 1, service: String, method: String = "GET", path: String, body: String? = nil,
        headers: [(String, String)] = [], trace: TraceContextSpec = .init()
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
public struct TraceContextSpec: Sendable, Hashable {
    /// Send a `traceparent` at all.
    public var propagate: Bool = true
    /// The sampled flag.
    public var sampled: Bool = true
    /// A `tracestate` to send (and expect unchanged on every span).
    public var tracestate: String?
    /// Send this invalid `traceparent` (or `tracestate`) instead, to check the service starts a fresh trace.
    public var invalid: InvalidTraceContextCase?

    public init(propagate: Bool = true, sampled: Bool = true, tracestate: String? = nil, invalid: InvalidTraceContextCase? = nil) {
        self.propagate = propagate
        self.sampled = sampled
        self.tracestate = tracestate
        self.invalid = invalid
    }
}

/// The rules a run is checked against (the checks evaluate them).
public struct RulesSection: Sendable {
    public var slos: [SLORule] = []
    /// A Prometheus rule file (`alert_rules:`, relative to the scenario), loaded and checked.
    public var alertRules: PrometheusRuleFile?
    /// Alerts that must fire (`expect_alerts:`); every other alert must stay silent.
    public var expectedAlerts: [String] = []
    /// How often alerting rules are evaluated over the run, unless their group sets an interval.
    public var alertInterval: Duration = .seconds(1)
    public var propagation: Bool = false
    public var cardinalityLimit: Int?
    public var cardinalityPerMetric: [String: Int] = [:]
    /// Taxonomy file, relative to the scenario file.
    public var taxonomy: String?
    /// Allowed loss as a fraction (0 = nothing may be lost); `nil`: no accounting rule.
    public var accountingTolerance: Double?
    /// With `--baseline`: how much a request's p99 may grow (fraction, default 0.2) and throughput may fall
    /// (fraction, default 0.1) before it counts as a regression.
    public var regressionP99Increase: Double = 0.2
    public var regressionThroughputDecrease: Double = 0.1
}

/// A service-level objective.
public struct SLORule: Sendable, Hashable {
    /// Where the measurements come from.
    public enum Source: Sendable, Hashable {
        /// Client-side latency of a request name (from the driver's HDR histograms).
        case client(request: String?)
        /// Span durations by span name and/or service.
        case spans(name: String?, service: String?)
        /// A received histogram metric.
        case metric(name: String)
    }

    /// `<`, `<=`, `>`, `>=`.
    public enum Comparison: String, Sendable, Hashable, CaseIterable {
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    public var name: String
    /// The structured form; `nil` when the rule is a PromQL `expr`.
    public var source: Source?
    public var selector: [String: String] = [:]
    public var groupBy: [String] = []
    /// 0...1 (0.99 for p99).
    public var quantile: Double = 0.99
    public var comparison: Comparison = .less
    /// In seconds when ``thresholdIsDuration``; otherwise in the measurement's own unit.
    public var threshold: Double = 0
    /// Whether the objective gave the threshold with a time unit (`180s`, `50ms`).
    public var thresholdIsDuration: Bool = true
    public var window: Duration?
    /// A PromQL expression that must return a non-empty, all-true result.
    public var expression: String?

    public init(name: String, source: Source? = nil, expression: String? = nil) {
        self.name = name
        self.source = source
        self.expression = expression
    }
}

/// When telemetry counts as settled after the last request.
public struct SettleSection: Sendable {
    /// Give up waiting after this long.
    public var timeout: Duration = .seconds(10)
    /// Settled once nothing new arrived for this long (and every expected span is in).
    public var quiet: Duration = .seconds(1)
}

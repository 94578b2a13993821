import Foundation
package import Logging
import OTel
import Scenario
package import ServiceLifecycle
import Synchronization
package import Tracing
import W3CTraceContext

/// The telemetry of one cf_core service: its own swift-otel tracer and metrics backend (own resource with
/// `service.name`, `service.version`, `deployment.environment`), its taxonomy instruments, and its fault modes.
///
/// Nothing here touches the process-global `InstrumentationSystem` or `MetricsSystem`: swift-otel 1.6's
/// `OTel.makeTracingBackend(configuration:)` and `OTel.makeMetricsBackend(configuration:)` build a tracer and a
/// metrics factory without bootstrapping, so tasks, projects, sprints and migrations can run in one process, each
/// with its own resource. Run ``backgroundServices`` in the ServiceGroup *before* the HTTP servers, so that at
/// shutdown the servers stop first and then the exporters flush (metrics get one last export).
package final class ServiceTelemetry: Sendable {
    /// The service this telemetry belongs to.
    package let service: CFCoreService
    /// The metrics of the taxonomy.
    package let instruments: TaxonomyInstruments
    /// The service's deliberate bugs.
    package let faults: FaultModes
    /// The exporters, processors and readers swift-otel needs running (traces, then metrics).
    package let backgroundServices: [any Service]
    let tracer: any Tracer
    let randomness: Randomness

    /// Builds the tracer and metrics backend for `service` from `configuration`.
    ///
    /// swift-otel applies the standard `OTEL_*` environment variables on top (so `OTEL_SERVICE_NAME` would rename
    /// every service alike; leave it unset).
    package init(service: CFCoreService, configuration: ServicesConfiguration, logger: Logger) throws {
        self.service = service
        let faults = configuration.faults[service] ?? .none
        self.faults = faults
        self.randomness = Randomness(seed: configuration.randomSeed.map { $0 &+ UInt64(service.portOffset) })

        var otel = OTel.Configuration.default
        otel.serviceName = service.serviceName
        otel.resourceAttributes = [
            "service.version": configuration.serviceVersion,
            "deployment.environment": configuration.deploymentEnvironment,
        ]
        otel.diagnosticLogger = .custom(logger)
        otel.diagnosticLogLevel = Self.diagnosticLevel(for: logger.logLevel)
        otel.propagators = [.traceContext]
        otel.logs.enabled = false
        otel.traces.sampler = .parentBasedAlwaysOn
        otel.traces.batchSpanProcessor.scheduleDelay = configuration.export.spanExportDelay
        otel.metrics.exportInterval = configuration.export.metricsExportInterval
        otel.metrics.defaultHistogramType = .explicitBucket
        otel.metrics.valueHistogramBuckets = TaxonomyInstruments.histogramBuckets(taxonomy: configuration.taxonomy, faults: faults)
        let endpoint = configuration.export.endpoint.hasSuffix("/") ? String(configuration.export.endpoint.dropLast()) : configuration.export.endpoint
        switch configuration.export.transport {
        case .grpc:
            otel.traces.otlpExporter.protocol = .grpc
            otel.metrics.otlpExporter.protocol = .grpc
            otel.traces.otlpExporter.endpoint = endpoint
            otel.metrics.otlpExporter.endpoint = endpoint
        case .http:
            // An explicitly set OTLP/HTTP endpoint is used as given, so the signal path is ours to add.
            otel.traces.otlpExporter.protocol = .httpProtobuf
            otel.metrics.otlpExporter.protocol = .httpProtobuf
            otel.traces.otlpExporter.endpoint = endpoint + "/v1/traces"
            otel.metrics.otlpExporter.endpoint = endpoint + "/v1/metrics"
        }
        let tracing = try OTel.makeTracingBackend(configuration: otel)
        let metrics = try OTel.makeMetricsBackend(configuration: otel)
        self.tracer = tracing.factory
        self.instruments = TaxonomyInstruments(taxonomy: configuration.taxonomy, factory: metrics.factory, faults: faults)
        self.backgroundServices = [OTelBackendService(base: tracing.service), OTelBackendService(base: metrics.service)]
    }

    /// swift-otel filters its diagnostics by its own level: follow the logger's.
    static func diagnosticLevel(for level: Logger.Level) -> OTel.Configuration.LogLevel {
        switch level {
        case .trace: .trace
        case .debug: .debug
        case .info, .notice: .info
        case .warning: .warning
        case .error, .critical: .error
        }
    }

    // MARK: Spans

    /// Runs `body` inside a span named `name` of `kind`, timed on the request's simulated clock.
    ///
    /// The span's parent is `parent`, else the current `ServiceContext`. An error thrown by `body` is recorded as
    /// an `exception` event and error status, then rethrown. Under ``FaultModes/dropSpanFraction`` a share of
    /// spans is never ended, so the SDK never exports them (their children still name them as parent).
    package func withSpan<T>(
        _ name: String,
        kind: SpanKind = .internal,
        parent: ServiceContext? = nil,
        _ body: (any Span) async throws -> T
    ) async throws -> T {
        let timeline = RequestTimeline.current
        let span = tracer.startSpan(name, context: parent ?? ServiceContext.current ?? .topLevel, ofKind: kind, at: timeline.now())
        do {
            let result = try await ServiceContext.$current.withValue(span.context) { try await body(span) }
            finish(span)
            return result
        } catch {
            fail(span, error)
            finish(span)
            throw error
        }
    }

    /// Records `error` on `span`: an `exception` event and error status.
    package func fail(_ span: any Span, _ error: any Error) {
        span.recordError(error, attributes: [:], at: RequestTimeline.current.now())
        span.setStatus(SpanStatus(code: .error, message: Self.message(of: error)))
    }

    /// Ends `span` at the simulated now, unless the drop-spans fault picks it.
    func finish(_ span: any Span) {
        if faults.dropSpanFraction > 0, randomness.unitInterval(stream: "drop_spans") < faults.dropSpanFraction { return }
        span.end(at: RequestTimeline.current.now())
    }

    static func message(of error: any Error) -> String {
        if let error = error as? ServiceFailure { return error.message }
        return String(describing: error)
    }

    // MARK: Propagation

    /// What arrived with a request: the extracted context, the raw `traceparent`, and the validated W3C headers.
    package struct IncomingPropagation: Sendable {
        /// The context extracted with swift-otel's W3C propagator (no span context when the header was missing or
        /// invalid: the server span then starts a new trace, as W3C Trace Context requires).
        package var context: ServiceContext
        /// The `traceparent` header as received.
        package var rawTraceparent: String?
        /// True when a `traceparent` arrived but is not valid W3C.
        package var traceparentIsInvalid: Bool
        /// The `traceparent` the service continues (after the incoming-side faults), nil when it starts a trace.
        package var traceparent: W3CTraceParent? = nil
        /// The validated `tracestate` of a continued trace (empty when none arrived, or it was discarded).
        package var tracestate: W3CTraceState? = nil
        /// Why the `tracestate` was discarded, if it was.
        package var tracestateRejection: TraceStateRejection? = nil

        /// The propagation of the request being handled.
        @TaskLocal package static var current: IncomingPropagation?
    }

    /// Extracts the W3C context from request headers, after the incoming-side faults rewrite them.
    ///
    /// Our own parser (``W3CTraceParent``, ``W3CTraceState``) decides, and swift-otel only ever sees a canonical
    /// version-00 `traceparent` and a `tracestate` that passed validation: swift-otel 1.6 (through
    /// swift-w3c-trace-context) rejects future versions, and parses both headers in one call, so a `tracestate` it
    /// dislikes would also discard a valid `traceparent`. Two or more `traceparent` fields make the context invalid
    /// (W3C: the vendor cannot tell which is meant); several `tracestate` fields are one list, combined in order.
    package func extract(_ headers: [(name: String, value: String)]) -> IncomingPropagation {
        let fields = HeaderList(headers)
        let traceparents = fields.all("traceparent")
        let raw = traceparents.first
        var incoming = IncomingPropagation(context: .topLevel, rawTraceparent: raw, traceparentIsInvalid: false)
        guard let raw else { return incoming }
        guard traceparents.count == 1, var parent = W3CTraceParent(parsing: raw) else {
            incoming.traceparentIsInvalid = true
            return incoming
        }
        if faults.freshParent {
            parent.parentID = SpanID.random().description
        }
        if faults.ignoreSampledFlag {
            parent.flags |= W3CTraceParent.sampledFlag
        }
        // Only parsed once the traceparent is valid; its failure never affects the traceparent.
        var state = W3CTraceState(members: [])
        do {
            state = try W3CTraceState(combining: fields.all("tracestate"))
        } catch {
            incoming.tracestateRejection = error
        }
        var handed = HeaderList([("traceparent", parent.headerValue)])
        // swift-w3c-trace-context's tracestate parser is stricter than the current grammar in places (`@` as a key
        // character, tenant/system lengths): give swift-otel the list only if it accepts it; the outgoing side sends
        // the validated list either way.
        if let value = state.headerValue, (try? TraceContext(traceParentHeaderValue: parent.headerValue, traceStateHeaderValue: value)) != nil {
            handed.replace("tracestate", with: value)
        }
        tracer.extract(handed, into: &incoming.context, using: HeaderListExtractor())
        incoming.traceparent = parent
        incoming.tracestate = state
        return incoming
    }

    /// The headers an outgoing call from inside `span` carries: `traceparent` and `tracestate` injected by
    /// swift-otel and corrected where it is wrong, changed by the outgoing-side faults, plus the simulated-time skew.
    ///
    /// swift-otel derives a child's trace-flags from its sampler alone, so the Level 2 `random` flag is lost: a
    /// continued trace carries the flag as received; a trace this service started has a trace-id from swift-otel's
    /// random generator (all 16 bytes random), so the flag is set. The `tracestate` of a continued trace is sent
    /// exactly as validated (swift-otel re-joins it with ", ", and has none when it could not parse the list).
    package func outgoingHeaders(for span: any Span) -> [(name: String, value: String)] {
        var fields = HeaderList([])
        tracer.inject(span.context, into: &fields, using: HeaderListInjector())
        let incoming = IncomingPropagation.current
        if let injected = fields.first("traceparent").flatMap(W3CTraceParent.init(parsing:)) {
            var outgoing = injected
            fields.remove("tracestate")
            if let continued = incoming?.traceparent, continued.traceID == injected.traceID {
                outgoing.flags = injected.flags & W3CTraceParent.sampledFlag | continued.flags & W3CTraceParent.randomFlag
                if let tracestate = incoming?.tracestate?.headerValue { fields.replace("tracestate", with: tracestate) }
            } else {
                outgoing.flags = injected.flags & W3CTraceParent.sampledFlag | W3CTraceParent.randomFlag
            }
            fields.replace("traceparent", with: outgoing.headerValue)
        }
        if faults.forwardInvalidTraceparent, let incoming, incoming.traceparentIsInvalid, let raw = incoming.rawTraceparent {
            fields.replace("traceparent", with: raw)
        }
        if faults.dropTraceparent { fields.remove("traceparent") }
        if faults.dropTracestate { fields.remove("tracestate") }
        fields.replace(RequestTimeline.skewHeader, with: String(RequestTimeline.current.skew))
        return fields.fields
    }

    // MARK: Behaviour

    /// Spends the simulated latency of `operation` and fails it with its configured error rate.
    package func perform(_ operation: String, configuration: ServicesConfiguration) async throws {
        let behaviour = configuration.behaviour(of: operation, service: service)
        let call = randomness.call(latency: behaviour.latency, errorRate: behaviour.errorRate, stream: operation)
        try await RequestTimeline.current.spend(simulatedSeconds: call.latency, timeScale: configuration.timeScale)
        if call.fails {
            throw ServiceFailure.injected(operation: operation, errorRate: behaviour.errorRate)
        }
    }
}

/// A failure of a service operation that the behaviour model injected (error rate) or the operation hit.
package struct ServiceFailure: Error, Sendable, CustomStringConvertible {
    /// What failed.
    package var message: String

    /// The operation failed because its configured error rate said so.
    static func injected(operation: String, errorRate: Double) -> ServiceFailure {
        ServiceFailure(message: "\(operation) failed (injected: error_rate \(errorRate))")
    }

    package var description: String { message }
}

/// Draws latencies and probabilities: seeded (repeatable) or from the system generator.
///
/// Seeded, every stream (an operation's name, or another use's) has a generator of its own, seeded from the seed
/// and the stream's name. So the n-th call of an operation draws the same latency and the same outcome whatever
/// ran between, however concurrent requests interleave: a seeded run fails the same operations from run to run.
/// (With one shared generator, the draws each operation got depended on the order requests arrived in, and a
/// short run could see no failure at all of an operation with error rate 0.3.)
final class Randomness: Sendable {
    private let seed: UInt64?
    private let streams = Mutex<[String: SplitMix64]>([:])

    init(seed: UInt64?) { self.seed = seed }

    /// A number in 0..<1 from `stream`.
    func unitInterval(stream: String) -> Double {
        guard seed != nil else { return Double.random(in: 0..<1) }
        return withGenerator(of: stream) { Double.random(in: 0..<1, using: &$0) }
    }

    /// One call of an operation: its latency from `model` and whether it fails at `errorRate`, drawn together from
    /// `stream` (so concurrent calls cannot interleave their draws).
    func call(latency model: LatencyModel, errorRate: Double, stream: String) -> (latency: Double, fails: Bool) {
        func draw(_ generator: inout some RandomNumberGenerator) -> (latency: Double, fails: Bool) {
            let latency = model.sample(using: &generator)
            return (latency, Double.random(in: 0..<1, using: &generator) < errorRate)
        }
        guard seed != nil else {
            var system = SystemRandomNumberGenerator()
            return draw(&system)
        }
        return withGenerator(of: stream) { draw(&$0) }
    }

    private func withGenerator<T>(of stream: String, _ body: (inout SplitMix64) -> T) -> T {
        streams.withLock { streams in
            var generator = streams[stream] ?? SplitMix64(seed: Self.streamSeed(seed ?? 0, stream))
            defer { streams[stream] = generator }
            return body(&generator)
        }
    }

    /// The seed mixed with the stream's name (FNV-1a: the same in every process, unlike `Hasher`).
    static func streamSeed(_ seed: UInt64, _ stream: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in stream.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return seed ^ hash
    }
}

/// HTTP headers as an ordered list with case-insensitive names: the carrier for extraction and injection,
/// independent of Hummingbird's `HTTPFields` and AsyncHTTPClient's `HTTPHeaders`.
package struct HeaderList: Sendable {
    /// The headers, in order.
    package var fields: [(name: String, value: String)]

    /// Creates a list.
    package init(_ fields: [(name: String, value: String)]) { self.fields = fields }

    /// The first value of `name`.
    package func first(_ name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// Every value of `name`, in order.
    package func all(_ name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    /// Removes every `name`.
    package mutating func remove(_ name: String) {
        fields.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }

    /// Sets `name` to exactly `value`.
    package mutating func replace(_ name: String, with value: String) {
        remove(name)
        fields.append((name, value))
    }
}

struct HeaderListExtractor: Extractor {
    func extract(key: String, from carrier: HeaderList) -> String? { carrier.first(key) }
}

struct HeaderListInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout HeaderList) { carrier.replace(key, with: value) }
}

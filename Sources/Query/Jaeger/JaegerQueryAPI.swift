import Foundation
import Hummingbird
package import Intake
package import Logging
import NIOCore
package import Scenario
package import ServiceLifecycle
package import Telemetry

/// Jaeger's query HTTP API over every trace in the store, whichever protocol brought it, so that the
/// Jaeger UI, scripts and curl can read a run:
///
/// - `GET /api/services`: service names.
/// - `GET /api/services/{service}/operations`: operation (span) names of a service.
/// - `GET /api/operations?service=&spanKind=`: the same as `{name, spanKind}` objects.
/// - `GET /api/traces?service=&operation=&tags=&tag=&start=&end=&limit=&minDuration=&maxDuration=&traceID=`:
///   traces with at least one span matching every given condition (tags as a JSON object of strings or as
///   `tag=key:value`; start and end in µs since the epoch; durations as Go durations such as `1.5ms`;
///   limit, default 100, on traces, newest first). Unlike Jaeger, start and end default to no bound: a
///   bench run's timestamps need not be recent.
/// - `GET /api/traces/{id}`: one trace (404 when unknown).
///
/// Answers are Jaeger's `{data, total, limit, offset, errors}`, ids in lower-case hex, times in µs.
package struct JaegerQueryAPI: Service {
    /// API settings.
    package struct Configuration: Sendable {
        /// Where to listen. Default `127.0.0.1:16686` (`--jaeger-query`).
        package var address: ListenAddress
        /// TLS and the bearer token readers must send. Default plain text, no token.
        package var security: ListenerSecurity

        package init(address: ListenAddress = .init(host: "127.0.0.1", port: 16686), security: ListenerSecurity = .plaintext) {
            self.address = address
            self.security = security
        }
    }

    package let configuration: Configuration
    /// The address once listening (the real port when asked for port 0).
    package let boundAddress = BoundAddress()
    let store: TelemetryStore
    let logger: Logger

    package init(configuration: Configuration = .init(), store: TelemetryStore, logger: Logger = Logger(label: "otelbench.jaeger-query")) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
    }

    package func run() async throws {
        try await HTTPSink.serve(
            JaegerQueryResponder(store: store),
            address: configuration.address,
            tls: configuration.security.tls,
            token: configuration.security.token,
            connections: configuration.security.connections,
            bound: boundAddress,
            logger: logger
        )
    }
}

struct JaegerQueryResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let store: TelemetryStore

    func respond(to request: Request, context: Context) async throws -> Response {
        guard request.method == .get || request.method == .head else {
            return answer(.methodNotAllowed, error: "\(request.method) is not allowed: the Jaeger query API takes GET")
        }
        let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: true).map { $0.removingPercentEncoding ?? String($0) }
        var query: [String: [String]] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key), default: []].append(String(value)) }
        switch segments.count {
        case 2 where segments == ["api", "services"]:
            let services = Set(store.spans.map(\.resource.serviceName)).sorted()
            return answer(JaegerJSON.envelope(data: .array(services.map { .string($0) }), total: services.count))
        case 4 where segments[0] == "api" && segments[1] == "services" && segments[3] == "operations":
            let operations = Set(store.spans.filter { $0.resource.serviceName == segments[2] }.map(\.name)).sorted()
            return answer(JaegerJSON.envelope(data: .array(operations.map { .string($0) }), total: operations.count))
        case 2 where segments == ["api", "operations"]:
            guard let service = query["service"]?.last, !service.isEmpty else {
                return answer(.badRequest, error: "parameter 'service' is required")
            }
            let kind = query["spanKind"]?.last ?? ""
            var seen = Set<[String]>()
            var operations: [JSONValue] = []
            for span in store.spans where span.resource.serviceName == service {
                let spanKind = span.kind == .unspecified ? "" : span.kind.description
                guard kind.isEmpty || kind == spanKind, seen.insert([span.name, spanKind]).inserted else { continue }
                operations.append(.object([("name", .string(span.name)), ("spanKind", .string(spanKind))]))
            }
            return answer(JaegerJSON.envelope(data: .array(operations), total: operations.count))
        case 2 where segments == ["api", "traces"]:
            do throws(TraceSearchError) {
                let search = try TraceSearch(query: query)
                let traces = search.run(over: store)
                return answer(JaegerJSON.envelope(data: .array(traces.map(JaegerJSON.trace)), total: traces.count))
            } catch {
                return answer(.badRequest, error: error.message)
            }
        case 3 where segments[0] == "api" && segments[1] == "traces":
            guard let traceID = JaegerJSON.parseTraceID(Substring(segments[2])) else {
                return answer(.badRequest, error: "cannot parse traceID '\(segments[2])': want 1 to 32 hex digits")
            }
            let spans = store.spans(inTrace: traceID)
            guard !spans.isEmpty else { return answer(.notFound, error: "trace not found") }
            return answer(JaegerJSON.envelope(data: .array([JaegerJSON.trace(spans)]), total: 1))
        default:
            return answer(
                .notFound,
                error: "no Jaeger query endpoint at \(request.uri.path): use /api/services, /api/services/{service}/operations, "
                    + "/api/operations, /api/traces or /api/traces/{id}"
            )
        }
    }

    private func answer(_ json: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: json.serialized))
        )
    }

    private func answer(_ status: HTTPResponse.Status, error message: String) -> Response {
        answer(JaegerJSON.envelope(data: .null, total: 0, errors: [(Int(status.code), message)]), status: status)
    }
}

/// A parameter of a trace search that cannot be used, and why.
struct TraceSearchError: Error {
    var message: String
}

/// The conditions of `GET /api/traces`, parsed as Jaeger parses them.
struct TraceSearch {
    var service: String?
    var operation: String?
    var tags: [String: String] = [:]
    var startMicros: UInt64?
    var endMicros: UInt64?
    var minDurationMicros: UInt64?
    var maxDurationMicros: UInt64?
    var limit = 100
    var traceIDs: [TraceID] = []

    init(query: [String: [String]]) throws(TraceSearchError) {
        service = query["service"]?.last.flatMap { $0.isEmpty ? nil : $0 }
        operation = query["operation"]?.last.flatMap { $0.isEmpty ? nil : $0 }
        for id in query["traceID"] ?? [] {
            guard let traceID = JaegerJSON.parseTraceID(Substring(id)) else {
                throw TraceSearchError(message: "cannot parse traceID param '\(id)': want 1 to 32 hex digits")
            }
            traceIDs.append(traceID)
        }
        guard service != nil || !traceIDs.isEmpty else { throw TraceSearchError(message: "parameter 'service' is required") }
        startMicros = try Self.micros(query["start"]?.last, name: "start")
        endMicros = try Self.micros(query["end"]?.last, name: "end")
        if let text = query["limit"]?.last, !text.isEmpty {
            guard let value = Int(text), value >= 0 else {
                throw TraceSearchError(message: "unable to parse param 'limit': '\(text)' is not a non-negative integer")
            }
            limit = value == 0 ? 100 : value
        }
        minDurationMicros = try Self.duration(query["minDuration"]?.last, name: "minDuration")
        maxDurationMicros = try Self.duration(query["maxDuration"]?.last, name: "maxDuration")
        if let minDurationMicros, let maxDurationMicros, maxDurationMicros < minDurationMicros {
            throw TraceSearchError(message: "'maxDuration' should be greater than 'minDuration'")
        }
        for tag in query["tag"] ?? [] {
            let parts = tag.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw TraceSearchError(message: "malformed 'tag' parameter, expecting key:value, received: \(tag)") }
            tags[String(parts[0])] = String(parts[1])
        }
        for json in query["tags"] ?? [] {
            guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
                throw TraceSearchError(message: "malformed 'tags' parameter, want a JSON object such as {\"http.method\":\"GET\"}: \(json)")
            }
            for (key, value) in object {
                guard let text = value as? String else {
                    throw TraceSearchError(message: "malformed 'tags' parameter: the value of \"\(key)\" must be a string (write \"\(value)\" in quotes)")
                }
                tags[key] = text
            }
        }
    }

    /// Matching traces, newest first (by their earliest span), at most `limit`.
    func run(over store: TelemetryStore) -> [[Span]] {
        let spans = traceIDs.isEmpty ? store.spans : Set(traceIDs).flatMap { store.spans(inTrace: $0) }
        var byTrace: [TraceID: [Span]] = [:]
        var matching = Set<TraceID>()
        for span in spans {
            byTrace[span.traceID, default: []].append(span)
            if !matching.contains(span.traceID), matches(span) { matching.insert(span.traceID) }
        }
        // Each trace's earliest start is computed once, not in every comparison of the sort.
        let traces = matching.compactMap { id in byTrace[id].map { (start: $0.lazy.map(\.startTimeUnixNano).min() ?? 0, id: id, spans: $0) } }
        let sorted = traces.sorted { lhs, rhs in lhs.start != rhs.start ? lhs.start > rhs.start : lhs.id < rhs.id }
        return sorted.prefix(limit).map(\.spans)
    }

    private func matches(_ span: Span) -> Bool {
        if let service, span.resource.serviceName != service { return false }
        if let operation, span.name != operation { return false }
        let start = span.startTimeUnixNano / 1000
        if let startMicros, start < startMicros { return false }
        if let endMicros, start > endMicros { return false }
        let duration = span.durationNanos / 1000
        if let minDurationMicros, duration < minDurationMicros { return false }
        if let maxDurationMicros, duration > maxDurationMicros { return false }
        if !tags.isEmpty {
            let view = JaegerSpanView(span)
            for (key, value) in tags where !view.hasTag(key, value) { return false }
        }
        return true
    }

    private static func micros(_ text: String?, name: String) throws(TraceSearchError) -> UInt64? {
        guard let text, !text.isEmpty else { return nil }
        guard let value = UInt64(text) else {
            throw TraceSearchError(message: "unable to parse param '\(name)': '\(text)' is not microseconds since the epoch")
        }
        return value
    }

    private static func duration(_ text: String?, name: String) throws(TraceSearchError) -> UInt64? {
        guard let text, !text.isEmpty else { return nil }
        guard let nanos = GoDuration.nanoseconds(text), nanos >= 0 else {
            throw TraceSearchError(message: "unable to parse param '\(name)': '\(text)' is not a duration such as 1.5ms, 300us or 2s")
        }
        // Go's time.ParseDuration refuses what an int64 of nanoseconds cannot hold (about 290 years), as Jaeger does.
        guard nanos < 0x1p63, let micros = UInt64(exactly: (nanos / 1000).rounded(.down)) else {
            throw TraceSearchError(message: "unable to parse param '\(name)': '\(text)' is out of range: durations go up to 2562047h")
        }
        return micros
    }
}

/// Go's `time.ParseDuration`: a sequence of decimal numbers with units ns, us (µs), ms, s, m, h.
enum GoDuration {
    static func nanoseconds(_ text: String) -> Double? {
        var rest = Substring(text)
        var sign = 1.0
        if rest.first == "-" || rest.first == "+" {
            sign = rest.first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs", "μs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            default: return nil
            }
            total += value * scale
        }
        return sign * total
    }
}

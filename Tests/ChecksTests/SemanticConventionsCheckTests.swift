import Checks
import Scenario
import Telemetry
import Testing

/// `rules.semconv` against spans shaped as the built-in services (swift-otel) and the Python SDK's WSGI
/// instrumentation emit them (both read off real runs: see the README's semconv section).
@Suite struct SemanticConventionsCheckTests {
    static func span(_ name: String, kind: SpanKind, service: String = "app", attributes: Attributes, status: SpanStatus.Code = .unset) -> Span {
        Span(
            traceID: TraceID(high: 1, low: 2),
            spanID: SpanID(value: 3),
            name: name,
            kind: kind,
            attributes: attributes,
            status: SpanStatus(code: status),
            resource: Resource(attributes: ["service.name": .string(service)]),
            channel: .otlpGRPC
        )
    }

    /// The built-in services' server span (swift-otel's Hummingbird middleware).
    static let swiftServer = span(
        "POST /tasks",
        kind: .server,
        attributes: [
            "http.request.method": .string("POST"), "http.route": .string("/tasks"), "http.response.status_code": .int(201),
            "url.path": .string("/tasks"), "url.scheme": .string("http"),
        ]
    )

    /// The built-in projects service's client call to tasks: named after its path, which the name rule forbids.
    static let swiftClient = span(
        "POST /tasks",
        kind: .client,
        attributes: [
            "http.request.method": .string("POST"), "server.address": .string("127.0.0.1"), "server.port": .int(41179),
            "url.full": .string("http://127.0.0.1:41179/tasks"), "http.response.status_code": .int(201),
        ]
    )

    /// opentelemetry-instrumentation-wsgi 0.66b2 without OTEL_SEMCONV_STABILITY_OPT_IN: the old names.
    static let pythonOld = span(
        "GET /invoices/1",
        kind: .server,
        attributes: [
            "http.method": .string("GET"), "http.status_code": .int(200), "http.scheme": .string("http"), "http.target": .string("/invoices/1"),
            "net.host.port": .int(8080),
        ]
    )

    /// The same with OTEL_SEMCONV_STABILITY_OPT_IN=http: stable names, but no url.path, and named after the path.
    static let pythonStable = span(
        "GET /invoices/1",
        kind: .server,
        attributes: [
            "http.request.method": .string("GET"), "url.scheme": .string("http"), "server.address": .string("127.0.0.1:8080"),
            "server.port": .int(8080), "client.address": .string("127.0.0.1"), "network.protocol.version": .string("1.1"),
            "http.response.status_code": .int(200),
        ]
    )

    static func results(_ spans: [Span], rule: SemanticConventionsRule = .init()) -> (http: RuleResult, attributes: RuleResult) {
        let check = SemanticConventionsCheck(rule: rule)
        let store = TelemetryStore()
        check.attach(to: store)
        store.store(Batch(spans: spans), channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 0)
        let results = check.evaluate(RunData(store: store, driver: nil))
        return (results[0], results[1])
    }

    @Test func aConformingServerSpanPassesWithNotesForRecommendedAttributes() {
        let (http, attributes) = Self.results([Self.swiftServer])
        #expect(http.verdict == .pass && http.name == "HTTP spans (semantic conventions 1.44.0)" && http.measured == "1 HTTP spans conform")
        #expect(http.evidence.contains { $0.hasPrefix("note: app server \"*\": HTTP server span without recommended user_agent.original ×1") })
        #expect(attributes.verdict == .pass)
    }

    @Test func aClientSpanNamedAfterItsPathFails() {
        let (http, _) = Self.results([Self.swiftClient])
        #expect(http.verdict == .fail)
        #expect(
            http.evidence.first
                == "app client \"POST /tasks\": HTTP client span named \"POST /tasks\" after its URL path, which the name rule forbids (MUST NOT); expected \"POST\" ×1 (e.g. trace \(TraceID(high: 1, low: 2).hex))"
        )
        var templated = Self.swiftClient
        templated.attributes["url.template"] = .string("/tasks")
        #expect(Self.results([templated]).http.verdict == .pass, "with url.template, POST /tasks is the rule's name")
    }

    @Test func missingRequiredAttributesFail() {
        var server = Self.swiftServer
        server.attributes["url.scheme"] = nil
        var client = Self.swiftClient
        client.name = "POST"
        client.attributes["server.port"] = nil
        client.attributes["http.response.status_code"] = nil
        let failures = Self.results([server, client]).http.evidence.filter { !$0.hasPrefix("note:") }
        #expect(failures.contains { $0.contains("server \"POST /tasks\": HTTP server span without required url.scheme") })
        #expect(failures.contains { $0.contains("client \"POST\": HTTP client span without required server.port") })
        #expect(failures.contains { $0.contains("client \"POST\": HTTP client span with neither http.response.status_code nor error.type") })
    }

    @Test func anErrorNeedsErrorType() {
        var server = Self.swiftServer
        server.attributes["http.response.status_code"] = .int(503)
        #expect(Self.results([server]).http.evidence.first?.contains("status code 503 without error.type") == true)
        server.attributes["error.type"] = .string("503")
        #expect(Self.results([server]).http.verdict == .pass)
        var notFound = Self.swiftServer
        notFound.attributes["http.response.status_code"] = .int(404)
        #expect(Self.results([notFound]).http.verdict == .pass, "a 404 is not a server error")
    }

    @Test func deprecatedNamesAreReportedWithTheirReplacements() {
        let (http, attributes) = Self.results([Self.pythonOld])
        #expect(attributes.verdict == .fail)
        #expect(attributes.evidence.contains { $0.contains("deprecated attribute http.method: Deprecated, use `http.request.method` instead.") })
        #expect(attributes.evidence.contains { $0.contains("deprecated attribute http.status_code: Deprecated, use `http.response.status_code` instead.") })
        #expect(attributes.evidence.contains { $0.contains("deprecated attribute http.target: Deprecated, use `url.path` and `url.query` instead.") })
        // An old instrumentation's HTTP span is still judged as one, and lacks every stable name.
        #expect(http.verdict == .fail && http.evidence.contains { $0.contains("without required http.request.method") })
    }

    @Test func pythonStableSemconvLacksURLPathAndNamesByPath() {
        let failures = Self.results([Self.pythonStable]).http.evidence.filter { !$0.hasPrefix("note:") }
        #expect(failures.count == 2)
        #expect(failures.contains { $0.contains("HTTP server span without required url.path") })
        #expect(failures.contains { $0.contains("named \"GET /invoices/1\" after its URL path") })
    }

    @Test func typesFollowTheRegistry() {
        var server = Self.swiftServer
        server.attributes["http.response.status_code"] = .string("201")
        server.attributes["http.request.header.accept"] = .array([.string("application/json")])
        let attributes = Self.results([server]).attributes
        #expect(attributes.verdict == .fail && attributes.evidence.count == 1)
        #expect(attributes.evidence.first?.contains("http.response.status_code is string 201, the conventions say int") == true)
    }

    @Test func nothingToJudgeIsNoData() {
        let internalOnly = Self.span("work", kind: .internal, attributes: [:])
        let (http, attributes) = Self.results([internalOnly])
        #expect(http.verdict == .noData && attributes.verdict == .pass)
        let other = Self.results([Self.swiftServer], rule: SemanticConventionsRule(services: ["billing"]))
        #expect(other.http.verdict == .noData && other.attributes.verdict == .noData, "only the named services' spans count")
    }
}

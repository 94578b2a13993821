import Telemetry

/// What the checks know of the OpenTelemetry semantic conventions: the attribute registry (generated, in
/// `Generated/SemanticConventionsRegistry.swift`, with the version it was taken at) and the requirement levels of
/// HTTP spans, written out from the specification's text for the same version ("Semantic conventions for HTTP
/// spans", `docs/http/http-spans.md`, semantic-conventions 1.44.0).
///
/// ```swift
/// let problems = SemanticConventions.review(span)
/// for problem in problems.failures { print(problem) }
/// ```
enum SemanticConventions {
    /// One attribute of the registry.
    struct RegisteredAttribute: Sendable {
        /// `string`, `int`, `double`, `boolean`, `stringArray`, ..., `templateString` for a key with a `<key>` suffix.
        var type: String
        /// `stable`, `development`, ...
        var stability: String
        /// For a deprecated attribute, the registry's note naming what replaces it.
        var deprecated: String?
    }

    /// An HTTP span's side.
    enum HTTPRole: String, Sendable {
        case server, client
    }

    /// A requirement of an HTTP span on one attribute, as the specification's table gives it.
    struct Requirement: Sendable {
        enum Level: Sendable {
            /// Required: a span without it fails.
            case required
            /// Required when the condition (which the check can judge from the span) holds.
            case conditionallyRequired(String)
            /// Recommended: reported as a note.
            case recommended
        }

        var attribute: String
        var level: Level
    }

    /// HTTP server spans (semantic conventions 1.44.0, "HTTP server span"): required `http.request.method`,
    /// `url.path`, `url.scheme`; conditionally required `server.port` (when `server.address` is set); recommended
    /// `client.address`, `network.peer.address`, `network.peer.port`, `network.protocol.version`, `server.address`,
    /// `user_agent.original`. (`http.route`, `url.query` and `http.response.status_code` are conditionally required
    /// on conditions a span cannot show: "if available", "if one was received"; see ``review(_:)`` for what is judged.)
    static let serverRequirements: [Requirement] = [
        .init(attribute: "http.request.method", level: .required), .init(attribute: "url.path", level: .required),
        .init(attribute: "url.scheme", level: .required), .init(attribute: "server.port", level: .conditionallyRequired("server.address is set")),
        .init(attribute: "client.address", level: .recommended), .init(attribute: "network.peer.address", level: .recommended),
        .init(attribute: "network.peer.port", level: .recommended), .init(attribute: "network.protocol.version", level: .recommended),
        .init(attribute: "server.address", level: .recommended), .init(attribute: "user_agent.original", level: .recommended),
    ]

    /// HTTP client spans (semantic conventions 1.44.0, "HTTP client span"): required `http.request.method`,
    /// `server.address`, `server.port`, `url.full`; recommended `network.peer.address`, `network.peer.port`,
    /// `network.protocol.version`.
    static let clientRequirements: [Requirement] = [
        .init(attribute: "http.request.method", level: .required), .init(attribute: "server.address", level: .required),
        .init(attribute: "server.port", level: .required), .init(attribute: "url.full", level: .required),
        .init(attribute: "network.peer.address", level: .recommended), .init(attribute: "network.peer.port", level: .recommended),
        .init(attribute: "network.protocol.version", level: .recommended),
    ]

    /// What is wrong with one span: failures of any span's attributes (types, deprecated names), failures of an HTTP
    /// span (required attributes, a name that breaks a MUST NOT), and notes (recommended attributes, a name that
    /// breaks a SHOULD).
    struct Review: Sendable, Hashable {
        var attributes: [String] = []
        var failures: [String] = []
        var notes: [String] = []
    }

    /// Whether a span is an HTTP span and which side: a server or client span with `http.request.method` (or the
    /// deprecated `http.method`, so that old instrumentations are judged rather than skipped).
    static func httpRole(_ span: Span) -> HTTPRole? {
        guard span.attributes["http.request.method"] != nil || span.attributes["http.method"] != nil else { return nil }
        switch span.kind {
        case .server: return .server
        case .client: return .client
        default: return nil
        }
    }

    /// Reviews one span against the conventions.
    static func review(_ span: Span) -> Review {
        var review = Review()
        for key in span.attributes.keys.sorted() {
            guard let value = span.attributes[key] else { continue }
            if let registered = registered(key) {
                if let note = registered.deprecated { review.attributes.append("deprecated attribute \(key): \(note)") }
                if !fits(value, registered.type) {
                    review.attributes.append("\(key) is \(value.typeName) \(value), the conventions say \(describe(registered.type))")
                }
            }
        }
        guard let role = httpRole(span) else { return review }
        let requirements = role == .server ? serverRequirements : clientRequirements
        for requirement in requirements where span.attributes[requirement.attribute] == nil {
            switch requirement.level {
            case .required:
                review.failures.append("HTTP \(role) span without required \(requirement.attribute)")
            case .conditionallyRequired(let condition):
                if condition == "server.address is set", span.attributes["server.address"] != nil {
                    review.failures.append("HTTP \(role) span without \(requirement.attribute), required when \(condition)")
                }
            case .recommended:
                review.notes.append("HTTP \(role) span without recommended \(requirement.attribute)")
            }
        }
        // A request either got a response (http.response.status_code, required "if one was received/sent") or
        // ended in an error (error.type, required "if the request has ended with an error"): one must be there.
        let status = span.attributes["http.response.status_code"]
        if status == nil, span.attributes["error.type"] == nil {
            review.failures.append("HTTP \(role) span with neither http.response.status_code nor error.type: one is required")
        }
        // error.type is required when the request ended with an error: a span status of error, or a status code the
        // conventions count as an error (5xx for servers, 4xx and 5xx for clients).
        if span.attributes["error.type"] == nil, case .int(let code)? = status, code >= (role == .server ? 500 : 400) {
            review.failures.append("HTTP \(role) span with status code \(code) without error.type (required when the request ended with an error)")
        } else if span.attributes["error.type"] == nil, span.status.code == .error {
            review.failures.append("HTTP \(role) span with error status without error.type (required when the request ended with an error)")
        }
        let name = nameProblems(span, role: role)
        review.failures += name.failures
        review.notes += name.notes
        return review
    }

    /// The HTTP span name rule: `{method} {target}`, the target being `http.route` (server) or `url.template`
    /// (client); `{method}` alone without one; `HTTP` for a method of `_OTHER`. A name other than that breaks a
    /// SHOULD (a note); a name whose target is the URL path (its `url.path`, or the path of its `url.full`; without
    /// either, a `/...` target on a span without a route or template) breaks "instrumentation MUST NOT default to
    /// using URI path as a target" (a failure).
    static func nameProblems(_ span: Span, role: HTTPRole) -> Review {
        guard let method = span.attributes.string("http.request.method") else { return Review() }
        let target = span.attributes.string(role == .server ? "http.route" : "url.template")
        let expected = method == "_OTHER" ? (target.map { "HTTP \($0)" } ?? "HTTP") : (target.map { "\(method) \($0)" } ?? method)
        guard span.name != expected else { return Review() }
        let path = span.attributes.string("url.path") ?? span.attributes.string("url.full").flatMap(urlPath)
        // Without url.path, a path-like target that is not the route can only have come from the request's path.
        let pathLike = path == nil && target == nil && span.name.hasPrefix("\(method) /")
        if pathLike || (path.map { span.name == "\(method) \($0)" && $0 != target } ?? false) {
            return Review(failures: [
                "HTTP \(role) span named \"\(span.name)\" after its URL path, which the name rule forbids (MUST NOT); expected \"\(expected)\""
            ])
        }
        return Review(notes: ["HTTP \(role) span named \"\(span.name)\", the name rule says \"\(expected)\""])
    }

    /// The path of a URL (`http://host:1/a/b?q` → `/a/b`).
    static func urlPath(_ url: String) -> String? {
        guard let scheme = url.range(of: "://") else { return nil }
        let rest = url[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        return String(rest[slash...].prefix { $0 != "?" && $0 != "#" })
    }

    /// The registry's entry for `key`, or for a template attribute it belongs to (`http.request.header.accept`).
    static func registered(_ key: String) -> RegisteredAttribute? {
        if let entry = registry[key] { return entry }
        var prefix = Substring(key)
        while let dot = prefix.lastIndex(of: ".") {
            prefix = prefix[..<dot]
            if let entry = registry[String(prefix)], entry.type.hasPrefix("template") { return entry }
        }
        return nil
    }

    /// Whether a value has the registry's type.
    static func fits(_ value: AttributeValue, _ type: String) -> Bool {
        switch (type, value) {
        case ("string", .string), ("templateString", .string), ("int", .int), ("templateInt", .int), ("double", .double),
            ("templateDouble", .double), ("boolean", .bool), ("templateBoolean", .bool), ("any", _):
            return true
        case ("stringArray", .array(let items)), ("templateStringArray", .array(let items)):
            return items.allSatisfy { if case .string = $0 { true } else { false } }
        case ("intArray", .array(let items)), ("templateIntArray", .array(let items)):
            return items.allSatisfy { if case .int = $0 { true } else { false } }
        case ("doubleArray", .array(let items)), ("templateDoubleArray", .array(let items)):
            return items.allSatisfy { if case .double = $0 { true } else { false } }
        case ("booleanArray", .array(let items)), ("templateBooleanArray", .array(let items)):
            return items.allSatisfy { if case .bool = $0 { true } else { false } }
        default:
            return false
        }
    }

    static func describe(_ type: String) -> String {
        switch type {
        case "templateString": "string"
        case "templateStringArray", "stringArray": "an array of strings"
        case "intArray": "an array of ints"
        default: type
        }
    }
}

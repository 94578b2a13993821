/// A `rules.traces` entry: spans chosen by a selector and what must hold of them, in every trace of the run
/// (the checks judge it trace by trace as traces complete; see `TraceAssertionCheck`).
///
/// ```yaml
/// traces:
///   - name: a project creation calls tasks
///     select: {service: cf_core.services.projects, name: POST /projects/create_with_tasks, kind: server}
///     descendant: {kind: client, child: {service: cf_core.services.tasks, kind: server}}
///   - name: one creation span per creation trace
///     traces_with: {name: POST /projects/create_with_tasks, kind: server}
///     select: {name: projects.create_with_tasks}
///     count: {min: 1, max: 1}
/// ```
///
/// Two families of assertion, judged differently:
/// - `count` is per trace: every trace in scope (every trace, or those with a span matching `traces_with`) must
///   have between `min` and `max` spans matching `select`. A trace with none fails `min: 1`.
/// - every other assertion (`duration`, `attributes`, `status`, `root`, `child`, `descendant`, `parent`) is per
///   span: every span matching `select` in a trace in scope must satisfy it.
///
/// A verdict never passes for lack of evidence: with no trace in scope, or with per-span assertions and no span
/// selected in the whole run, the rule is `no_data` (which fails the run).
package struct TraceAssertion: Sendable, Hashable {
    /// The rule's name in reports.
    package var name: String
    /// Only traces with at least one span matching this are judged (`traces_with:`); every trace when nil.
    package var scope: SpanSelector?
    /// The spans the assertions are about (`select:`).
    package var select: SpanSelector
    /// Per trace in scope: how many spans match `select` (`count: {min, max}`).
    package var count: CountRange?
    /// Per selected span: its duration's bounds (`duration: {min, max}`).
    package var duration: DurationBounds?
    /// Per selected span: conditions on attributes (`attributes:`), by key.
    package var attributes: [AttributeCondition] = []
    /// Per selected span: its status is one of these (`status:`); any when empty.
    package var status: [SpanSelector.Status] = []
    /// Per selected span: whether it must (true) or must not (false) be a root, a span with no parent (`root:`).
    package var root: Bool?
    /// Per selected span: at least one direct child matches (`child:`).
    package var child: SpanSelector?
    /// Per selected span: at least one span below it, at any depth, matches (`descendant:`).
    package var descendant: SpanSelector?
    /// Per selected span: its parent is in the trace and matches (`parent:`).
    package var parent: SpanSelector?

    package init(name: String, select: SpanSelector) {
        self.name = name
        self.select = select
    }

    /// Whether any per-span assertion is given (as opposed to `count` alone).
    package var hasSpanAssertions: Bool {
        duration != nil || !attributes.isEmpty || !status.isEmpty || root != nil || child != nil || descendant != nil || parent != nil
    }

    /// A range of counts; either end may be open.
    package struct CountRange: Sendable, Hashable, CustomStringConvertible {
        package var min: Int?
        package var max: Int?

        package init(min: Int? = nil, max: Int? = nil) {
            self.min = min
            self.max = max
        }

        package func contains(_ value: Int) -> Bool { value >= (min ?? 0) && value <= (max ?? .max) }

        package var description: String {
            switch (min, max) {
            case (let low?, let high?) where low == high: "exactly \(low)"
            case (let low?, let high?): "\(low) to \(high)"
            case (let low?, nil): "at least \(low)"
            case (nil, let high?): "at most \(high)"
            case (nil, nil): "any number"
            }
        }
    }

    /// Bounds of a span's duration; either end may be open.
    package struct DurationBounds: Sendable, Hashable {
        package var min: Duration?
        package var max: Duration?

        package init(min: Duration? = nil, max: Duration? = nil) {
            self.min = min
            self.max = max
        }
    }
}

/// Which spans of a trace something is about: every field given must hold (an empty selector matches every span).
///
/// Fields about the span itself (`service`, `name`, `name_matches`, `kind`, `status`, `attributes`) and about its
/// place in the trace (`root`, `child`, `descendant`, `parent`, each itself a selector), so that "a client span
/// whose child is a server span of tasks" is one selector: `{kind: client, child: {service: tasks, kind: server}}`.
package indirect enum SpanSelectorStructure: Sendable, Hashable {
    case child(SpanSelector)
    case descendant(SpanSelector)
    case parent(SpanSelector)
}

/// Which spans of a trace something is about (see ``TraceAssertion``).
package struct SpanSelector: Sendable, Hashable, CustomStringConvertible {
    /// OTLP span kinds by their scenario names.
    package enum Kind: String, Sendable, Hashable, CaseIterable {
        case unspecified, `internal`, server, client, producer, consumer
    }

    /// OTLP status codes by their scenario names.
    package enum Status: String, Sendable, Hashable, CaseIterable {
        case unset, ok, error
    }

    /// The resource's `service.name`, exactly.
    package var service: String?
    /// The span name, exactly.
    package var name: String?
    /// The span name, matched whole by a regular expression.
    package var namePattern: TextPattern?
    package var kind: Kind?
    package var status: Status?
    /// Every condition must hold.
    package var attributes: [AttributeCondition] = []
    /// Whether the span has no parent.
    package var root: Bool?
    /// Conditions on the spans around it.
    package var structure: [SpanSelectorStructure] = []

    package init(
        service: String? = nil,
        name: String? = nil,
        namePattern: TextPattern? = nil,
        kind: Kind? = nil,
        status: Status? = nil,
        attributes: [AttributeCondition] = [],
        root: Bool? = nil,
        structure: [SpanSelectorStructure] = []
    ) {
        self.service = service
        self.name = name
        self.namePattern = namePattern
        self.kind = kind
        self.status = status
        self.attributes = attributes
        self.root = root
        self.structure = structure
    }

    /// As the report says it: `server "POST /tasks" of tasks with http.route = /tasks`.
    package var description: String {
        var words: [String] = []
        words.append(kind.map { "\($0.rawValue) span" } ?? "span")
        if let name { words.append("\"\(name)\"") }
        if let namePattern { words.append("named like /\(namePattern.source)/") }
        if let service { words.append("of \(service)") }
        if let status { words.append("with status \(status.rawValue)") }
        if !attributes.isEmpty { words.append("with " + attributes.map(\.description).joined(separator: " and ")) }
        if let root { words.append(root ? "that is a root" : "that is not a root") }
        for part in structure {
            switch part {
            case .child(let child): words.append("with a child \(child)")
            case .descendant(let below): words.append("with a descendant \(below)")
            case .parent(let parent): words.append("under a parent \(parent)")
            }
        }
        return words.joined(separator: " ")
    }
}

/// A condition on one attribute: equal to a value (as text), matching a regular expression, present or absent.
/// The key is looked up in the span's attributes, then in its resource's.
package struct AttributeCondition: Sendable, Hashable, CustomStringConvertible {
    /// What must hold of the value.
    package enum Test: Sendable, Hashable {
        /// The value, as text (`201`, `true`, `POST`), equals this.
        case equals(String)
        /// The value, as text, matches this whole.
        case matches(TextPattern)
        /// The attribute is present (true) or absent (false).
        case exists(Bool)
    }

    package var key: String
    package var test: Test

    package init(key: String, test: Test) {
        self.key = key
        self.test = test
    }

    /// `http.route = /tasks`, `url.path ~ /tasks/.*`, `has server.address`.
    package var description: String {
        switch test {
        case .equals(let value): "\(key) = \(value)"
        case .matches(let pattern): "\(key) ~ /\(pattern.source)/"
        case .exists(let present): present ? "\(key) present" : "no \(key)"
        }
    }

    /// Whether `value` (the attribute's text, nil when absent) satisfies the condition.
    package func holds(for value: String?) -> Bool {
        switch test {
        case .equals(let expected): value == expected
        case .matches(let pattern): value.map(pattern.matches) ?? false
        case .exists(let present): (value != nil) == present
        }
    }
}

/// A regular expression matched against a whole text (anchored at both ends, as Prometheus' `=~`). Compiled once,
/// when the scenario loads; equal when the source is.
package struct TextPattern: @unchecked Sendable, Hashable {
    // Regex is not Sendable; it is only ever read.
    private let regex: Regex<AnyRegexOutput>
    /// The expression as written.
    package let source: String

    /// Compiles `source`; throws the compiler's complaint when it is not a regular expression.
    package init(_ source: String) throws {
        regex = try Regex("^(?:\(source))$")
        self.source = source
    }

    package func matches(_ text: String) -> Bool { (try? regex.wholeMatch(in: text)) != nil }

    package static func == (lhs: TextPattern, rhs: TextPattern) -> Bool { lhs.source == rhs.source }

    package func hash(into hasher: inout Hasher) { hasher.combine(source) }
}

/// The `rules.semconv` rule: spans checked against the OpenTelemetry semantic conventions the binary carries
/// (HTTP server and client spans' required attributes, attribute types, deprecated names, HTTP span names).
///
/// ```yaml
/// semconv: {services: [cf_core.services.tasks]}   # or `semconv: true` for every service
/// ```
package struct SemanticConventionsRule: Sendable, Hashable {
    /// Only spans of these services (`service.name`) are checked; every service's when empty.
    package var services: [String] = []

    package init(services: [String] = []) { self.services = services }
}

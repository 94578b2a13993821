import Scenario
import Telemetry

/// The trace assertions flattened for judging: every selector they contain (nested ones too) numbered, so that a
/// span's own fields are matched once, on arrival, into one bit per selector, and the structural parts (`root`,
/// `child`, `descendant`, `parent`) are judged over those bits when the trace is complete.
struct CompiledAssertions: Sendable {
    /// One selector: its own fields, and its structural conditions by selector index.
    struct Selector: Sendable {
        var own: SpanSelector
        var root: Bool?
        var children: [Int] = []
        var descendants: [Int] = []
        var parents: [Int] = []
    }

    /// One assertion, its selectors by index.
    struct Assertion: Sendable {
        var source: TraceAssertion
        var scope: Int?
        var select: Int
        var child: Int?
        var descendant: Int?
        var parent: Int?
    }

    private(set) var selectors: [Selector] = []
    private(set) var assertions: [Assertion] = []

    init(_ sources: [TraceAssertion]) {
        for source in sources {
            let scope = source.scope.map { add($0) }
            let select = add(source.select)
            let child = source.child.map { add($0) }
            let descendant = source.descendant.map { add($0) }
            let parent = source.parent.map { add($0) }
            assertions.append(Assertion(source: source, scope: scope, select: select, child: child, descendant: descendant, parent: parent))
        }
    }

    private mutating func add(_ selector: SpanSelector) -> Int {
        var own = selector
        own.root = nil
        own.structure = []
        var compiled = Selector(own: own, root: selector.root)
        for part in selector.structure {
            switch part {
            case .child(let child): compiled.children.append(add(child))
            case .descendant(let below): compiled.descendants.append(add(below))
            case .parent(let parent): compiled.parents.append(add(parent))
            }
        }
        selectors.append(compiled)
        return selectors.count - 1
    }

    // MARK: On arrival

    /// The compact record of `span`: which selectors its own fields match, and the problems found by the
    /// per-span assertions that need nothing but the span.
    func record(_ span: Span) -> TraceAssertionJudge.Record {
        var bits = [UInt64](repeating: 0, count: (selectors.count + 63) / 64)
        for (index, selector) in selectors.enumerated() where Self.matchesOwn(selector.own, span) {
            bits[index >> 6] |= 1 << UInt64(index & 63)
        }
        var problems: [(assertion: Int, text: String)] = []
        for (index, assertion) in assertions.enumerated() where bits[assertion.select >> 6] & (1 << UInt64(assertion.select & 63)) != 0 {
            let found = Self.localProblems(assertion.source, span)
            if !found.isEmpty { problems.append((index, found.joined(separator: "; "))) }
        }
        return TraceAssertionJudge.Record(
            spanID: span.spanID,
            parentID: span.parentSpanID,
            service: span.resource.serviceName,
            name: span.name,
            kind: span.kind,
            durationNanos: span.durationNanos,
            matches: bits,
            localProblems: problems
        )
    }

    /// Whether the span's own fields match (structure aside).
    static func matchesOwn(_ selector: SpanSelector, _ span: Span) -> Bool {
        if let service = selector.service, span.resource.serviceName != service { return false }
        if let name = selector.name, span.name != name { return false }
        if let pattern = selector.namePattern, !pattern.matches(span.name) { return false }
        if let kind = selector.kind, kind.rawValue != span.kind.description { return false }
        if let status = selector.status, status != Self.status(span.status.code) { return false }
        return selector.attributes.allSatisfy { $0.holds(for: value(of: $0.key, in: span)) }
    }

    /// The duration, attribute and status assertions, over one span.
    static func localProblems(_ assertion: TraceAssertion, _ span: Span) -> [String] {
        var found: [String] = []
        if let bounds = assertion.duration {
            let seconds = Double(span.durationNanos) / 1e9
            if let low = bounds.min, seconds < low.inSeconds {
                found.append("lasted \(formatSeconds(seconds)), less than \(formatSeconds(low.inSeconds))")
            }
            if let high = bounds.max, seconds > high.inSeconds {
                found.append("lasted \(formatSeconds(seconds)), more than \(formatSeconds(high.inSeconds))")
            }
        }
        for condition in assertion.attributes {
            let value = value(of: condition.key, in: span)
            guard !condition.holds(for: value) else { continue }
            switch condition.test {
            case .exists(true): found.append("has no \(condition.key)")
            case .exists(false): found.append("has \(condition.key) = \(value ?? ""), which must be absent")
            default: found.append(value.map { "\(condition.key) is \($0), expected \(condition)" } ?? "has no \(condition.key), expected \(condition)")
            }
        }
        if !assertion.status.isEmpty, !assertion.status.contains(Self.status(span.status.code)) {
            let message = span.status.message.isEmpty ? "" : " (\(span.status.message))"
            found.append(
                "status \(Self.status(span.status.code).rawValue)\(message), expected \(assertion.status.map(\.rawValue).joined(separator: " or "))"
            )
        }
        return found
    }

    /// An attribute as text: the span's, else its resource's.
    static func value(of key: String, in span: Span) -> String? {
        (span.attributes[key] ?? span.resource.attributes[key])?.description
    }

    static func status(_ code: SpanStatus.Code) -> SpanSelector.Status {
        switch code {
        case .unset: .unset
        case .ok: .ok
        case .error: .error
        }
    }

    // MARK: When the trace is complete

    /// Judges one trace for every assertion into `tallies`; whether any assertion found a problem.
    func judge(_ traceID: TraceID, records: [TraceAssertionJudge.Record], into tallies: inout [TraceAssertionJudge.Tally], evidenceLimit: Int) -> Bool {
        var trace = TraceView(records: records, selectors: selectors)
        var broken = false
        for (index, assertion) in assertions.enumerated() {
            if let scope = assertion.scope, !records.indices.contains(where: { trace.matches(scope, $0) }) { continue }
            let selected = records.indices.filter { trace.matches(assertion.select, $0) }
            var problems: [String] = []
            if let count = assertion.source.count, !count.contains(selected.count) {
                let examples = selected.prefix(3).map { records[$0].described }.joined(separator: ", ")
                problems.append(
                    "\(selected.count) \(assertion.source.select) (expected \(count))\(examples.isEmpty ? "" : ": \(examples)\(selected.count > 3 ? ", ..." : "")")"
                )
            }
            if assertion.source.hasSpanAssertions {
                for position in selected {
                    let record = records[position]
                    var found = record.localProblems.filter { $0.assertion == index }.map(\.text)
                    if let root = assertion.source.root, (record.parentID == nil) != root {
                        found.append(root ? "is not a root: its parent is \(record.parentID.map { "\($0)" } ?? "")" : "is a root (no parent)")
                    }
                    if let child = assertion.child, !trace.children(of: position).contains(where: { trace.matches(child, $0) }) {
                        found.append("has no child \(selectors[child].describedWhole(selectors))")
                    }
                    if let below = assertion.descendant, !trace.hasDescendant(of: position, matching: below) {
                        found.append("has no descendant \(selectors[below].describedWhole(selectors))")
                    }
                    if let parent = assertion.parent, !(trace.parent(of: position).map { trace.matches(parent, $0) } ?? false) {
                        let actual = trace.parent(of: position).map { "its parent is \(records[$0].described)" } ?? "its parent is not in the trace"
                        found.append("parent is not a \(selectors[parent].describedWhole(selectors)): \(actual)")
                    }
                    if !found.isEmpty { problems.append("\(record.described) " + found.joined(separator: "; ")) }
                }
            }
            tallies[index].traces += 1
            tallies[index].spans += selected.count
            guard !problems.isEmpty else { continue }
            broken = true
            tallies[index].brokenTraces += 1
            tallies[index].problemCount += problems.count
            for text in problems where tallies[index].problems.count < evidenceLimit {
                tallies[index].problems.append(.init(trace: traceID.hex, text: text))
            }
        }
        return broken
    }
}

extension CompiledAssertions.Selector {
    /// The selector as written, nested parts included.
    func describedWhole(_ all: [CompiledAssertions.Selector]) -> String { whole(all).description }

    /// The selector as written, rebuilt from the flattened ones.
    func whole(_ all: [CompiledAssertions.Selector]) -> SpanSelector {
        var whole = own
        whole.root = root
        whole.structure =
            children.map { .child(all[$0].whole(all)) } + descendants.map { .descendant(all[$0].whole(all)) } + parents.map { .parent(all[$0].whole(all)) }
        return whole
    }
}

/// One complete trace, indexed for structural questions, with each (selector, span) answer computed once.
struct TraceView {
    let records: [TraceAssertionJudge.Record]
    let selectors: [CompiledAssertions.Selector]
    private let parentIndex: [Int?]
    private let childIndex: [[Int]]
    private var memo: [Int: [Bool?]] = [:]

    init(records: [TraceAssertionJudge.Record], selectors: [CompiledAssertions.Selector]) {
        self.records = records
        self.selectors = selectors
        var position: [SpanID: Int] = [:]
        for (index, record) in records.enumerated() where position[record.spanID] == nil { position[record.spanID] = index }
        var parents: [Int?] = []
        var children = [[Int]](repeating: [], count: records.count)
        for (index, record) in records.enumerated() {
            // A span that names itself as parent (a broken exporter) has no parent in the trace.
            let parent = record.parentID.flatMap { position[$0] }.flatMap { $0 == index ? nil : $0 }
            parents.append(parent)
            if let parent { children[parent].append(index) }
        }
        parentIndex = parents
        childIndex = children
    }

    func parent(of position: Int) -> Int? { parentIndex[position] }

    func children(of position: Int) -> [Int] { childIndex[position] }

    /// Whether any span below `position` matches `selector` (each span visited once, whatever the parent links).
    mutating func hasDescendant(of position: Int, matching selector: Int) -> Bool {
        var visited: Set<Int> = [position]
        var stack = childIndex[position]
        while let next = stack.popLast() {
            guard visited.insert(next).inserted else { continue }
            if matches(selector, next) { return true }
            stack += childIndex[next]
        }
        return false
    }

    /// Whether the span at `position` matches selector `index`, its structure included.
    mutating func matches(_ index: Int, _ position: Int) -> Bool {
        if let known = memo[index]?[position] ?? nil { return known }
        let selector = selectors[index]
        var result = records[position].matchesLocally(index)
        if result, let root = selector.root { result = (records[position].parentID == nil) == root }
        if result {
            for child in selector.children where !childIndex[position].contains(where: { matches(child, $0) }) {
                result = false
                break
            }
        }
        if result {
            for below in selector.descendants where !hasDescendant(of: position, matching: below) {
                result = false
                break
            }
        }
        if result {
            for parent in selector.parents where !(parentIndex[position].map { matches(parent, $0) } ?? false) {
                result = false
                break
            }
        }
        if memo[index] == nil { memo[index] = [Bool?](repeating: nil, count: records.count) }
        memo[index]![position] = result
        return result
    }
}

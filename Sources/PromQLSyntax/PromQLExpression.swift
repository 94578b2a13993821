/// A parsed PromQL expression: Prometheus 2.42's language (see ``PromQLParser``).
package indirect enum PromQLExpression: Sendable, Hashable, CustomStringConvertible {
    case number(Double)
    case string(String)
    /// `name{matchers} offset d`.
    case vectorSelector(VectorSelector)
    /// `selector[range]`.
    case matrixSelector(VectorSelector, range: Duration)
    /// `expression[range:step]`: an instant-vector expression evaluated at every multiple of the step in the range.
    case subquery(Subquery)
    case call(function: String, arguments: [PromQLExpression])
    case aggregate(Aggregation)
    case binary(BinaryOperation)
    case unaryMinus(PromQLExpression)
    case parenthesized(PromQLExpression)

    /// The type of value the expression yields, as Prometheus names it.
    package var type: ValueType {
        // A loop, not recursion: parentheses and unary minus may nest deeply.
        var expression = self
        while true {
            switch expression {
            case .number: return .scalar
            case .string: return .string
            case .vectorSelector, .aggregate: return .vector
            case .matrixSelector, .subquery: return .matrix
            case .call(let function, _): return PromQLFunctionSignature.all[function]?.returns ?? .vector
            case .binary(let operation): return operation.type
            case .unaryMinus(let inner), .parenthesized(let inner): expression = inner
            }
        }
    }

    /// The expressions directly inside this one (not their insides).
    package var children: [PromQLExpression] {
        switch self {
        case .number, .string, .vectorSelector, .matrixSelector: []
        case .subquery(let subquery): [subquery.expression]
        case .call(_, let arguments): arguments
        case .aggregate(let aggregation): (aggregation.parameter.map { [$0] } ?? []) + [aggregation.expression]
        case .binary(let operation): [operation.lhs, operation.rhs]
        case .unaryMinus(let inner), .parenthesized(let inner): [inner]
        }
    }

    /// How deeply the expression nests: 1 for a leaf. Counted without recursion, so any tree can be measured.
    package var height: Int {
        var deepest = 0
        var pending: [(PromQLExpression, Int)] = [(self, 1)]
        while let (expression, depth) = pending.popLast() {
            deepest = max(deepest, depth)
            for child in expression.children { pending.append((child, depth + 1)) }
        }
        return deepest
    }

    /// The expression without outer parentheses.
    package var unwrapped: PromQLExpression {
        if case .parenthesized(let inner) = self { return inner.unwrapped }
        return self
    }

    package var description: String {
        switch self {
        case .number(let value): PromQLFormat.number(value)
        case .string(let text): "\"\(PromQLFormat.escape(text))\""
        case .vectorSelector(let selector): selector.description
        case .matrixSelector(let selector, let range):
            "\(selector.withoutModifiers)[\(PromQLFormat.duration(range))]\(selector.modifierText)"
        case .subquery(let subquery): subquery.description
        case .call(let function, let arguments): "\(function)(\(arguments.map(\.description).joined(separator: ", ")))"
        case .aggregate(let aggregation): aggregation.description
        case .binary(let operation): operation.description
        case .unaryMinus(let inner): "-\(inner)"
        case .parenthesized(let inner): "(\(inner))"
        }
    }
}

/// The four types of PromQL values.
package enum ValueType: String, Sendable, Hashable {
    case scalar
    case vector
    case matrix
    case string
}

/// `@ <timestamp>`, `@ start()` or `@ end()`: the time a selector or subquery is evaluated at, whatever the
/// query's evaluation time.
package enum AtModifier: Sendable, Hashable, CustomStringConvertible {
    /// A fixed time, milliseconds since the epoch.
    case timestamp(Int64)
    /// The range query's start (an instant query's time).
    case start
    /// The range query's end (an instant query's time).
    case end

    package var description: String {
        switch self {
        case .timestamp(let milliseconds): "@ \(PromQLFormat.number(Double(milliseconds) / 1000))"
        case .start: "@ start()"
        case .end: "@ end()"
        }
    }

    /// The time (ms) this modifier names in a query from `start` to `end`.
    package func time(start: Int64, end: Int64) -> Int64 {
        switch self {
        case .timestamp(let milliseconds): milliseconds
        case .start: start
        case .end: end
        }
    }
}

/// `expression[range:step] offset d @ t`: the expression evaluated at every multiple of `step` (absolute,
/// not relative to the query) within `[t - offset - range, t - offset]`.
package struct Subquery: Sendable, Hashable, CustomStringConvertible {
    package var expression: PromQLExpression
    package var range: Duration
    /// Nil when left out (`[5m:]`): the engine's default evaluation interval.
    package var step: Duration?
    package var offset: Duration = .zero
    package var at: AtModifier?
    /// Where the subquery's `[` is in the query text: which subquery of the query this is (the engine
    /// remembers each one's steps by it). Not part of equality: the same subquery written elsewhere is equal.
    package var position: Int

    package init(
        expression: PromQLExpression,
        range: Duration,
        step: Duration?,
        offset: Duration = .zero,
        at: AtModifier? = nil,
        position: Int = 0
    ) {
        self.expression = expression
        self.range = range
        self.step = step
        self.offset = offset
        self.at = at
        self.position = position
    }

    package static func == (lhs: Subquery, rhs: Subquery) -> Bool {
        lhs.expression == rhs.expression && lhs.range == rhs.range && lhs.step == rhs.step && lhs.offset == rhs.offset && lhs.at == rhs.at
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(expression)
        hasher.combine(range)
        hasher.combine(step)
        hasher.combine(offset)
        hasher.combine(at)
    }

    package var description: String {
        let stepText = step.map { PromQLFormat.duration($0) } ?? ""
        let offsetText = offset == .zero ? "" : " offset \(PromQLFormat.duration(offset))"
        let atText = at.map { " \($0)" } ?? ""
        return "\(expression)[\(PromQLFormat.duration(range)):\(stepText)]\(offsetText)\(atText)"
    }
}

/// A series selector: matchers on labels (the metric name is the `__name__` matcher), an offset and an `@` time.
package struct VectorSelector: Sendable, Hashable, CustomStringConvertible {
    package var matchers: [LabelMatcher]
    package var offset: Duration
    package var at: AtModifier?

    package init(matchers: [LabelMatcher], offset: Duration = .zero, at: AtModifier? = nil) {
        self.matchers = matchers
        self.offset = offset
        self.at = at
    }

    /// The time (ms) whose samples the selector reads when the query is evaluated at `time`: the `@` time
    /// (or `time`) minus the offset, with Go's wrapping arithmetic as Prometheus has it.
    package func referenceTime(at time: Int64, start: Int64, end: Int64) -> Int64 {
        (at?.time(start: start, end: end) ?? time) &- PromQLFormat.milliseconds(offset)
    }

    /// The metric name when the selector names one with `=`.
    package var metricName: String? {
        matchers.first { $0.name == "__name__" && $0.kind == .equal }?.value
    }

    var withoutModifiers: VectorSelector { VectorSelector(matchers: matchers) }

    /// ` offset 5m @ 100`, or nothing.
    var modifierText: String {
        (offset == .zero ? "" : " offset \(PromQLFormat.duration(offset))") + (at.map { " \($0)" } ?? "")
    }

    package var description: String {
        // The name goes before the braces only when it reads back as a metric name there: otherwise (a name written
        // `{__name__="…"}` that is not an identifier, or that would read as a keyword, an aggregation, Inf or NaN)
        // it stays a matcher, as Prometheus prints a selector it was given that way.
        let name = metricName.flatMap { Self.readsBackAsName($0) ? $0 : nil }
        let others = matchers.filter { !($0.name == "__name__" && $0.kind == .equal && $0.value == name) }
        let braces = others.isEmpty && name != nil ? "" : "{\(others.map(\.description).joined(separator: ", "))}"
        return "\(name ?? "")\(braces)\(modifierText)"
    }
}

extension VectorSelector {
    /// Whether `name`, written before a selector's braces, is read back as its metric name: an identifier as the
    /// lexer reads one (`[a-zA-Z_][a-zA-Z0-9_:]*`) that the parser takes for a selector.
    static func readsBackAsName(_ name: String) -> Bool {
        guard let first = name.utf8.first, PrometheusNames.isNameStart(first), PrometheusNames.isMetricName(name) else { return false }
        let lower = name.lowercased()
        return lower != "inf" && lower != "nan" && !PromQLParser.keywords.contains(lower) && !PromQLParser.aggregations.contains(lower)
    }
}

/// One label matcher: `name="value"`, `!=`, `=~` or `!~` (regular expressions anchored at both ends).
package struct LabelMatcher: Sendable, Hashable, CustomStringConvertible {
    package enum Kind: String, Sendable, Hashable {
        case equal = "="
        case notEqual = "!="
        case matchesRegex = "=~"
        case notMatchesRegex = "!~"
    }

    package var name: String
    package var kind: Kind
    package var value: String
    let pattern: AnchoredPattern?

    /// Fails when a regular expression does not compile.
    package init(name: String, kind: Kind, value: String) throws(PromQLError) {
        self.name = name
        self.kind = kind
        self.value = value
        if kind == .matchesRegex || kind == .notMatchesRegex {
            pattern = try AnchoredPattern(value)
        } else {
            pattern = nil
        }
    }

    /// Whether a label value (empty when the label is absent) matches. Values compare byte for byte, as
    /// Prometheus compares them (not by Swift's canonical equivalence); regular expressions as
    /// ``AnchoredPattern`` describes.
    package func matches(_ candidate: String) -> Bool {
        switch kind {
        case .equal: sameBytes(candidate, value)
        case .notEqual: !sameBytes(candidate, value)
        case .matchesRegex: pattern!.matches(candidate)
        case .notMatchesRegex: !pattern!.matches(candidate)
        }
    }

    /// Whether matching costs more than a hash lookup (a regular expression run by an NFA or Swift's
    /// `Regex`), so that a selection should remember the verdict for each label value.
    package var isCostly: Bool { pattern?.isCostly ?? false }

    package var description: String { "\(name)\(kind.rawValue)\"\(PromQLFormat.escape(value))\"" }

    /// Byte for byte, as the values match (canonically equivalent values select different series); the
    /// hash, by Swift's canonical equivalence, stays consistent with that.
    package static func == (lhs: LabelMatcher, rhs: LabelMatcher) -> Bool {
        lhs.kind == rhs.kind && sameBytes(lhs.name, rhs.name) && sameBytes(lhs.value, rhs.value)
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(kind)
        hasher.combine(value)
    }
}

/// `sum by (a) (x)`, `topk(3, x)` and the like.
package struct Aggregation: Sendable, Hashable, CustomStringConvertible {
    package var operation: String
    /// `topk`'s k, `quantile`'s φ.
    package var parameter: PromQLExpression?
    package var expression: PromQLExpression
    /// The `by`/`without` labels, `nil` when neither is given (everything aggregated into one).
    package var grouping: Grouping?

    package enum Grouping: Sendable, Hashable {
        case by([String])
        case without([String])
    }

    package var description: String {
        let groupingText: String =
            switch grouping {
            case nil: ""
            case .by(let labels): " by (\(labels.joined(separator: ", ")))"
            case .without(let labels): " without (\(labels.joined(separator: ", ")))"
            }
        let arguments = (parameter.map { [$0.description] } ?? []) + [expression.description]
        return "\(operation)\(groupingText) (\(arguments.joined(separator: ", ")))"
    }
}

/// A binary operation with its modifiers.
package struct BinaryOperation: Sendable, Hashable, CustomStringConvertible {
    package var op: BinaryOperator
    package var lhs: PromQLExpression
    package var rhs: PromQLExpression
    /// `bool`: comparisons yield 0/1 instead of filtering.
    package var returnBool: Bool
    package var matching: VectorMatching?
    /// Scalar when both sides are, else instant vector (worked out once: chains of operators are deep).
    package let type: ValueType

    package init(op: BinaryOperator, lhs: PromQLExpression, rhs: PromQLExpression, returnBool: Bool = false, matching: VectorMatching? = nil) {
        self.op = op
        self.lhs = lhs
        self.rhs = rhs
        self.returnBool = returnBool
        self.matching = matching
        type = lhs.type == .scalar && rhs.type == .scalar ? .scalar : .vector
    }

    package var description: String {
        var modifiers = returnBool ? " bool" : ""
        if let matching { modifiers += matching.description }
        return "\(lhs) \(op.rawValue)\(modifiers) \(rhs)"
    }
}

/// The PromQL binary operators.
package enum BinaryOperator: String, Sendable, Hashable, CaseIterable {
    case add = "+"
    case subtract = "-"
    case multiply = "*"
    case divide = "/"
    case modulo = "%"
    case power = "^"
    case equal = "=="
    case notEqual = "!="
    case greater = ">"
    case less = "<"
    case greaterOrEqual = ">="
    case lessOrEqual = "<="
    case atan2
    case and, or, unless

    package var isComparison: Bool { [.equal, .notEqual, .greater, .less, .greaterOrEqual, .lessOrEqual].contains(self) }
    package var isSetOperator: Bool { [.and, .or, .unless].contains(self) }

    /// Binding strength, higher binds tighter (Prometheus' order).
    var precedence: Int {
        switch self {
        case .or: 1
        case .and, .unless: 2
        case .equal, .notEqual, .greater, .less, .greaterOrEqual, .lessOrEqual: 3
        case .add, .subtract: 4
        case .multiply, .divide, .modulo, .atan2: 5
        case .power: 6
        }
    }
}

/// `on(...)`/`ignoring(...)` and `group_left`/`group_right`.
package struct VectorMatching: Sendable, Hashable, CustomStringConvertible {
    package enum Cardinality: Sendable, Hashable {
        case oneToOne
        case manyToOne
        case oneToMany
    }

    package var cardinality: Cardinality = .oneToOne
    /// The labels named in `on(...)` or `ignoring(...)`.
    package var labels: [String] = []
    /// `on` (true) or `ignoring` (false).
    package var on: Bool = false
    /// The labels `group_left(...)`/`group_right(...)` copy from the "one" side.
    package var include: [String] = []

    package var description: String {
        var text = ""
        if on || !labels.isEmpty { text += " \(on ? "on" : "ignoring")(\(labels.joined(separator: ", ")))" }
        switch cardinality {
        case .oneToOne: break
        case .manyToOne: text += " group_left(\(include.joined(separator: ", ")))"
        case .oneToMany: text += " group_right(\(include.joined(separator: ", ")))"
        }
        return text
    }
}

/// A PromQL mistake: what is wrong and where (a character offset into the expression).
package struct PromQLError: Error, Sendable, Hashable, CustomStringConvertible {
    package var message: String
    package var offset: Int

    package init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    package var description: String { "\(message) (at character \(offset + 1))" }
}

/// Parses PromQL as Prometheus 2.42 does, and type-checks it as Prometheus' parser does.
///
/// Every construct of Prometheus 2.x: number and string literals; vector selectors with `=`, `!=`, `=~`,
/// `!~` matchers; range selectors and subqueries (`x[5m:1m]`, `x[5m:]`); the `offset` and `@` modifiers
/// (`@ 1700000000`, `@ start()`, `@ end()`); every function in ``PromQLFunctionSignature/all``; the
/// aggregations with `by`/`without`; arithmetic (`+ - * / % ^ atan2`), comparison (`== != > < >= <=`, with
/// `bool`) and set (`and or unless`) operators with `on`/`ignoring` and `group_left`/`group_right`; unary
/// minus; parentheses; comments.
///
/// Expressions may nest at most ``maximumNestingDepth`` deep (parentheses, calls, unary minus, operator
/// chains): parsing, evaluating and printing them is recursive, and a deeper one is a ``PromQLError``
/// naming the limit rather than a stack overflow.
package enum PromQLParser {
    /// How deeply an expression may nest. Prometheus has no limit (Go stacks grow); OTelBench evaluates on
    /// threads with a fixed stack, which this depth fits in debug builds with a wide margin
    /// (``PromQLEvaluationThread``); 3,000 nested parentheses, which Prometheus answers, parse.
    package static let maximumNestingDepth = 5_000

    /// Parses and type-checks `text`.
    package static func parse(_ text: String) throws(PromQLError) -> PromQLExpression {
        // A text this short cannot nest deep enough to matter; a longer one is parsed on a large stack, wherever
        // it comes from (a scenario file, a rule file, the query API).
        guard text.utf8.count > LargeStack.shallow * 2 else { return try parseHere(text) }
        return try LargeStack.run { Result { () throws(PromQLError) in try parseHere(text) } }.get()
    }

    private static func parseHere(_ text: String) throws(PromQLError) -> PromQLExpression {
        var parser = Parser(tokens: try Lexer.tokenize(text))
        let expression = try parser.expression(minimumPrecedence: 0)
        guard case .end = parser.current.kind else {
            throw PromQLError(message: "unexpected \(parser.current.text) after a complete expression", offset: parser.current.offset)
        }
        // Chains of left-associative operators are parsed in a loop but are as deep as they are long.
        guard expression.height <= maximumNestingDepth else { throw tooDeep(at: 0) }
        return expression
    }

    static func tooDeep(at offset: Int) -> PromQLError {
        PromQLError(
            message:
                "expression nests more than \(maximumNestingDepth) levels deep (parentheses, function calls, unary operators and chained binary operators count): simplify it",
            offset: offset
        )
    }

    /// A Prometheus duration on its own (`5m`, `1h30m`, `250ms`), or nil when `text` is not exactly one.
    package static func duration(_ text: String) -> Duration? {
        guard let tokens = try? Lexer.tokenize(text), tokens.count == 2, case .duration(let duration) = tokens[0].kind else { return nil }
        return duration
    }

    static let aggregations: Set<String> = [
        "sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values",
    ]

    /// Words the lexer of Prometheus reserves: never a metric name.
    static let keywords: Set<String> = ["by", "without", "on", "ignoring", "bool", "offset", "group_left", "group_right", "atan2", "and", "or", "unless"]
}

private struct Parser {
    let tokens: [Token]
    var index = 0
    /// How many ``expression(minimumPrecedence:)`` calls are under way: the parser's recursion depth.
    var depth = 0

    init(tokens: [Token]) { self.tokens = tokens }

    var current: Token { tokens[index] }

    mutating func advance() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    func isPunctuation(_ symbol: String) -> Bool { current.kind == .punctuation(symbol) }

    func isKeyword(_ word: String) -> Bool {
        if case .identifier(let name) = current.kind { return name.lowercased() == word }
        return false
    }

    mutating func expect(_ symbol: String, _ context: String) throws(PromQLError) {
        guard isPunctuation(symbol) else {
            throw PromQLError(message: "expected \"\(symbol)\" \(context), found \(current.text)", offset: current.offset)
        }
        _ = advance()
    }

    // MARK: binary operators

    /// The binary operator at the current token, if any.
    func binaryOperator() -> BinaryOperator? {
        switch current.kind {
        case .punctuation(let symbol): BinaryOperator(rawValue: symbol).flatMap { $0.isSetOperator ? nil : $0 }
        case .identifier(let name): BinaryOperator(rawValue: name.lowercased()).flatMap { $0.isSetOperator || $0 == .atan2 ? $0 : nil }
        default: nil
        }
    }

    mutating func expression(minimumPrecedence: Int) throws(PromQLError) -> PromQLExpression {
        depth += 1
        defer { depth -= 1 }
        guard depth <= PromQLParser.maximumNestingDepth else { throw PromQLParser.tooDeep(at: current.offset) }
        var lhs = try unary()
        while let op = binaryOperator(), op.precedence >= minimumPrecedence {
            let operatorToken = advance()
            var returnBool = false
            if isKeyword("bool") {
                guard op.isComparison else { throw PromQLError(message: "bool modifier can only be used on comparison operators", offset: current.offset) }
                _ = advance()
                returnBool = true
            }
            let matching = try vectorMatching(for: op)
            // `^` is right-associative, everything else left-associative.
            let rhs = try expression(minimumPrecedence: op == .power ? op.precedence : op.precedence + 1)
            let operation = BinaryOperation(op: op, lhs: lhs, rhs: rhs, returnBool: returnBool, matching: matching)
            try check(operation, at: operatorToken.offset)
            lhs = .binary(operation)
        }
        return lhs
    }

    mutating func vectorMatching(for op: BinaryOperator) throws(PromQLError) -> VectorMatching? {
        var matching: VectorMatching?
        if isKeyword("on") || isKeyword("ignoring") {
            let on = isKeyword("on")
            _ = advance()
            matching = VectorMatching(labels: try labelList(), on: on)
        }
        if isKeyword("group_left") || isKeyword("group_right") {
            let offset = current.offset
            let left = isKeyword("group_left")
            _ = advance()
            guard !op.isSetOperator else { throw PromQLError(message: "no grouping allowed for \"\(op.rawValue)\" operation", offset: offset) }
            var grouped = matching ?? VectorMatching()
            grouped.cardinality = left ? .manyToOne : .oneToMany
            grouped.include = isPunctuation("(") ? try labelList() : []
            matching = grouped
        }
        return matching
    }

    mutating func labelList() throws(PromQLError) -> [String] {
        try expect("(", "to open a label list")
        var labels: [String] = []
        while !isPunctuation(")") {
            guard case .identifier(let name) = current.kind else {
                throw PromQLError(message: "expected a label name in the label list, found \(current.text)", offset: current.offset)
            }
            _ = advance()
            labels.append(name)
            if isPunctuation(",") { _ = advance() } else { break }
        }
        try expect(")", "to close the label list")
        return labels
    }

    /// The rules of Prometheus' parser for binary operations.
    func check(_ operation: BinaryOperation, at offset: Int) throws(PromQLError) {
        let (lhsType, rhsType) = (operation.lhs.type, operation.rhs.type)
        for type in [lhsType, rhsType] where type != .scalar && type != .vector {
            throw PromQLError(message: "binary expression must contain only scalar and instant vector types", offset: offset)
        }
        let bothVectors = lhsType == .vector && rhsType == .vector
        if operation.op.isSetOperator {
            guard bothVectors else {
                throw PromQLError(message: "set operator \"\(operation.op.rawValue)\" not allowed in binary scalar expression", offset: offset)
            }
        }
        if operation.op.isComparison, !operation.returnBool, lhsType == .scalar, rhsType == .scalar {
            throw PromQLError(message: "comparisons between scalars must use BOOL modifier", offset: offset)
        }
        if let matching = operation.matching, !bothVectors, matching.on || !matching.labels.isEmpty || matching.cardinality != .oneToOne {
            throw PromQLError(message: "vector matching only allowed between instant vectors", offset: offset)
        }
        if let matching = operation.matching, matching.on, matching.cardinality != .oneToOne {
            for label in matching.include where matching.labels.contains(label) {
                throw PromQLError(message: "label \"\(label)\" must not occur in ON and GROUP clause at once", offset: offset)
            }
        }
    }

    // MARK: unary, postfix, primary

    mutating func unary() throws(PromQLError) -> PromQLExpression {
        if isPunctuation("-") || isPunctuation("+") {
            let negative = isPunctuation("-")
            let offset = advance().offset
            // Unary minus binds like multiplication: -2^2 is -(2^2).
            let operand = try expression(minimumPrecedence: BinaryOperator.power.precedence)
            guard operand.type == .scalar || operand.type == .vector else {
                throw PromQLError(message: "unary expression only allowed on expressions of type scalar or instant vector", offset: offset)
            }
            if case .number(let value) = operand { return .number(negative ? -value : value) }
            return negative ? .unaryMinus(operand) : operand
        }
        return try postfix()
    }

    // The functions on the recursive path (expression → unary → postfix → primary → call → expression) keep
    // their frames small: debug builds give every local and temporary its own stack slot, so the work of each
    // modifier is done in helpers that return before the next level starts.

    mutating func postfix() throws(PromQLError) -> PromQLExpression {
        var expression = try primary()
        while let modified = try postfixModifier(on: expression) { expression = modified }
        return expression
    }

    /// `expression` with the range, subquery, `offset` or `@` that follows it, or nil when none does.
    mutating func postfixModifier(on expression: PromQLExpression) throws(PromQLError) -> PromQLExpression? {
        if isPunctuation("[") { return try rangeOrSubquery(on: expression) }
        if isKeyword("offset") { return try offsetModifier(on: expression) }
        if isPunctuation("@") { return try atModifier(on: expression) }
        return nil
    }

    mutating func rangeOrSubquery(on expression: PromQLExpression) throws(PromQLError) -> PromQLExpression {
        let bracket = advance().offset
        let range = try positiveDuration("in the range")
        if isPunctuation(":") {
            _ = advance()
            let step: Duration? = if case .duration = current.kind { try positiveDuration("as the subquery step") } else { nil }
            try expect("]", "to close the subquery")
            guard expression.type == .vector else {
                throw PromQLError(message: "subquery is only allowed on instant vector, got \(typeName(expression.type))", offset: bracket)
            }
            return .subquery(Subquery(expression: expression, range: range, step: step, position: bracket))
        }
        try expect("]", "to close the range")
        guard case .vectorSelector(let selector) = expression else {
            throw PromQLError(message: "ranges only allowed for vector selectors", offset: bracket)
        }
        guard selector.offset == .zero else { throw PromQLError(message: "no offset modifiers allowed before range", offset: bracket) }
        guard selector.at == nil else { throw PromQLError(message: "no @ modifiers allowed before range", offset: bracket) }
        return .matrixSelector(selector, range: range)
    }

    mutating func offsetModifier(on expression: PromQLExpression) throws(PromQLError) -> PromQLExpression {
        let offset = advance().offset
        var negative = false
        if isPunctuation("-") {
            _ = advance()
            negative = true
        }
        let amount = try positiveDuration("after offset")
        return try modified(expression, at: offset) { offset, _ throws(PromQLError) in
            guard offset == .zero else { throw PromQLError(message: "offset may not be set multiple times", offset: 0) }
            offset = negative ? .zero - amount : amount
        }
    }

    mutating func atModifier(on expression: PromQLExpression) throws(PromQLError) -> PromQLExpression {
        let offset = advance().offset
        let time = try atTime()
        return try modified(expression, at: offset) { _, at throws(PromQLError) in
            guard at == nil else { throw PromQLError(message: "@ <timestamp> may not be set multiple times", offset: 0) }
            at = time
        }
    }

    /// A positive duration token (Prometheus refuses `0s` in ranges, steps and offsets).
    mutating func positiveDuration(_ context: String) throws(PromQLError) -> Duration {
        guard case .duration(let duration) = current.kind else {
            throw PromQLError(message: "expected a duration like 5m \(context), found \(current.text)", offset: current.offset)
        }
        guard duration > .zero else { throw PromQLError(message: "duration must be greater than 0", offset: current.offset) }
        _ = advance()
        return duration
    }

    /// What follows `@`: `start()`, `end()` or a number of Unix seconds, optionally signed.
    mutating func atTime() throws(PromQLError) -> AtModifier {
        let offset = current.offset
        if isKeyword("start") || isKeyword("end") {
            let isStart = isKeyword("start")
            _ = advance()
            try expect("(", "after \(isStart ? "start" : "end")")
            try expect(")", "after \(isStart ? "start(" : "end(")")
            return isStart ? .start : .end
        }
        var sign = 1.0
        if isPunctuation("-") || isPunctuation("+") {
            if isPunctuation("-") { sign = -1 }
            _ = advance()
        }
        let value: Double
        switch current.kind {
        case .number(let number): value = number
        case .identifier(let name) where name.lowercased() == "inf": value = .infinity
        case .identifier(let name) where name.lowercased() == "nan": value = .nan
        default:
            throw PromQLError(message: "expected a timestamp (Unix seconds), start() or end() after @, found \(current.text)", offset: current.offset)
        }
        _ = advance()
        let seconds = sign * value
        // Prometheus' bounds, then its conversion: Go's int64(), which on amd64 turns overflow into the minimum.
        guard seconds.isFinite, seconds < Double(Int64.max), seconds > Double(Int64.min) else {
            throw PromQLError(message: "timestamp out of bounds for @ modifier: \(GoConversion.formatFixed(seconds))", offset: offset)
        }
        return .timestamp(GoConversion.int64((seconds * 1000).rounded(.toNearestOrAwayFromZero)))
    }

    /// `expression` with its offset or `@` changed by `change`; only selectors and subqueries have them.
    func modified(
        _ expression: PromQLExpression,
        at offset: Int,
        _ change: (inout Duration, inout AtModifier?) throws(PromQLError) -> Void
    ) throws(PromQLError) -> PromQLExpression {
        do throws(PromQLError) {
            switch expression {
            case .vectorSelector(var selector):
                try change(&selector.offset, &selector.at)
                return .vectorSelector(selector)
            case .matrixSelector(var selector, let range):
                try change(&selector.offset, &selector.at)
                return .matrixSelector(selector, range: range)
            case .subquery(var subquery):
                try change(&subquery.offset, &subquery.at)
                return .subquery(subquery)
            default:
                throw PromQLError(
                    message: "offset and @ modifiers must be preceded by an instant vector selector or range vector selector or a subquery",
                    offset: offset
                )
            }
        } catch {
            throw PromQLError(message: error.message, offset: offset)
        }
    }

    mutating func primary() throws(PromQLError) -> PromQLExpression {
        if isPunctuation("(") {
            _ = advance()
            let inner = try expression(minimumPrecedence: 0)
            try expect(")", "to close the parenthesis")
            return .parenthesized(inner)
        }
        guard case .identifier(let name) = current.kind else { return try leaf() }
        let offset = advance().offset
        switch PrimaryKind(name, followedByParenthesis: isPunctuation("(")) {
        case .aggregation: return .aggregate(try aggregation(name.lowercased(), offset: offset))
        case .call: return try call(name, offset: offset)
        case .other: return try identifierLeaf(name, offset: offset)
        }
    }

    /// What an identifier starts.
    enum PrimaryKind {
        case aggregation, call, other

        init(_ name: String, followedByParenthesis: Bool) {
            let lower = name.lowercased()
            if PromQLParser.aggregations.contains(lower) {
                self = .aggregation
            } else if followedByParenthesis, lower != "inf", lower != "nan" {
                self = .call
            } else {
                self = .other
            }
        }
    }

    /// A number, a string or a selector starting with `{`.
    mutating func leaf() throws(PromQLError) -> PromQLExpression {
        let token = current
        switch token.kind {
        case .number(let value):
            _ = advance()
            return .number(value)
        case .string(let text):
            _ = advance()
            return .string(text)
        case .duration:
            throw PromQLError(message: "unexpected duration \(token.text): durations go in ranges ([5m]) and after offset", offset: token.offset)
        case .punctuation("{"):
            return .vectorSelector(try selector(name: nil, offset: token.offset))
        default:
            throw PromQLError(message: "unexpected \(token.text)", offset: token.offset)
        }
    }

    /// `Inf`, `NaN` or a selector starting with a metric name (the identifier already read).
    mutating func identifierLeaf(_ name: String, offset: Int) throws(PromQLError) -> PromQLExpression {
        let lower = name.lowercased()
        if lower == "inf" { return .number(.infinity) }
        if lower == "nan" { return .number(.nan) }
        if PromQLParser.keywords.contains(lower) { throw PromQLError(message: "unexpected keyword \"\(name)\"", offset: offset) }
        return .vectorSelector(try selector(name: name, offset: offset))
    }

    mutating func selector(name: String?, offset: Int) throws(PromQLError) -> VectorSelector {
        var matchers: [LabelMatcher] = []
        if let name { matchers.append(try LabelMatcher(name: "__name__", kind: .equal, value: name)) }
        if isPunctuation("{") {
            _ = advance()
            while !isPunctuation("}") {
                guard case .identifier(let label) = current.kind else {
                    throw PromQLError(message: "expected a label name in the selector, found \(current.text)", offset: current.offset)
                }
                let labelOffset = advance().offset
                guard case .punctuation(let symbol) = current.kind, let kind = LabelMatcher.Kind(rawValue: symbol) else {
                    throw PromQLError(message: "expected =, !=, =~ or !~ after label \(label), found \(current.text)", offset: current.offset)
                }
                _ = advance()
                guard case .string(let value) = current.kind else {
                    throw PromQLError(message: "expected a quoted label value for \(label), found \(current.text)", offset: current.offset)
                }
                _ = advance()
                do {
                    matchers.append(try LabelMatcher(name: label, kind: kind, value: value))
                } catch {
                    throw PromQLError(message: error.message, offset: labelOffset)
                }
                if isPunctuation(",") { _ = advance() } else { break }
            }
            try expect("}", "to close the selector")
        }
        if name != nil, matchers.filter({ $0.name == "__name__" }).count > 1 {
            throw PromQLError(message: "metric name must not be set twice", offset: offset)
        }
        guard matchers.contains(where: { !$0.matches("") }) else {
            throw PromQLError(message: "vector selector must contain at least one non-empty matcher", offset: offset)
        }
        return VectorSelector(matchers: matchers)
    }

    mutating func aggregation(_ operation: String, offset: Int) throws(PromQLError) -> Aggregation {
        var grouping = try groupingClause()
        try expect("(", "after \(operation)")
        var arguments: [PromQLExpression] = []
        while !isPunctuation(")") {
            arguments.append(try expression(minimumPrecedence: 0))
            if isPunctuation(",") { _ = advance() } else { break }
        }
        try expect(")", "to close \(operation)(...)")
        if grouping == nil { grouping = try groupingClause() }
        let takesParameter = ["topk", "bottomk", "quantile", "count_values"].contains(operation)
        guard arguments.count == (takesParameter ? 2 : 1) else {
            throw PromQLError(
                message: "wrong number of arguments for aggregate expression provided, expected \(takesParameter ? 2 : 1), got \(arguments.count)",
                offset: offset
            )
        }
        let expression = arguments.last!
        guard expression.type == .vector else {
            throw PromQLError(message: "expected type instant vector in aggregation expression, got \(typeName(expression.type))", offset: offset)
        }
        let parameterType: ValueType = operation == "count_values" ? .string : .scalar
        if takesParameter, arguments[0].type != parameterType {
            throw PromQLError(
                message: "expected type \(typeName(parameterType)) in aggregation parameter, got \(typeName(arguments[0].type))",
                offset: offset
            )
        }
        return Aggregation(operation: operation, parameter: takesParameter ? arguments[0] : nil, expression: expression, grouping: grouping)
    }

    mutating func groupingClause() throws(PromQLError) -> Aggregation.Grouping? {
        if isKeyword("by") {
            _ = advance()
            return .by(try labelList())
        }
        if isKeyword("without") {
            _ = advance()
            return .without(try labelList())
        }
        return nil
    }

    mutating func call(_ name: String, offset: Int) throws(PromQLError) -> PromQLExpression {
        guard let function = PromQLFunctionSignature.all[name] else { throw PromQLError(message: "unknown function with name \"\(name)\"", offset: offset) }
        try expect("(", "after \(name)")
        var arguments: [PromQLExpression] = []
        while !isPunctuation(")") {
            arguments.append(try expression(minimumPrecedence: 0))
            if isPunctuation(",") { _ = advance() } else { break }
        }
        try expect(")", "to close \(name)(...)")
        try check(arguments, of: name, against: function, at: offset)
        return .call(function: name, arguments: arguments)
    }

    /// Prometheus' checks of a call: the number of arguments, then each one's type.
    func check(_ arguments: [PromQLExpression], of name: String, against function: PromQLFunctionSignature, at offset: Int) throws(PromQLError) {
        // A repeating last argument may also be left out (Prometheus' variadic functions).
        let required = function.arguments.count - function.optionalArguments - (function.repeatsLastArgument ? 1 : 0)
        if function.repeatsLastArgument || function.optionalArguments > 0 {
            guard arguments.count >= required else {
                throw PromQLError(message: "expected at least \(required) argument(s) in call to \"\(name)\", got \(arguments.count)", offset: offset)
            }
            guard function.repeatsLastArgument || arguments.count <= function.arguments.count else {
                throw PromQLError(
                    message: "expected at most \(function.arguments.count) argument(s) in call to \"\(name)\", got \(arguments.count)",
                    offset: offset
                )
            }
        } else {
            guard arguments.count == required else {
                throw PromQLError(message: "expected \(required) argument(s) in call to \"\(name)\", got \(arguments.count)", offset: offset)
            }
        }
        for (position, argument) in arguments.enumerated() {
            let expected = function.arguments[min(position, function.arguments.count - 1)]
            guard argument.type == expected else {
                throw PromQLError(
                    message: "expected type \(typeName(expected)) in call to function \"\(name)\", got \(typeName(argument.type))",
                    offset: offset
                )
            }
        }
    }

    func typeName(_ type: ValueType) -> String {
        switch type {
        case .scalar: "scalar"
        case .vector: "instant vector"
        case .matrix: "range vector"
        case .string: "string"
        }
    }
}

/// Parses the PromQL subset OTelBench evaluates, and type-checks it as Prometheus' parser does.
///
/// Supported: number and string literals; vector selectors with `=`, `!=`, `=~`, `!~` matchers and
/// `offset`; range selectors; the functions in ``PromQLFunctions``; the aggregations `sum`, `avg`, `min`,
/// `max`, `count`, `group`, `stddev`, `stdvar`, `topk`, `bottomk`, `quantile` with `by`/`without`;
/// arithmetic (`+ - * / % ^`), comparison (`== != > < >= <=`, with `bool`) and set (`and or unless`)
/// operators with `on`/`ignoring` and `group_left`/`group_right`; unary minus; parentheses; comments.
/// Anything else — subqueries, `@`, functions outside the table — is a ``PromQLError`` naming the construct,
/// never a silently different answer.
package enum PromQLParser {
    /// Parses and type-checks `text`.
    package static func parse(_ text: String) throws(PromQLError) -> PromQLExpression {
        var parser = Parser(tokens: try Lexer.tokenize(text))
        let expression = try parser.expression(minimumPrecedence: 0)
        guard case .end = parser.current.kind else {
            throw PromQLError(message: "unexpected \(parser.current.text) after a complete expression", offset: parser.current.offset)
        }
        return expression
    }

    /// A Prometheus duration on its own (`5m`, `1h30m`, `250ms`), or nil when `text` is not exactly one.
    package static func duration(_ text: String) -> Duration? {
        guard let tokens = try? Lexer.tokenize(text), tokens.count == 2, case .duration(let duration) = tokens[0].kind else { return nil }
        return duration
    }

    static let aggregations: Set<String> = ["sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "topk", "bottomk", "quantile"]
    static let unsupportedAggregations: Set<String> = ["count_values", "limitk", "limit_ratio"]
}

private struct Parser {
    let tokens: [Token]
    var index = 0

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
        case .identifier(let name): BinaryOperator(rawValue: name.lowercased()).flatMap { $0.isSetOperator ? $0 : nil }
        default: nil
        }
    }

    mutating func expression(minimumPrecedence: Int) throws(PromQLError) -> PromQLExpression {
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

    mutating func postfix() throws(PromQLError) -> PromQLExpression {
        var expression = try primary()
        while true {
            if isPunctuation("[") {
                let offset = advance().offset
                guard case .duration(let range) = current.kind else {
                    throw PromQLError(message: "expected a duration like 5m in the range, found \(current.text)", offset: current.offset)
                }
                _ = advance()
                if isPunctuation(":") {
                    throw PromQLError(message: "subqueries (expr[range:step]) are not supported by OTelBench's PromQL subset", offset: offset)
                }
                try expect("]", "to close the range")
                guard case .vectorSelector(let selector) = expression else {
                    throw PromQLError(message: "ranges only allowed for vector selectors", offset: offset)
                }
                guard selector.offset == .zero else { throw PromQLError(message: "offset goes after the range: x[5m] offset 1m", offset: offset) }
                guard range > .zero else { throw PromQLError(message: "range must be positive", offset: offset) }
                expression = .matrixSelector(selector, range: range)
            } else if isKeyword("offset") {
                let offset = advance().offset
                var negative = false
                if isPunctuation("-") {
                    _ = advance()
                    negative = true
                }
                guard case .duration(let amount) = current.kind else {
                    throw PromQLError(message: "expected a duration after offset, found \(current.text)", offset: current.offset)
                }
                _ = advance()
                let shift = negative ? .zero - amount : amount
                switch expression {
                case .vectorSelector(var selector) where selector.offset == .zero:
                    selector.offset = shift
                    expression = .vectorSelector(selector)
                case .matrixSelector(var selector, let range) where selector.offset == .zero:
                    selector.offset = shift
                    expression = .matrixSelector(selector, range: range)
                default:
                    throw PromQLError(message: "offset modifier must be preceded by an instant vector selector or range vector selector (once)", offset: offset)
                }
            } else if isPunctuation("@") {
                throw PromQLError(message: "the @ modifier is not supported by OTelBench's PromQL subset", offset: current.offset)
            } else {
                return expression
            }
        }
    }

    mutating func primary() throws(PromQLError) -> PromQLExpression {
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
        case .punctuation("("):
            _ = advance()
            let inner = try expression(minimumPrecedence: 0)
            try expect(")", "to close the parenthesis")
            return .parenthesized(inner)
        case .punctuation("{"):
            return .vectorSelector(try selector(name: nil, offset: token.offset))
        case .identifier(let name):
            _ = advance()
            let lower = name.lowercased()
            if lower == "inf" { return .number(.infinity) }
            if lower == "nan" { return .number(.nan) }
            if PromQLParser.aggregations.contains(lower), isPunctuation("(") || isKeyword("by") || isKeyword("without") {
                return .aggregate(try aggregation(lower, offset: token.offset))
            }
            if PromQLParser.unsupportedAggregations.contains(lower) {
                throw PromQLError(message: "the aggregation \(name) is not supported by OTelBench's PromQL subset", offset: token.offset)
            }
            if isPunctuation("(") { return try call(name, offset: token.offset) }
            if BinaryOperator(rawValue: lower)?.isSetOperator == true
                || ["by", "without", "on", "ignoring", "bool", "offset", "group_left", "group_right"].contains(lower)
            {
                throw PromQLError(message: "unexpected keyword \"\(name)\"", offset: token.offset)
            }
            return .vectorSelector(try selector(name: name, offset: token.offset))
        default:
            throw PromQLError(message: "unexpected \(token.text)", offset: token.offset)
        }
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
        let takesParameter = ["topk", "bottomk", "quantile"].contains(operation)
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
        if takesParameter, arguments[0].type != .scalar {
            throw PromQLError(message: "expected type scalar in aggregation parameter, got \(typeName(arguments[0].type))", offset: offset)
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
        guard let function = PromQLFunctionSignature.all[name] else {
            let known = PromQLFunctionSignature.all.keys.sorted().joined(separator: ", ")
            throw PromQLError(message: "function \"\(name)\" is not supported by OTelBench's PromQL subset (supported: \(known))", offset: offset)
        }
        try expect("(", "after \(name)")
        var arguments: [PromQLExpression] = []
        while !isPunctuation(")") {
            arguments.append(try expression(minimumPrecedence: 0))
            if isPunctuation(",") { _ = advance() } else { break }
        }
        try expect(")", "to close \(name)(...)")
        let required = function.arguments.count - function.optionalArguments
        guard (required...function.arguments.count).contains(arguments.count) else {
            throw PromQLError(
                message:
                    "expected \(required == function.arguments.count ? "\(required)" : "\(required) to \(function.arguments.count)") argument(s) in call to \"\(name)\", got \(arguments.count)",
                offset: offset
            )
        }
        for (argument, expected) in zip(arguments, function.arguments) where argument.type != expected {
            throw PromQLError(message: "expected type \(typeName(expected)) in call to function \"\(name)\", got \(typeName(argument.type))", offset: offset)
        }
        return .call(function: name, arguments: arguments)
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

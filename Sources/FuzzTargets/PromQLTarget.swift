import PromQLSyntax

/// PromQL as the query API, scenario files and rule files parse it (``PromQLParser``): an expression prints
/// (its `description`) to text that parses to the same tree, and a parse error points inside the text.
enum PromQLTarget {
    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let text = String(decoding: bytes, as: UTF8.self)
        let expression: PromQLExpression
        do {
            expression = try PromQLParser.parse(text)
        } catch {
            try require(
                (0...text.utf8.count).contains(error.offset),
                "a parse error at offset \(error.offset) of a \(text.utf8.count)-byte expression: \(error.message)"
            )
            return
        }
        let printed = expression.description
        let reparsed: PromQLExpression
        do {
            reparsed = try PromQLParser.parse(printed)
        } catch {
            throw InvariantViolation(message: "\(text.debugDescription) prints as \(printed.debugDescription), which does not parse: \(error)")
        }
        // NaN's sign is not printed (Prometheus prints -NaN as NaN too) and means nothing: with a NaN, the printed
        // text must print again as itself.
        try require(
            same(reparsed, expression) || (printed.contains("NaN") && reparsed.description == printed),
            "\(text.debugDescription) prints as \(printed.debugDescription), which parses to another expression (\(reparsed.description.debugDescription))"
        )
    }
}

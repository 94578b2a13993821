import PromQLSyntax
import Scenario

/// Prometheus rule files as scenarios load them (``PrometheusRuleFile``): a file that loads has every rule at a
/// line of the file, with an expression that its own text parses to; one that does not names lines.
enum RuleFileTarget {
    static let file = "fuzz-rules.yaml"

    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = yamlLineCount(text)
        let rules: PrometheusRuleFile
        do {
            rules = try PrometheusRuleFile.parse(text, file: file)
        } catch {
            try ScenarioTarget.requireLocated(error, file: file, lines: lines)
            return
        }
        for rule in rules.groups.flatMap(\.rules) {
            try require((1...lines).contains(rule.line), "a rule at line \(rule.line) of a \(lines)-line file")
            try require(
                (try? PromQLParser.parse(rule.expressionText)).map { same($0, rule.expression) } == true,
                "rule at line \(rule.line): its expression text \(rule.expressionText.debugDescription) does not parse to its expression"
            )
        }
    }
}

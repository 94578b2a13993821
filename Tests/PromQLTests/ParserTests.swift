import PromQL
import PromQLSyntax
import Testing

@Suite struct ParserTests {
    @Test(arguments: [
        // The seed's dashboard and SLO expressions.
        "rate(migration_duration_seconds_sum[5m]) / rate(migration_duration_seconds_count[5m])",
        "histogram_quantile(0.95, sum(rate(migration_duration_seconds_bucket[5m])) by (le, phase))",
        "sum(rate(phase_success_total[5m])) / (sum(rate(phase_success_total[5m])) + sum(rate(phase_failure_total[5m])))",
        "histogram_quantile(0.99, sum(rate(rollback_duration_seconds_bucket[5m])) by (le, operation)) < 180",
        "histogram_quantile(0.95, sum(rate(health_check_latency_milliseconds_bucket[5m])) by (le, endpoint))",
        "test_coverage_percentage",
        // Operators and modifiers.
        "a + on(job) group_left(instance) b",
        "a > bool 3",
        "a and ignoring(x) b or c unless d",
        "-a ^ 2",
        "sum without (instance) (rate(x{job=~\"api|web\", code!~\"5..\"}[1h30m] offset 5m))",
        "topk(3, x)",
        "quantile(0.9, x) by (job)",
        "absent(up{job=\"x\"})",
        "x # a comment",
        "2 * 3 > bool 5",
        "{__name__=~\"a.*\"}",
        // Subqueries, @ and the functions of Prometheus 2.42.
        "rate(x[5m:1m])",
        "max_over_time(rate(x[1m])[10m:])",
        "x[5m:30s] offset 1m @ 1700000000",
        "x @ start() offset -5m",
        "rate(x[5m] @ end())",
        "count_values(\"value\", x) by (job)",
        "label_join(x, \"dst\", \"-\", \"a\", \"b\", \"c\")",
        "x atan2 y",
        "holt_winters(x[10m], 0.5, 0.5)",
        "year()",
    ])
    func parsesWhatPrometheusAccepts(_ text: String) throws {
        let expression = try PromQLParser.parse(text)
        // What the expression prints parses again to the same tree.
        #expect(try PromQLParser.parse(expression.description) == expression)
    }

    /// A name given as `{__name__="…"}` is printed before the braces only when it reads back as a name there.
    @Test func aMetricNameMatcherPrintsAsANameOnlyWhenItReadsBackAsOne() throws {
        #expect(try PromQLParser.parse(#"{__name__="job:rate5m", a="b"}"#).description == #"job:rate5m{a="b"}"#)
        for name in ["sum", "Inf", "nan", "by", "9x", ":x", "a-b", "x\u{0}"] {
            let expression = try PromQLParser.parse("{__name__=\"\(name)\"}")
            #expect(expression.description == "{__name__=\"\(name)\"}", "\(name)")
            #expect(try PromQLParser.parse(expression.description) == expression, "\(name)")
        }
    }

    @Test func precedenceAndAssociativityArePromethean() throws {
        // ^ is right-associative and binds tighter than unary minus; * before +; comparisons after arithmetic.
        #expect(try PromQLParser.parse("2 ^ 3 ^ 2").description == "2 ^ 3 ^ 2")
        guard case .binary(let power) = try PromQLParser.parse("2 ^ 3 ^ 2") else {
            Issue.record("not binary")
            return
        }
        #expect(power.lhs == .number(2))
        guard case .unaryMinus(let inner) = try PromQLParser.parse("-x ^ 2"), case .binary(let square) = inner else {
            Issue.record("-x ^ 2 should be -(x ^ 2)")
            return
        }
        #expect(square.op == .power)
        guard case .binary(let sum) = try PromQLParser.parse("a + b * c"), case .binary(let product) = sum.rhs else {
            Issue.record("a + b * c should be a + (b * c)")
            return
        }
        #expect(sum.op == .add && product.op == .multiply)
        guard case .binary(let comparison) = try PromQLParser.parse("a + b > c") else {
            Issue.record("not binary")
            return
        }
        #expect(comparison.op == .greater)
    }

    @Test(arguments: [
        ("rate(x[5m:1m][10m:1m])", "subquery is only allowed on instant vector, got range vector"),
        ("1[5m:1m]", "subquery is only allowed on instant vector, got scalar"),
        ("x[5m:0s]", "duration must be greater than 0"),
        ("x offset 0s", "duration must be greater than 0"),
        ("x offset 1m offset 2m", "offset may not be set multiple times"),
        ("x @ 5 @ 6", "@ <timestamp> may not be set multiple times"),
        ("x @ 1e30", "timestamp out of bounds for @ modifier"),
        ("x @ NaN", "timestamp out of bounds for @ modifier: NaN"),
        ("sum(x) @ 100", "must be preceded by an instant vector selector or range vector selector or a subquery"),
        ("x offset 1m [5m]", "no offset modifiers allowed before range"),
        ("x @ 1 [5m]", "no @ modifiers allowed before range"),
        ("rate(x[9223372036854s])", "duration out of range"),
        ("x offset 9223372037s", "duration out of range"),
        ("x[5m:9223372037s]", "duration out of range"),
        ("limitk(1, x)", "unknown function with name \"limitk\""),
        ("count_values(1, x)", "expected type string in aggregation parameter, got scalar"),
        ("label_join(x, \"a\")", "expected at least 3 argument(s) in call to \"label_join\", got 2"),
        ("round(x, 1, 2)", "expected at most 2 argument(s) in call to \"round\", got 3"),
        ("label_replace(x, \"a\", \"$1\", \"b\", 1)", "expected type string in call to function \"label_replace\", got scalar"),
        ("holt_winters(x[5m], 0.5)", "expected 3 argument(s)"),
        ("year(x[5m])", "expected type instant vector in call to function \"year\", got range vector"),
        ("x atan2 bool y", "bool modifier can only be used on comparison operators"),
        ("rate(x)", "expected type range vector in call to function \"rate\", got instant vector"),
        ("sum(x[5m])", "expected type instant vector in aggregation expression, got range vector"),
        ("1 > 2", "comparisons between scalars must use BOOL modifier"),
        ("1 and x", "set operator \"and\" not allowed in binary scalar expression"),
        ("x + on(a) 1", "vector matching only allowed between instant vectors"),
        ("x and on(a) group_left y", "no grouping allowed for \"and\" operation"),
        ("{a=\"\"}", "at least one non-empty matcher"),
        ("x{a=~\"(\"}", "invalid regular expression"),
        ("x{a=\"b}", "unterminated string"),
        ("x[5]", "expected a duration like 5m in the range"),
        ("x[5m", "expected \"]\""),
        ("sum(x) by (", "expected a label name in the label list, found end of input"),
        ("x +", "unexpected end of input"),
        ("histogram_quantile(0.9)", "expected 2 argument(s)"),
        ("x y", "unexpected y after a complete expression"),
        ("x offset", "expected a duration like 5m after offset"),
        ("5m", "unexpected duration"),
    ])
    func refusesWithAMessageThatNamesTheProblem(_ text: String, _ expected: String) {
        #expect {
            _ = try PromQLParser.parse(text)
        } throws: { error in
            guard let error = error as? PromQLError else { return false }
            return error.message.contains(expected)
        }
    }

    @Test func errorsSayWhere() {
        do {
            _ = try PromQLParser.parse("sum(rate(x[5m])) by (le) +* 2")
            Issue.record("should not parse")
        } catch {
            #expect(error.offset == 26, "the second operator, at \(error.offset)")
            #expect(error.description.contains("at character 27"))
        }
    }

    @Test func numbersAndDurationsAsPrometheusWritesThem() {
        #expect(PromQLFormat.number(1) == "1")
        #expect(PromQLFormat.number(0.1) == "0.1")
        #expect(PromQLFormat.number(1e-5) == "0.00001")
        #expect(PromQLFormat.number(1.5e16) == "15000000000000000")
        #expect(PromQLFormat.number(-2.25) == "-2.25")
        #expect(PromQLFormat.number(123456.789) == "123456.789")
        #expect(PromQLFormat.number(.infinity) == "+Inf")
        #expect(PromQLFormat.number(-.infinity) == "-Inf")
        #expect(PromQLFormat.number(.nan) == "NaN")
        #expect(PromQLFormat.duration(.seconds(5400)) == "1h30m")
        #expect(PromQLFormat.duration(.milliseconds(250)) == "250ms")
    }
}

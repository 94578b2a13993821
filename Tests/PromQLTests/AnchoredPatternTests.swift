import PromQL
import Telemetry
import Testing

@testable import PromQLSyntax

/// Label-matcher regular expressions: the parsed subset (``SimplePattern``) answers as RE2 does, checked
/// against Swift's `Regex` made to follow RE2 on the same subset, and against answers Prometheus 2.42 gave.
@Suite struct AnchoredPatternTests {
    /// Patterns of the parsed subset: every top-level shape (literals, sets, prefix, suffix, substring,
    /// `.*`, `.+`) and the NFA (groups, nested alternation, quantifiers, lazy ones, empty alternatives),
    /// with escaped metacharacters and non-ASCII literals.
    static let patterns = [
        "", "abc", "db_.*|git_.*", "phase_.0", "a|b|c", "db_restore|git_restore|x", ".*", ".+", ".*_restore", ".*st.*",
        "(db|git)_.+", "a?b*c+", "(?:ab)*", "(a|)", "()", "(|a)b", "a??", "a*?b", ".*?x", "x|", "|", "(a*)*", "(a|ab)(c|bcd)(d*)",
        #"a\.b"#, #"\*"#, #"a\|b"#, #"\(x\)"#, #"\\"#, #"\_.*"#, #"\ "#, #"\%"#, "é", "e\u{301}", "日本.*", "👍+", "a\nb", "..",
        ".", "a.b", "e.", ".*\n.*", "(.*)(.*)", "x(.|\n)*y", "(a+)+b", "((((a))))", "a.*b.*c", ".*a.*|b", "abc.*|.*xyz|mid",
        "phase_(0|1)0", "\u{212A}",
    ]

    static let values = [
        "", "a", "b", "c", "abc", "db_", "db_restore", "git_restore", "x_restore", "db_\nrestore", "a\nb", "a\rb", "a.b", "aXb",
        "e\u{301}", "\u{E9}", "日本語", "日本", "👍👍", "phase_10", "phase_1\n0", "phase_00", "phase_100", "phase_20", "st", "\n",
        "a|b", "(x)", "\\", "_", "_x", " ", "%", "ab", "abcd", "aab", "bc", "ac", "abcbcd", "abab", "x", "xy", "x\ny", "*", "aaab",
        "aaaa", "abcxyz", "xyz", "mid", "a\n", "\na", "\u{212A}", "k", "K", "\r\n", "a\u{2028}b",
    ]

    /// The same pattern for Swift's `Regex` with RE2's meaning on this subset: `.` as `[^\n]`, scalar semantics.
    static func reference(_ pattern: String) throws -> Regex<AnyRegexOutput> {
        var rewritten = ""
        var escaped = false
        for scalar in pattern.unicodeScalars {
            if escaped {
                rewritten.unicodeScalars.append(scalar)
                escaped = false
            } else if scalar == "\\" {
                rewritten.unicodeScalars.append(scalar)
                escaped = true
            } else if scalar == "." {
                rewritten += #"[^\n]"#
            } else {
                rewritten.unicodeScalars.append(scalar)
            }
        }
        return try Regex("^(?:\(rewritten))$").matchingSemantics(.unicodeScalar)
    }

    @Test(arguments: patterns)
    func parsedSubsetMatchesAsTheGeneralRegex(_ pattern: String) throws {
        let fast = try AnchoredPattern(pattern)
        #expect(fast.isSimple, "\(pattern.debugDescription) should be parsed, not left to Regex")
        let regex = try Self.reference(pattern)
        for value in Self.values {
            let expected = (try? regex.wholeMatch(in: value)) != nil
            #expect(fast.matches(value) == expected, "\(pattern.debugDescription) on \(value.debugDescription)")
        }
    }

    /// Answers of Prometheus 2.42 (`promtool test rules`, series with these label values, 2026-12-02).
    @Test(arguments: [
        (".", "e\u{301}", false), ("..", "e\u{301}", true), ("e.", "e\u{301}", true), ("é", "e\u{301}", false), ("é", "\u{E9}", true),
        ("a.b", "a\rb", true), ("a.b", "a\nb", false), (".*", "a\nb", false), (".+", "a\nb", false), (".*", "", true), (".+", "", false),
        ("(?s).*", "a\nb", true), (#"\_.*"#, "_x", true), ("a|", "", true), ("a*?", "", true), ("a*?", "a", true), ("a{", "a{", true),
        ("]", "]", true), ("}", "}", true), (#"\ "#, " ", true), ("[^a]", "e\u{301}", false), ("[^a]", "\u{E9}", true),
        ("(?i)k", "\u{212A}", true), (#"\d"#, "\u{663}", false), (#"\w+"#, "\u{E9}x", false), (#"\p{L}+"#, "\u{E9}x", true), (#".\b."#, "e\u{301}", true),
        (#".\b."#, "\u{E9}x", true), (#"\Qa{\E"#, "a{", true),
    ])
    func answersAsPrometheus(_ pattern: String, _ value: String, _ expected: Bool) throws {
        #expect(try AnchoredPattern(pattern).matches(value) == expected)
    }

    @Test(arguments: ["a**", "a+*", "a*??", "(a)?+", "(", "a)", "(a", "[a", "*", "x{2,1}", "a|*"])
    func refusesWhatRE2Refuses(_ pattern: String) {
        #expect(throws: PromQLError.self) { try AnchoredPattern(pattern) }
    }

    @Test func stackedRepetitionIsNamedInTheError() {
        #expect {
            try AnchoredPattern("ab+*")
        } throws: { error in
            (error as? PromQLError)?.message.contains("invalid nested repetition operator: `+*`") ?? false
        }
    }

    /// Canonically equivalent values (`é` precomposed and decomposed) are different label values to
    /// Prometheus: selection compares bytes, and its per-value verdict cache does not mix them up.
    @Test(arguments: [
        (LabelMatcher.Kind.equal, "\u{E9}", ["\u{E9}"]), (.notEqual, "\u{E9}", ["e\u{301}"]), (.matchesRegex, ".", ["\u{E9}"]),
        (.matchesRegex, "e.", ["e\u{301}"]), (.notMatchesRegex, "..", ["\u{E9}"]), (.matchesRegex, "\u{E9}|x", ["\u{E9}"]),
        (.matchesRegex, "[^x]", ["\u{E9}"]),
    ])
    func selectionTellsCanonicallyEquivalentValuesApart(_ kind: LabelMatcher.Kind, _ pattern: String, _ expected: [String]) throws {
        let series = ["\u{E9}", "e\u{301}", "\u{E9}", "e\u{301}"].enumerated().map { index, value in
            Series(labels: Labels(["__name__": "m", "l": value, "i": String(index)]), samples: [Sample(timestamp: 0, value: 1)])
        }
        let engine = PromQLEngine(series: series)
        let selected = engine.select([try LabelMatcher(name: "__name__", kind: .equal, value: "m"), try LabelMatcher(name: "l", kind: kind, value: pattern)])
        #expect(Set(selected.compactMap { $0.labels["l"].map { Array($0.unicodeScalars) } }) == Set(expected.map { Array($0.unicodeScalars) }))
        #expect(selected.count == 2)
    }

    /// Matchers are equal only when their bytes are (a range query reuses a selection by its matchers).
    @Test func matchersWithCanonicallyEquivalentValuesDiffer() throws {
        let composed = try LabelMatcher(name: "l", kind: .matchesRegex, value: "\u{E9}")
        let decomposed = try LabelMatcher(name: "l", kind: .matchesRegex, value: "e\u{301}")
        #expect(composed != decomposed)
        #expect(composed == (try LabelMatcher(name: "l", kind: .matchesRegex, value: "\u{E9}")))
    }
}

/// A label matcher's regular expression, matched against a whole label value as Prometheus 2.42 matches it:
/// RE2 syntax, anchored at both ends (`^(?:re)$`), on Unicode scalars (RE2's runes, so `.` matches one
/// scalar of `"e\u{301}"`, not the whole grapheme), `.` matching anything but `\n` (a `\r` included; only
/// Prometheus 3 lets `.` match `\n`), literals compared scalar by scalar (`é` does not match `e\u{301}`),
/// case-sensitive unless `(?i)`.
///
/// Label matchers mostly use a few shapes: `abc`, `a|b|c`, `db_.*|git_.*`, `.*err.*`, `.+`, `phase_.0`,
/// `(db|git)_.+`. Patterns made only of literals (with punctuation escaped as `\.`), `.`, groups,
/// alternation and `*`/`+`/`?` are parsed here once (``SimplePattern``) and matched on the value's UTF-8
/// bytes: a literal or a set of literals by comparing bytes, a literal before and/or after `.*` by a prefix,
/// suffix or substring test, literals and `.`s (`5..`) scalar by scalar, anything else of that subset by a
/// small NFA. Swift's `Regex` is left for the
/// rest (classes, flags, counted repetition, `\d`-style escapes): building one took about 35 µs and
/// each match about 1 µs in a release build (perf, 2026-12-02), most of an instant query's own time.
///
/// The `Regex` fallback matches on Unicode scalars with ASCII-only `\d`, `\s`, `\w` and `\b`, as RE2
/// does. It still differs from RE2 in a few corners, none of which the parsed subset reaches: `.` there
/// also refuses `\r`, U+0085, U+2028 and U+2029; `\s` matches `\v`; POSIX classes (`[[:alpha:]]`) are
/// Unicode; `(?i)s` does not match `ſ` (U+017F); `\pL` needs braces (`\p{L}`); and syntax RE2 refuses
/// (look-arounds, `\Z`, possessive quantifiers) is accepted instead of answering an error.
///
/// A class: a ``LabelMatcher`` is copied for every series a selection looks at, and copying a reference
/// is one retain where copying the enum inside took a tenth of the selection's time.
final class AnchoredPattern: @unchecked Sendable {
    // Regex is not Sendable; it is only ever read.
    private enum Strategy {
        case simple(SimplePattern)
        case regex(Regex<AnyRegexOutput>)
    }

    private let strategy: Strategy

    /// Fails when the expression does not compile (or stacks repetition operators, as in `a**`, which RE2 refuses).
    init(_ source: String) throws(PromQLError) {
        if let simple = try SimplePattern(source) {
            strategy = .simple(simple)
            return
        }
        do {
            let regex = try Regex("^(?:\(source))$")
            strategy = .regex(regex.matchingSemantics(.unicodeScalar).asciiOnlyCharacterClasses().wordBoundaryKind(.simple))
        } catch {
            throw PromQLError(message: "invalid regular expression \"\(source)\": \(error)", offset: 0)
        }
    }

    /// Whether the whole of `text` matches.
    func matches(_ text: String) -> Bool {
        switch strategy {
        case .simple(let simple): simple.matches(text)
        case .regex(let regex): (try? regex.wholeMatch(in: text)) != nil
        }
    }

    /// Whether a match costs more than a hash lookup (an NFA or a `Regex`), so that remembering verdicts per
    /// label value pays.
    var isCostly: Bool {
        switch strategy {
        case .simple(let simple): simple.isCostly
        case .regex: true
        }
    }

    /// Whether the parsed subset handles the pattern (else Swift's `Regex` does): for tests.
    var isSimple: Bool {
        if case .simple = strategy { return true }
        return false
    }
}

/// Whether two strings hold the same bytes, as Go compares strings (Swift's `==` holds canonically
/// equivalent strings equal: `"é" == "e\u{301}"`).
func sameBytes(_ lhs: String, _ rhs: String) -> Bool {
    var (lhs, rhs) = (lhs, rhs)
    return lhs.withUTF8 { left in rhs.withUTF8 { right in left.elementsEqual(right) } }
}

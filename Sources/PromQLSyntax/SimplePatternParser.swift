/// A parsed pattern of the ``SimplePattern`` subset.
indirect enum PatternNode: Sendable, Equatable {
    case scalar(Unicode.Scalar)
    /// `.`
    case anyButNewline
    case sequence([PatternNode])
    case alternation([PatternNode])
    /// `*` (0, unbounded), `+` (1, unbounded), `?` (0, bounded by 1).
    case repetition(PatternNode, minimum: Int, unbounded: Bool)
}

/// Recursive descent over a pattern's scalars; nil for anything outside the subset.
struct SimplePatternParser {
    private let scalars: [Unicode.Scalar]
    private let source: String
    private var position = 0
    private var depth = 0
    /// Deeper group nesting is left to `Regex` (the parser recurses once per level).
    static let maximumDepth = 100

    init(_ scalars: [Unicode.Scalar], source: String) {
        self.scalars = scalars
        self.source = source
    }

    mutating func parse() throws(PromQLError) -> PatternNode? {
        guard let tree = try alternation(), position == scalars.count else { return nil }
        return tree
    }

    private var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    private mutating func alternation() throws(PromQLError) -> PatternNode? {
        var alternatives: [PatternNode] = []
        while true {
            guard let next = try sequence() else { return nil }
            alternatives.append(next)
            guard current == "|" else { break }
            position += 1
        }
        return alternatives.count == 1 ? alternatives[0] : .alternation(alternatives)
    }

    private mutating func sequence() throws(PromQLError) -> PatternNode? {
        var items: [PatternNode] = []
        while let scalar = current, scalar != "|", scalar != ")" {
            guard var atom = try atom() else { return nil }
            if let quantifier = current, let (minimum, unbounded) = Self.repetitions[quantifier] {
                let start = position
                position += 1
                if current == "?" { position += 1 }  // lazy: the same whole-value verdict
                if let stacked = current, Self.repetitions[stacked] != nil {
                    let text = String(String.UnicodeScalarView(scalars[start...position]))
                    throw PromQLError(message: "invalid regular expression \"\(source)\": invalid nested repetition operator: `\(text)`", offset: 0)
                }
                atom = .repetition(atom, minimum: minimum, unbounded: unbounded)
            }
            // `{` may be a counted repetition (or a literal, as RE2 decides): left to Regex.
            if current == "{" { return nil }
            if case .sequence(let inner) = atom { items += inner } else { items.append(atom) }
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private static let repetitions: [Unicode.Scalar: (Int, Bool)] = ["*": (0, true), "+": (1, true), "?": (0, false)]
    /// Scalars with a meaning of their own in RE2 (`]` and `}` are literal there when unopened; left to Regex).
    private static let special: Set<Unicode.Scalar> = ["\\", ".", "+", "*", "?", "(", ")", "|", "[", "]", "{", "}", "^", "$"]

    private mutating func atom() throws(PromQLError) -> PatternNode? {
        guard let scalar = current else { return nil }
        switch scalar {
        case ".":
            position += 1
            return .anyButNewline
        case "(":
            position += 1
            if current == "?" {
                // Only `(?:`; flags and named groups are left to Regex.
                guard position + 1 < scalars.count, scalars[position + 1] == ":" else { return nil }
                position += 2
            }
            guard depth < Self.maximumDepth else { return nil }
            depth += 1
            defer { depth -= 1 }
            guard let inner = try alternation(), current == ")" else { return nil }
            position += 1
            // A group is only a grouping: an empty one is an empty sequence.
            return inner
        case "\\":
            // RE2: a backslash before any other ASCII character (punctuation, space) stands for it; letters and digits are classes,
            // assertions or escapes of their own (left to Regex).
            guard position + 1 < scalars.count else { return nil }
            let escaped = scalars[position + 1]
            guard escaped.isASCII, !(("0"..."9").contains(escaped) || ("a"..."z").contains(escaped) || ("A"..."Z").contains(escaped)) else {
                return nil
            }
            position += 2
            return .scalar(escaped)
        default:
            if Self.special.contains(scalar) { return nil }
            position += 1
            return .scalar(scalar)
        }
    }
}

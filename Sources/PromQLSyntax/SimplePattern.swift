/// The subset of RE2 that label matchers mostly use, parsed and matched without Swift's `Regex`, with RE2's
/// meaning (``AnchoredPattern`` gives the rules): literal scalars (ASCII punctuation escaped with `\` is
/// literal, as RE2 has it), `.`, groups `( )` and `(?: )`, alternation `|`, and the quantifiers `*`, `+`, `?`
/// (lazy or not: whether the whole value matches does not depend on laziness).
///
/// Each alternative at the top level is matched by the cheapest means its shape allows: a set of literals by
/// comparing bytes; `lit.*`, `.*lit`, `.*lit.*`, `.*` and `.+` by a prefix, suffix or substring test plus
/// the check that no `\n` is there for `.` to cross; literals and `.`s (`5..`) scalar by scalar; anything else by an NFA run over the value's scalars
/// (linear in the value's length times the pattern's).
struct SimplePattern: Sendable {
    /// One top-level alternative.
    enum Branch: Sendable, Equatable {
        /// `lit.*`: starts with the bytes, no `\n` anywhere (the literal holds none).
        case prefix([UInt8])
        /// `.*lit`
        case suffix([UInt8])
        /// `.*lit.*`
        case contains([UInt8])
        /// `.*`: no `\n`.
        case anyLine
        /// `.+`: not empty, no `\n`.
        case nonEmptyLine
        /// Literal scalars and `.`s (`5..`, `phase_.0`): one scalar each, nil for `.`.
        case fixed([UInt32?])
        /// Anything else of the subset.
        case program(NFAProgram)
    }

    /// The alternatives that are plain literals, by canonical equivalence class (Swift's `String` hashing),
    /// each class listing its exact members: a hit is confirmed byte for byte.
    let literals: [String: [String]]
    let branches: [Branch]

    /// Whether some alternative needs the NFA.
    var isCostly: Bool { branches.contains { if case .program = $0 { true } else { false } } }

    /// The parsed pattern; nil when it is outside the subset (``AnchoredPattern`` then uses `Regex`).
    /// Throws for stacked repetition operators (`a**`, `a+*`, `a*??`), which RE2 refuses and Swift's `Regex` would accept.
    init?(_ source: String) throws(PromQLError) {
        var parser = SimplePatternParser(Array(source.unicodeScalars), source: source)
        guard let tree = try parser.parse() else { return nil }
        var literals: [String: [String]] = [:]
        var branches: [Branch] = []
        let alternatives: [PatternNode] = if case .alternation(let list) = tree { list } else { [tree] }
        for alternative in alternatives {
            let items: [PatternNode] = if case .sequence(let list) = alternative { list } else { [alternative] }
            if let literal = Self.literal(items) {
                let text = String(String.UnicodeScalarView(literal))
                if !(literals[text]?.contains { sameBytes($0, text) } ?? false) { literals[text, default: []].append(text) }
            } else if let branch = Self.shortcut(items) {
                branches.append(branch)
            } else if let fixed = Self.fixed(items) {
                branches.append(.fixed(fixed))
            } else {
                branches.append(.program(NFAProgram(alternative)))
            }
        }
        self.literals = literals
        self.branches = branches
    }

    /// The scalars when every item is a literal scalar.
    private static func literal(_ items: [PatternNode]) -> [Unicode.Scalar]? {
        var scalars: [Unicode.Scalar] = []
        for item in items {
            guard case .scalar(let scalar) = item else { return nil }
            scalars.append(scalar)
        }
        return scalars
    }

    /// Each item's scalar (nil for `.`) when every item is a literal scalar or `.`.
    private static func fixed(_ items: [PatternNode]) -> [UInt32?]? {
        var scalars: [UInt32?] = []
        for item in items {
            switch item {
            case .scalar(let scalar): scalars.append(scalar.value)
            case .anyButNewline: scalars.append(nil)
            default: return nil
            }
        }
        return scalars
    }

    /// `lit.*`, `.*lit`, `.*lit.*`, `.*` or `.+`, for a literal without `\n`.
    private static func shortcut(_ items: [PatternNode]) -> Branch? {
        let anyLine = PatternNode.repetition(.anyButNewline, minimum: 0, unbounded: true)
        let nonEmpty = PatternNode.repetition(.anyButNewline, minimum: 1, unbounded: true)
        if items == [anyLine] { return .anyLine }
        if items == [nonEmpty] { return .nonEmptyLine }
        let leading = items.first == anyLine
        let trailing = items.count > 1 && items.last == anyLine
        let middle = items.dropFirst(leading ? 1 : 0).dropLast(trailing ? 1 : 0)
        guard leading || trailing, let scalars = literal(Array(middle)), !scalars.isEmpty, !scalars.contains("\n") else { return nil }
        let bytes = Array(String(String.UnicodeScalarView(scalars)).utf8)
        switch (leading, trailing) {
        case (true, true): return .contains(bytes)
        case (true, false): return .suffix(bytes)
        default: return .prefix(bytes)
        }
    }

    /// Whether the whole of `text` matches.
    func matches(_ text: String) -> Bool {
        if !literals.isEmpty, let members = literals[text], members.contains(where: { sameBytes($0, text) }) { return true }
        if branches.isEmpty { return false }
        var text = text
        return text.withUTF8 { bytes in
            branches.contains { branch in
                switch branch {
                case .prefix(let literal): bytes.starts(with: literal) && !bytes.contains(0x0A)
                case .suffix(let literal):
                    bytes.count >= literal.count && bytes[(bytes.count - literal.count)...].elementsEqual(literal) && !bytes.contains(0x0A)
                case .contains(let literal): !bytes.contains(0x0A) && Self.find(literal, in: bytes)
                case .anyLine: !bytes.contains(0x0A)
                case .nonEmptyLine: !bytes.isEmpty && !bytes.contains(0x0A)
                case .fixed(let scalars): Self.matches(scalars, bytes)
                case .program(let program): program.matches(bytes)
                }
            }
        }
    }

    /// Whether `bytes` holds exactly these scalars (`.` any but `\n`).
    private static func matches(_ scalars: [UInt32?], _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var offset = 0
        for expected in scalars {
            guard offset < bytes.count else { return false }
            let (scalar, length) = NFAProgram.decode(bytes, at: offset)
            offset += length
            if let expected { if scalar != expected { return false } } else if scalar == 0x0A { return false }
        }
        return offset == bytes.count
    }

    /// Whether `needle` occurs in `haystack` (both valid UTF-8, so a byte match starts on a scalar).
    private static func find(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>) -> Bool {
        guard needle.count <= haystack.count else { return false }
        let first = needle[0]
        for start in 0...(haystack.count - needle.count) where haystack[start] == first {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}

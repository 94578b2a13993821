/// One PromQL token and where it starts.
struct Token: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case number(Double)
        case duration(Duration)
        case string(String)
        case identifier(String)
        case punctuation(String)
        case end
    }

    var kind: Kind
    var offset: Int

    var text: String {
        switch kind {
        case .number(let value): PromQLFormat.number(value)
        case .duration(let value): PromQLFormat.duration(value)
        case .string(let value): "\"\(value)\""
        case .identifier(let name): name
        case .punctuation(let symbol): symbol
        case .end: "end of input"
        }
    }
}

/// Splits PromQL text into tokens; comments (`#` to end of line) and whitespace are skipped.
struct Lexer {
    private let bytes: [UInt8]
    private var position = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    static func tokenize(_ text: String) throws(PromQLError) -> [Token] {
        var lexer = Lexer(text)
        var tokens: [Token] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private static let symbols = ["==", "!=", "=~", "!~", ">=", "<=", "(", ")", "{", "}", "[", "]", ",", "=", ">", "<", "+", "-", "*", "/", "%", "^", ":", "@"]

    mutating func next() throws(PromQLError) -> Token {
        skipSpaceAndComments()
        let start = position
        guard position < bytes.count else { return Token(kind: .end, offset: start) }
        let byte = bytes[position]
        if isDigit(byte) || (byte == UInt8(ascii: ".") && position + 1 < bytes.count && isDigit(bytes[position + 1])) {
            return try numberOrDuration(start: start)
        }
        if isIdentifierStart(byte) {
            while position < bytes.count, isIdentifierStart(bytes[position]) || isDigit(bytes[position]) || bytes[position] == UInt8(ascii: ":") {
                position += 1
            }
            return Token(kind: .identifier(String(decoding: bytes[start..<position], as: UTF8.self)), offset: start)
        }
        if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "`") {
            return Token(kind: .string(try string(quote: byte)), offset: start)
        }
        for symbol in Self.symbols where matches(symbol) {
            position += symbol.utf8.count
            return Token(kind: .punctuation(symbol), offset: start)
        }
        throw PromQLError(message: "unexpected character '\(String(decoding: [byte], as: UTF8.self))'", offset: start)
    }

    private mutating func skipSpaceAndComments() {
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                position += 1
            } else if byte == UInt8(ascii: "#") {
                while position < bytes.count, bytes[position] != UInt8(ascii: "\n") { position += 1 }
            } else {
                return
            }
        }
    }

    private func matches(_ symbol: String) -> Bool {
        let symbolBytes = Array(symbol.utf8)
        return position + symbolBytes.count <= bytes.count && Array(bytes[position..<position + symbolBytes.count]) == symbolBytes
    }

    /// A number (`1`, `1.5e3`, `0x1f`) or, when digits run straight into a unit, a duration (`5m`, `1h30m`).
    private mutating func numberOrDuration(start: Int) throws(PromQLError) -> Token {
        if matches("0x") || matches("0X") {
            position += 2
            let digitsStart = position
            while position < bytes.count, isHexDigit(bytes[position]) { position += 1 }
            guard let value = UInt64(String(decoding: bytes[digitsStart..<position], as: UTF8.self), radix: 16) else {
                throw PromQLError(message: "bad hexadecimal number", offset: start)
            }
            return Token(kind: .number(Double(value)), offset: start)
        }
        while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        if position < bytes.count, isUnitStart(bytes[position]) {
            position = start
            return Token(kind: .duration(try duration(start: start)), offset: start)
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            var look = position + 1
            if look < bytes.count, bytes[look] == UInt8(ascii: "+") || bytes[look] == UInt8(ascii: "-") { look += 1 }
            if look < bytes.count, isDigit(bytes[look]) {
                position = look
                while position < bytes.count, isDigit(bytes[position]) { position += 1 }
            }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard let value = Double(text) else { throw PromQLError(message: "bad number \"\(text)\"", offset: start) }
        if position < bytes.count, isIdentifierStart(bytes[position]) {
            throw PromQLError(message: "bad number or duration \"\(text)\(String(decoding: [bytes[position]], as: UTF8.self))…\"", offset: start)
        }
        return Token(kind: .number(value), offset: start)
    }

    /// The longest duration Prometheus accepts: its durations are Go `time.Duration`s, Int64 nanoseconds
    /// (about 292 years); longer ones are "duration out of range".
    static let longestDurationMilliseconds = Int64.max / 1_000_000

    /// Prometheus durations: one or more `<digits><unit>` with units y, w, d, h, m, s, ms in that order.
    private mutating func duration(start: Int) throws(PromQLError) -> Duration {
        let units: [(String, Int64)] = [
            ("ms", 1), ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000),
        ]
        var total: Int64 = 0
        var lastUnitIndex = -1
        while position < bytes.count, isDigit(bytes[position]) {
            let digitsStart = position
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
            guard let amount = Int64(String(decoding: bytes[digitsStart..<position], as: UTF8.self)) else {
                throw PromQLError(message: "duration out of range", offset: start)
            }
            guard let unitIndex = units.firstIndex(where: { matches($0.0) && !(($0.0 == "m") && matches("ms")) }) else {
                throw PromQLError(message: "bad duration: a number needs a unit (ms, s, m, h, d, w, y)", offset: start)
            }
            let order = ["y", "w", "d", "h", "m", "s", "ms"].firstIndex(of: units[unitIndex].0)!
            guard order > lastUnitIndex else { throw PromQLError(message: "bad duration: units must go from largest to smallest, each once", offset: start) }
            lastUnitIndex = order
            position += units[unitIndex].0.utf8.count
            let (product, overflow) = amount.multipliedReportingOverflow(by: units[unitIndex].1)
            let (sum, sumOverflow) = total.addingReportingOverflow(product)
            guard !overflow, !sumOverflow, sum <= Self.longestDurationMilliseconds else {
                throw PromQLError(message: "duration out of range", offset: start)
            }
            total = sum
        }
        if position < bytes.count, isIdentifierStart(bytes[position]) {
            throw PromQLError(message: "bad duration: unknown unit (use ms, s, m, h, d, w, y)", offset: start)
        }
        return .milliseconds(total)
    }

    private mutating func string(quote: UInt8) throws(PromQLError) -> String {
        let start = position
        position += 1
        var result: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if byte == quote { return String(decoding: result, as: UTF8.self) }
            if quote == UInt8(ascii: "`") {
                result.append(byte)
                continue
            }
            if byte == UInt8(ascii: "\n") { throw PromQLError(message: "unterminated string: newline inside quotes", offset: start) }
            guard byte == UInt8(ascii: "\\") else {
                result.append(byte)
                continue
            }
            guard position < bytes.count else { break }
            let escaped = bytes[position]
            position += 1
            switch escaped {
            case UInt8(ascii: "n"): result.append(UInt8(ascii: "\n"))
            case UInt8(ascii: "t"): result.append(UInt8(ascii: "\t"))
            case UInt8(ascii: "r"): result.append(UInt8(ascii: "\r"))
            case UInt8(ascii: "a"): result.append(7)
            case UInt8(ascii: "b"): result.append(8)
            case UInt8(ascii: "f"): result.append(12)
            case UInt8(ascii: "v"): result.append(11)
            case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): result.append(escaped)
            case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
                let length = escaped == UInt8(ascii: "x") ? 2 : escaped == UInt8(ascii: "u") ? 4 : 8
                guard position + length <= bytes.count,
                    let code = UInt32(String(decoding: bytes[position..<position + length], as: UTF8.self), radix: 16)
                else { throw PromQLError(message: "bad escape sequence in string", offset: position - 2) }
                position += length
                if escaped == UInt8(ascii: "x") {
                    result.append(UInt8(code))
                } else {
                    guard let scalar = Unicode.Scalar(code) else { throw PromQLError(message: "bad unicode escape in string", offset: position - length - 2) }
                    result += Array(String(Character(scalar)).utf8)
                }
            default:
                throw PromQLError(message: "unknown escape sequence '\\\(String(decoding: [escaped], as: UTF8.self))' in string", offset: position - 2)
            }
        }
        throw PromQLError(message: "unterminated string", offset: start)
    }

    private func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
    private func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
    private func isIdentifierStart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "_")
    }
    private func isUnitStart(_ byte: UInt8) -> Bool { "smhdwy".utf8.contains(byte) }
}

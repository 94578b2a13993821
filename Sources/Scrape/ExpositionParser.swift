import Intake
import PromQLSyntax

/// A label of a sample: name and (unescaped) value.
package struct ExpositionLabel: Sendable, Hashable {
    /// The label name, e.g. `code`.
    package var name: String
    /// The value with escapes resolved.
    package var value: String

    /// A label `name="value"`.
    package init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// One sample line of an exposition.
package struct ExpositionSample: Sendable, Hashable {
    /// The sample's metric name, with its suffix (`_bucket`, `_total`, ...).
    package var name: String
    /// The labels in the order written.
    package var labels: [ExpositionLabel]
    /// The value (NaN and ±Inf included).
    package var value: Double
    /// The explicit timestamp, in milliseconds (OpenMetrics' seconds converted, saturated at the ends of
    /// `Int64`), or `nil`.
    package var timestampMilliseconds: Int64?
    /// The explicit timestamp in seconds as written (0.0.4: the milliseconds / 1000), or `nil`: exact
    /// enough to order and tell apart timestamps that milliseconds would merge.
    package var timestampSeconds: Double?
    /// 1-based line number.
    package var line: Int
    /// Whether an exemplar followed the value (OpenMetrics; parsed and checked, not kept).
    package var hasExemplar: Bool

    /// The value of label `name`, if the sample has it.
    package func label(_ name: String) -> String? { labels.first { $0.name == name }?.value }
}

/// The metric types of both formats (0.0.4 has the first five).
package enum ExpositionMetricType: String, Sendable, Hashable, CaseIterable {
    case counter, gauge, histogram, summary, untyped
    case unknown, gaugehistogram, stateset, info
}

/// A metric family: its metadata and its samples, in the order written.
package struct ExpositionFamily: Sendable {
    /// The family name as written in `# TYPE`/`# HELP` (OpenMetrics counters: without `_total`).
    package var name: String
    /// The declared type; `untyped` (0.0.4) or `unknown` (OpenMetrics) without a `# TYPE` line.
    package var type: ExpositionMetricType
    /// Whether a `# TYPE` line declared it.
    package var declaredType: Bool
    /// The unescaped `# HELP` text, `nil` when there is no HELP line.
    package var help: String?
    /// The `# UNIT` (OpenMetrics only).
    package var unit: String?
    /// The line the family starts at.
    package var line: Int
    /// The family's samples, in the order written.
    package var samples: [ExpositionSample]
}

/// A parsed exposition.
package struct ParsedExposition: Sendable {
    /// The format it was parsed in.
    package var format: ExpositionFormat
    /// The metric families, in the order they start.
    package var families: [ExpositionFamily]
    /// Problems that do not make the text unparseable in its format (0.0.4: a family split into
    /// several groups), reported as findings.
    package var problems: [ExpositionError]

    /// Every sample, in the order written.
    package var samples: [ExpositionSample] { families.flatMap(\.samples) }
}

/// Why an exposition does not parse, naming the line.
package struct ExpositionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number (0: the text as a whole).
    package var line: Int
    /// What is wrong, e.g. `duplicate label name code in the label set of http_requests_total`.
    package var message: String

    /// An error at `line`.
    package init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    package var description: String { line > 0 ? "line \(line): \(message)" : message }
}

/// A strict parser for the Prometheus text format 0.0.4 and OpenMetrics 1.0 text.
///
/// 0.0.4, as Prometheus' `expfmt` reads it: `# HELP`/`# TYPE` (other `#` lines are comments), blanks
/// or tabs between tokens, an optional trailing comma in label sets, label values with the escapes
/// `\\`, `\"`, `\n`, HELP with `\\`, `\n`, integer millisecond timestamps, one TYPE and one HELP per
/// family, TYPE before the family's samples, `le` on histogram buckets and `quantile` on summary
/// quantiles. OpenMetrics 1.0 by its ABNF: single spaces, no blank lines or comments, `# UNIT` whose
/// family name ends in `_unit`, metadata before samples and at most once, families not interleaved,
/// the samples each type allows (counters `_total`/`_created`, histograms `_bucket`/`_sum`/`_count`/
/// `_created`, ...), no negative or NaN counter values, exemplars only on `_total` and `_bucket`
/// (parsed, at most 128 characters of labels), float-second timestamps, and `# EOF` last.
///
/// ```swift
/// let parsed = try ExpositionParser.parse(Array(text.utf8), format: .openMetrics)
/// ```
///
/// Lines are at most ``maxLineBytes``; the parser reads each byte a bounded number of times, so any
/// input ends in linear time with a result or an ``ExpositionError``.
package enum ExpositionParser {
    /// The longest line accepted (1 MiB).
    package static let maxLineBytes = 1 << 20

    /// Parses `bytes` in `format`.
    ///
    /// - Throws: ``ExpositionError`` naming the first line that breaks the format.
    package static func parse(_ bytes: [UInt8], format: ExpositionFormat) throws(ExpositionError) -> ParsedExposition {
        var parser = Parser(bytes: bytes, openMetrics: format == .openMetrics)
        try parser.run()
        return ParsedExposition(format: format, families: parser.families, problems: parser.problems)
    }

    /// Parses `text` in `format`, as the byte-array version does.
    package static func parse(_ text: String, format: ExpositionFormat) throws(ExpositionError) -> ParsedExposition {
        try parse(Array(text.utf8), format: format)
    }

    /// Whether `name` is a valid metric name (``PrometheusNames/isMetricName(_:)-(C)``).
    package static func isMetricName<C: Collection<UInt8>>(_ name: C) -> Bool { PrometheusNames.isMetricName(name) }

    /// Whether `name` is a valid label name (``PrometheusNames/isLabelName(_:)-(C)``).
    package static func isLabelName<C: Collection<UInt8>>(_ name: C) -> Bool { PrometheusNames.isLabelName(name) }

    static func isNameStart(_ byte: UInt8) -> Bool { PrometheusNames.isNameStart(byte) }

    static func isDigit(_ byte: UInt8) -> Bool { PrometheusNames.isDigit(byte) }

    /// Parses a sample value, timestamp or `le`/`quantile` bound as both formats write them: a decimal
    /// float (`1`, `-1.5`, `.5`, `1e-3`), `NaN`, or `Inf`/`Infinity` with an optional sign (any case);
    /// `nil` for anything else (hex floats, underscores, `+NaN`, blanks).
    package static func parseFloat<C: Collection<UInt8>>(_ text: C) -> Double? {
        guard !text.isEmpty, text.count <= 64 else { return nil }
        var body = Substring(decoding: text, as: UTF8.self)
        var negative = false
        if let first = body.first, first == "+" || first == "-" {
            negative = first == "-"
            body = body.dropFirst()
        }
        switch body.lowercased() {
        case "inf", "infinity": return negative ? -.infinity : .infinity
        case "nan": return text.first == UInt8(ascii: "+") || text.first == UInt8(ascii: "-") ? nil : .nan
        default: break
        }
        // Digits, one optional point, an optional exponent: no hex, no underscores, no nan payloads.
        var sawDigit = false
        var sawPoint = false
        var index = body.utf8.startIndex
        let utf8 = body.utf8
        while index < utf8.endIndex, isDigit(utf8[index]) || (!sawPoint && utf8[index] == UInt8(ascii: ".")) {
            if utf8[index] == UInt8(ascii: ".") { sawPoint = true } else { sawDigit = true }
            index = utf8.index(after: index)
        }
        guard sawDigit else { return nil }
        if index < utf8.endIndex {
            guard utf8[index] == UInt8(ascii: "e") || utf8[index] == UInt8(ascii: "E") else { return nil }
            index = utf8.index(after: index)
            if index < utf8.endIndex, utf8[index] == UInt8(ascii: "+") || utf8[index] == UInt8(ascii: "-") { index = utf8.index(after: index) }
            guard index < utf8.endIndex else { return nil }
            while index < utf8.endIndex {
                guard isDigit(utf8[index]) else { return nil }
                index = utf8.index(after: index)
            }
        }
        guard let value = Double(String(body)) else { return nil }
        return negative ? -value : value
    }
}

/// The parsing state: the bytes, the line being read, the families so far.
private struct Parser {
    let bytes: [UInt8]
    let openMetrics: Bool
    var families: [ExpositionFamily] = []
    var problems: [ExpositionError] = []
    /// Family index by name.
    var familyIndex: [String: Int] = [:]
    /// The family whose lines are being read.
    var current: Int?
    /// Metadata seen per family (`HELP`, `TYPE`, `UNIT`).
    var metadataSeen: [Int: Set<String>] = [:]
    /// Families reported as split into groups already (0.0.4), so each is reported once.
    var splitReported: Set<Int> = []
    var lineNumber = 0
    /// OpenMetrics: the Metric (label set less `le`, `quantile` or the stateset label) whose samples are
    /// being read, and the Metrics of the current family seen so far, which must each be one group.
    var metric: MetricState?
    var metricsSeen: [[ExpositionLabel]: Int] = [:]
    /// OpenMetrics: the histogram or gaugehistogram MetricPoint being read, checked as a whole when it ends.
    var point: HistogramPoint?
    /// OpenMetrics: every sample name a family closed so far may use, and the family's line.
    var reservedNames: [String: (family: String, line: Int)] = [:]
    var closed: Set<Int> = []

    init(bytes: [UInt8], openMetrics: Bool) {
        self.bytes = bytes
        self.openMetrics = openMetrics
    }

    private func fail(_ message: String) -> ExpositionError { ExpositionError(line: lineNumber, message: message) }

    mutating func run() throws(ExpositionError) {
        var start = 0
        var sawEOF = false
        while start < bytes.count {
            lineNumber += 1
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            let line = bytes[start..<end]
            let terminated = end < bytes.count
            start = end + 1
            if line.count > ExpositionParser.maxLineBytes {
                throw fail("line is \(line.count) bytes long, over the \(ExpositionParser.maxLineBytes)-byte limit")
            }
            if sawEOF {
                throw fail("text after # EOF: # EOF must be the last line")
            }
            if openMetrics {
                if line.elementsEqual("# EOF".utf8) {
                    sawEOF = true
                    continue
                }
                guard terminated else { throw fail("the last line has no newline and is not # EOF: the exposition is truncated") }
            } else if !terminated {
                // 0.0.4: the last line must end with a newline too; a missing one means a cut-off body.
                throw fail("the last line does not end with a newline: the exposition is truncated")
            }
            try parseLine(line)
        }
        if openMetrics && !sawEOF {
            lineNumber += 1
            throw fail("missing # EOF: an OpenMetrics exposition must end with it (truncated?)")
        }
        if openMetrics, let current { try close(current) }
    }

    // MARK: Lines

    private mutating func parseLine(_ line: ArraySlice<UInt8>) throws(ExpositionError) {
        if line.contains(UInt8(ascii: "\r")) { throw fail("carriage return in the line: lines end with \\n only") }
        if openMetrics {
            guard !line.isEmpty else { throw fail("blank line: OpenMetrics allows none") }
            if line.first == UInt8(ascii: "#") {
                try parseOpenMetricsDescriptor(line)
            } else {
                try parseSample(line)
            }
            return
        }
        // 0.0.4: leading blanks and tabs are skipped; blank lines are ignored.
        let trimmed = line.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        guard !trimmed.isEmpty else { return }
        if trimmed.first == UInt8(ascii: "#") {
            try parseTextComment(trimmed)
        } else {
            try parseSample(trimmed)
        }
    }

    /// 0.0.4: `# HELP name text`, `# TYPE name type`, or a comment.
    private mutating func parseTextComment(_ line: ArraySlice<UInt8>) throws(ExpositionError) {
        var cursor = Cursor(line.dropFirst())
        guard cursor.skipBlanks(tabs: true) > 0 else { return }  // `#HELP` is a comment
        let keyword = cursor.token()
        guard keyword.elementsEqual("HELP".utf8) || keyword.elementsEqual("TYPE".utf8) else { return }
        guard cursor.skipBlanks(tabs: true) > 0 else { throw fail("# \(String(decoding: keyword, as: UTF8.self)) needs a metric name") }
        let name = cursor.token()
        guard ExpositionParser.isMetricName(name) else {
            throw fail("invalid metric name \"\(Self.show(name))\" in # \(String(decoding: keyword, as: UTF8.self)): names match [a-zA-Z_:][a-zA-Z0-9_:]*")
        }
        let nameText = String(decoding: name, as: UTF8.self)
        if keyword.elementsEqual("HELP".utf8) {
            _ = cursor.skipBlanks(tabs: true)
            let help = try unescape(cursor.rest, quotes: false, keepUnknown: false, what: "HELP text")
            let index = try metadataFamily(nameText, keyword: "HELP")
            families[index].help = help
        } else {
            guard cursor.skipBlanks(tabs: true) > 0 else { throw fail("# TYPE \(nameText) needs a type (counter, gauge, histogram, summary or untyped)") }
            let typeText = String(decoding: cursor.token(), as: UTF8.self)
            _ = cursor.skipBlanks(tabs: true)
            guard cursor.atEnd else { throw fail("unexpected text after the type in # TYPE \(nameText)") }
            guard let type = ExpositionMetricType(rawValue: typeText), [.counter, .gauge, .histogram, .summary, .untyped].contains(type) else {
                throw fail("unknown metric type \"\(typeText)\" in # TYPE \(nameText): the text format has counter, gauge, histogram, summary and untyped")
            }
            let index = try metadataFamily(nameText, keyword: "TYPE")
            families[index].type = type
            families[index].declaredType = true
        }
    }

    /// OpenMetrics: `# TYPE name type`, `# HELP name text`, `# UNIT name unit`, single spaces.
    private mutating func parseOpenMetricsDescriptor(_ line: ArraySlice<UInt8>) throws(ExpositionError) {
        var cursor = Cursor(line.dropFirst())
        guard cursor.take(UInt8(ascii: " ")) else { throw fail("'#' must be followed by one space and TYPE, HELP, UNIT or EOF") }
        let keyword = String(decoding: cursor.token(), as: UTF8.self)
        guard ["TYPE", "HELP", "UNIT"].contains(keyword) else {
            throw fail(keyword == "EOF" ? "'# EOF' followed by more text" : "OpenMetrics allows no comments: '# \(keyword)' is not TYPE, HELP, UNIT or EOF")
        }
        guard cursor.take(UInt8(ascii: " ")) else { throw fail("# \(keyword) needs one space and a metric name") }
        let name = cursor.token()
        guard ExpositionParser.isMetricName(name) else {
            throw fail("invalid metric name \"\(Self.show(name))\" in # \(keyword): names match [a-zA-Z_:][a-zA-Z0-9_:]*")
        }
        let nameText = String(decoding: name, as: UTF8.self)
        switch keyword {
        case "TYPE":
            guard cursor.take(UInt8(ascii: " ")) else { throw fail("# TYPE \(nameText) needs one space and a type") }
            let typeText = String(decoding: cursor.rest, as: UTF8.self)
            guard let type = ExpositionMetricType(rawValue: typeText), type != .untyped else {
                throw fail(
                    "unknown metric type \"\(typeText)\" in # TYPE \(nameText): OpenMetrics has counter, gauge, histogram, gaugehistogram, stateset, info, summary and unknown"
                )
            }
            let index = try metadataFamily(nameText, keyword: "TYPE")
            families[index].type = type
            families[index].declaredType = true
            try checkUnitAllowed(families[index])
        case "HELP":
            guard cursor.take(UInt8(ascii: " ")) else {
                throw fail("# HELP \(nameText) needs one space after the name, then the text (which may be empty)")
            }
            let help = try unescape(cursor.rest, quotes: true, keepUnknown: true, what: "HELP text")
            let index = try metadataFamily(nameText, keyword: "HELP")
            families[index].help = help
        default:
            guard cursor.take(UInt8(ascii: " ")) else {
                throw fail("# UNIT \(nameText) needs one space after the name, then the unit (which may be empty)")
            }
            let rest = cursor.rest
            guard rest.allSatisfy({ ExpositionParser.isNameStart($0) || ExpositionParser.isDigit($0) || $0 == UInt8(ascii: ":") }) else {
                throw fail("invalid unit \"\(Self.show(rest))\" in # UNIT \(nameText)")
            }
            let unit = String(decoding: rest, as: UTF8.self)
            if !unit.isEmpty, !nameText.hasSuffix("_" + unit) {
                throw fail("# UNIT \(unit): the family name \(nameText) must end with _\(unit)")
            }
            let index = try metadataFamily(nameText, keyword: "UNIT")
            families[index].unit = unit
            try checkUnitAllowed(families[index])
        }
    }

    /// The family a metadata line is about, checking that it comes before the family's samples and once.
    private mutating func metadataFamily(_ name: String, keyword: String) throws(ExpositionError) -> Int {
        if let index = familyIndex[name] {
            if metadataSeen[index, default: []].contains(keyword) {
                throw fail("second # \(keyword) line for \(name) (first at line \(families[index].line))")
            }
            if !families[index].samples.isEmpty {
                throw fail("# \(keyword) \(name) comes after samples of \(name): metadata must come first")
            }
            if current != index {
                if openMetrics { throw fail("metric family \(name) appears twice: its lines must be one group (first at line \(families[index].line))") }
                reportSplit(index)
            }
            metadataSeen[index, default: []].insert(keyword)
            current = index
            return index
        }
        let index = try newFamily(name)
        metadataSeen[index] = [keyword]
        return index
    }

    private mutating func newFamily(_ name: String) throws(ExpositionError) -> Int {
        if openMetrics, let current { try close(current) }
        let index = families.count
        families.append(
            ExpositionFamily(
                name: name,
                type: openMetrics ? .unknown : .untyped,
                declaredType: false,
                help: nil,
                unit: nil,
                line: lineNumber,
                samples: []
            )
        )
        familyIndex[name] = index
        current = index
        return index
    }

    private mutating func reportSplit(_ index: Int) {
        guard splitReported.insert(index).inserted else { return }
        problems.append(
            fail(
                "metric family \(families[index].name) continues after other families (it starts at line \(families[index].line)): the format asks for all of a family's lines in one group"
            )
        )
    }

    // MARK: Samples

    private mutating func parseSample(_ line: ArraySlice<UInt8>) throws(ExpositionError) {
        var cursor = Cursor(line)
        let name = cursor.token(stopAt: UInt8(ascii: "{"))
        guard ExpositionParser.isMetricName(name) else {
            throw fail(
                name.isEmpty
                    ? "a sample line must start with a metric name" : "invalid metric name \"\(Self.show(name))\": names match [a-zA-Z_:][a-zA-Z0-9_:]*"
            )
        }
        let nameText = String(decoding: name, as: UTF8.self)
        var blanks = openMetrics ? 0 : cursor.skipBlanks(tabs: true)
        var labels: [ExpositionLabel] = []
        if cursor.peek == UInt8(ascii: "{") {
            labels = try parseLabels(&cursor, what: "label set of \(nameText)")
            blanks = 0
        }
        // The value.
        if openMetrics {
            guard cursor.take(UInt8(ascii: " ")) else { throw fail("expected one space and a value after \(nameText)\(labels.isEmpty ? "" : "{…}")") }
        } else {
            blanks += cursor.skipBlanks(tabs: true)
            guard blanks > 0 || !labels.isEmpty else { throw fail("expected a blank and a value after \(nameText)") }
        }
        let valueText = cursor.token()
        guard !valueText.isEmpty else { throw fail("\(nameText) has no value") }
        guard let value = ExpositionParser.parseFloat(valueText) else {
            throw fail("value \"\(Self.show(valueText))\" of \(nameText) is not a number (a float, NaN, +Inf or -Inf)")
        }
        // The timestamp and, in OpenMetrics, the exemplar.
        var timestamp: Int64?
        var timestampSeconds: Double?
        var hasExemplar = false
        if openMetrics {
            if cursor.take(UInt8(ascii: " ")) {
                if cursor.peek == UInt8(ascii: "#") {
                    try parseExemplar(&cursor, sample: nameText)
                    hasExemplar = true
                } else {
                    let seconds = try openMetricsTimestamp(cursor.token(), of: nameText)
                    timestampSeconds = seconds
                    timestamp = Self.milliseconds(seconds)
                    if cursor.take(UInt8(ascii: " ")) {
                        try parseExemplar(&cursor, sample: nameText)
                        hasExemplar = true
                    }
                }
            }
            guard cursor.atEnd else { throw fail("unexpected text \"\(Self.show(cursor.rest))\" after the sample \(nameText)") }
        } else {
            let blanks = cursor.skipBlanks(tabs: true)
            if !cursor.atEnd {
                guard blanks > 0 else { throw fail("value \"\(Self.show(valueText + cursor.rest))\" of \(nameText) is not a number") }
                let stampText = cursor.token()
                guard let stamp = Int64(String(decoding: stampText, as: UTF8.self)) else {
                    throw fail("timestamp \"\(Self.show(stampText))\" of \(nameText) is not an integer (milliseconds since 1970)")
                }
                timestamp = stamp
                timestampSeconds = Double(stamp) / 1000
                _ = cursor.skipBlanks(tabs: true)
                guard cursor.atEnd else { throw fail("unexpected text \"\(Self.show(cursor.rest))\" after the timestamp of \(nameText)") }
            }
        }
        let sample = ExpositionSample(
            name: nameText,
            labels: labels,
            value: value,
            timestampMilliseconds: timestamp,
            timestampSeconds: timestampSeconds,
            line: lineNumber,
            hasExemplar: hasExemplar
        )
        try place(sample)
    }

    /// `{name="value",...}`; the cursor is at `{`.
    private func parseLabels(_ cursor: inout Cursor, what: String) throws(ExpositionError) -> [ExpositionLabel] {
        _ = cursor.take(UInt8(ascii: "{"))
        var labels: [ExpositionLabel] = []
        var names: Set<String> = []
        while true {
            if !openMetrics { _ = cursor.skipBlanks(tabs: true) }
            if cursor.take(UInt8(ascii: "}")) {
                if openMetrics, !labels.isEmpty { throw fail("trailing comma in the \(what): OpenMetrics allows none") }
                return labels
            }
            let name = cursor.token(stopAt: UInt8(ascii: "="))
            guard ExpositionParser.isLabelName(name) else {
                if cursor.atEnd && name.isEmpty { throw fail("the \(what) is not closed with }") }
                throw fail("invalid label name \"\(Self.show(name))\" in the \(what): names match [a-zA-Z_][a-zA-Z0-9_]*")
            }
            let nameText = String(decoding: name, as: UTF8.self)
            if !openMetrics { _ = cursor.skipBlanks(tabs: true) }
            guard cursor.take(UInt8(ascii: "=")) else { throw fail("expected = after label name \(nameText) in the \(what)") }
            if !openMetrics { _ = cursor.skipBlanks(tabs: true) }
            guard cursor.take(UInt8(ascii: "\"")) else { throw fail("the value of label \(nameText) must be in double quotes") }
            let raw = try cursor.quoted()
                .get(or: fail("the value of label \(nameText) has no closing quote"))
            let value = try unescape(raw, quotes: true, keepUnknown: openMetrics, what: "value of label \(nameText)")
            guard names.insert(nameText).inserted else { throw fail("duplicate label name \(nameText) in the \(what)") }
            labels.append(ExpositionLabel(name: nameText, value: value))
            if !openMetrics { _ = cursor.skipBlanks(tabs: true) }
            if cursor.take(UInt8(ascii: "}")) { return labels }
            guard cursor.take(UInt8(ascii: ",")) else {
                throw fail(cursor.atEnd ? "the \(what) is not closed with }" : "expected , or } after label \(nameText) in the \(what)")
            }
            if openMetrics, cursor.peek == UInt8(ascii: "}") {
                throw fail("trailing comma in the \(what): OpenMetrics allows none")
            }
        }
    }

    /// ` # {labels} value [timestamp]`, the cursor at `#`.
    private func parseExemplar(_ cursor: inout Cursor, sample: String) throws(ExpositionError) {
        guard cursor.take(UInt8(ascii: "#")), cursor.take(UInt8(ascii: " ")), cursor.peek == UInt8(ascii: "{") else {
            throw fail("an exemplar of \(sample) is written ' # {labels} value [timestamp]'")
        }
        let labels = try parseLabels(&cursor, what: "exemplar of \(sample)")
        // The limit counts code points (UTF-8 characters), not grapheme clusters.
        let length = labels.reduce(0) { $0 + $1.name.unicodeScalars.count + $1.value.unicodeScalars.count }
        guard length <= 128 else { throw fail("the exemplar labels of \(sample) are \(length) characters: at most 128 (names and values, in code points)") }
        guard cursor.take(UInt8(ascii: " ")) else { throw fail("the exemplar of \(sample) needs a value") }
        let valueText = cursor.token()
        guard ExpositionParser.parseFloat(valueText) != nil else {
            throw fail("exemplar value \"\(Self.show(valueText))\" of \(sample) is not a number")
        }
        if cursor.take(UInt8(ascii: " ")) { _ = try openMetricsTimestamp(cursor.token(), of: "the exemplar of \(sample)") }
        guard cursor.atEnd || cursor.peek == nil else { return }
        guard sample.hasSuffix("_total") || sample.hasSuffix("_bucket") else {
            throw fail("exemplar on \(sample): only counter _total and histogram _bucket samples may have exemplars")
        }
    }

    /// OpenMetrics timestamps are seconds, maybe fractional, of any finite size.
    private func openMetricsTimestamp(_ text: ArraySlice<UInt8>, of sample: String) throws(ExpositionError) -> Double {
        guard let seconds = ExpositionParser.parseFloat(text), seconds.isFinite else {
            throw fail("timestamp \"\(Self.show(text))\" of \(sample) is not a finite number of seconds")
        }
        return seconds
    }

    /// Seconds as milliseconds, saturated at the ends of `Int64` (the format sets no range).
    static func milliseconds(_ seconds: Double) -> Int64 {
        let millis = (seconds * 1000).rounded()
        if millis >= 9.2e18 { return .max }
        if millis <= -9.2e18 { return .min }
        return Int64(millis)
    }

    // MARK: Families

    /// Attaches a sample to its family: the current one when the name fits its type, else a new one.
    private mutating func place(_ sample: ExpositionSample) throws(ExpositionError) {
        if let current, let suffix = Self.suffix(of: sample.name, in: families[current], openMetrics: openMetrics) {
            try check(sample, suffix: suffix, family: families[current])
            try checkMetric(sample, suffix: suffix, family: current)
            families[current].samples.append(sample)
            return
        }
        // Another family this sample could belong to, seen earlier: its name is the sample's less a suffix.
        let candidates =
            [sample.name]
            + Self.allSuffixes.compactMap { suffix in
                sample.name.hasSuffix(suffix) ? String(sample.name.dropLast(suffix.count)) : nil
            }
        for index in candidates.compactMap({ familyIndex[$0] }) where index != current {
            let family = families[index]
            guard let suffix = Self.suffix(of: sample.name, in: family, openMetrics: openMetrics) else { continue }
            if openMetrics {
                throw fail("sample \(sample.name) belongs to metric family \(family.name), which ended before: a family's lines must be one group")
            }
            reportSplit(index)
            try check(sample, suffix: suffix, family: family)
            families[index].samples.append(sample)
            current = index
            return
        }
        // Otherwise the sample starts a family of its own (untyped, unknown), unless a family of that
        // name exists and did not take it.
        if let clash = familyIndex[sample.name] {
            throw fail(
                "sample \(sample.name) does not fit metric family \(families[clash].name) of type \(families[clash].type.rawValue) (line \(families[clash].line))"
            )
        }
        let index = try newFamily(sample.name)
        try checkMetric(sample, suffix: "", family: index)
        families[index].samples.append(sample)
    }

    static let allSuffixes = ["_total", "_created", "_bucket", "_sum", "_count", "_gsum", "_gcount", "_info"]

    /// OpenMetrics, for each sample: its Metric's samples are one group, all with a timestamp or all
    /// without, timestamps not going backwards; a histogram's MetricPoint is checked when it ends.
    private mutating func checkMetric(_ sample: ExpositionSample, suffix: String, family: Int) throws(ExpositionError) {
        guard openMetrics else { return }
        let type = families[family].type
        let key = Self.metricKey(sample, suffix: suffix, family: families[family])
        let described = ExpositionLint.describe(families[family].name, key)
        if let metric, metric.family == family, metric.labels == key {
            let previous = metric.timestamp
            if (previous == nil) != (sample.timestampSeconds == nil) {
                let present = sample.timestampSeconds != nil
                throw fail(
                    "\(sample.name) \(present ? "has" : "has no") timestamp but the samples of \(described) before it \(present ? "have none" : "have one"): a Metric's samples all have one or none has"
                )
            }
            if let previous, let now = sample.timestampSeconds, now < previous {
                throw fail("timestamp \(now) of \(sample.name) goes back from \(previous): the samples of \(described) must be in timestamp order")
            }
        } else if let first = metricsSeen[key], metric?.family == family {
            throw fail("the samples of \(described) started at line \(first) and other label sets came between: a Metric's samples must be one group")
        } else {
            if metric?.family != family { metricsSeen = [:] }
            metricsSeen[key] = lineNumber
        }
        metric = MetricState(family: family, labels: key, timestamp: sample.timestampSeconds)
        guard type == .histogram || type == .gaugehistogram else { return }
        if let open = point, open.family != family || open.labels != key || open.timestamp != sample.timestampSeconds {
            try finish(open)
            point = nil
        }
        var current = point ?? HistogramPoint(family: family, labels: key, timestamp: sample.timestampSeconds, line: lineNumber)
        current.lastLine = lineNumber
        switch suffix {
        case "_bucket":
            // `check` made sure `le` is there and a number.
            let le = ExpositionParser.parseFloat(Array((sample.label("le") ?? "").utf8)) ?? .nan
            if let last = current.buckets.last {
                guard le > last.le else {
                    throw fail(
                        "bucket le=\"\(sample.label("le") ?? "")\" of \(described) follows le=\"\(last.text)\": buckets are in increasing order of le, each once"
                    )
                }
                guard sample.value >= last.value else {
                    throw fail(
                        "bucket le=\"\(sample.label("le") ?? "")\" of \(described) is \(ExpositionLint.format(sample.value)), less than le=\"\(last.text)\" (\(ExpositionLint.format(last.value))): buckets are cumulative"
                    )
                }
            }
            current.buckets.append((le, sample.label("le") ?? "", sample.value))
        case "_count", "_gcount": current.count = (sample.value, lineNumber)
        case "_sum": current.sumLine = lineNumber
        case "_gsum":
            current.sumLine = lineNumber
            current.negativeGsum = sample.value < 0
        default: break
        }
        point = current
    }

    /// The Metric a sample belongs to: its labels less the one that tells the samples of a MetricPoint
    /// apart (`le` on buckets, `quantile` on quantiles, the state on statesets), in name order.
    private static func metricKey(_ sample: ExpositionSample, suffix: String, family: ExpositionFamily) -> [ExpositionLabel] {
        let drop: String?
        switch (family.type, suffix) {
        case (.histogram, "_bucket"), (.gaugehistogram, "_bucket"): drop = "le"
        case (.summary, ""): drop = "quantile"
        case (.stateset, _): drop = family.name
        default: drop = nil
        }
        return sample.labels.filter { $0.name != drop }.sorted { $0.name < $1.name }
    }

    /// A histogram MetricPoint as a whole: a `+Inf` bucket, `_count` equal to it, `_sum` and `_count`
    /// together (`_gsum` and `_gcount`), no `_sum` with negative buckets, a negative `_gsum` only with them.
    private func finish(_ point: HistogramPoint) throws(ExpositionError) {
        let family = families[point.family]
        let gauge = family.type == .gaugehistogram
        let (sumSuffix, countSuffix) = gauge ? ("_gsum", "_gcount") : ("_sum", "_count")
        let described = ExpositionLint.describe(family.name, point.labels)
        func failAt(_ line: Int, _ message: String) -> ExpositionError { ExpositionError(line: line, message: message) }
        guard let last = point.buckets.last, last.le == .infinity else {
            throw failAt(point.lastLine, "\(family.type.rawValue) \(described) has no le=\"+Inf\" bucket: every MetricPoint needs one")
        }
        if let count = point.count, count.value != last.value {
            throw failAt(
                count.line,
                "\(family.name)\(countSuffix) is \(ExpositionLint.format(count.value)) but the le=\"+Inf\" bucket of \(described) is \(ExpositionLint.format(last.value)): they must be equal"
            )
        }
        if let sumLine = point.sumLine, point.count == nil {
            throw failAt(
                sumLine,
                "\(described) has \(family.name)\(sumSuffix) but no \(family.name)\(countSuffix): \(countSuffix) must be there when \(sumSuffix) is"
            )
        }
        if let count = point.count, point.sumLine == nil {
            throw failAt(
                count.line,
                "\(described) has \(family.name)\(countSuffix) but no \(family.name)\(sumSuffix): \(sumSuffix) must be there when \(countSuffix) is"
            )
        }
        let negativeBuckets = point.buckets.contains { $0.le < 0 }
        if !gauge, negativeBuckets, let sumLine = point.sumLine {
            throw failAt(sumLine, "\(described) has buckets with negative thresholds and a _sum: such a histogram must not have a _sum")
        }
        if gauge, point.negativeGsum, !negativeBuckets, let sumLine = point.sumLine {
            throw failAt(sumLine, "\(described) has a negative _gsum but no bucket with a negative threshold")
        }
    }

    /// OpenMetrics, when a family ends: its last MetricPoint is checked, and its sample names must not
    /// be ones another family may use (a counter `a` and a gauge `a_created`).
    private mutating func close(_ index: Int) throws(ExpositionError) {
        guard closed.insert(index).inserted else { return }
        if let open = point, open.family == index {
            point = nil
            try finish(open)
        }
        let family = families[index]
        let suffixes: [String]
        switch family.type {
        case .counter: suffixes = ["", "_total", "_created"]
        case .summary: suffixes = ["", "_sum", "_count", "_created"]
        case .histogram: suffixes = ["", "_bucket", "_sum", "_count", "_created"]
        case .gaugehistogram: suffixes = ["", "_bucket", "_gsum", "_gcount"]
        case .info: suffixes = ["", "_info"]
        default: suffixes = [""]
        }
        for suffix in suffixes {
            let name = family.name + suffix
            if let other = reservedNames[name] {
                throw ExpositionError(
                    line: family.line,
                    message:
                        "metric family \(family.name) (\(family.type.rawValue)) clashes with \(other.family) (line \(other.line)): both may have samples named \(name)"
                )
            }
            reservedNames[name] = (family.name, family.line)
        }
    }

    /// OpenMetrics: info and stateset families have no unit.
    private func checkUnitAllowed(_ family: ExpositionFamily) throws(ExpositionError) {
        guard openMetrics, family.type == .info || family.type == .stateset, let unit = family.unit, !unit.isEmpty else { return }
        throw fail("# UNIT \(unit) on \(family.type.rawValue) \(family.name): \(family.type.rawValue) metrics have no unit")
    }

    /// The suffix under which `sample` belongs to `family`, or `nil` when it does not.
    private static func suffix(of sample: String, in family: ExpositionFamily, openMetrics: Bool) -> String? {
        guard sample.hasPrefix(family.name) else { return nil }
        let suffix = String(sample.dropFirst(family.name.count))
        let allowed: [String]
        switch family.type {
        case .counter: allowed = openMetrics ? ["_total", "_created"] : [""]
        case .gauge, .untyped, .unknown, .stateset: allowed = [""]
        case .histogram: allowed = openMetrics ? ["_bucket", "_sum", "_count", "_created"] : ["_bucket", "_sum", "_count"]
        case .gaugehistogram: allowed = ["_bucket", "_gsum", "_gcount"]
        case .summary: allowed = openMetrics ? ["", "_sum", "_count", "_created"] : ["", "_sum", "_count"]
        case .info: allowed = ["_info"]
        }
        return allowed.contains(suffix) ? suffix : nil
    }

    /// What each type asks of its samples' labels and values.
    private func check(_ sample: ExpositionSample, suffix: String, family: ExpositionFamily) throws(ExpositionError) {
        switch (family.type, suffix) {
        case (.histogram, "_bucket"), (.gaugehistogram, "_bucket"):
            guard let le = sample.label("le") else { throw fail("histogram bucket \(sample.name) has no le label") }
            guard ExpositionParser.parseFloat(Array(le.utf8)) != nil else {
                throw fail("le=\"\(le)\" of \(sample.name) is not a number")
            }
        case (.summary, ""):
            guard let quantile = sample.label("quantile") else { throw fail("summary quantile \(sample.name) has no quantile label") }
            guard ExpositionParser.parseFloat(Array(quantile.utf8)) != nil else {
                throw fail("quantile=\"\(quantile)\" of \(sample.name) is not a number")
            }
        case (.histogram, _), (.gaugehistogram, _), (.summary, _):
            if sample.label("le") != nil || (family.type == .summary && sample.label("quantile") != nil) {
                throw fail("\(sample.name) must not have the \(family.type == .summary ? "quantile" : "le") label")
            }
        default: break
        }
        guard openMetrics else { return }
        let value = sample.value
        switch (family.type, suffix) {
        case (.counter, "_total"), (.histogram, "_sum"), (.summary, "_sum"):
            guard !value.isNaN && value >= 0 else {
                throw fail("\(sample.name) is \(ExpositionLint.format(value)): counter values and sums must be non-negative, not NaN")
            }
        case (.histogram, "_bucket"), (.histogram, "_count"), (.gaugehistogram, "_bucket"), (.gaugehistogram, "_gcount"), (.summary, "_count"):
            guard !value.isNaN && value >= 0 && value == value.rounded() else {
                throw fail("\(sample.name) is \(ExpositionLint.format(value)): bucket and count values must be non-negative integers")
            }
        case (.gaugehistogram, "_gsum"):
            guard !value.isNaN else { throw fail("\(sample.name) is NaN: a gaugehistogram's _gsum must not be NaN") }
        case (.summary, ""):
            guard value.isNaN || value >= 0 else { throw fail("\(sample.name) is \(ExpositionLint.format(value)): quantile values must not be negative") }
        case (.stateset, _):
            guard value == 0 || value == 1 else { throw fail("stateset sample \(sample.name) is \(value): states are 0 or 1") }
            guard sample.label(family.name) != nil else { throw fail("stateset sample \(sample.name) has no \(family.name) label naming the state") }
        case (.info, _):
            guard value == 1 else { throw fail("info sample \(sample.name) is \(value): info values are 1") }
        default: break
        }
        switch (family.type, suffix) {
        case (.histogram, "_bucket"), (.gaugehistogram, "_bucket"):
            let text = sample.label("le") ?? ""
            let le = ExpositionParser.parseFloat(Array(text.utf8)) ?? .nan
            guard !le.isNaN else { throw fail("le=\"\(text)\" of \(sample.name): bucket thresholds must not be NaN") }
            guard le.isFinite == false ? (text == "+Inf" || text == "-Inf") : true else {
                throw fail("le=\"\(text)\" of \(sample.name): infinite thresholds are written +Inf or -Inf")
            }
        case (.summary, ""):
            let text = sample.label("quantile") ?? ""
            let quantile = ExpositionParser.parseFloat(Array(text.utf8)) ?? .nan
            guard quantile >= 0 && quantile <= 1 else { throw fail("quantile=\"\(text)\" of \(sample.name): quantiles are between 0 and 1") }
        default: break
        }
        if sample.hasExemplar && !(suffix == "_total" || suffix == "_bucket") {
            throw fail("exemplar on \(sample.name): only counter _total and histogram _bucket samples may have exemplars")
        }
    }

    // MARK: Text

    /// Unescapes `\\`, `\n` and, where `quotes`, `\"`; any other escape is kept as written where
    /// `keepUnknown` (OpenMetrics' ABNF: `BS normal-char`), else an error (0.0.4); the text must be UTF-8.
    private func unescape(_ raw: ArraySlice<UInt8>, quotes: Bool, keepUnknown: Bool, what: String) throws(ExpositionError) -> String {
        guard raw.contains(UInt8(ascii: "\\")) else {
            guard let text = String(validating: raw, as: UTF8.self) else { throw fail("the \(what) is not valid UTF-8") }
            return text
        }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                continue
            }
            guard index < raw.endIndex else { throw fail("the \(what) ends with a lone backslash") }
            let next = raw[index]
            index += 1
            switch next {
            case UInt8(ascii: "\\"): out.append(next)
            case UInt8(ascii: "n"): out.append(UInt8(ascii: "\n"))
            case UInt8(ascii: "\"") where quotes: out.append(next)
            case _ where keepUnknown: out.append(contentsOf: [byte, next])
            default:
                throw fail("invalid escape sequence '\\\(Self.show([next]))' in the \(what): only \\\\, \\n\(quotes ? " and \\\"" : "") are allowed")
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw fail("the \(what) is not valid UTF-8") }
        return text
    }

    /// Text for a message: invalid bytes replaced, at most 60 characters.
    static func show<C: Collection<UInt8>>(_ bytes: C) -> String {
        let text = String(decoding: bytes.prefix(240), as: UTF8.self)
        return text.count > 60 ? String(text.prefix(60)) + "…" : text
    }
}

/// The Metric whose samples are being read (OpenMetrics).
private struct MetricState {
    var family: Int
    var labels: [ExpositionLabel]
    var timestamp: Double?
}

/// A histogram or gaugehistogram MetricPoint being read (OpenMetrics).
private struct HistogramPoint {
    var family: Int
    var labels: [ExpositionLabel]
    var timestamp: Double?
    var line: Int
    var lastLine = 0
    var buckets: [(le: Double, text: String, value: Double)] = []
    var count: (value: Double, line: Int)?
    var sumLine: Int?
    var negativeGsum = false

    init(family: Int, labels: [ExpositionLabel], timestamp: Double?, line: Int) {
        self.family = family
        self.labels = labels
        self.timestamp = timestamp
        self.line = line
        self.lastLine = line
    }
}

/// A position in one line.
private struct Cursor {
    var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    var atEnd: Bool { bytes.isEmpty }
    var peek: UInt8? { bytes.first }
    var rest: ArraySlice<UInt8> { bytes }

    /// Consumes `byte` if it is next.
    mutating func take(_ byte: UInt8) -> Bool {
        guard bytes.first == byte else { return false }
        bytes = bytes.dropFirst()
        return true
    }

    /// Skips blanks (and tabs); returns how many.
    mutating func skipBlanks(tabs: Bool) -> Int {
        let before = bytes.count
        bytes = bytes.drop { $0 == UInt8(ascii: " ") || (tabs && $0 == UInt8(ascii: "\t")) }
        return before - bytes.count
    }

    /// Bytes up to a blank, tab, or `stop`.
    mutating func token(stopAt stop: UInt8? = nil) -> ArraySlice<UInt8> {
        let end = bytes.firstIndex { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == stop } ?? bytes.endIndex
        let token = bytes[bytes.startIndex..<end]
        bytes = bytes[end...]
        return token
    }

    /// The raw bytes of a quoted string after its opening quote, up to the unescaped closing quote
    /// (consumed); `nil` when the line ends first.
    mutating func quoted() -> ArraySlice<UInt8>? {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""):
                let value = bytes[bytes.startIndex..<index]
                bytes = bytes[(index + 1)...]
                return value
            default: index += 1
            }
        }
        return nil
    }
}

extension Optional {
    /// The value, or `error` thrown.
    fileprivate func get<E: Error>(or error: @autoclosure () -> E) throws(E) -> Wrapped {
        guard let self else { throw error() }
        return self
    }
}

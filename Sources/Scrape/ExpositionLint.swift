import Intake

/// A problem found in a scraped exposition or in scraping it.
package struct ExpositionFinding: Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem.
    package enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The text does not parse in its format: the scrape failed and nothing of it was stored.
        case parse
        /// Against the format's rules without breaking the parse (0.0.4: a family split into groups).
        case format
        /// What `promtool check metrics` reports (its wording): naming, units, HELP.
        case lint
        /// What promtool misses: histogram buckets not cumulative or out of order, a missing `+Inf`
        /// bucket, `+Inf` ≠ `_count`, the same series twice.
        case consistency
        /// `sample_limit` or `label_limit` exceeded: the scrape failed, as in Prometheus.
        case limit
        /// The target could not be scraped (connection, timeout, HTTP status, body too large).
        case scrape
    }

    /// What kind of problem it is.
    package var kind: Kind
    /// The 1-based line in the exposition, or `nil` when the problem has no line.
    package var line: Int?
    /// The metric (family) name the problem is about, when there is one.
    package var metric: String?
    /// The problem; for ``Kind/lint`` promtool's own text.
    package var message: String

    /// A finding of `kind`, at `line` when it has one.
    package init(kind: Kind, line: Int? = nil, metric: String? = nil, message: String) {
        self.kind = kind
        self.line = line
        self.metric = metric
        self.message = message
    }

    /// `line 12: http_requests counter metrics should have "_total" suffix`.
    package var description: String {
        let location = line.map { "line \($0): " } ?? ""
        if kind == .lint, let metric { return location + "\(metric) \(message)" }
        return location + message
    }

    /// The finding as `promtool check metrics` prints it (`NAME TEXT`), for lints.
    package var promtoolLine: String? {
        guard kind == .lint, let metric else { return nil }
        return "\(metric) \(message)"
    }
}

/// The lints of `promtool check metrics` (client_golang's `promlint`, same wording), and the consistency
/// checks it lacks.
///
/// promlint works on 0.0.4 families; OpenMetrics families are seen as Prometheus reads them into the
/// same model (a counter `x` as `x_total`, `unknown` as untyped, `info` as gauge `x_info`,
/// `gaugehistogram` as histogram, `stateset` as gauge), so both formats get the same lints. Families
/// without samples are skipped, as promtool skips them. Each finding names the family's first line.
package enum ExpositionLint {
    /// Every lint and consistency problem of `exposition`, by line.
    package static func findings(_ exposition: ParsedExposition) -> [ExpositionFinding] {
        var findings = exposition.problems.map { ExpositionFinding(kind: .format, line: $0.line, message: $0.message) }
        for family in exposition.families where !family.samples.isEmpty {
            let view = promlintView(family, openMetrics: exposition.format == .openMetrics)
            var seen: Set<String> = []
            for problem in promlint(name: view.name, type: view.type, hasHelp: family.help != nil, labelNames: family.samples.flatMap { $0.labels.map(\.name) })
            where seen.insert(problem).inserted {
                findings.append(ExpositionFinding(kind: .lint, line: family.line, metric: view.name, message: problem))
            }
        }
        findings += consistency(exposition)
        return findings.sorted { ($0.line ?? 0, $0.description) < ($1.line ?? 0, $1.description) }
    }

    /// The family as promlint would see it: name and type in the 0.0.4 model.
    static func promlintView(_ family: ExpositionFamily, openMetrics: Bool) -> (name: String, type: ExpositionMetricType) {
        guard openMetrics else { return (family.name, family.type) }
        switch family.type {
        case .counter: return (family.name + "_total", .counter)
        case .info: return (family.name + "_info", .gauge)
        case .unknown: return (family.name, .untyped)
        case .gaugehistogram: return (family.name, .histogram)
        case .stateset: return (family.name, .gauge)
        default: return (family.name, family.type)
        }
    }

    // MARK: promlint

    /// promlint's problems for one family, in its order: help, units, counter, reserved suffixes and
    /// labels, type in name, reserved characters, camelCase, unit abbreviations.
    package static func promlint(name: String, type: ExpositionMetricType, hasHelp: Bool, labelNames: [String]) -> [String] {
        var problems: [String] = []
        if !hasHelp { problems.append("no help text") }
        if let (unit, base) = metricUnit(name), unit != base {
            problems.append("use base unit \"\(base)\" instead of \"\(unit)\"")
        }
        let isCounter = type == .counter
        let isUntyped = type == .untyped || type == .unknown
        let hasTotal = name.hasSuffix("_total")
        if isCounter && !hasTotal { problems.append(#"counter metrics should have "_total" suffix"#) }
        if !isUntyped && !isCounter && hasTotal { problems.append(#"non-counter metrics should not have "_total" suffix"#) }
        if !isUntyped {
            let isHistogram = type == .histogram
            let isSummary = type == .summary
            if !isHistogram && name.hasSuffix("_bucket") { problems.append(#"non-histogram metrics should not have "_bucket" suffix"#) }
            if !isHistogram && !isSummary && name.hasSuffix("_count") {
                problems.append(#"non-histogram and non-summary metrics should not have "_count" suffix"#)
            }
            if !isHistogram && !isSummary && name.hasSuffix("_sum") {
                problems.append(#"non-histogram and non-summary metrics should not have "_sum" suffix"#)
            }
            for label in labelNames {
                if !isHistogram && label == "le" { problems.append(#"non-histogram metrics should not have "le" label"#) }
                if !isSummary && label == "quantile" { problems.append(#"non-summary metrics should not have "quantile" label"#) }
            }
        }
        let lower = name.lowercased()
        for typeName in ["counter", "gauge", "summary", "histogram", "gauge_histogram"]
        where lower.contains("_\(typeName)_") || lower.hasSuffix("_\(typeName)") {
            problems.append("metric name should not include type '\(typeName)'")
        }
        if name.contains(":") { problems.append("metric names should not contain ':'") }
        if isCamelCase(name) { problems.append("metric names should be written in 'snake_case' not 'camelCase'") }
        for label in labelNames where isCamelCase(label) {
            problems.append("label names should be written in 'snake_case' not 'camelCase'")
        }
        for abbreviation in unitAbbreviations where lower.contains("_\(abbreviation)_") || lower.hasSuffix("_\(abbreviation)") {
            problems.append("metric names should not contain abbreviated units")
        }
        return problems
    }

    /// promlint's units and the base unit each should be.
    static let units: [(String, String)] = [
        ("amperes", "amperes"), ("bytes", "bytes"), ("celsius", "celsius"), ("grams", "grams"), ("joules", "joules"),
        ("kelvin", "kelvin"), ("meters", "meters"), ("metres", "metres"), ("seconds", "seconds"), ("volts", "volts"),
        ("minutes", "seconds"), ("hours", "seconds"), ("days", "seconds"), ("weeks", "seconds"),
        ("kelvins", "kelvin"), ("fahrenheit", "celsius"), ("rankine", "celsius"),
        ("inches", "meters"), ("yards", "meters"), ("miles", "meters"),
        ("bits", "bytes"), ("calories", "joules"), ("pounds", "grams"), ("ounces", "grams"),
    ]

    static let unitPrefixes = [
        "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega", "mibi", "giga", "gibi", "tera", "tebi", "peta", "pebi",
    ]

    static let unitAbbreviations = ["s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d"]

    /// The first word of `name` that is a known unit, with or without a prefix, and its base unit.
    /// (promlint walks a Go map, so with two unit words in one name its choice varies; ours is fixed.)
    static func metricUnit(_ name: String) -> (String, String)? {
        let words = Set(name.split(separator: "_", omittingEmptySubsequences: false).map(String.init))
        for (unit, base) in units {
            for prefix in unitPrefixes + [""] where words.contains(prefix + unit) {
                return (prefix + unit, base)
            }
        }
        return nil
    }

    /// `[a-z][A-Z]` anywhere.
    static func isCamelCase(_ text: String) -> Bool {
        var previousLower = false
        for byte in text.utf8 {
            let upper = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            if previousLower && upper { return true }
            previousLower = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
        }
        return false
    }

    // MARK: Consistency

    /// Histogram buckets (order, cumulative counts, `+Inf`, `_count`) and repeated series.
    static func consistency(_ exposition: ParsedExposition) -> [ExpositionFinding] {
        var findings: [ExpositionFinding] = []
        // The same series twice (name and label set; explicit timestamps make distinct points).
        var seen: [SeriesIdentity: Int] = [:]
        for sample in exposition.samples {
            let identity = SeriesIdentity(sample)
            if let first = seen[identity] {
                findings.append(
                    ExpositionFinding(
                        kind: .consistency,
                        line: sample.line,
                        metric: sample.name,
                        message: "duplicate series \(describe(sample.name, sample.labels)): also at line \(first)"
                    )
                )
            } else {
                seen[identity] = sample.line
            }
        }
        for family in exposition.families where family.type == .histogram || family.type == .gaugehistogram {
            findings += histogramFindings(family, openMetrics: exposition.format == .openMetrics)
        }
        return findings
    }

    private struct SeriesIdentity: Hashable {
        var name: String
        var labels: [String: String]
        var timestamp: Double?

        init(_ sample: ExpositionSample) {
            name = sample.name
            labels = Dictionary(sample.labels.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
            // Seconds as written: two timestamps that milliseconds would merge are still two points.
            timestamp = sample.timestampSeconds
        }
    }

    private static func histogramFindings(_ family: ExpositionFamily, openMetrics: Bool) -> [ExpositionFinding] {
        let countSuffix = family.type == .gaugehistogram ? "_gcount" : "_count"
        struct Group {
            var buckets: [(le: Double, text: String, value: Double, line: Int)] = []
            var count: (value: Double, line: Int)?
            var hasSum = false
            var firstLine: Int
        }
        var groups: [SeriesIdentityWithoutLE: Group] = [:]
        var order: [SeriesIdentityWithoutLE] = []
        for sample in family.samples {
            let key = SeriesIdentityWithoutLE(sample)
            if groups[key] == nil {
                groups[key] = Group(firstLine: sample.line)
                order.append(key)
            }
            if sample.name == family.name + "_bucket", let text = sample.label("le"), let le = ExpositionParser.parseFloat(Array(text.utf8)) {
                groups[key]!.buckets.append((le, text, sample.value, sample.line))
            } else if sample.name == family.name + countSuffix {
                groups[key]!.count = (sample.value, sample.line)
            } else if sample.name == family.name + (family.type == .gaugehistogram ? "_gsum" : "_sum") {
                groups[key]!.hasSum = true
            }
        }
        var findings: [ExpositionFinding] = []
        for key in order {
            let group = groups[key]!
            let series = describe(family.name, key.labels)
            guard !group.buckets.isEmpty else { continue }
            for (previous, bucket) in zip(group.buckets, group.buckets.dropFirst()) {
                if !(bucket.le > previous.le) {
                    findings.append(
                        ExpositionFinding(
                            kind: .consistency,
                            line: bucket.line,
                            metric: family.name,
                            message:
                                "histogram \(series): bucket le=\"\(bucket.text)\" comes after le=\"\(previous.text)\": buckets must be in increasing order of le, each once"
                        )
                    )
                }
            }
            let sorted = group.buckets.sorted { $0.le < $1.le }
            for (previous, bucket) in zip(sorted, sorted.dropFirst()) where bucket.value < previous.value {
                findings.append(
                    ExpositionFinding(
                        kind: .consistency,
                        line: bucket.line,
                        metric: family.name,
                        message:
                            "histogram \(series): bucket le=\"\(bucket.text)\" counts \(format(bucket.value)), less than le=\"\(previous.text)\" with \(format(previous.value)): buckets are cumulative and must not decrease"
                    )
                )
            }
            guard let infinity = group.buckets.first(where: { $0.le == .infinity }) else {
                findings.append(
                    ExpositionFinding(
                        kind: .consistency,
                        line: group.buckets.last!.line,
                        metric: family.name,
                        message: "histogram \(series) has no le=\"+Inf\" bucket"
                    )
                )
                continue
            }
            if let count = group.count {
                if count.value != infinity.value && !(count.value.isNaN && infinity.value.isNaN) {
                    findings.append(
                        ExpositionFinding(
                            kind: .consistency,
                            line: count.line,
                            metric: family.name,
                            message:
                                "histogram \(series): \(family.name)\(countSuffix) is \(format(count.value)) but the le=\"+Inf\" bucket (line \(infinity.line)) is \(format(infinity.value)): they must be equal"
                        )
                    )
                }
            } else if group.hasSum || !openMetrics {
                // OpenMetrics allows a histogram with neither _sum nor _count (the parser refuses one
                // without the other); the text format documents both.
                findings.append(
                    ExpositionFinding(
                        kind: .consistency,
                        line: infinity.line,
                        metric: family.name,
                        message: "histogram \(series) has buckets but no \(family.name)\(countSuffix)"
                    )
                )
            }
        }
        return findings
    }

    private struct SeriesIdentityWithoutLE: Hashable {
        var labels: [ExpositionLabel]
        var timestamp: Double?

        init(_ sample: ExpositionSample) {
            labels = sample.labels.filter { $0.name != "le" }.sorted { $0.name < $1.name }
            timestamp = sample.timestampSeconds
        }
    }

    static func describe(_ name: String, _ labels: [ExpositionLabel]) -> String {
        let text = name + (labels.isEmpty ? "" : "{" + labels.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ",") + "}")
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

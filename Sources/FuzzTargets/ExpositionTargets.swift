import Scrape

/// Exposition text as the scraper and `otelbench lint-metrics` parse it (``ExpositionParser``), in both formats:
/// what parses has valid names, no label twice and a line number for every family and sample; what does not
/// names a line of the text.
enum ExpositionTargets {
    static func text(_ bytes: [UInt8]) throws(InvariantViolation) { try run(bytes, format: .text) }

    static func openMetrics(_ bytes: [UInt8]) throws(InvariantViolation) { try run(bytes, format: .openMetrics) }

    private static func run(_ bytes: [UInt8], format: ExpositionFormat) throws(InvariantViolation) {
        let lines = bytes.lineCount
        let parsed: ParsedExposition
        do {
            parsed = try ExpositionParser.parse(bytes, format: format)
        } catch {
            try require((0...lines).contains(error.line), "an error names line \(error.line) of a \(lines)-line text: \(error)")
            return
        }
        for problem in parsed.problems {
            try require((0...lines).contains(problem.line), "a problem names line \(problem.line) of a \(lines)-line text: \(problem)")
        }
        for family in parsed.families {
            try require((1...lines).contains(family.line), "family \(family.name) starts at line \(family.line) of \(lines)")
            for sample in family.samples {
                try require((1...lines).contains(sample.line), "a sample of \(family.name) is at line \(sample.line) of \(lines)")
                try require(ExpositionParser.isMetricName(Array(sample.name.utf8)), "sample name \(sample.name) is not a metric name")
                var names = Set<String>()
                for label in sample.labels {
                    try require(ExpositionParser.isLabelName(Array(label.name.utf8)), "label name \(label.name) of \(sample.name) is not a label name")
                    try require(names.insert(label.name).inserted, "label \(label.name) twice in a sample of \(sample.name)")
                }
            }
        }
    }
}

/// One thing wrong with a Collector configuration: where it is, what it is, and how to fix it.
package struct CollectorFinding: Sendable, Hashable, Codable, CustomStringConvertible {
    /// How bad it is.
    package enum Severity: String, Sendable, Hashable, Codable {
        /// The Collector refuses the configuration, or a pipeline cannot work as written: the scenario rule fails.
        case error
        /// Deprecated, unused, or against the Collector's documented best practice: reported, the rule still passes.
        case warning
    }

    /// What kind of check found it (stable names, for `--format json` and tests).
    package enum Check: String, Sendable, Hashable, Codable {
        case structure
        case undefinedComponent = "undefined-component"
        case unusedComponent = "unused-component"
        case unknownComponent = "unknown-component"
        case removedComponent = "removed-component"
        case deprecatedComponent = "deprecated-component"
        case unavailableComponent = "unavailable-component"
        case signalMismatch = "signal-mismatch"
        case removedSetting = "removed-setting"
        case deprecatedSetting = "deprecated-setting"
        case memoryLimiter = "memory-limiter"
        case processorOrder = "processor-order"
        case exporterQueue = "exporter-queue"
    }

    package var severity: Severity
    package var check: Check
    /// 1-based line and column of the key or value the finding is about.
    package var line: Int
    package var column: Int
    /// The configuration path, e.g. `exporters.jaeger` or `service.pipelines.traces.processors[1]`.
    package var path: String
    package var message: String
    /// What to change.
    package var fix: String

    package init(severity: Severity, check: Check, line: Int, column: Int, path: String, message: String, fix: String) {
        self.severity = severity
        self.check = check
        self.line = line
        self.column = column
        self.path = path
        self.message = message
        self.fix = fix
    }

    /// `94:3: error [removed-component] exporters.jaeger: ... (fix: ...)`.
    package var description: String {
        "\(line):\(column): \(severity.rawValue) [\(check.rawValue)] \(path): \(message) (fix: \(fix))"
    }
}

/// The lint's verdict on one file.
package struct CollectorLintReport: Sendable, Codable {
    package var file: String
    /// The Collector release the configuration was judged for.
    package var collectorVersion: CollectorVersion
    /// In file order.
    package var findings: [CollectorFinding]

    package var errors: [CollectorFinding] { findings.filter { $0.severity == .error } }
    package var warnings: [CollectorFinding] { findings.filter { $0.severity == .warning } }

    enum CodingKeys: String, CodingKey {
        case file, findings
        case collectorVersion = "collector_version"
    }
}

/// A configuration the lint cannot read at all: a missing file or invalid YAML, located by line.
package struct CollectorConfigUnreadable: Error, Sendable, CustomStringConvertible {
    package var file: String
    /// 0 when the file itself cannot be read.
    package var line: Int
    package var column: Int
    package var message: String

    package var description: String { line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)" }
}

import ArgumentParser
import CollectorLint
import Foundation

/// `otelbench lint-collector FILE`: lint an OpenTelemetry Collector configuration and list its findings by line.
///
/// ```
/// otelbench lint-collector otel-collector.yaml
/// otelbench lint-collector --collector-version 0.90.0 --format json otel-collector.yaml
/// ```
struct LintCollector: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint-collector",
        abstract: "Lint an OpenTelemetry Collector configuration: structure, known components by version, best practices.",
        discussion: """
            Checks that every component a pipeline uses is defined and every defined one used, that each can carry \
            its pipeline's signal, that its type exists in the Collector release (removed, renamed and deprecated \
            components and settings, from a versioned table compiled into otelbench), and the Collector docs' best \
            practices (memory_limiter first with check_interval and a limit, queues on exporters). Every finding \
            gives its line and the fix. Exits 0 when clean, 1 when there are findings (errors or warnings), 2 when \
            the file is missing or not valid YAML.
            """
    )

    /// How findings are printed.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Argument(help: ArgumentHelp("The Collector configuration (YAML).", valueName: "file"))
    var file: String

    @Option(
        help: ArgumentHelp(
            "The Collector release to judge for, e.g. 0.90.0 (default: the newest the component table describes, \(ComponentTable.shipped.newest)).",
            valueName: "version"
        )
    )
    var collectorVersion: String?

    @Option(help: ArgumentHelp("text (one finding per line, then its fix) or json.", valueName: "format"))
    var format: Format = .text

    func validate() throws {
        guard !file.isEmpty else { throw ValidationError("name a Collector configuration file, e.g. otelbench lint-collector otel-collector.yaml") }
        if let text = collectorVersion {
            let table = ComponentTable.shipped
            guard let version = CollectorVersion(text) else {
                throw ValidationError("--collector-version must look like 0.90.0 (got '\(text)')")
            }
            guard version >= table.oldest else {
                throw ValidationError(
                    "--collector-version \(version) is older than the component table's \(table.oldest): give \(table.oldest) to \(table.newest)"
                )
            }
        }
    }

    func run() throws {
        let table = ComponentTable.shipped
        let version = collectorVersion.flatMap(CollectorVersion.init) ?? table.newest
        if version > table.newest {
            Terminal.err("note: the component table ends at \(table.newest); removals and renames after it are not known")
        }
        let report: CollectorLintReport
        do throws(CollectorConfigUnreadable) {
            report = try CollectorConfigLint(table: table, version: version).lint(file: file)
        } catch {
            Terminal.err("error: \(error)")
            throw ExitCode(2)
        }
        switch format {
        case .text:
            for finding in report.findings {
                Terminal.out(
                    "\(report.file):\(finding.line):\(finding.column): \(finding.severity.rawValue) [\(finding.check.rawValue)] \(finding.path): \(finding.message)"
                )
                Terminal.out("    fix: \(finding.fix)")
            }
            let errors = report.errors.count
            let warnings = report.warnings.count
            Terminal.err(
                "\(report.file): \(errors) \(errors == 1 ? "error" : "errors"), \(warnings) \(warnings == 1 ? "warning" : "warnings") for otelcol-contrib \(version)"
            )
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = (try? encoder.encode(report)) ?? Data("{}".utf8)
            Terminal.out(String(decoding: data, as: UTF8.self))
        }
        guard report.findings.isEmpty else { throw ExitCode(1) }
    }
}

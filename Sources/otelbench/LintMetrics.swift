import ArgumentParser
import Foundation
import Scrape

/// `otelbench lint-metrics FILE|URL`: parse one exposition strictly and list what is wrong with it.
///
/// ```
/// otelbench lint-metrics metrics.txt
/// curl -s http://127.0.0.1:9100/metrics | otelbench lint-metrics --format text -
/// otelbench lint-metrics http://127.0.0.1:9100/metrics
/// ```
struct LintMetrics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint-metrics",
        abstract: "Parse one Prometheus text 0.0.4 or OpenMetrics 1.0 exposition strictly and list its problems by line.",
        discussion: """
            Lint findings use promtool check metrics' wording where promtool has the check. Exits 0 when the \
            exposition is clean, 1 when it parses but has findings, 2 when it does not parse or cannot be read.
            """
    )

    /// The two exposition formats, as named on the command line.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, openmetrics

        var exposition: ExpositionFormat { self == .text ? .text : .openMetrics }
    }

    @Argument(help: ArgumentHelp("A file, - for standard input, or an http(s) URL to scrape once.", valueName: "file|url"))
    var source: String

    @Option(
        help: ArgumentHelp(
            "The format: text (0.0.4) or openmetrics (1.0). Default: the URL's Content-Type, or for a file openmetrics when its last line is # EOF.",
            valueName: "format"
        )
    )
    var format: Format?

    @Option(help: ArgumentHelp("How long a URL may take to answer, in seconds.", valueName: "seconds"))
    var timeout: Double = 10

    func validate() throws {
        guard !source.isEmpty else { throw ValidationError("name a file, - for standard input, or a URL, e.g. otelbench lint-metrics metrics.txt") }
        guard timeout > 0 && timeout <= 86_400 else { throw ValidationError("--timeout must be > 0 and at most 86400 seconds (got \(timeout))") }
    }

    func run() async throws {
        let bytes: [UInt8]
        let detected: ExpositionFormat
        if source.hasPrefix("http://") || source.hasPrefix("https://") {
            do {
                let fetched = try await PrometheusScraper.fetchExposition(url: source, timeout: .milliseconds(Int64(timeout * 1000)))
                if let note = fetched.note { Terminal.err("note: \(note)") }
                bytes = fetched.body
                detected = fetched.format
            } catch {
                Terminal.err("error: cannot scrape \(source): \(error)")
                throw ExitCode(2)
            }
        } else {
            do {
                bytes = try Self.read(source)
            } catch {
                Terminal.err("error: cannot read \(source): \(error.localizedDescription)")
                throw ExitCode(2)
            }
            detected = Self.guessFormat(bytes)
        }
        let chosen = format?.exposition ?? detected
        let parsed: ParsedExposition
        do {
            parsed = try ExpositionParser.parse(bytes, format: chosen)
        } catch {
            // promtool's wording: "text format parsing error in line N: ...".
            Terminal.out("\(chosen.name) parsing error in line \(max(error.line, 1)): \(error.message)")
            throw ExitCode(2)
        }
        let findings = ExpositionLint.findings(parsed)
        for finding in findings { Terminal.out(finding.description) }
        guard findings.isEmpty else { throw ExitCode(1) }
    }

    /// The bytes of a file, or of standard input for `-`.
    static func read(_ path: String) throws -> [UInt8] {
        if path == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// OpenMetrics when the last line is `# EOF` (which the text format has no use for), else text 0.0.4.
    static func guessFormat(_ bytes: [UInt8]) -> ExpositionFormat {
        var body = bytes[...]
        while body.last == UInt8(ascii: "\n") { body = body.dropLast() }
        let lastLine = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).last ?? []
        return lastLine.elementsEqual("# EOF".utf8) ? .openMetrics : .text
    }
}

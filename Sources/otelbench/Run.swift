import ArgumentParser
import Foundation
import Harness
import Reporting
import Workload

/// `otelbench run SCENARIO`: the main job.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario: start intake and services, drive the workload, settle, check the rules, write reports.",
        discussion: """
            Exit code 0 when every rule holds, 1 when a rule failed (or the run was interrupted), 2 when the \
            scenario or flags are wrong or the run could not start. Reports go to --report-dir \
            (default Reports/<scenario>/<timestamp>/): summary.json, junit.xml, report.md.
            """
    )

    @Argument(help: ArgumentHelp("The scenario file.", valueName: "scenario")) var scenarioPath: String
    @Option(help: ArgumentHelp("Where reports go (default Reports/<scenario>/<timestamp>).", valueName: "dir")) var reportDir: String?
    @Option(help: "Multiply every phase's duration (0.1 runs a tenth as long).") var durationScale: Double = 1
    @Option(name: .customLong("target"), help: ArgumentHelp("Send a service's requests to URL instead (staging).", valueName: "name=url"))
    var targets: [String] = []
    @Option(help: ArgumentHelp("Compare with an earlier summary.json; regressions beyond the scenario's rules.regression tolerances fail.", valueName: "file"))
    var baseline: String?
    @Flag(help: "No progress lines.") var quiet = false
    @OptionGroup var recording: RecordOptions

    func validate() throws {
        guard durationScale > 0, durationScale.isFinite else { throw ValidationError("--duration-scale must be > 0 (got \(durationScale))") }
        for target in targets where !target.contains("=") || !(target.split(separator: "=", maxSplits: 1).last?.hasPrefix("http") ?? false) {
            throw ValidationError("--target must be NAME=URL, e.g. tasks=https://staging.example.com (got \(target))")
        }
    }

    func run() async throws {
        var options = ScenarioRun.Options(reportDirectory: reportDir, durationScale: durationScale)
        options.baselinePath = baseline
        options.recordFormat = recording.recordFormat
        options.recordCompression = recording.recordCompression
        for target in targets {
            let parts = target.split(separator: "=", maxSplits: 1).map(String.init)
            options.targetOverrides[parts[0]] = parts[1]
        }
        if !quiet {
            options.progress = { line in
                Terminal.clearProgress(enabled: true)
                Terminal.err(line)
            }
            options.driverProgress = Self.printProgress
        }
        let outcome: ScenarioRun.Outcome
        do {
            outcome = try await ScenarioRun(scenarioPath: scenarioPath, options: options).run()
        } catch let error as HarnessError {
            throw UsageError(error.message)
        }
        Terminal.out(TextReport.terminal(outcome.summary))
        let recordings = outcome.recordingFiles.map { ($0 as NSString).lastPathComponent }
        Terminal.out("reports: \(outcome.directory)/{\((["summary.json", "junit.xml", "report.md", "report.html"] + recordings).joined(separator: ","))}")
        if !outcome.passed { throw ExitCode(1) }
    }

    /// Redrawn in place on a terminal; a plain line every 5 s in logs (CI).
    @Sendable static func printProgress(_ progress: DriverProgress) {
        if Terminal.isInteractive {
            Terminal.progress(progress.line)
        } else if Int(progress.elapsed.components.seconds) % 5 == 0 || progress.elapsed >= progress.total {
            Terminal.err(progress.line)
        }
    }
}

import ArgumentParser
import Harness
import Reporting
import Telemetry

/// `otelbench check`: judge a recording against a scenario's rules without running any workload.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-evaluate a scenario's rules over a recording (from `receive --record` or a run's recording.jsonl).",
        discussion: """
            Only what telemetry alone can show is judged: SLOs over spans and metrics, cardinality, taxonomy, \
            and refused items. Rules that need the workload's own records (client-side SLOs, request-by-request \
            propagation) have no data here and say so. Exit 0 when every judged rule holds, 1 otherwise, 2 for \
            bad input.
            """
    )

    @Option(
        help: ArgumentHelp(
            "A recording in any of the formats `run` and `receive --record` write (repeat it for a proto recording's files).",
            valueName: "file"
        )
    )
    var recording: [String]

    func validate() throws {
        guard !recording.isEmpty else { throw ValidationError("--recording FILE is required (a run's recording.jsonl, or receive --record's file)") }
    }

    @Option(help: ArgumentHelp("The scenario whose rules apply.", valueName: "file")) var scenario: String
    @Option(help: ArgumentHelp("Where reports go (default: the recording's folder, check-<timestamp>).", valueName: "dir")) var reportDir: String?

    func run() async throws {
        let outcome: RecordingCheck.Outcome
        do {
            outcome = try RecordingCheck(scenarioPath: scenario, recordingPaths: recording).run(reportDirectory: reportDir)
        } catch {
            throw UsageError(error.message)
        }
        Terminal.out(
            "replayed \(outcome.replayedRequests) requests from \(recording.joined(separator: ", ")): \(IntakeSummary(store: outcome.store).text.split(separator: "\n").first ?? "")"
        )
        for truncation in outcome.truncations { Terminal.err("note: \(truncation)") }
        Terminal.out(TextReport.terminal(outcome.summary))
        if !outcome.skipped.isEmpty { Terminal.out("not judged without the workload's records: \(outcome.skipped.joined(separator: ", "))") }
        Terminal.out("reports: \(outcome.directory)")
        if !outcome.summary.passed { throw ExitCode(1) }
    }
}

import ArgumentParser
import Checks
import Foundation
import Reporting
import Services
import Telemetry
import Workload

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

    @Option(help: ArgumentHelp("The recording: OTLP/JSON lines.", valueName: "file")) var recording: String
    @Option(help: ArgumentHelp("The scenario whose rules apply.", valueName: "file")) var scenario: String
    @Option(help: ArgumentHelp("Where reports go (default: the recording's folder, check-<timestamp>).", valueName: "dir")) var reportDir: String?

    func run() async throws {
        let loaded: Scenario
        do { loaded = try ScenarioLoader.load(path: scenario) } catch { throw UsageError(error.description) }
        let requests: [RecordedRequest]
        do { requests = try RecordingReader.read(path: recording) } catch { throw UsageError("\(error)") }
        let store = TelemetryStore(limits: .init(maxStoredBytes: nil))
        for request in requests { store.replay(request) }
        Terminal.out("replayed \(requests.count) requests from \(recording): \(IntakeSummary(store: store).text.split(separator: "\n").first ?? "")")

        let taxonomy = try ScenarioRules.taxonomyPath(loaded, fallBackToCFCore: false).map(ScenarioRules.loadTaxonomy(path:))
        let (rules, skipped, alerts) = ScenarioRules.evaluate(loaded, taxonomy: taxonomy, run: RunData(store: store, driver: nil), withWorkloadRecords: false)
        var summary = RunSummary(scenario: loaded, startedAt: Date(), driver: DriverReport(), rules: rules, store: store)
        summary.alerts = alerts
        let directory = reportDir ?? URL(fileURLWithPath: recording).deletingLastPathComponent()
            .appendingPathComponent("check-\(Run.timestamp(Date()))").path
        try ReportFiles.write(summary, to: directory)
        Terminal.out(TextReport.terminal(summary))
        if !skipped.isEmpty { Terminal.out("not judged without the workload's records: \(skipped.joined(separator: ", "))") }
        Terminal.out("reports: \(directory)")
        if !summary.passed { throw ExitCode(1) }
    }
}

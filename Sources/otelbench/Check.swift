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

        let run = RunData(store: store, driver: nil)
        var rules = loaded.rules.slos.filter {
            if case .client = $0.source { return false }
            return true
        }.map { SLOCheck.evaluate($0, run: run) }
        if let limit = loaded.rules.cardinalityLimit {
            rules += CardinalityCheck.evaluate(limit: limit, perMetric: loaded.rules.cardinalityPerMetric, store: store)
        }
        if let taxonomyPath = loaded.rules.taxonomy {
            let path = taxonomyPath.hasPrefix("/") ? taxonomyPath : URL(fileURLWithPath: loaded.file).deletingLastPathComponent().appendingPathComponent(taxonomyPath).path
            do { rules += TaxonomyCheck.evaluate(taxonomy: try MetricTaxonomy.load(path: path), store: store) } catch { throw UsageError("\(error)") }
        }
        let skipped = loaded.rules.slos.filter { if case .client = $0.source { return true } else { return false } }.map(\.name)
            + (loaded.rules.propagation ? ["W3C trace context"] : []) + (loaded.rules.accountingTolerance != nil ? ["nothing lost"] : [])
        let summary = RunSummary(scenario: loaded, startedAt: Date(), driver: DriverReport(), rules: rules, store: store)
        let directory = reportDir ?? URL(fileURLWithPath: recording).deletingLastPathComponent()
            .appendingPathComponent("check-\(Run.timestamp(Date()))").path
        try ReportFiles.write(summary, to: directory)
        Terminal.out(TextReport.terminal(summary))
        if !skipped.isEmpty { Terminal.out("not judged without the workload's records: \(skipped.joined(separator: ", "))") }
        Terminal.out("reports: \(directory)")
        if !summary.passed { throw ExitCode(1) }
    }
}

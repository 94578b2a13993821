package import Checks
package import Foundation
package import Reporting
package import Scenario
package import Telemetry
import Workload

/// Judges a recording (from `receive --record` or a run's `recording.jsonl`) against a scenario's rules,
/// without running any workload: what `otelbench check` does.
package struct RecordingCheck: Sendable {
    /// What the check produced.
    package struct Outcome: Sendable {
        package var summary: RunSummary
        /// Requests replayed from the recording.
        package var replayedRequests: Int
        /// The store the recording was replayed into.
        package var store: TelemetryStore
        /// Rules the scenario has that need the workload's own records, so were not judged.
        package var skipped: [String]
        package var directory: String
    }

    package let scenario: Scenario
    package let recordingPath: String

    /// Loads the scenario; its mistakes are the user's to fix.
    package init(scenarioPath: String, recordingPath: String) throws(HarnessError) {
        do {
            scenario = try ScenarioLoader.load(path: scenarioPath)
        } catch {
            throw HarnessError(code: .invalidScenario, message: error.description, cause: error)
        }
        self.recordingPath = recordingPath
    }

    /// Replays the recording, judges the rules and writes the reports to `reportDirectory` (default: a
    /// `check-<timestamp>` folder beside the recording).
    package func run(reportDirectory: String?) throws(HarnessError) -> Outcome {
        let requests: [RecordedRequest]
        do { requests = try RecordingReader.read(path: recordingPath) } catch {
            throw HarnessError(code: .invalidScenario, message: "\(error)", cause: error)
        }
        let store = TelemetryStore(limits: .init(maxRetainedBytes: nil))
        let taxonomy = try scenario.taxonomyPath(fallBackToCFCore: false).map(ScenarioRun.loadTaxonomy(path:))
        let book = RuleBook(scenario, taxonomy: taxonomy, withWorkloadRecords: false)
        book.attach(to: store)
        for request in requests { store.replay(request) }
        let verdict = book.evaluate(RunData(store: store, driver: nil))
        var summary = RunSummary(scenario: scenario, startedAt: Date(), driver: DriverReport(), rules: verdict.results, store: store)
        summary.alerts = verdict.alerts
        let directory =
            reportDirectory
            ?? URL(fileURLWithPath: recordingPath).deletingLastPathComponent()
            .appendingPathComponent("check-\(ScenarioRun.timestamp(Date()))").path
        try ReportFiles.write(summary, to: directory)
        return Outcome(summary: summary, replayedRequests: requests.count, store: store, skipped: verdict.skipped, directory: directory)
    }
}

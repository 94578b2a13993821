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
        /// Files that ended mid-entry: where, and how much was read before the cut.
        package var truncations: [String]
        /// The store the recording was replayed into.
        package var store: TelemetryStore
        /// Rules the scenario has that need the workload's own records, so were not judged.
        package var skipped: [String]
        package var directory: String
    }

    package let scenario: Scenario
    /// The recording's files (one for JSON lines, one per signal for proto).
    package let recordingPaths: [String]

    /// Loads the scenario; its mistakes are the user's to fix.
    package init(scenarioPath: String, recordingPaths: [String]) throws(HarnessError) {
        do {
            scenario = try ScenarioLoader.load(path: scenarioPath)
        } catch {
            throw HarnessError(code: .invalidScenario, message: error.description, cause: error)
        }
        self.recordingPaths = recordingPaths
    }

    /// Replays the recording through the checks as it is read (in constant memory, whatever its length), judges
    /// the rules and writes the reports to `reportDirectory` (default: a `check-<timestamp>` folder beside the
    /// recording).
    package func run(reportDirectory: String?) throws(HarnessError) -> Outcome {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: nil))
        let taxonomy = try scenario.taxonomyPath(fallBackToCFCore: false).map(ScenarioRun.loadTaxonomy(path:))
        let book = RuleBook(scenario, taxonomy: taxonomy, withWorkloadRecords: false)
        book.attach(to: store)
        var replayed = 0
        var truncations: [String] = []
        for path in recordingPaths {
            do {
                let read = try RecordingReader.forEach(path: path) { store.replay($0) }
                replayed += read.requestCount
                if let truncation = read.truncation { truncations.append(truncation) }
            } catch {
                throw HarnessError(code: .invalidScenario, message: "\(error)", cause: error)
            }
        }
        let verdict = book.evaluate(RunData(store: store, driver: nil))
        var summary = RunSummary(scenario: scenario, startedAt: Date(), driver: DriverReport(), rules: verdict.results, store: store)
        summary.alerts = verdict.alerts
        if !scenario.report.dashboards.isEmpty {
            // A recording does not say when its run started: the panels start at its first sample.
            summary.dashboards = DashboardEvaluation.evaluate(scenario.report.dashboards, store: store, from: nil)
        }
        let directory =
            reportDirectory
            ?? URL(fileURLWithPath: recordingPaths.first ?? ".").deletingLastPathComponent()
            .appendingPathComponent("check-\(ScenarioRun.timestamp(Date()))").path
        try ReportFiles.write(summary, to: directory)
        return Outcome(
            summary: summary,
            replayedRequests: replayed,
            truncations: truncations,
            store: store,
            skipped: verdict.skipped,
            directory: directory
        )
    }
}

package import Foundation
import Workload

/// An earlier run to compare with (`--baseline`): the fields of its `summary.json` that the
/// ``BaselineCheck`` needs. Older summaries decode too.
///
/// ```swift
/// let baseline = try Baseline.load(path: "Reports/cf-core-smoke/20250101-120000/summary.json")
/// let book = RuleBook(scenario, taxonomy: taxonomy, baseline: baseline, withWorkloadRecords: true)
/// ```
package struct Baseline: Sendable, Decodable, Hashable {
    /// One phase of the earlier run.
    package struct Phase: Sendable, Decodable, Hashable {
        package var sent: Int
        package var elapsedSeconds: Double
        package var requests: [String: Request]

        package init(sent: Int, elapsedSeconds: Double, requests: [String: Request]) {
            self.sent = sent
            self.elapsedSeconds = elapsedSeconds
            self.requests = requests
        }

        /// Requests answered successfully (outcome `ok`), or `nil` when a request name has no outcomes (a
        /// summary written before they existed).
        package var completed: Int? {
            var total = 0
            for request in requests.values {
                guard let outcomes = request.outcomes else { return nil }
                total += outcomes[RequestOutcome.ok.rawValue] ?? 0
            }
            return total
        }
    }

    /// One request name within a phase.
    package struct Request: Sendable, Decodable, Hashable {
        package struct Latency: Sendable, Decodable, Hashable {
            /// Milliseconds.
            package var p99: Double
        }
        package var count: Int
        /// Requests by outcome (`ok`, `4xx`, `5xx`, `timeout`, `connect`); absent in older summaries.
        package var outcomes: [String: Int]?
        package var latency: Latency

        package init(count: Int, outcomes: [String: Int]? = nil, p99Milliseconds: Double) {
            self.count = count
            self.outcomes = outcomes
            latency = Latency(p99: p99Milliseconds)
        }
    }

    /// One point of a request's client latency curve over the whole run.
    package struct CurvePoint: Sendable, Decodable, Hashable {
        package var percentile: Double
        package var milliseconds: Double

        package init(percentile: Double, milliseconds: Double) {
            self.percentile = percentile
            self.milliseconds = milliseconds
        }
    }

    package var scenario: String
    package var phases: [Phase]
    /// Absent in summaries written before the curves existed.
    package var latencyCurves: [String: [CurvePoint]]?

    package init(scenario: String, phases: [Phase], latencyCurves: [String: [CurvePoint]]? = nil) {
        self.scenario = scenario
        self.phases = phases
        self.latencyCurves = latencyCurves
    }

    /// Reads a baseline file: a run's `summary.json`.
    ///
    /// - Throws: ``BaselineError`` naming the file when it cannot be read or is not a run summary.
    package static func load(path: String) throws(BaselineError) -> Baseline {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BaselineError(message: "cannot read --baseline \(path)")
        }
        do {
            return try JSONDecoder().decode(Baseline.self, from: data)
        } catch {
            throw BaselineError(message: "--baseline \(path) is not an otelbench summary.json: \(error)")
        }
    }
}

/// A baseline file that cannot be used; the message names it.
package struct BaselineError: Error, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}

public import Foundation
public import Checks
public import Telemetry
public import Workload

/// The machine-readable record of a run (`summary.json`, schema `otelbench.run-summary/v1`, in the README).
public struct RunSummary: Codable, Sendable {
    public struct PhaseEntry: Codable, Sendable {
        public var name: String
        public var plannedSeconds: Double
        public var elapsedSeconds: Double
        public var scheduled: Int
        public var sent: Int
        public var droppedSlots: Int
        public var achievedRate: Double
        public var requests: [String: RequestReport]
    }

    public var schema = "otelbench.run-summary/v1"
    public var scenario: String
    public var scenarioFile: String
    public var startedAt: String
    public var interrupted: Bool
    public var passed: Bool
    public var phases: [PhaseEntry]
    public var rules: [RuleResult]
    public var intake: IntakeSummary
    public var cardinality: CardinalityCheck.Table

    public init(scenario: Scenario, startedAt: Date, driver: DriverReport, rules: [RuleResult], store: TelemetryStore) {
        self.scenario = scenario.name
        scenarioFile = scenario.file
        self.startedAt = ISO8601DateFormatter().string(from: startedAt)
        interrupted = driver.interrupted
        passed = !driver.interrupted && rules.allSatisfy(\.passed)
        phases = driver.phases.map { phase in
            PhaseEntry(
                name: phase.name, plannedSeconds: seconds(phase.plannedDuration), elapsedSeconds: seconds(phase.elapsed),
                scheduled: phase.scheduled, sent: phase.sent.count, droppedSlots: phase.droppedSlots,
                achievedRate: phase.achievedRate, requests: phase.requests
            )
        }
        self.rules = rules
        intake = IntakeSummary(store: store)
        cardinality = CardinalityCheck.table(store: store)
    }

    /// Pretty-printed JSON with sorted keys.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

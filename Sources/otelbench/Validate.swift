import ArgumentParser
package import Scenario
import Workload

/// `otelbench validate FILE...`: check scenario files without running them.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check scenario files without running them; every mistake is listed with file, line, column and field.",
        discussion: "Exits 0 when every file is valid, 2 otherwise. ${VAR} references are resolved from the environment."
    )

    @Argument(help: ArgumentHelp("Scenario files.", valueName: "file")) var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one scenario file, e.g. otelbench validate Scenarios/cf-core-smoke.yaml") }
    }

    func run() throws {
        var problems: [String] = []
        for file in files {
            do {
                let scenario = try ScenarioLoader.load(path: file)
                Terminal.out(
                    "\(file): ok (\(scenario.workload.phases.count) phases, \(scenario.workload.requests.count) requests, \(scenario.rules.slos.count) SLOs)"
                )
            } catch {
                problems.append(error.description)
            }
        }
        guard problems.isEmpty else { throw UsageError(problems.joined(separator: "\n")) }
    }
}

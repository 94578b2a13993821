import ArgumentParser
import Foundation

/// `otelbench`: a telemetry conformance and load-test harness.
///
/// Exit codes: 0 success (every rule holds), 1 a rule failed, 2 the user's input (flags, files) is wrong
/// or the run could not start — with a message that says where.
@main
struct OTelBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "otelbench",
        abstract: "A telemetry conformance and load-test harness: OTLP receiver, sinks, workloads and checks.",
        subcommands: [
            Run.self, Check.self, Receive.self, IntakeCommand.self, Merge.self, ServicesCommand.self, Generate.self, Validate.self, LintMetrics.self,
            LintCollector.self,
        ]
    )

    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as UsageError {
            Terminal.err("error: \(error)")
            Foundation.exit(2)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                Terminal.err(fullMessage(for: error))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

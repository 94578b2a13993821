import ArgumentParser
import Foundation
import Harness
import Logging
import Reporting
import Scenario
import ServiceLifecycle
import UnixSignals

/// `otelbench intake SCENARIO --shards N`: the central intake of a run spread over several machines.
struct IntakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Be the central intake of a scenario run as N shards (`otelbench run --shard I/N --intake URL` on each machine).",
        discussion: """
            Starts the scenario's receivers and sinks and its built-in services, and a control API (--control) that \
            the shards register with. Once all N registered and the services listen, every shard gets the same start \
            time; the shards send their parts of the workload and stream their request events here, where the checks \
            join them with the telemetry. When every shard has reported (or fell silent for --shard-timeout), the \
            intake settles, judges and writes the usual reports, with each shard's figures beside the merged ones. \
            Exit code 0 when every rule holds and every shard reported, 1 when a rule failed or a shard is missing, \
            2 for bad input. With --keep-serving it stays up instead, serving GET /v1/verdict and /v1/reports/NAME \
            (what `otelbench merge` fetches) until SIGINT/SIGTERM.
            """
    )

    @Argument(help: ArgumentHelp("The scenario file (every shard runs the same one).", valueName: "scenario")) var scenarioPath: String
    @Option(help: ArgumentHelp("How many shards make the run.", valueName: "N")) var shards: Int
    @Option(
        help: ArgumentHelp(
            "Address of the control API the shards and `merge` talk to (0.0.0.0:4320 for shards on other machines, with --insecure).",
            valueName: "host:port"
        )
    )
    var control = ListenAddress(host: "127.0.0.1", port: 4320)
    @Option(help: ArgumentHelp("Where reports go (default Reports/<scenario>/<timestamp>).", valueName: "dir")) var reportDir: String?
    @Option(help: ArgumentHelp("Address the built-in services listen on (0.0.0.0 for shards on other machines).", valueName: "host"))
    var servicesHost = "127.0.0.1"
    @Option(help: ArgumentHelp("Built-in services' first port: tasks P, projects P+1, sprints P+2, migrations P+3 (0: free ports).", valueName: "P"))
    var servicesPortsFrom = 0
    @Option(help: ArgumentHelp("Host name the shards use to reach the built-in services (default: --services-host).", valueName: "host"))
    var advertise: String?
    @Option(help: ArgumentHelp("A shard silent this long is given up for dead.", valueName: "duration"))
    var shardTimeout = DurationArgument(.seconds(60))
    @Option(help: ArgumentHelp("How long to wait for every shard to register.", valueName: "duration"))
    var registrationTimeout = DurationArgument(.seconds(300))
    @Option(help: ArgumentHelp("From the last registration to the common start.", valueName: "duration"))
    var startDelay = DurationArgument(.seconds(3))
    @Option(help: ArgumentHelp("Compare with an earlier summary.json (as `run --baseline`).", valueName: "file"))
    var baseline: String?
    @Flag(help: "After judging, keep serving the verdict and the reports until SIGINT/SIGTERM.") var keepServing = false
    @Flag(
        help: """
            Listen beyond loopback with neither TLS nor a token: the control API (which has neither) and the scenario's intake \
            without intake.tls or intake.auth_token_file. For a network you trust, such as inside a cluster.
            """
    )
    var insecure = false
    @Flag(help: "No progress lines.") var quiet = false
    @OptionGroup var recording: RecordOptions
    @OptionGroup var log: LogOptions

    func validate() throws {
        guard (1...10_000).contains(shards) else { throw ValidationError("--shards must be between 1 and 10000 (got \(shards))") }
        guard (0...65532).contains(servicesPortsFrom) else {
            throw ValidationError("--services-ports-from must be between 0 and 65532 (got \(servicesPortsFrom))")
        }
        guard shardTimeout.duration > .zero else { throw ValidationError("--shard-timeout must be more than 0") }
        if !insecure, !control.isLoopback {
            throw ValidationError(
                "--control \(control) listens beyond loopback, and the control API has neither TLS nor a token: "
                    + "add --insecure on a network you trust (inside a cluster), or --control 127.0.0.1:4320"
            )
        }
    }

    func run() async throws {
        var configuration = ShardCoordinator.Configuration(count: shards)
        configuration.shardTimeout = shardTimeout.duration
        configuration.registrationTimeout = registrationTimeout.duration
        configuration.startDelay = startDelay.duration
        let coordinator = ShardCoordinator(configuration: configuration)
        var distribution = ScenarioRun.Distribution(coordinator: coordinator)
        distribution.servicesHost = servicesHost
        distribution.servicesPortsFrom = servicesPortsFrom
        distribution.advertisedHost = advertise ?? (servicesHost == "0.0.0.0" || servicesHost == "::" ? ProcessInfo.processInfo.hostName : nil)

        var options = ScenarioRun.Options(reportDirectory: reportDir)
        options.baselinePath = baseline
        options.recordFormat = recording.recordFormat
        options.recordCompression = recording.recordCompression
        options.distribution = distribution
        options.insecure = insecure
        options.logger = log.logger(label: "otelbench.intake")
        options.stopsOnSignal = false
        if !quiet { options.progress = { Terminal.err($0) } }
        let logger = options.logger

        let scenarioRun: ScenarioRun
        do {
            scenarioRun = try ScenarioRun(scenarioPath: scenarioPath, options: options)
        } catch {
            throw UsageError(error.message)
        }
        let server = ControlServer(address: control, coordinator: coordinator, logger: logger)
        let exitCode: Int32 = try await withServices([server], logger: logger) {
            let bound: ListenAddress
            do { bound = try await server.boundAddress.value() } catch {
                throw UsageError("cannot listen for --control on \(control): \(error)")
            }
            if !quiet {
                Terminal.err(
                    "control API: http://\(bound) — start the shards with: otelbench run \(scenarioPath) --shard I/\(shards) --intake http://HOST:\(bound.port)"
                )
            }
            let outcome: ScenarioRun.Outcome
            do {
                outcome = try await scenarioRun.run()
            } catch let error as HarnessError {
                throw UsageError(error.message)
            }
            let text = TextReport.terminal(outcome.summary)
            let files = ["summary.json", "junit.xml", "report.md", "report.html"] + outcome.recordingFiles.map { ($0 as NSString).lastPathComponent }
            let code: Int32 = !outcome.problems.isEmpty ? 2 : outcome.passed ? 0 : 1
            coordinator.judged(RunVerdict(exitCode: code, files: files, text: text), reportDirectory: outcome.directory)
            Terminal.out(text)
            Terminal.out("reports: \(outcome.directory)/{\(files.joined(separator: ","))}")
            for problem in outcome.problems { Terminal.err("error: \(problem)") }
            if keepServing {
                if !quiet { Terminal.err("serving the verdict on http://\(bound)/v1/verdict until SIGINT/SIGTERM") }
                for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
            }
            return code
        }
        if exitCode != 0 { throw ExitCode(exitCode) }
    }
}

/// `otelbench merge --intake URL --report-dir DIR`: the last step of a sharded run, as a Job.
struct Merge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Wait for a sharded run's verdict at its central intake, download the reports, and exit with the verdict's code.",
        discussion: """
            The intake (`otelbench intake … --keep-serving`) merges the shards' results with everything it received \
            and judges; this fetches GET /v1/verdict until it is in, writes every report into --report-dir, prints \
            the verdict, and exits 0 (every rule held, every shard reported) or 1; 2 when the intake cannot be \
            reached within --timeout.
            """
    )

    @Option(help: ArgumentHelp("The central intake's control API.", valueName: "url")) var intake: String
    @Option(help: ArgumentHelp("Where the reports go.", valueName: "dir")) var reportDir: String
    @Option(help: ArgumentHelp("How long to wait for the verdict.", valueName: "duration")) var timeout = DurationArgument(.seconds(24 * 3600))

    func validate() throws {
        guard intake.hasPrefix("http://") || intake.hasPrefix("https://") else {
            throw ValidationError("--intake must be a URL, e.g. http://otelbench-intake:4320")
        }
    }

    func run() async throws {
        let verdict: RunVerdict
        do {
            verdict = try await VerdictDownload(intake: intake, timeout: timeout.duration).fetch(into: reportDir)
        } catch {
            throw UsageError(error.message)
        }
        Terminal.out(verdict.text)
        Terminal.out("reports: \(reportDir)/{\(verdict.files.joined(separator: ","))}")
        if verdict.exitCode != 0 { throw ExitCode(verdict.exitCode) }
    }
}

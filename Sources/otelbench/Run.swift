import ArgumentParser
import Foundation
import Harness
import Reporting
import Workload

/// `otelbench run SCENARIO`: the main job.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario: start intake and services, drive the workload, settle, check the rules, write reports.",
        discussion: """
            Exit code 0 when every rule holds, 1 when a rule failed (or the run was interrupted), 2 when the \
            scenario or flags are wrong or the run could not start. Reports go to --report-dir \
            (default Reports/<scenario>/<timestamp>/): summary.json, junit.xml, report.md.
            """
    )

    @Argument(help: ArgumentHelp("The scenario file.", valueName: "scenario")) var scenarioPath: String
    @Option(help: ArgumentHelp("Where reports go (default Reports/<scenario>/<timestamp>).", valueName: "dir")) var reportDir: String?
    @Option(help: "Multiply every phase's duration (0.1 runs a tenth as long).") var durationScale: Double = 1
    @Option(name: .customLong("target"), help: ArgumentHelp("Send a service's requests to URL instead (staging).", valueName: "name=url"))
    var targets: [String] = []
    @Option(help: ArgumentHelp("Also trust the CA certificates in this PEM file for https --target URLs (staging behind its own CA).", valueName: "file"))
    var targetCa: String?
    @Flag(help: "Let the scenario's intake listen beyond loopback with neither intake.tls nor intake.auth_token_file (a trusted network).")
    var insecure = false
    @Option(help: ArgumentHelp("Compare with an earlier summary.json; regressions beyond the scenario's rules.regression tolerances fail.", valueName: "file"))
    var baseline: String?
    @Flag(help: "No progress lines.") var quiet = false
    @OptionGroup var recording: RecordOptions
    @OptionGroup(title: "Connections") var connections: ConnectionOptions
    @Option(help: ArgumentHelp("Seed of the workload's draws: arrivals, request mix, trace ids.", valueName: "n"))
    var seed: UInt64 = WorkloadDriver.defaultSeed
    @Option(
        help: ArgumentHelp(
            "Send only shard I of N (0-based) of the workload, for a run spread over several machines; with --intake. Judging is the intake's.",
            valueName: "I/N"
        )
    )
    var shard: String?
    @Option(help: ArgumentHelp("The central intake's control API (`otelbench intake`), for --shard.", valueName: "url"))
    var intake: String?

    func validate() throws {
        guard durationScale > 0, durationScale.isFinite else { throw ValidationError("--duration-scale must be > 0 (got \(durationScale))") }
        if let shard {
            do { _ = try Shard(parsing: shard) } catch { throw ValidationError("--shard: \(error)") }
            guard let intake, intake.hasPrefix("http://") || intake.hasPrefix("https://") else {
                throw ValidationError("--shard needs --intake URL, the central intake's control API (e.g. http://otelbench-intake:4320)")
            }
            if baseline != nil { throw ValidationError("--baseline is the intake's to compare with: pass it to `otelbench intake`") }
        } else if intake != nil {
            throw ValidationError("--intake is for shards: add --shard I/N")
        }
        for target in targets where !target.contains("=") || !(target.split(separator: "=", maxSplits: 1).last?.hasPrefix("http") ?? false) {
            throw ValidationError("--target must be NAME=URL, e.g. tasks=https://staging.example.com (got \(target))")
        }
    }

    func run() async throws {
        if let shard, let intake {
            try await runShard(try Shard(parsing: shard), intake: intake)
            return
        }
        var options = ScenarioRun.Options(reportDirectory: reportDir, durationScale: durationScale)
        options.seed = seed
        options.baselinePath = baseline
        options.recordFormat = recording.recordFormat
        options.recordCompression = recording.recordCompression
        options.connections = connections.limits
        options.targetOverrides = parsedTargets
        options.targetTrust = try loadTargetTrust()
        options.insecure = insecure
        (options.progress, options.driverProgress) = progressPrinters
        let outcome: ScenarioRun.Outcome
        do {
            outcome = try await ScenarioRun(scenarioPath: scenarioPath, options: options).run()
        } catch let error as HarnessError {
            throw UsageError(error.message)
        }
        Terminal.out(TextReport.terminal(outcome.summary))
        let recordings = outcome.recordingFiles.map { ($0 as NSString).lastPathComponent }
        Terminal.out("reports: \(outcome.directory)/{\((["summary.json", "junit.xml", "report.md", "report.html"] + recordings).joined(separator: ","))}")
        // The verdict above was judged in memory; what could not be written makes the run an error all the same.
        for problem in outcome.problems { Terminal.err("error: \(problem)") }
        if !outcome.problems.isEmpty { throw ExitCode(2) }
        if !outcome.passed { throw ExitCode(1) }
    }

    /// One shard's part: the intake judges; this prints what the shard sent.
    private func runShard(_ shard: Shard, intake: String) async throws {
        var options = ShardRun.Options(shard: shard, intake: intake)
        options.reportDirectory = reportDir
        options.durationScale = durationScale
        options.seed = seed
        options.targetOverrides = parsedTargets
        options.targetTrust = try loadTargetTrust()
        (options.progress, options.driverProgress) = progressPrinters
        let outcome: ShardRun.Outcome
        do {
            outcome = try await ShardRun(scenarioPath: scenarioPath, options: options).run()
        } catch let error as HarnessError {
            throw UsageError(error.message)
        }
        Terminal.clearProgress(enabled: !quiet)
        for phase in outcome.report.phases {
            Terminal.out(
                String(
                    format: "shard \(shard) %@: sent %d of %d scheduled, %.1f/s, %d dropped",
                    phase.name,
                    phase.sentCount,
                    phase.scheduled,
                    phase.achievedRate,
                    phase.droppedSlots
                )
            )
        }
        if outcome.undeliveredEvents > 0 { Terminal.out("shard \(shard): \(outcome.undeliveredEvents) request events did not reach the intake") }
        if let path = outcome.resultPath { Terminal.out("result: \(path)") }
        Terminal.out("shard \(shard): \(outcome.completed ? "done" : "INCOMPLETE"); the verdict is the intake's (otelbench merge --intake \(intake))")
        if !outcome.completed { throw ExitCode(1) }
    }

    /// Where progress lines and the driver's progress go: stderr, unless `--quiet`.
    private var progressPrinters: ((@Sendable (String) -> Void)?, (@Sendable (DriverProgress) -> Void)?) {
        guard !quiet else { return (nil, nil) }
        let line: @Sendable (String) -> Void = { line in
            Terminal.clearProgress(enabled: true)
            Terminal.err(line)
        }
        return (line, Self.printProgress)
    }

    /// The `--target-ca` file's certificates, if given.
    private func loadTargetTrust() throws(UsageError) -> TargetTrust? {
        guard let targetCa else { return nil }
        do { return try TargetTrust(pemFile: targetCa) } catch { throw UsageError("--target-ca \(error)") }
    }

    /// `--target NAME=URL`s as a dictionary.
    private var parsedTargets: [String: String] {
        var result: [String: String] = [:]
        for target in targets {
            let parts = target.split(separator: "=", maxSplits: 1).map(String.init)
            result[parts[0]] = parts[1]
        }
        return result
    }

    /// Redrawn in place on a terminal; a plain line every 5 s in logs (CI).
    @Sendable static func printProgress(_ progress: DriverProgress) {
        if Terminal.isInteractive {
            Terminal.progress(progress.line)
        } else if Int(progress.elapsed.components.seconds) % 5 == 0 || progress.elapsed >= progress.total {
            Terminal.err(progress.line)
        }
    }
}

package import Checks
package import Foundation
package import Intake
package import Logging
package import Reporting
package import Scenario
import Scrape
import Services
package import Telemetry
package import Workload

/// One run of a scenario, in explicit stages: start the intake → start the services → drive → settle →
/// judge → report. What `otelbench run` does; tests drive it in-process.
///
/// ```swift
/// let run = try ScenarioRun(scenarioPath: "Scenarios/cf-core-smoke.yaml", options: .init(reportDirectory: folder))
/// let outcome = try await run.run()
/// print(outcome.summary.passed)
/// ```
package struct ScenarioRun: Sendable {
    /// How to run: the knobs `otelbench run` exposes.
    package struct Options: Sendable {
        /// Where reports go. Default `Reports/<scenario>/<timestamp>`.
        package var reportDirectory: String?
        /// Multiplies every phase's duration. Default 1.
        package var durationScale: Double = 1
        /// The workload's seed (`--seed`): the same seed sends the same schedule, mix and trace ids.
        package var seed: UInt64 = WorkloadDriver.defaultSeed
        /// Service name → base URL, replacing the scenario's (`--target`, staging).
        package var targetOverrides: [String: String] = [:]
        /// CAs trusted for `https` targets besides the system's (`--target-ca`).
        package var targetTrust: TargetTrust?
        /// Let the intake listen beyond loopback with neither TLS nor a token (`--insecure`): otherwise refused.
        package var insecure = false
        /// An earlier `summary.json` to compare with (`--baseline`).
        package var baselinePath: String?
        /// Progress lines (intake addresses, targets, settling), or nil for none.
        package var progress: (@Sendable (String) -> Void)?
        /// The driver's progress, once a second, or nil for none.
        package var driverProgress: (@Sendable (DriverProgress) -> Void)?
        /// How everything received is recorded in the report folder (`--record-format`, `--record-compression`).
        package var recordFormat: RecordingFormat = .json
        package var recordCompression: RecordingCompression = .none
        /// The intake's connection limit and idle, header and body timeouts (`--max-connections`, `--idle-timeout`, ...).
        package var connections: ConnectionLimits = .default
        /// Stop the workload on SIGINT/SIGTERM and still settle and report (the CLI's behaviour).
        package var stopsOnSignal = true
        /// Interruptions come from here instead of from signals (tests: ``RunInterruption/init(signalAt:)``).
        package var interruption: RunInterruption?
        /// Shards on other machines drive instead of this process (`otelbench intake`), nil to drive here.
        package var distribution: Distribution?
        package var logger = Logger(label: "otelbench.run")

        package init(reportDirectory: String? = nil, durationScale: Double = 1) {
            self.reportDirectory = reportDirectory
            self.durationScale = durationScale
            logger.logLevel = .error
        }
    }

    /// A run whose workload N shards send (`otelbench run --shard I/N`) while this process is the central intake:
    /// it starts the receivers, the sinks and the built-in services, takes the shards' request events into its
    /// checks, and judges everything once every shard reported.
    package struct Distribution: Sendable {
        package var coordinator: ShardCoordinator
        /// Where the built-in services listen: an address the shards can reach (`--services-host`).
        package var servicesHost = "127.0.0.1"
        /// Tasks on P, projects P+1, sprints P+2, migrations P+3; 0 picks free ports (`--services-ports-from`).
        package var servicesPortsFrom = 0
        /// The host name the shards use for the services, when not the listen address (`--advertise`).
        package var advertisedHost: String?

        package init(coordinator: ShardCoordinator) { self.coordinator = coordinator }
    }

    /// What a run produced.
    package struct Outcome: Sendable {
        package var summary: RunSummary
        /// The folder the reports and the recording were written to.
        package var directory: String
        /// How long judging took once the telemetry had settled (what the checks did not do as it arrived).
        package var judgement: Duration = .zero
        /// The recording's files, in the report folder.
        package var recordingFiles: [String] = []
        /// What could not be written (the recording, a report), each in words that say what to fix: the verdict
        /// stands, but its record is incomplete.
        package var problems: [String] = []
        /// Every rule held and the run was not interrupted.
        package var passed: Bool { summary.passed }
    }

    package let scenario: Scenario
    package let taxonomy: MetricTaxonomy
    package let options: Options
    private let baseline: Baseline?
    /// The intake's TLS and token, from the scenario's `intake.tls` and `intake.auth_token_file`.
    private let intakeSecurity: ListenerSecurity

    /// Loads the scenario, its taxonomy and the baseline, so that every input mistake is found before anything starts.
    ///
    /// - Parameter environment: values for the scenario's `${VAR}` references (the process environment by default).
    package init(
        scenarioPath: String,
        options: Options,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(HarnessError) {
        do {
            scenario = try ScenarioLoader.load(path: scenarioPath, environment: environment)
        } catch {
            throw HarnessError(code: .invalidScenario, message: error.description, cause: error)
        }
        guard let taxonomyPath = scenario.taxonomyPath(fallBackToCFCore: true) else {
            throw HarnessError(code: .invalidScenario, message: "\(scenarioPath): no taxonomy: set rules.taxonomy (e.g. taxonomy/cf-core.yaml)")
        }
        taxonomy = try Self.loadTaxonomy(path: taxonomyPath)
        do {
            baseline = try options.baselinePath.map(Baseline.load(path:))
        } catch {
            throw HarnessError(code: .invalidBaseline, message: "\(error)", cause: error)
        }
        self.options = options
        var security = try Self.intakeSecurity(of: scenario, insecure: options.insecure)
        security.connections = options.connections
        intakeSecurity = security
    }

    /// Loads the scenario's TLS files and token, and refuses an intake that would listen beyond loopback with
    /// neither, unless `insecure`.
    static func intakeSecurity(of scenario: Scenario, insecure: Bool) throws(HarnessError) -> ListenerSecurity {
        let security: ListenerSecurity
        do {
            security = try ListenerSecurity.load(tls: scenario.intake.tls, tokenFile: scenario.intake.authTokenFile)
        } catch {
            let key =
                switch error.file {
                case .certificate: "intake.tls.cert"
                case .key: "intake.tls.key"
                case .clientCA: "intake.tls.client_ca"
                case .token: "intake.auth_token_file"
                }
            throw HarnessError(code: .invalidScenario, message: "\(scenario.file): \(key): \(error)", cause: error)
        }
        if security.isProtected, scenario.services.builtin != nil {
            throw HarnessError(
                code: .invalidScenario,
                message: "\(scenario.file): services.builtin export in plain text without a token, so they cannot send to an intake with "
                    + "intake.tls or intake.auth_token_file: drive those services through services.targets (or --target), or leave TLS and the token out"
            )
        }
        guard !security.isProtected, !insecure else { return security }
        let sinks = scenario.intake.sinks.sorted { $0.key < $1.key }.map { ("intake.\($0.key.scenarioKey)", $0.value) }
        let listeners = [("intake.otlp_grpc", scenario.intake.otlpGRPC), ("intake.otlp_http", scenario.intake.otlpHTTP)] + sinks
        if let (key, address) = listeners.first(where: { !$0.1.isLoopback }) {
            throw HarnessError(
                code: .invalidScenario,
                message: "\(scenario.file): \(key) listens on \(address), beyond loopback, with neither TLS nor a token: anyone who reaches this "
                    + "machine could send to it. Add intake.tls (cert, key) or intake.auth_token_file, or --insecure on a trusted network"
            )
        }
        return security
    }

    /// Reads a taxonomy file; its mistakes are the user's to fix.
    package static func loadTaxonomy(path: String) throws(HarnessError) -> MetricTaxonomy {
        do { return try MetricTaxonomy.load(path: path) } catch { throw HarnessError(code: .invalidScenario, message: "\(error)", cause: error) }
    }

    /// Runs every stage and writes the reports. With ``Options/stopsOnSignal``, SIGINT or SIGTERM at any stage
    /// ends that stage's wait (the workload stops, settling stops) and the run still judges what it has and writes
    /// its reports, marked interrupted; a second signal ends the process at once.
    package func run() async throws -> Outcome {
        if let interruption = options.interruption { return try await run(interruption: interruption) }
        guard options.stopsOnSignal else { return try await run(interruption: RunInterruption()) }
        return try await RunInterruption.trapping { interruption in try await run(interruption: interruption) }
    }

    private func run(interruption: RunInterruption) async throws -> Outcome {
        let startedAt = Date()
        let directory = options.reportDirectory ?? "Reports/\(scenario.name)/\(Self.timestamp(startedAt))"
        let recorder: RecordingWriter
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // Everything received is also recorded in the report folder, for `otelbench check --recording`.
            recorder = try RecordingWriter(
                path: URL(fileURLWithPath: directory).appendingPathComponent(Self.recordingName(options.recordFormat, options.recordCompression)).path,
                format: options.recordFormat,
                compression: options.recordCompression
            )
        } catch {
            throw HarnessError(code: .cannotWriteReports, message: "cannot write reports to \(directory): \(error)", cause: error)
        }
        defer { try? recorder.close() }
        let store = TelemetryStore()
        // The checks follow the telemetry as it arrives; the ledger joins the driver's requests with their spans.
        let book = RuleBook(scenario, taxonomy: taxonomy, baseline: baseline, withWorkloadRecords: true)
        book.attach(to: store)
        let ledger = RequestLedger(configuration: .init(templates: scenario.workload.requests))
        ledger.attach(to: store)

        // 1. The intake: OTLP receivers and the sinks the scenario names.
        interruption.enter("starting")
        let intake = IntakeServers(
            otlpGRPC: scenario.intake.otlpGRPC,
            otlpHTTP: scenario.intake.otlpHTTP,
            sinks: scenario.intake.sinks,
            faults: scenario.intake.faults,
            security: intakeSecurity,
            store: store,
            recorder: recorder,
            logger: options.logger
        )
        let (report, verdict, judgement) = try await withServices(intake.services, logger: options.logger) {
            let endpoints = try await listening(intake)
            // The scenario's Prometheus targets are scraped from now until the telemetry has settled.
            let scraping = ScrapeStage(scenario.scrape, store: store, recorder: recorder, logger: options.logger)
            if !scenario.scrape.targets.isEmpty {
                progress("scraping every \(scenario.scrape.interval): " + scenario.scrape.targets.map { "\($0.job) \($0.url)" }.joined(separator: ", "))
            }
            let report = try await withServices(scraping.services, logger: options.logger) {
                // 2.–3. Services and workload; 4. settle. The checks judge what the run's clock has passed meanwhile.
                try await Self.advancing(book, store: store) {
                    let driven = try await drive(
                        grpc: endpoints.grpc,
                        http: endpoints.http,
                        observer: ledger,
                        interruption: interruption,
                        directory: directory
                    )
                    interruption.enter("settling")
                    await settle(store: store, ledger: ledger, interruption: interruption)
                    return driven
                }
            }
            // 5. Judge.
            interruption.enter("judging")
            var run = RunData(store: store, driver: report.driver, requests: ledger, scrapedTargets: scraping.results)
            run.processResources = report.processResources
            let judging = ContinuousClock.now
            var verdict = book.evaluate(run)
            if let shards = report.shards { verdict.results.append(shards.rule) }
            verdict.results.append(contentsOf: report.processRules)
            let judgement = ContinuousClock.now - judging
            progress("judged \(verdict.results.count) rules in \(String(format: "%.2f", judgement.inSeconds)) s")
            return (report, verdict, judgement)
        }

        // 6. Report.
        interruption.enter("writing reports")
        var summary = RunSummary(scenario: scenario, startedAt: startedAt, driver: report.driver, rules: verdict.results, store: store)
        if let interrupted = interruption.description {
            summary.interrupted = true
            summary.passed = false
            progress("interrupted (\(interrupted)): the reports cover what ran")
        }
        summary.alerts = verdict.alerts
        summary.shards = report.shards?.entries
        summary.processes = RunSummary.processEntries(report.processResources, scenario: scenario)
        summary.estimate = DataVolumeEstimate(scenario: scenario, store: store, driver: report.driver)
        if !scenario.report.dashboards.isEmpty {
            summary.dashboards = DashboardEvaluation.evaluate(scenario.report.dashboards, store: store, from: startedAt)
        }
        var problems: [String] = []
        do { try recorder.close() } catch { problems.append("\(error)") }
        if let failure = recorder.failure { problems.insert("the recording stopped: \(failure)", at: 0) }
        // A full disk or an unwritable folder does not lose the verdict: it is judged in memory, and the caller
        // shows it beside what could not be written.
        do { try ReportFiles.write(summary, to: directory) } catch { problems.append(error.message) }
        return Outcome(summary: summary, directory: directory, judgement: judgement, recordingFiles: recorder.paths, problems: problems)
    }

    /// Runs `body` while, once a minute, the rule book's checks do what the data so far allows (alert rules are
    /// evaluated up to a minute behind the newest sample), so that judging at the end has little left to do.
    static func advancing<Result: Sendable>(
        _ book: RuleBook,
        store: TelemetryStore,
        every period: Duration = .seconds(60),
        _ body: () async throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let run = RunData(store: store, driver: nil)
                while !Task.isCancelled {
                    try? await Task.sleep(for: period)
                    if Task.isCancelled { break }
                    book.advance(run)
                }
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Waits for the intake to listen and says where; a server that cannot listen is the scenario's to fix.
    private func listening(_ intake: IntakeServers) async throws(HarnessError) -> IntakeServers.Endpoints {
        let endpoints: IntakeServers.Endpoints
        do throws(IntakeServers.ListenFailure) {
            endpoints = try await intake.listening()
        } catch {
            let message =
                switch error.listener {
                case .otlpGRPC, .otlpHTTP: "cannot listen: \(error); change intake.otlp_grpc / otlp_http in \(scenario.file)"
                case .sink(let kind):
                    "cannot listen for intake.\(kind.scenarioKey) on \(error.address): \(error); change it in \(scenario.file) (port 0 picks a free one)"
                }
            throw HarnessError(code: .cannotListen, message: message, cause: error)
        }
        let lines = ["OTLP/gRPC \(endpoints.grpc)", "OTLP/HTTP \(endpoints.http)"] + endpoints.sinks.map { $0.kind.endpoint($0.address) }
        progress("intake: " + lines.joined(separator: ", "))
        return endpoints
    }

    /// What the drive stage did: the driver's report (the shards' merged, when distributed) and, when
    /// distributed, each shard's part.
    private struct Driven: Sendable {
        var driver: DriverReport
        var shards: ShardCoordinator.Outcome?
        /// One rule per process under test (`services.processes`).
        var processRules: [RuleResult] = []
        /// What each process under test used, by name, sampled from its start until it ended.
        var processResources: [String: ProcessResourceUsage] = [:]
    }

    /// Starts the built-in services (if any) pointed at the intake, runs the workload (or waits for the shards
    /// to run it), then stops the services, which flushes their telemetry.
    private func drive(
        grpc: ListenAddress,
        http: ListenAddress,
        observer: RequestLedger,
        interruption: RunInterruption,
        directory: String
    ) async throws -> Driven {
        guard !scenario.services.processes.isEmpty else {
            return try await drive(grpc: grpc, http: http, observer: observer, interruption: interruption, processes: nil)
        }
        // The user's processes: started first, stopped last (their grace period is when their SDKs flush).
        let processes = try await RunningProcesses.start(
            scenario.services.processes,
            grpc: grpc,
            http: http,
            scenarioName: scenario.name,
            scenarioDirectory: URL(fileURLWithPath: scenario.file).deletingLastPathComponent().path,
            reportDirectory: directory
        )
        // Their CPU and memory are sampled from their start until they have stopped.
        let driven: Result<Driven, any Error> = await processes.measuring {
            let driven: Result<Driven, any Error>
            if await processes.waitUntilReady(interruption: interruption, progress: progress) {
                do {
                    driven = .success(try await drive(grpc: grpc, http: http, observer: observer, interruption: interruption, processes: processes))
                } catch {
                    driven = .failure(error)
                }
            } else {
                progress("not every process became ready: the workload does not run")
                driven = .success(Driven(driver: DriverReport()))
            }
            progress("stopping the processes (each its signal, then its grace period)")
            await processes.stop()
            return driven
        }
        var result = try driven.get()
        result.processRules = processes.rules
        result.processResources = processes.resourceUsage
        return result
    }

    private func drive(
        grpc: ListenAddress,
        http: ListenAddress,
        observer: RequestLedger,
        interruption: RunInterruption,
        processes: RunningProcesses?
    ) async throws -> Driven {
        // The built-in services, in a group of their own so that they stop (and flush) before the checks run.
        let family = try scenario.services.builtin.map { try makeServices($0, grpc: grpc, http: http) }
        return try await withServices(family.map { [$0] } ?? [], logger: options.logger) {
            var targetURLs = scenario.services.targets
            if let family {
                for service in CFCoreService.allCases where targetURLs[service.rawValue] == nil {
                    targetURLs[service.rawValue] = try await family.baseURL(of: service)
                }
            }
            targetURLs.merge(processes?.targets ?? [:]) { $1 }
            targetURLs.merge(options.targetOverrides) { $1 }
            if let distribution = options.distribution {
                if let advertised = distribution.advertisedHost, let family {
                    for service in CFCoreService.allCases
                    where scenario.services.targets[service.rawValue] == nil && options.targetOverrides[service.rawValue] == nil {
                        targetURLs[service.rawValue] = try await family.baseURL(of: service, host: advertised)
                    }
                }
                progress("targets for the shards: " + targetURLs.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                let coordinator = distribution.coordinator
                coordinator.publish(targets: targetURLs, observer: observer)
                progress("waiting for \(coordinator.configuration.count) shards")
                let shards = await coordinator.awaitShards(progress: options.progress)
                return Driven(driver: shards.report, shards: shards)
            }
            progress("targets: " + targetURLs.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            let driver = WorkloadDriver(
                workload: scenario.workload,
                targets: targetURLs,
                durationScale: options.durationScale,
                seed: options.seed,
                observer: observer,
                progress: options.driverProgress,
                trust: options.targetTrust
            )
            // On a signal the workload stops, and the run still settles and reports what ran.
            interruption.enter("driving")
            let report = try await interruption.cancelling { try await driver.run() }
            if report.interrupted { progress("interrupted: settling and reporting what ran") }
            return Driven(driver: report)
        }
    }

    private func makeServices(_ builtin: BuiltinServices, grpc: ListenAddress, http: ListenAddress) throws(HarnessError) -> CFCoreServices {
        var configuration = ServicesConfiguration(taxonomy: taxonomy)
        if let file = builtin.configFile {
            do { try configuration.apply(configurationFile: file) } catch {
                throw HarnessError(code: .invalidScenario, message: "\(error)", cause: error)
            }
        }
        configuration.timeScale = builtin.timeScale
        var ports: [CFCoreService: Int] = [:]
        if let distribution = options.distribution {
            configuration.host = distribution.servicesHost
            if distribution.servicesPortsFrom > 0 {
                for (offset, service) in CFCoreService.allCases.enumerated() { ports[service] = distribution.servicesPortsFrom + offset }
            }
        }
        configuration.export.transport = builtin.otlpProtocol
        configuration.export.endpoint = "http://\(builtin.otlpProtocol == .http ? http : grpc)"
        configuration.export.metricsExportInterval = builtin.exportInterval
        for fault in builtin.faults {
            for service in CFCoreService.allCases {
                configuration.faults[service, default: .none].enable(fault, dropSpanFraction: builtin.dropSpanFraction)
            }
        }
        do {
            return try CFCoreServices(configuration: configuration, ports: ports, logger: options.logger)
        } catch {
            throw HarnessError(code: .invalidScenario, message: "\(scenario.file): services.builtin: \(error)", cause: error)
        }
    }

    /// Waits until every answered, sampled request's trace has spans and nothing new arrived for `quiet`,
    /// or `timeout` passed.
    private func settle(store: TelemetryStore, ledger: RequestLedger, interruption: RunInterruption) async {
        let settle = scenario.settle
        progress("settling: waiting until the telemetry has been quiet for \(settle.quiet) (at most \(settle.timeout))")
        let deadline = ContinuousClock.now + settle.timeout
        var last = store.totals
        var quietSince = ContinuousClock.now
        while ContinuousClock.now < deadline {
            if interruption.isInterrupted {
                progress("settle: interrupted; checking what arrived")
                return
            }
            try? await Task.sleep(for: .milliseconds(100))
            let now = store.totals
            if now != last {
                last = now
                quietSince = ContinuousClock.now
            }
            let complete = ledger.awaitingSpans == 0
            if complete && ContinuousClock.now - quietSince >= settle.quiet { return }
        }
        progress("settle: timed out after \(settle.timeout); checking what arrived")
    }

    private func progress(_ line: String) { options.progress?(line) }

    /// The recording's name in the report folder: `recording.jsonl` (JSON lines), `recording.json.frames`
    /// (length-delimited compressed JSON), or `recording` for proto, whose files are `recording.traces.binpb` and so on.
    package static func recordingName(_ format: RecordingFormat, _ compression: RecordingCompression) -> String {
        switch (format, compression) {
        case (.json, .none): "recording.jsonl"
        case (.json, _): "recording.json.frames"
        case (.proto, _): "recording"
        }
    }

    /// `yyyyMMdd-HHmmss` in UTC: the default report folder's name.
    package static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

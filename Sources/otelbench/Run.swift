import ArgumentParser
import Checks
import Foundation
import Intake
import Logging
import Reporting
import ServiceLifecycle
import UnixSignals
import Services
import Telemetry
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
    @Option(help: ArgumentHelp("Compare with an earlier summary.json; regressions beyond the scenario's rules.regression tolerances fail.", valueName: "file"))
    var baseline: String?
    @Flag(help: "No progress lines.") var quiet = false

    func validate() throws {
        guard durationScale > 0, durationScale.isFinite else { throw ValidationError("--duration-scale must be > 0 (got \(durationScale))") }
        for target in targets where !target.contains("=") || !(target.split(separator: "=", maxSplits: 1).last?.hasPrefix("http") ?? false) {
            throw ValidationError("--target must be NAME=URL, e.g. tasks=https://staging.example.com (got \(target))")
        }
    }

    func run() async throws {
        let scenario: Scenario
        do {
            scenario = try ScenarioLoader.load(path: scenarioPath)
        } catch {
            throw UsageError(error.description)
        }
        guard let taxonomyPath = ScenarioRules.taxonomyPath(scenario, fallBackToCFCore: true) else {
            throw UsageError("\(scenarioPath): no taxonomy: set rules.taxonomy (e.g. taxonomy/cf-core.yaml)")
        }
        let taxonomy = try ScenarioRules.loadTaxonomy(path: taxonomyPath)
        let baselineData: Data?
        do { baselineData = try baseline.map(BaselineCheck.load(path:)) } catch { throw UsageError("\(error)") }
        var logger = Logger(label: "otelbench.run")
        logger.logLevel = .error
        let startedAt = Date()

        // Intake.
        let store = TelemetryStore()
        // Everything received is also recorded in the report folder, for `otelbench check --recording`.
        let directory = reportDir ?? "Reports/\(scenario.name)/\(Self.timestamp(startedAt))"
        let recorder: RecordingWriter
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            recorder = try RecordingWriter(path: URL(fileURLWithPath: directory).appendingPathComponent("recording.jsonl").path)
        } catch {
            throw UsageError("cannot write reports to \(directory): \(error)")
        }
        let ingestor = OTLPIngestor(store: store, recorder: recorder, faults: Self.faultInjector(scenario.intake.faults), logger: logger)
        let grpc = OTLPGRPCReceiver(configuration: .init(address: try address(scenario.intake.otlpGRPC)), ingestor: ingestor, logger: logger)
        let http = OTLPHTTPReceiver(configuration: .init(address: try address(scenario.intake.otlpHTTP)), ingestor: ingestor, logger: logger)
        // The sinks the scenario names, beside the OTLP receivers: same store, same recording.
        let sinks = ConfiguredSink.make(try sinkAddresses(scenario.intake), store: store, recorder: recorder, logger: logger)
        let intakeGroup = ServiceGroup(
            configuration: .init(services: [grpc, http] + sinks.map(\.service), gracefulShutdownSignals: [], logger: logger)
        )

        let outcome: (DriverReport, [RuleResult], AlertTimeline?) = try await withThrowingTaskGroup(
            of: Void.self, returning: (DriverReport, [RuleResult], AlertTimeline?).self
        ) { tasks in
            tasks.addTask { try await intakeGroup.run() }
            let grpcAddress: ListenAddress
            let httpAddress: ListenAddress
            do {
                grpcAddress = try await grpc.boundAddress.value()
                httpAddress = try await http.boundAddress.value()
            } catch {
                await intakeGroup.triggerGracefulShutdown()
                throw UsageError("cannot listen: \(error); change intake.otlp_grpc / otlp_http in \(scenarioPath)")
            }
            var endpoints = ["OTLP/gRPC \(grpcAddress)", "OTLP/HTTP \(httpAddress)"]
            for sink in sinks {
                do {
                    endpoints.append(sink.kind.endpoint(try await sink.boundAddress.value()))
                } catch {
                    await intakeGroup.triggerGracefulShutdown()
                    throw UsageError(
                        "cannot listen for intake.\(sink.kind.scenarioKey) on \(sink.address): \(error); change it in \(scenarioPath) (port 0 picks a free one)"
                    )
                }
            }
            progress("intake: " + endpoints.joined(separator: ", "))
            // The scenario's Prometheus targets are scraped from now until the telemetry has settled.
            let scraper = Self.makeScraper(scenario.scrape, store: store, recorder: recorder, logger: logger)
            if !scenario.scrape.targets.isEmpty {
                progress("scraping every \(scenario.scrape.interval): " + scenario.scrape.targets.map { "\($0.job) \($0.url)" }.joined(separator: ", "))
            }

            let report: DriverReport
            do {
                report = try await Self.whileScraping(scraper, logger: logger) {
                    let report = try await drive(scenario, taxonomy: taxonomy, grpcAddress: grpcAddress, httpAddress: httpAddress, logger: logger)
                    // The services have stopped and flushed; wait for the last telemetry to arrive.
                    await settle(store: store, driver: report, settle: scenario.settle)
                    return report
                }
            } catch {
                await intakeGroup.triggerGracefulShutdown()
                throw error
            }

            let runData = RunData(store: store, driver: report, scrapedTargets: Self.scrapedTargets(scraper))
            let verdict = ScenarioRules.evaluate(scenario, taxonomy: taxonomy, run: runData, withWorkloadRecords: true)
            // Graceful shutdown drains the receivers; cancelling them instead would cut connections mid-request.
            await intakeGroup.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return (report, verdict.results, verdict.alerts)
        }

        var summary = RunSummary(scenario: scenario, startedAt: startedAt, driver: outcome.0, rules: outcome.1, store: store)
        summary.alerts = outcome.2
        if let baselineData {
            summary.add(BaselineCheck.evaluate(
                current: summary, baseline: baselineData, p99Increase: scenario.rules.regressionP99Increase,
                throughputDecrease: scenario.rules.regressionThroughputDecrease
            ))
        }
        try? recorder.close()
        try ReportFiles.write(summary, to: directory)
        Terminal.out(TextReport.terminal(summary))
        Terminal.out("reports: \(directory)/{summary.json,junit.xml,report.md,report.html,recording.jsonl}")
        if !summary.passed { throw ExitCode(1) }
    }

    /// Starts the built-in services (if any) pointed at the intake, runs the workload, then stops the services,
    /// which flushes their telemetry.
    private func drive(
        _ scenario: Scenario, taxonomy: MetricTaxonomy, grpcAddress: ListenAddress, httpAddress: ListenAddress, logger: Logger
    ) async throws -> DriverReport {
        // The built-in services, pointed at the intake, in a group of their own so that they can be stopped
        // (and flush) before the checks run.
        let family = try scenario.services.builtin.map {
            try makeServices($0, taxonomy: taxonomy, grpcAddress: grpcAddress, httpAddress: httpAddress, logger: logger)
        }
        var members: [any Service] = []
        if let family { members.append(family) }
        let servicesGroup = ServiceGroup(configuration: .init(services: members, gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self, returning: DriverReport.self) { serviceTasks in
            var targetURLs = scenario.services.targets
            if let family {
                serviceTasks.addTask { try await servicesGroup.run() }
                for service in CFCoreService.allCases where targetURLs[service.rawValue] == nil {
                    targetURLs[service.rawValue] = try await family.baseURL(of: service)
                }
            }
            for target in targets {
                let parts = target.split(separator: "=", maxSplits: 1).map(String.init)
                targetURLs[parts[0]] = parts[1]
            }
            progress("targets: " + targetURLs.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))

            // The workload; Ctrl-C stops it, and the run still settles and reports what ran.
            let progressLine: (@Sendable (DriverProgress) -> Void)? = quiet ? nil : Self.printProgress
            let driver = WorkloadDriver(
                workload: scenario.workload, targets: targetURLs, durationScale: durationScale, progress: progressLine
            )
            let report = try await Interruptible.run { try await driver.run() }
            if !quiet { Terminal.clearProgress(enabled: true) }
            if report.interrupted { progress("interrupted: settling and reporting what ran") }
            await servicesGroup.triggerGracefulShutdown()
            try await serviceTasks.waitForAll()
            return report
        }
    }

    /// Redrawn in place on a terminal; a plain line every 5 s in logs (CI).
    @Sendable static func printProgress(_ progress: DriverProgress) {
        if Terminal.isInteractive {
            Terminal.progress(progress.line)
        } else if Int(progress.elapsed.components.seconds) % 5 == 0 || progress.elapsed >= progress.total {
            Terminal.err(progress.line)
        }
    }

    private func makeServices(
        _ builtin: BuiltinServices, taxonomy: MetricTaxonomy, grpcAddress: ListenAddress, httpAddress: ListenAddress, logger: Logger
    ) throws -> CFCoreServices {
        var configuration = ServicesConfiguration(taxonomy: taxonomy)
        if let file = builtin.configFile {
            do { try configuration.apply(configurationFile: file) } catch { throw UsageError("\(error)") }
        }
        configuration.timeScale = builtin.timeScale
        if builtin.otlpProtocol == "http" {
            configuration.export.transport = .http
            configuration.export.endpoint = "http://\(httpAddress)"
        } else {
            configuration.export.transport = .grpc
            configuration.export.endpoint = "http://\(grpcAddress)"
        }
        configuration.export.metricsExportInterval = builtin.exportInterval
        do {
            for fault in builtin.faults {
                for service in CFCoreService.allCases {
                    try configuration.faults[service, default: .none].enable(
                        fault == .dropSpans ? "drop_spans=\(builtin.dropSpanFraction)" : fault.rawValue
                    )
                }
            }
            return try CFCoreServices(configuration: configuration, ports: [:], logger: logger)
        } catch {
            throw UsageError("\(scenarioPath): services.builtin: \(error)")
        }
    }

    private func progress(_ line: String) { if !quiet { Terminal.err(line) } }

    private func address(_ text: String, key: String = "") throws -> ListenAddress {
        do { return try ListenAddress(parsing: text) } catch { throw UsageError("\(scenarioPath): intake\(key.isEmpty ? "" : ".\(key)"): \(error)") }
    }

    /// The sinks the scenario's `intake:` names, by kind.
    private func sinkAddresses(_ intake: IntakeSection) throws -> [SinkKind: ListenAddress] {
        var addresses: [SinkKind: ListenAddress] = [:]
        for kind in SinkKind.allCases {
            if let text = intake.sinks[kind.scenarioKey] { addresses[kind] = try address(text, key: kind.scenarioKey) }
        }
        return addresses
    }

    /// Waits until every answered, sampled request's trace has spans and nothing new arrived for `quiet`,
    /// or `timeout` passed.
    private func settle(store: TelemetryStore, driver: DriverReport, settle: SettleSection) async {
        let expected = driver.sent.filter { $0.propagated && $0.sampled && $0.invalidCase == nil && $0.outcome != .connectionError }
            .compactMap { TraceID(hex: $0.traceID) }
        let deadline = ContinuousClock.now + settle.timeout
        var last = store.totals
        var quietSince = ContinuousClock.now
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
            let now = store.totals
            if now != last { last = now; quietSince = ContinuousClock.now }
            let complete = expected.allSatisfy { !store.spans(inTrace: $0).isEmpty }
            if complete && ContinuousClock.now - quietSince >= settle.quiet { return }
        }
        progress("settle: timed out after \(settle.timeout); checking what arrived")
    }

    /// The scenario's `intake.faults` as the receivers' fault injector (nil when there are none).
    static func faultInjector(_ faults: [IntakeFault]) -> FaultInjector? {
        guard !faults.isEmpty else { return nil }
        func response(_ response: IntakeFault.Response) -> FaultInjector.Response {
            switch response {
            case .ok: .ok
            case .partialSuccess: .partialSuccess
            case .tooManyRequests: .tooManyRequests
            case .serviceUnavailable, .unavailable: .serviceUnavailable
            }
        }
        return FaultInjector(rules: faults.map { fault in
            FaultInjector.Rule(
                signal: fault.signal.flatMap(Signal.init(rawValue:)), rate: fault.rate, response: fault.respond.map(response),
                sequence: fault.sequence.map(response),
                retryAfterSeconds: fault.retryAfter.map { Int(max(1, $0.components.seconds)) }, addedLatency: fault.addedLatency
            )
        })
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

/// Runs the workload until it ends or SIGINT/SIGTERM arrives; on a signal the workload is cancelled and what
/// it did so far is returned, marked interrupted.
enum Interruptible {
    static func run(_ body: @escaping @Sendable () async throws -> DriverReport) async throws -> DriverReport {
        try await withThrowingTaskGroup(of: DriverReport?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
                return nil
            }
            while let finished = try await group.next() {
                if var report = finished {
                    group.cancelAll()
                    if Task.isCancelled { report.interrupted = true }
                    return report
                }
                // A signal: stop the workload; its partial report follows.
                group.cancelAll()
            }
            return DriverReport(interrupted: true)
        }
    }
}

private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

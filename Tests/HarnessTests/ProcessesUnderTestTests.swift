import Foundation
import Harness
import Reporting
import Scenario
import TestSupport
import Testing

/// A user's own service, in another language, started as a process (`services.processes`): the billing service
/// of `Tests/Interop/billing` (Python, the OpenTelemetry SDK configured from the OTEL_* environment, the WSGI
/// server instrumentation) is started, waited for, driven, stopped so that it flushes, and judged; a crash, a
/// service that never gets ready and one that ignores its stop signal each show in the verdict.
@Suite(.serialized) struct ProcessesUnderTestTests {
    static let billing = repositoryRoot.appendingPathComponent("Tests/Interop/billing")

    /// The billing scenario, with `edit` applied to its text, written into `folder` with absolute paths.
    static func scenario(in folder: URL, _ edit: (String) -> String = { $0 }) throws -> String {
        var text = try String(contentsOf: billing.appendingPathComponent("billing.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "      ready: {", with: "      directory: \(billing.path)\n      ready: {")
            .replacingOccurrences(of: "taxonomy: taxonomy.yaml", with: "taxonomy: \(billing.path)/taxonomy.yaml")
        let path = folder.appendingPathComponent("billing.yaml").path
        try edit(text).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func run(_ scenario: String, folder: URL) async throws -> ScenarioRun.Outcome {
        var options = ScenarioRun.Options(reportDirectory: folder.appendingPathComponent("reports").path)
        options.stopsOnSignal = false
        return try await ScenarioRun(scenarioPath: scenario, options: options, environment: ["PYTHON": try testVenvPython().path]).run()
    }

    static func rule(_ outcome: ScenarioRun.Outcome, _ kind: String) -> [String] {
        outcome.summary.rules.filter { $0.kind.rawValue == kind }.map { "\($0.verdict.rawValue): \($0.measured)" }
    }

    @Test func aPythonServiceIsStartedDrivenStoppedAndJudged() async throws {
        try await withTemporaryDirectory { folder in
            let outcome = try await Self.run(try Self.scenario(in: folder), folder: folder)
            let failing = outcome.summary.rules.filter { !$0.passed }.map { "\($0.kind.rawValue): \($0.name) — \($0.measured)" }
            #expect(outcome.passed, "\(failing)")
            // Every kind of rule judged the foreign service's own telemetry.
            let kinds = Set(outcome.summary.rules.map(\.kind.rawValue))
            #expect(kinds.isSuperset(of: ["slo", "propagation", "cardinality", "taxonomy", "accounting", "processes", "ceilings"]))
            #expect(Self.rule(outcome, "processes").first?.contains("stopped (exit 0)") == true, "it stopped on SIGTERM: \(Self.rule(outcome, "processes"))")
            #expect(outcome.summary.intake.services.contains { $0.name == "billing" }, "the SDK exported under OTEL_SERVICE_NAME")
            // Its output is in the report folder, with the flush it did on SIGTERM.
            let stdout = try String(contentsOfFile: outcome.directory + "/processes/billing.stdout.log", encoding: .utf8)
            #expect(stdout.contains("billing: stopped, telemetry flushed"))
        }
    }

    @Test func aProcessThatCrashesFailsItsRuleWithItsLastLines() async throws {
        try await withTemporaryDirectory { folder in
            let scenario = try Self.scenario(in: folder) { $0.replacingOccurrences(of: "\"${PORT}\"]", with: "\"${PORT}\", --crash-after, \"15\"]") }
            let outcome = try await Self.run(scenario, folder: folder)
            #expect(!outcome.passed)
            let rule = try #require(outcome.summary.rules.first { $0.kind == .processes })
            #expect(rule.verdict == .fail && rule.measured.contains("ended on its own (exit 3)"), "\(rule.measured)")
            #expect(rule.evidence.contains { $0.contains("stderr: billing: crashing after 15 requests") }, "\(rule.evidence)")
        }
    }

    @Test func aProcessThatNeverGetsReadyFailsAndNothingIsDriven() async throws {
        try await withTemporaryDirectory { folder in
            let scenario = try Self.scenario(in: folder) {
                $0.replacingOccurrences(of: "ready: {http: /health, timeout: 30s}", with: "ready: {http: /not-here, timeout: 2s}")
            }
            let outcome = try await Self.run(scenario, folder: folder)
            let rule = try #require(outcome.summary.rules.first { $0.kind == .processes })
            #expect(rule.verdict == .fail && rule.measured.contains("not ready within 2.0 seconds: GET /not-here did not answer 2xx"), "\(rule.measured)")
            #expect(outcome.summary.phases.isEmpty, "the workload did not run")
            #expect(!outcome.passed)
        }
    }

    @Test func aProcessThatIgnoresItsStopSignalIsKilledAfterItsGrace() async throws {
        try await withTemporaryDirectory { folder in
            let scenario = try Self.scenario(in: folder) {
                $0.replacingOccurrences(of: "\"${PORT}\"]", with: "\"${PORT}\", --ignore-term]").replacingOccurrences(of: "grace: 10s", with: "grace: 1s")
            }
            let outcome = try await Self.run(scenario, folder: folder)
            let rule = try #require(outcome.summary.rules.first { $0.kind == .processes })
            #expect(rule.measured.contains("did not stop within 1.0 seconds of SIGTERM and was killed"), "\(rule.measured)")
        }
    }

    /// The OpenTelemetry SDK environment points at this run's intake, `${PORT}` is the port in arguments and
    /// `env`, and the scenario's `env` wins.
    @Test func aProcessGetsTheSDKEnvironmentAndItsPort() async throws {
        try await withTemporaryDirectory { folder in
            let text = """
                name: env
                services:
                  processes:
                    - name: probe
                      command: [/bin/sh, -c, "env > \(folder.path)/env.txt; exec python3 -m http.server ${PORT} --bind 127.0.0.1"]
                      env: {OTEL_BSP_SCHEDULE_DELAY: "50", PROBE_URL: "http://127.0.0.1:${PORT}/"}
                      ready: {tcp: true, timeout: 20s}
                      stop: {grace: 5s}
                intake:
                  otlp_grpc: 127.0.0.1:0
                  otlp_http: 127.0.0.1:0
                workload:
                  phases:
                    - {name: p, duration: 500ms, arrival: constant, rate: 10}
                  requests:
                    - {name: r, service: probe, path: /}
                rules:
                  accounting: {tolerance: 0}

                """
            let path = folder.appendingPathComponent("env.yaml").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let outcome = try await Self.run(path, folder: folder)
            let environment = try String(contentsOf: folder.appendingPathComponent("env.txt"), encoding: .utf8)
            let variables = Dictionary(
                environment.split(separator: "\n").compactMap { line -> (String, String)? in
                    let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                    return parts.count == 2 ? (parts[0], parts[1]) : nil
                }
            ) { first, _ in first }
            let port = try #require(variables["PORT"].flatMap(Int.init))
            #expect(variables["PROBE_URL"] == "http://127.0.0.1:\(port)/")
            #expect(variables["OTEL_SERVICE_NAME"] == "probe")
            #expect(variables["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf")
            #expect(variables["OTEL_EXPORTER_OTLP_ENDPOINT"]?.hasPrefix("http://127.0.0.1:") == true)
            #expect(variables["OTEL_BSP_SCHEDULE_DELAY"] == "50", "the scenario's env wins")
            for name in ["OTEL_RESOURCE_ATTRIBUTES", "OTEL_METRIC_EXPORT_INTERVAL", "OTEL_TRACES_SAMPLER", "OTEL_PROPAGATORS"] {
                #expect(variables[name] != nil, "\(name)")
            }
            #expect(outcome.summary.phases.first?.sent ?? 0 > 0, "the workload reached it on its port")
        }
    }

    /// `rules.ceilings` over the billing service's samples, as a user runs it: a generous CPU limit holds, a
    /// tiny memory limit fails (exit 1, the evidence naming the process), and the reports carry the samples
    /// and plot them.
    @Test func ceilingsJudgeTheProcessesSampledCPUAndMemory() async throws {
        try await withTemporaryDirectory { folder in
            let scenario = try Self.scenario(in: folder) {
                $0.replacingOccurrences(
                    of: "billing: {cpu_average: 150%, cpu_p99: 400%, rss_peak: 512MiB}",
                    with: "billing: {cpu_average: 1000%, rss_peak: 1MiB}"
                )
            }
            let reports = folder.appendingPathComponent("reports")
            let result = try await runProcess(
                try otelbenchExecutable(),
                ["run", scenario, "--report-dir", reports.path],
                environment: ["PYTHON": try testVenvPython().path],
                timeout: .seconds(180)
            )
            #expect(result.status == 1, "\(result.output)")
            #expect(result.stdout.contains("✓ ceilings: billing: CPU average"), "\(result.stdout)")
            #expect(result.stdout.contains("✗ ceilings: billing: RSS peak"), "\(result.stdout)")
            #expect(result.stdout.contains("    process billing: CPU average"), "the evidence names the process: \(result.stdout)")
            let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: reports.appendingPathComponent("summary.json")))
            let failing = summary.rules.filter { !$0.passed }.map(\.name)
            #expect(failing == ["billing: RSS peak"], "only the tiny ceiling fails: \(failing)")
            let process = try #require(summary.processes?.first)
            #expect(process.name == "billing" && process.ceiling?.rssPeakBytes == 1024 * 1024)
            #expect(process.sampleCount >= 1 && process.samples.count == process.sampleCount)
            #expect((process.rssPeakBytes ?? 0) >= 10 << 20, "a Python interpreter with the SDK loaded")
            #expect((process.cpuAveragePercent ?? 0) > 0)
            let html = try String(contentsOf: reports.appendingPathComponent("report.html"), encoding: .utf8)
            #expect(html.contains("aria-label=\"CPU of billing\"") && html.contains("aria-label=\"resident memory of billing\""))
            let markdown = try String(contentsOf: reports.appendingPathComponent("report.md"), encoding: .utf8)
            #expect(markdown.contains("| billing | \(process.sampleCount) |"), "\(markdown)")
        }
    }

    /// A process that ends at once has no sample: its ceilings fail, they do not pass for lack of evidence.
    @Test func aProcessThatEndsAtOnceFailsItsCeilings() async throws {
        try await withTemporaryDirectory { folder in
            let text = """
                name: gone
                services:
                  processes:
                    - name: gone
                      command: [/bin/sh, -c, "exit 3"]
                      ready: {tcp: true, timeout: 5s}
                workload:
                  phases:
                    - {name: p, duration: 500ms, arrival: constant, rate: 10}
                  requests:
                    - {name: r, service: gone, path: /}
                rules:
                  ceilings:
                    gone: {cpu_p99: 1000%, rss_peak: 64GiB}

                """
            let path = folder.appendingPathComponent("gone.yaml").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let outcome = try await Self.run(path, folder: folder)
            let ceilings = outcome.summary.rules.filter { $0.kind == .ceilings }
            #expect(ceilings.count == 2)
            #expect(ceilings.allSatisfy { $0.verdict == .fail && $0.measured == "no sample" }, "\(ceilings)")
            #expect(ceilings.allSatisfy { $0.evidence.first?.contains("process gone has no resource sample") == true })
            #expect(outcome.summary.processes?.first?.sampleCount == 0)
            #expect(!outcome.passed)
        }
    }

    @Test func aCommandThatDoesNotExistIsAScenarioMistakeNamingTheField() throws {
        let yaml = """
            name: x
            services:
              processes:
                - name: billing
                  command: [no-such-program-otelbench, --port, "${PORT}"]
            workload:
              phases:
                - {name: p, duration: 1s, arrival: constant, rate: 1}
              requests:
                - {name: r, service: billing, path: /}
            rules:
              accounting: {tolerance: 0}

            """
        #expect {
            try ScenarioLoader.parse(yaml, file: "bad.yaml")
        } throws: { error in
            "\(error)".contains("bad.yaml:5:17: services.processes[0].command[0]: 'no-such-program-otelbench' is not an executable file on PATH")
        }
    }
}

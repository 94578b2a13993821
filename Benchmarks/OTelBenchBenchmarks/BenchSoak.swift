import ArgumentParser
import Foundation
import Harness

/// Resident memory over a long run: the load scenario's request mix and rules at one constant rate, everything in
/// this process (intake, built-in services, driver, checks), RSS sampled every second.
struct BenchSoak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "RSS over a long in-process run: the curve, its slope after the first minute, the peak.",
        discussion: """
            Runs Scenarios/cf-core-load.yaml's requests and rules as one constant-rate phase of --minutes, with the \
            built-in services, in this process, and samples this process's resident memory every second. Prints \
            the curve (one line per --every seconds), the least-squares slope after the first minute in MB per \
            minute, the peak, and the run's verdict and time to verdict. Run it on a release build.
            """
    )

    @Option(help: "Minutes of load.") var minutes = 10.0
    @Option(help: "Requests per second (constant).") var rate = 1000.0
    @Option(help: "Connections of the driver.") var connections = 64
    @Option(help: "Seconds between printed samples.") var every = 10
    @Option(help: "Where the run's reports go (default: a temporary folder, removed).") var reportDir: String?

    func validate() throws {
        guard minutes > 0, minutes <= 24 * 60 else { throw ValidationError("--minutes must be in (0, 1440] (got \(minutes))") }
        guard rate > 0, rate <= 100_000 else { throw ValidationError("--rate must be in (0, 100000] (got \(rate))") }
        guard (1...1024).contains(connections) else { throw ValidationError("--connections must be 1...1024 (got \(connections))") }
        guard every >= 1 else { throw ValidationError("--every must be at least 1 (got \(every))") }
    }

    func run() async throws {
        let scenarios = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Scenarios")
        let load = scenarios.appendingPathComponent("cf-core-load.yaml")
        guard let text = try? String(contentsOf: load, encoding: .utf8) else {
            throw BenchmarkError("cannot read \(load.path): run from the repository")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-soak-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let scenarioURL = folder.appendingPathComponent("soak.yaml")
        try Self.soakScenario(from: text, scenarios: scenarios.path, minutes: minutes, rate: rate, connections: connections)
            .write(to: scenarioURL, atomically: true, encoding: .utf8)

        var options = ScenarioRun.Options(reportDirectory: reportDir ?? folder.appendingPathComponent("reports").path)
        options.stopsOnSignal = true
        let run = try ScenarioRun(scenarioPath: scenarioURL.path, options: options)
        let start = ContinuousClock.now
        let workloadEnd = start + .seconds(minutes * 60)
        let sampler = Task { () -> [(seconds: Double, megabytes: Double)] in
            var samples: [(seconds: Double, megabytes: Double)] = []
            while !Task.isCancelled {
                let seconds = (ContinuousClock.now - start).inSeconds
                let megabytes = Self.residentMegabytes()
                samples.append((seconds, megabytes))
                if samples.count % every == 1 || every == 1 {
                    // Unbuffered, so that the curve shows as it is drawn even when written to a file.
                    FileHandle.standardOutput.write(Data(String(format: "%7.0f s  %8.1f MB\n", seconds, megabytes).utf8))
                }
                try? await Task.sleep(for: .seconds(1))
            }
            return samples
        }
        let outcome = try await run.run()
        let finished = ContinuousClock.now
        sampler.cancel()
        let samples = await sampler.value
        let steady = samples.filter { $0.seconds >= 60 && $0.seconds <= (workloadEnd - start).inSeconds }
        let slope = Self.slope(steady.map { ($0.seconds / 60, $0.megabytes) })
        let peak = samples.map(\.megabytes).max() ?? 0
        let sent = outcome.summary.phases.reduce(0) { $0 + $1.sent }
        print(
            String(
                format: "requests sent: %d (%.0f/s achieved), dropped by the driver: %d",
                sent,
                outcome.summary.phases.first?.achievedRate ?? 0,
                outcome.summary.phases.reduce(0) { $0 + $1.droppedSlots }
            )
        )
        print(String(format: "RSS after the first minute: slope %+.2f MB/min over %d samples; peak %.1f MB", slope ?? .nan, steady.count, peak))
        print(
            String(
                format: "judgement: %.2f s after settling (%.0f s from the workload's planned end, settle included)",
                outcome.judgement.inSeconds,
                (finished - workloadEnd).inSeconds
            )
        )
        print("intake: \(outcome.summary.intake.spans) spans, \(outcome.summary.intake.evictedTraces) traces evicted from the window")
        for rule in outcome.summary.rules { print("  \(rule.verdict.rawValue): \(rule.kind.rawValue): \(rule.name) — \(rule.measured)") }
        print(outcome.passed ? "PASSED" : "FAILED")
    }

    /// The load scenario with its phases replaced by one constant phase and its relative paths made absolute.
    static func soakScenario(from text: String, scenarios: String, minutes: Double, rate: Double, connections: Int) -> String {
        var lines: [String] = []
        var inPhases = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("  phases:") {
                inPhases = true
                lines.append(line)
                lines.append("    - {name: soak, duration: \(Int(minutes * 60))s, arrival: constant, rate: \(rate)}")
                continue
            }
            if inPhases {
                if line.hasPrefix("    - ") { continue }
                inPhases = false
            }
            if line.hasPrefix("name: ") {
                lines.append("name: cf-core-soak")
            } else if line.hasPrefix("  connections:") {
                lines.append("  connections: \(connections)")
            } else {
                lines.append(
                    line.replacingOccurrences(of: "config: services/", with: "config: \(scenarios)/services/")
                        .replacingOccurrences(of: "alert_rules: alerts/", with: "alert_rules: \(scenarios)/alerts/")
                        .replacingOccurrences(of: "taxonomy: taxonomy/", with: "taxonomy: \(scenarios)/taxonomy/")
                )
            }
        }
        return lines.joined(separator: "\n")
    }

    /// This process's resident set, from /proc/self/statm, in MB (10^6 bytes).
    static func residentMegabytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1e6
    }

    /// The least-squares slope of y over x; nil with fewer than two points.
    static func slope(_ points: [(Double, Double)]) -> Double? {
        guard points.count > 1 else { return nil }
        let n = Double(points.count)
        let meanX = points.reduce(0) { $0 + $1.0 } / n
        let meanY = points.reduce(0) { $0 + $1.1 } / n
        let covariance = points.reduce(0) { $0 + ($1.0 - meanX) * ($1.1 - meanY) }
        let variance = points.reduce(0) { $0 + ($1.0 - meanX) * ($1.0 - meanX) }
        return variance > 0 ? covariance / variance : nil
    }
}

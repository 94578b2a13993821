import Foundation
import Harness
import Telemetry
import TestSupport
import Testing

/// SIGINT or SIGTERM at any stage of a run: the run still judges what it has and writes every report, marked
/// interrupted (exit 1), leaves a complete recording, and releases every port. In-process, the signal comes as
/// the run enters the stage (``RunInterruption/init(signalAt:)``); the command-line test sends real signals.
@Suite(.serialized) struct InterruptionTests {
    @Test(arguments: ["starting", "driving", "settling", "judging", "writing reports"])
    func aSignalAtAnyStageLeavesInterruptedReportsAndACompleteRecording(stage: String) async throws {
        try await withTemporaryDirectory { folder in
            let ports = (try freeLoopbackPort(), try freeLoopbackPort())
            let scenario = try writeShardedScenario(in: folder, otlpGRPC: "127.0.0.1:\(ports.0)", otlpHTTP: "127.0.0.1:\(ports.1)")
            var options = ScenarioRun.Options(reportDirectory: folder.appendingPathComponent("reports").path)
            options.interruption = RunInterruption(signalAt: stage)
            let outcome = try await ScenarioRun(scenarioPath: scenario, options: options).run()

            #expect(outcome.summary.interrupted && !outcome.passed, "\(stage)")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: outcome.directory + "/summary.json"))) as? [String: Any]
            #expect(json?["interrupted"] as? Bool == true && json?["passed"] as? Bool == false)
            let markdown = try String(contentsOfFile: outcome.directory + "/report.md", encoding: .utf8)
            #expect(markdown.contains("**Interrupted**"))
            for name in ["junit.xml", "report.html"] { #expect(FileManager.default.fileExists(atPath: outcome.directory + "/" + name), "\(name)") }
            // The recording ends on an entry boundary, whatever was recorded by then.
            let recording = try #require(outcome.recordingFiles.first)
            let read = try RecordingReader.forEach(path: recording) { _ in }
            #expect(read.truncation == nil, "\(stage): \(read.truncation ?? "")")
            if stage != "starting" && stage != "driving" { #expect(read.requestCount > 0, "\(stage): telemetry arrived before the signal") }
            // Every listener is closed.
            #expect(loopbackPortIsFree(ports.0) && loopbackPortIsFree(ports.1), "\(stage): the intake's ports are free again")
        }
    }

    /// Real signals to `otelbench run`: SIGTERM while driving and while settling each end the run with exit 1,
    /// interrupted reports and a recording `check --recording` reads whole; a second signal ends it at once.
    @Test func realSignalsEndTheRunWithInterruptedReports() async throws {
        let binary = try otelbenchExecutable()
        for (stage, marker) in [("driving", "targets:"), ("settling", "settling:")] {
            try await withTemporaryDirectory { folder in
                let scenario = try writeShardedScenario(in: folder)
                let reports = folder.appendingPathComponent("reports").path
                let run = try ChildProcess(binary, ["run", scenario, "--report-dir", reports])
                _ = try await run.waitForOutput(timeout: .seconds(60), onStandardError: true) { $0.contains(marker) ? true : nil }
                run.send(SIGTERM)
                let outcome = await run.wait(timeout: .seconds(60))
                #expect(outcome.status == 1, "\(stage): \(outcome.output)")
                #expect(outcome.stderr.contains("interrupted (SIGTERM while \(stage))"), "\(stage): \(outcome.stderr)")
                let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reports + "/summary.json"))) as? [String: Any]
                #expect(summary?["interrupted"] as? Bool == true)
                let check = try await runProcess(
                    binary,
                    [
                        "check", "--scenario", scenario, "--recording", reports + "/recording.jsonl", "--report-dir",
                        folder.appendingPathComponent("check").path,
                    ],
                    timeout: .seconds(60)
                )
                #expect(!check.output.contains("cut"), "\(stage): \(check.output)")
                #expect(check.status == 0 || check.status == 1, "\(stage): \(check.output)")
            }
        }
        // A second signal does not wait for settling and judging.
        try await withTemporaryDirectory { folder in
            let scenario = try writeShardedScenario(in: folder)
            let run = try ChildProcess(binary, ["run", scenario, "--report-dir", folder.appendingPathComponent("reports").path])
            _ = try await run.waitForOutput(timeout: .seconds(60), onStandardError: true) { $0.contains("targets:") ? true : nil }
            run.send(SIGINT)
            _ = try await run.waitForOutput(timeout: .seconds(30), onStandardError: true) { $0.contains("interrupted") ? true : nil }
            run.send(SIGINT)
            let outcome = await run.wait(timeout: .seconds(30))
            #expect(outcome.status == 1 && outcome.stderr.contains("second SIGINT: stopping now"), "\(outcome.output)")
        }
    }

    /// A disk that fills during the run (a 48 KiB tmpfs): the run says what could not be written, still shows the
    /// verdict it judged in memory, and exits 2. Where a tmpfs cannot be mounted, a folder this user cannot write
    /// stops the run at its start, with exit 2 and the folder named.
    @Test func aFullDiskIsSaidAndTheVerdictStillShown() async throws {
        let binary = try otelbenchExecutable()
        try await withTemporaryDirectory { folder in
            let scenario = try writeShardedScenario(in: folder)
            let disk = folder.appendingPathComponent("disk")
            try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
            let mount = try await runProcess(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=48k", "tmpfs", disk.path], timeout: .seconds(20))
            let mounted = mount.status == 0
            if !mounted {
                print("cannot mount a tmpfs (\(mount.stderr)): using a folder this user cannot write instead")
                try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: disk.path)
            }
            let outcome = try await runProcess(
                binary,
                ["run", scenario, "--report-dir", disk.appendingPathComponent("reports").path, "--quiet"],
                timeout: .seconds(120)
            )
            if mounted { _ = try? await runProcess(URL(fileURLWithPath: "/bin/umount"), [disk.path], timeout: .seconds(20)) }
            #expect(outcome.status == 2, "\(outcome.output)")
            if mounted {
                #expect(outcome.stdout.contains("✓ propagation: W3C trace context"), "the verdict is shown: \(outcome.stdout)")
                #expect(outcome.stderr.contains("error: the recording stopped") && outcome.stderr.contains("No space left on device"), "\(outcome.stderr)")
                #expect(outcome.stderr.contains("error: cannot write reports to"), "\(outcome.stderr)")
            } else {
                #expect(outcome.stderr.contains("cannot write reports to") || outcome.stderr.contains("recording"), "\(outcome.stderr)")
            }
        }
    }
}

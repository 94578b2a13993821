import Checks
import Foundation
import TestSupport
import Testing

@testable import Harness

/// Reading CPU and memory from `/proc` for `rules.ceilings`: the parsing of `stat` and `status`, the test
/// process's own figures, a Python child that allocates and burns CPU, a wrapper (`sh -c`) whose children are
/// counted (the live one's memory, the reaped one's CPU), and a process that ended before any sample. Every
/// assertion is an ordering against what the child itself reports or allocates, never a rate: CI is a loaded
/// 2-core machine.
@Suite(.serialized) struct ProcessResourceSamplingTests {
    static let mebibyte: UInt64 = 1024 * 1024

    /// Allocates (and writes) 50 MiB, burns CPU for a fixed number of iterations, prints its own CPU time
    /// (`os.times()`), then holds until killed.
    static let allocateAndHold = """
        import os, time
        data = b"\\x01" * (50 << 20)
        total = 0
        for i in range(2_000_000):
            total += i * i
        times = os.times()
        print("ready %.3f" % (times.user + times.system), flush=True)
        time.sleep(120)
        """

    /// Burns CPU for a fixed number of iterations, prints its own CPU time, and exits.
    static let burnAndExit = """
        import os
        total = 0
        for i in range(3_000_000):
            total += i * i
        times = os.times()
        print("burnt %.3f" % (times.user + times.system), flush=True)
        """

    @Test func aStatLineIsReadFromItsLastParenthesis() throws {
        // A command name may hold spaces and parentheses; the fields are counted after the last `)`.
        let line = "4242 (a) (b c) S 17 4242 4242 0 -1 4194560 900 0 0 0 250 30 7 3 20 0 1 0 123456 10000000 2000 18446744073709551615"
        let stat = try #require(ProcStat(parsing: Substring(line)))
        #expect(stat.pid == 4242)
        #expect(stat.parent == 17)
        #expect(stat.state == "S")
        #expect(stat.ownTicks == 280)
        #expect(stat.reapedChildrenTicks == 10)
        #expect(stat.startTicks == 123456)
        #expect(ProcStat(parsing: "4242 (truncated) S 17") == nil)
        #expect(ProcStat(parsing: "not a stat line") == nil)
    }

    @Test func theResidentSetIsVmRSSInKibibytes() {
        let status = "Name:\tpython3\nState:\tS (sleeping)\nVmPeak:\t  300000 kB\nVmRSS:\t   51200 kB\nRssAnon:\t   50000 kB\n"
        #expect(ProcessTreeReading.residentBytes(status: status) == 50 * Self.mebibyte)
        #expect(ProcessTreeReading.residentBytes(status: "Name:\tzombie\nState:\tZ (zombie)\n") == nil)
    }

    @Test func theTestProcessReadsItselfFromProc() throws {
        let pid = getpid()
        // Burn until the kernel has charged at least one clock tick (bounded: a tick is 10 ms).
        var total = 0.0
        for round in 0..<2000 {
            for value in 0..<100_000 { total += Double(value).squareRoot() }
            if let stat = ProcessTreeReading.readSmallFile("/proc/\(pid)/stat").flatMap({ ProcStat(parsing: Substring($0)) }), stat.ownTicks > 0 {
                break
            }
            #expect(round < 1999, "no CPU tick charged after 2000 rounds (\(total))")
        }
        let reading = try #require(ProcessTreeReading.of(root: pid, in: ProcessTreeReading.scan()))
        #expect(reading.cpuTicks > 0)
        #expect(reading.rssBytes > Self.mebibyte)
        #expect(reading.processes >= 1)
        #expect(ProcessTreeReading.ticksPerSecond > 0)
    }

    @Test func aChildThatAllocatesAndBurnsIsMeasured() async throws {
        try await withProgram("/usr/bin/env", ["python3", "-c", Self.allocateAndHold]) { pid, output in
            let reported = try await Self.cpuSeconds(after: "ready", in: output)
            let reading = try #require(ProcessTreeReading.of(root: pid, in: ProcessTreeReading.scan()))
            #expect(reading.rssBytes >= 40 * Self.mebibyte, "it holds 50 MiB it wrote")
            #expect(reading.cpuTicks > 0)
            // What /proc charged it is at least what it saw itself use (a tick of rounding aside).
            #expect(Double(reading.cpuTicks) / ProcessTreeReading.ticksPerSecond >= reported - 0.02, "\(reading.cpuTicks) ticks, reported \(reported) s")
        }
    }

    /// A wrapper's children count: the child that is still running by its memory and CPU, the child that
    /// already exited (reaped by the shell) by the CPU the kernel moved into the shell's `cutime`/`cstime`.
    @Test func aWrappersDescendantsAreCounted() async throws {
        let script = "python3 -c '\(Self.burnAndExit)'; python3 -c '\(Self.allocateAndHold)'; echo done"
        try await withProgram("/bin/sh", ["-c", script]) { pid, output in
            let burnt = try await Self.cpuSeconds(after: "burnt", in: output)
            let held = try await Self.cpuSeconds(after: "ready", in: output)
            let stats = ProcessTreeReading.scan()
            let shell = try #require(stats[pid])
            #expect(shell.reapedChildrenTicks > 0, "the shell waited for the first python")
            let reading = try #require(ProcessTreeReading.of(root: pid, in: stats))
            #expect(reading.processes >= 2, "the shell and the python it waits for")
            #expect(reading.rssBytes >= 40 * Self.mebibyte, "the child's 50 MiB count for the wrapper")
            let seconds = Double(reading.cpuTicks) / ProcessTreeReading.ticksPerSecond
            #expect(seconds >= burnt + held - 0.04, "both children's CPU: \(seconds) s, they reported \(burnt) + \(held) s")
        }
    }

    @Test func theSamplerKeepsOneSamplePerTickOfTheWholeTree() async throws {
        let script = "python3 -c '\(Self.burnAndExit)'; python3 -c '\(Self.allocateAndHold)'; echo done"
        let sampler = ProcessResourceSampler(interval: .milliseconds(200))
        let started = ContinuousClock.now
        try await withProgram("/bin/sh", ["-c", script]) { pid, output in
            sampler.track(name: "wrapped", pid: pid, startedAt: started)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await sampler.run() }
                _ = try await Self.cpuSeconds(after: "ready", in: output)
                // Two more ticks once the child holds its memory.
                let count = sampler.usage["wrapped"]?.samples.count ?? 0
                let sampled = await eventually(timeout: .seconds(30)) { (sampler.usage["wrapped"]?.samples.count ?? 0) >= count + 2 }
                #expect(sampled)
                group.cancelAll()
            }
        }
        let usage = try #require(sampler.usage["wrapped"])
        #expect(usage.samples.count >= 2)
        #expect(zip(usage.samples, usage.samples.dropFirst()).allSatisfy { $0.second < $1.second }, "in time order")
        #expect((usage.rssPeakBytes ?? 0) >= 40 * Self.mebibyte)
        #expect((usage.cpuAveragePercent ?? 0) > 0)
        #expect((usage.cpuP99Percent ?? 0) > 0)
        #expect(usage.mostProcesses >= 2)
    }

    @Test func aProcessThatEndedBeforeItsFirstSampleHasNone() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exit 0"]
        let started = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        let sampler = ProcessResourceSampler(interval: .milliseconds(100))
        sampler.track(name: "gone", pid: process.processIdentifier, startedAt: started)
        sampler.sample(at: started + .seconds(1))
        sampler.sample(at: started + .seconds(2))
        #expect(sampler.usage["gone"]?.samples.isEmpty == true)
    }

    // MARK: Helpers

    /// Starts `executable` with its output in a file, passes its pid and a reader of that output to `body`,
    /// and kills it (and what it started) afterwards.
    func withProgram(_ executable: String, _ arguments: [String], _ body: (Int32, @escaping @Sendable () -> String) async throws -> Void) async throws {
        try await withTemporaryDirectory { folder in
            let file = folder.appendingPathComponent("stdout")
            FileManager.default.createFile(atPath: file.path, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardOutput = try FileHandle(forWritingTo: file)
            process.standardError = FileHandle.nullDevice
            try process.run()
            let pid = process.processIdentifier
            let descendants = { ProcessTreeReading.scan().values.filter { $0.parent == pid }.map(\.pid) }
            defer {
                for child in descendants() { kill(child, SIGKILL) }
                kill(pid, SIGKILL)
                process.waitUntilExit()
            }
            try await body(pid) { (try? String(contentsOf: file, encoding: .utf8)) ?? "" }
        }
    }

    /// Waits for the line `WORD SECONDS` the Python scripts print, and returns the seconds.
    static func cpuSeconds(after word: String, in output: @Sendable () -> String) async throws -> Double {
        var seconds: Double?
        let found = await eventually(timeout: .seconds(60)) {
            seconds = output().split(separator: "\n").first { $0.hasPrefix(word + " ") }.flatMap { Double($0.dropFirst(word.count + 1)) }
            return seconds != nil
        }
        #expect(found, "the child printed '\(word) …': \(output())")
        return try #require(seconds)
    }
}

import Foundation

/// The repository root (three levels above this file).
let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// A peer program the tests need, or a failure saying how to install it.
func requirePeer(_ path: String) throws -> String {
    let resolved = path.hasPrefix("/") ? path : repositoryRoot.appendingPathComponent(path).path
    guard FileManager.default.isExecutableFile(atPath: resolved) else {
        throw TestFailure("\(resolved) is missing: run scripts/install-test-deps.sh (it installs the test peers)")
    }
    return resolved
}

/// What a finished child process left.
struct ProcessOutcome: Sendable {
    var status: Int32
    var output: String
    var timedOut: Bool
}

/// A child process whose output goes to a temporary file (no pipe to fill up), always ended by
/// ``stop()`` or by the scoped helpers below.
final class ChildProcess: @unchecked Sendable {
    private let process = Process()
    private let outputURL: URL

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) throws {
        outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-child-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outputURL)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let directory { process.currentDirectoryURL = directory }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    /// Everything the process printed so far.
    var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }

    /// Waits up to `timeout` for the process to exit by itself; kills it past that.
    func wait(timeout: Duration) async -> ProcessOutcome {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        let timedOut = process.isRunning
        if timedOut { await stop() }
        return ProcessOutcome(status: process.terminationStatus, output: output, timedOut: timedOut)
    }

    /// Ends the process (SIGTERM, then SIGKILL after 5 s) and removes its output file.
    func stop() async {
        if process.isRunning {
            process.terminate()
            let deadline = ContinuousClock.now + .seconds(5)
            while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: outputURL)
    }
}

/// Runs a program to completion within `timeout` (killed past it).
func runToCompletion(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60)
) async throws -> ProcessOutcome {
    let child = try ChildProcess(executable, arguments, environment: environment)
    return await child.wait(timeout: timeout)
}

/// Runs `body` with a started child process, and always stops the process afterwards.
func withChildProcess<Result>(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil,
    _ body: (ChildProcess) async throws -> Result
) async throws -> Result {
    let child = try ChildProcess(executable, arguments, environment: environment, directory: directory)
    do {
        let result = try await body(child)
        await child.stop()
        return result
    } catch {
        await child.stop()
        throw error
    }
}

/// Polls `condition` every 100 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}

/// A fresh temporary directory, removed after `body`.
func withTemporaryDirectory<Result>(_ body: (URL) async throws -> Result) async throws -> Result {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

package import Foundation

/// The repository root, found from this file's path, so tests can find scripts and the test venv.
package let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // Tests/TestSupport
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()  // the repository

/// One child process of a test: output to files (a chatty child can never block on a full pipe, and a test can
/// read what it printed so far), always ended by ``stop()``, ``terminate(timeout:)`` or its deinit.
// `Process` is not Sendable; it is only read (isRunning, pid, status) and terminated, which Foundation allows from any thread.
package final class ChildProcess: @unchecked Sendable {
    private let process = Process()
    private let folder: URL

    /// Starts `executable` with `arguments`, the test's environment plus `environment`, in `directory`.
    package init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: folder.appendingPathComponent("stdout").path, contents: nil)
        _ = FileManager.default.createFile(atPath: folder.appendingPathComponent("stderr").path, contents: nil)
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let directory { process.currentDirectoryURL = directory }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: folder.appendingPathComponent("stdout"))
        process.standardError = try FileHandle(forWritingTo: folder.appendingPathComponent("stderr"))
        try process.run()
    }

    /// Starts the program at `path` (absolute, or relative to the repository).
    package convenience init(_ path: String, _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) throws {
        try self.init(
            URL(fileURLWithPath: path.hasPrefix("/") ? path : repositoryRoot.appendingPathComponent(path).path),
            arguments,
            environment: environment,
            directory: directory
        )
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: folder)
    }

    package var isRunning: Bool { process.isRunning }

    /// Sends `signal` now (SIGKILL: the process dies at once, as on a crashed or evicted machine).
    package func send(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }
    /// Standard output so far.
    package var stdout: String { (try? String(contentsOf: folder.appendingPathComponent("stdout"), encoding: .utf8)) ?? "" }
    /// Standard error so far.
    package var stderr: String { (try? String(contentsOf: folder.appendingPathComponent("stderr"), encoding: .utf8)) ?? "" }
    /// Standard output, then standard error, so far.
    package var output: String { stdout + stderr }

    /// Waits up to `timeout` for the process to exit by itself; stops it past that.
    package func wait(timeout: Duration) async -> ProcessOutcome {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        let timedOut = process.isRunning
        if timedOut { await stop() }
        return ProcessOutcome(status: process.terminationStatus, stdout: stdout, stderr: stderr, timedOut: timedOut)
    }

    /// Ends the process: SIGTERM, then SIGKILL after 5 s.
    package func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(5)
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// Polls standard output (or standard error) until `predicate` finds what it wants, for at most `timeout`.
    package func waitForOutput<T>(timeout: Duration = .seconds(30), onStandardError: Bool = false, _ predicate: (String) -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        let read = { onStandardError ? self.stderr : self.stdout }
        while ContinuousClock.now < deadline {
            if let found = predicate(read()) { return found }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        if let found = predicate(read()) { return found }
        throw ChildProcessTimeout(command: "waiting for output of \(process.executableURL?.path ?? "")\nstdout: \(stdout)\nstderr: \(stderr)", timeout: timeout)
    }

    /// Sends SIGTERM and waits (at most `timeout`) for the process to exit; returns its exit status.
    package func terminate(timeout: Duration = .seconds(30)) async throws -> Int32 {
        process.terminate()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw ChildProcessTimeout(command: "exit after SIGTERM", timeout: timeout, standardError: stderr)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }
}

/// What a finished child process left.
package struct ProcessOutcome: Sendable {
    package var status: Int32
    package var stdout: String
    package var stderr: String
    /// Whether it had to be stopped because it ran past its time.
    package var timedOut: Bool
    /// Standard output, then standard error.
    package var output: String { stdout + stderr }
}

/// Runs a program to completion; past `timeout` it is stopped and ``ChildProcessTimeout`` thrown.
package func runProcess(
    _ executable: URL,
    _ arguments: [String],
    environment: [String: String] = [:],
    timeout: Duration = .seconds(60)
) async throws -> ProcessOutcome {
    let outcome = await (try ChildProcess(executable, arguments, environment: environment)).wait(timeout: timeout)
    if outcome.timedOut {
        // What it printed last says where it hung; the suite's log is all CI keeps.
        throw ChildProcessTimeout(
            command: ([executable.path] + arguments).joined(separator: " "),
            timeout: timeout,
            standardError: outcome.stderr
        )
    }
    return outcome
}

/// Runs a program (absolute, or relative to the repository) to completion within `timeout` (stopped past it,
/// and said so in the outcome).
package func runToCompletion(
    _ path: String,
    _ arguments: [String],
    environment: [String: String] = [:],
    timeout: Duration = .seconds(60)
) async throws -> ProcessOutcome {
    await (try ChildProcess(path, arguments, environment: environment)).wait(timeout: timeout)
}

/// Runs `body` with a started child process, and always stops the process afterwards.
package func withChildProcess<Result>(
    _ path: String,
    _ arguments: [String],
    environment: [String: String] = [:],
    directory: URL? = nil,
    _ body: (ChildProcess) async throws -> Result
) async throws -> Result {
    let child = try ChildProcess(path, arguments, environment: environment, directory: directory)
    do {
        let result = try await body(child)
        await child.stop()
        return result
    } catch {
        await child.stop()
        throw error
    }
}

/// A peer program the tests need (absolute, or relative to the repository), or a failure saying how to install it.
package func requirePeer(_ path: String) throws -> String {
    let resolved = path.hasPrefix("/") ? path : repositoryRoot.appendingPathComponent(path).path
    guard FileManager.default.isExecutableFile(atPath: resolved) else {
        throw MissingTestDependency(what: resolved, fix: "run scripts/install-test-deps.sh (it installs the test peers)")
    }
    return resolved
}

/// Polls `condition` every 100 ms until it holds or `timeout` passes; returns whether it held.
package func eventually(timeout: Duration, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}

/// A fresh temporary directory, removed after `body`.
package func withTemporaryDirectory<Result>(_ body: (URL) async throws -> Result) async throws -> Result {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

package struct ChildProcessTimeout: Error, CustomStringConvertible {
    package var command: String
    package var timeout: Duration
    /// What the process printed on standard error, when known; the description shows its end: where it hung.
    package var standardError = ""
    package var description: String {
        let said = standardError.isEmpty ? "" : "; the end of its standard error:\n\(standardError.suffix(4000))"
        return "\(command) did not finish within \(timeout)\(said)"
    }
}

/// The Python of the test venv that scripts/install-test-deps.sh makes; a clear failure when it is missing.
package func testVenvPython() throws -> URL {
    let python = repositoryRoot.appendingPathComponent(".venv-test/bin/python")
    guard FileManager.default.isExecutableFile(atPath: python.path) else {
        throw MissingTestDependency(what: python.path, fix: "run scripts/install-test-deps.sh (scripts/test.sh does)")
    }
    return python
}

/// `curl`, which scripts/install-test-deps.sh installs.
package func curlExecutable() throws -> URL {
    for path in ["/usr/bin/curl", "/usr/local/bin/curl", "/bin/curl"] where FileManager.default.isExecutableFile(atPath: path) {
        return URL(fileURLWithPath: path)
    }
    throw MissingTestDependency(what: "curl", fix: "run scripts/install-test-deps.sh (scripts/test.sh does)")
}

package struct MissingTestDependency: Error, CustomStringConvertible {
    package var what: String
    package var fix: String
    package var description: String { "\(what) is missing: \(fix)" }
}

/// The `otelbench` binary that `swift build` made (debug), for tests that run the command as a user would.
package func otelbenchExecutable() throws -> URL {
    let binary = repositoryRoot.appendingPathComponent(".build/debug/otelbench")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
        throw MissingTestDependency(what: binary.path, fix: "run `swift build --build-tests` first (scripts/test.sh does)")
    }
    return binary
}

package import Foundation

/// The repository root, found from this file's path, so tests can find scripts and the test venv.
package let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // Tests/TestSupport
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()  // the repository

/// What a finished child process left.
package struct ProcessResult: Sendable {
    package var status: Int32
    package var stdout: String
    package var stderr: String
}

/// Runs a program to completion, killing it after `timeout`; output goes to temporary files so a chatty
/// child can never block on a full pipe.
package func runProcess(_ executable: URL, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> ProcessResult {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-child-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let outURL = folder.appendingPathComponent("stdout")
    let errURL = folder.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    let status: Int32 = try await withThrowingTaskGroup { group in
        group.addTask {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do { try process.run() } catch { continuation.resume(throwing: error) }
            }
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            process.terminate()
            throw ChildProcessTimeout(command: ([executable.path] + arguments).joined(separator: " "), timeout: timeout)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
    let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
    return ProcessResult(status: status, stdout: stdout, stderr: stderr)
}

package struct ChildProcessTimeout: Error, CustomStringConvertible {
    package var command: String
    package var timeout: Duration
    package var description: String { "\(command) did not finish within \(timeout)" }
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

/// A child process left running in the background, its output going to files that can be read while it runs.
// `Process` is not Sendable; it is only read (isRunning, pid, status) and terminated, which Foundation allows from any thread.
package final class BackgroundProcess: @unchecked Sendable {
    private let process: Process
    private let folder: URL

    /// Starts `executable` with `arguments`.
    package init(_ executable: URL, _ arguments: [String]) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-bg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: folder.appendingPathComponent("stdout").path, contents: nil)
        _ = FileManager.default.createFile(atPath: folder.appendingPathComponent("stderr").path, contents: nil)
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: folder.appendingPathComponent("stdout"))
        process.standardError = try FileHandle(forWritingTo: folder.appendingPathComponent("stderr"))
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: folder)
    }

    /// Standard output so far.
    package var stdout: String { (try? String(contentsOf: folder.appendingPathComponent("stdout"), encoding: .utf8)) ?? "" }
    /// Standard error so far.
    package var stderr: String { (try? String(contentsOf: folder.appendingPathComponent("stderr"), encoding: .utf8)) ?? "" }

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
                throw ChildProcessTimeout(command: "exit after SIGTERM", timeout: timeout)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }
}

import Foundation

/// The repository root, found from this file's path, so tests can find scripts and the test venv.
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// What a finished child process left.
struct ProcessResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program to completion, killing it after `timeout`; output goes to temporary files so a chatty
/// child can never block on a full pipe.
func runProcess(_ executable: URL, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> ProcessResult {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("otelbench-child-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let outURL = folder.appendingPathComponent("stdout")
    let errURL = folder.appendingPathComponent("stderr")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
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

struct ChildProcessTimeout: Error, CustomStringConvertible {
    var command: String
    var timeout: Duration
    var description: String { "\(command) did not finish within \(timeout)" }
}

/// The Python of the test venv that scripts/install-test-deps.sh makes; a clear failure when it is missing.
func testVenvPython() throws -> URL {
    let python = repositoryRoot.appendingPathComponent(".venv-test/bin/python")
    guard FileManager.default.isExecutableFile(atPath: python.path) else {
        throw MissingTestDependency(what: python.path, fix: "run scripts/install-test-deps.sh (scripts/test.sh does)")
    }
    return python
}

/// `curl`, which scripts/install-test-deps.sh installs.
func curlExecutable() throws -> URL {
    for path in ["/usr/bin/curl", "/usr/local/bin/curl", "/bin/curl"] where FileManager.default.isExecutableFile(atPath: path) {
        return URL(fileURLWithPath: path)
    }
    throw MissingTestDependency(what: "curl", fix: "run scripts/install-test-deps.sh (scripts/test.sh does)")
}

struct MissingTestDependency: Error, CustomStringConvertible {
    var what: String
    var fix: String
    var description: String { "\(what) is missing: \(fix)" }
}

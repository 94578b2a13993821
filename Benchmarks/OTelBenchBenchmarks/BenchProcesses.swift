import AsyncHTTPClient
import Foundation
import Synchronization

/// What a child printed, filled by its pipe's reader.
private final class PrintedText: Sendable {
    let text = Mutex("")
}

/// A peer or a product binary the benchmark runs as its own process: started, read from until it says where it
/// listens, measured (CPU from /proc), and stopped with SIGTERM.
final class BenchChild {
    let process: Process
    let name: String
    private let output: PrintedText

    /// Starts `executable` with `arguments`, optionally pinned to `cpus` with `taskset -c` (e.g. "0" or "0,1").
    init(_ name: String, executable: URL, arguments: [String], cpus: String? = nil, currentDirectory: URL? = nil) throws {
        self.name = name
        let output = PrintedText()
        self.output = output
        let process = Process()
        // This process's threads block nearly every signal and a spawned child inherits that mask: a child that
        // never sees SIGTERM or SIGCHLD cannot stop cleanly (nginx, perf). python3 clears the mask and execs the
        // program (taskset then execs it too), so the pid stays the program's.
        process.executableURL = try BenchIntake.tool("python3", package: "python3")
        let program = try cpus.map { [try BenchIntake.tool("taskset", package: "util-linux").path, "-c", $0] } ?? []
        process.arguments = ["-c", Self.clearSignalMask] + (program.isEmpty ? [executable.path] : program + [executable.path]) + arguments
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        // Always drained: a child that fills the pipe would stop.
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            let text = String(decoding: data, as: UTF8.self)
            output.text.withLock { $0 += text }
        }
        self.process = process
        try process.run()
    }

    /// A python3 program that unblocks every signal and execs its arguments.
    private static let clearSignalMask =
        "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])"

    /// Everything the child printed so far (stdout and stderr).
    var printed: String { output.text.withLock { $0 } }

    /// Waits until the child printed a line that `match` accepts (returning what it returns), for at most
    /// `timeout`; throws, with the child's output, when it exits first or the time runs out.
    func waitForLine<T>(timeout: Duration = .seconds(20), _ match: (Substring) -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for line in printed.split(separator: "\n") {
                if let found = match(line) { return found }
            }
            guard process.isRunning else {
                throw BenchmarkError("\(name) exited with status \(process.terminationStatus) before it was ready; it printed:\n\(printed.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchmarkError("\(name) was not ready within \(timeout); it printed:\n\(printed.suffix(2000))")
    }

    /// User + system CPU seconds the child (the `taskset`-exec'd program: the same pid) used so far, from
    /// /proc/PID/stat, in clock ticks (10 ms).
    var cpuSeconds: Double {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return 0 }
        // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Waits (at most `timeout`) for the child to exit by itself; whether it did.
    func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return !process.isRunning
    }

    /// Sends SIGTERM and waits (at most `timeout`, then SIGKILL) for the child to exit.
    func stop(timeout: Duration = .seconds(15)) async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Where the peers and the product binary are, and how they start.
enum BenchPeers {
    /// The release `otelbench` next to this `otelbench-bench` (build both with the same `--build-path`).
    static func otelbench() throws -> URL {
        let bench = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let sibling = bench.deletingLastPathComponent().appendingPathComponent("otelbench")
        guard FileManager.default.isExecutableFile(atPath: sibling.path) else {
            throw BenchmarkError(
                "no otelbench binary next to \(bench.path): build it into the same folder (OTELBENCH_BENCHMARKS=1 swift build -c release --build-path .build-release --product otelbench)"
            )
        }
        return sibling
    }

    /// `otelbench receive` (OTLP/gRPC and OTLP/HTTP on free loopback ports, no progress line), optionally pinned
    /// to `cpus`; returns the child and its two ports once it listens.
    static func startReceive(summary: URL?, cpus: String? = nil) async throws -> (child: BenchChild, grpcPort: Int, httpPort: Int) {
        var arguments = ["receive", "--quiet", "--otlp-grpc", "127.0.0.1:0", "--otlp-http", "127.0.0.1:0"]
        if let summary { arguments += ["--summary-json", summary.path] }
        let child = try BenchChild("otelbench receive", executable: try otelbench(), arguments: arguments, cpus: cpus)
        do {
            let grpc = try await child.waitForLine { line in
                line.hasPrefix("OTLP/gRPC listening on ") ? line.split(separator: " ")[3].split(separator: ":").last.flatMap { Int($0) } : nil
            }
            let http = try await child.waitForLine { line -> Int? in
                guard line.hasPrefix("OTLP/HTTP listening on ") else { return nil }
                return line.split(separator: " ")[3].split(separator: ":").last.flatMap { Int($0) }
            }
            return (child, grpc, http)
        } catch {
            await child.stop()
            throw error
        }
    }

    /// `otelbench services` on free ports, exporting OTLP/gRPC to `otlpEndpoint`; returns the child and the
    /// tasks service's base URL once every service listens.
    static func startServices(otlpEndpoint: String) async throws -> (child: BenchChild, tasks: String) {
        let child = try BenchChild(
            "otelbench services",
            executable: try otelbench(),
            arguments: ["services", "--ports-from", "0", "--otlp-protocol", "grpc", "--otlp-endpoint", otlpEndpoint],
            currentDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        )
        do {
            let tasks = try await child.waitForLine { line -> String? in
                guard line.hasPrefix("tasks listening on ") else { return nil }
                return String(line.split(separator: " ")[3])
            }
            // The last service to print is migrations; wait for it so that the family is whole.
            _ = try await child.waitForLine { $0.hasPrefix("faults: ") ? true : nil }
            return (child, tasks)
        } catch {
            await child.stop()
            throw error
        }
    }

    /// Debian's nginx (1.22: unprivileged with `-c CONF -p DIR` and `daemon off;`) serving `bytes` bytes at
    /// `/file.txt` on a free loopback port from `folder`, with `workers` worker processes, no access log and
    /// unlimited keep-alive; returns the child and the file's URL once it answers.
    static func startNginx(in folder: URL, bytes: Int, workers: Int) async throws -> (child: BenchChild, url: String) {
        let nginx = try BenchIntake.tool("nginx", package: "nginx")
        let root = folder.appendingPathComponent("nginx")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Data(repeating: UInt8(ascii: "x"), count: bytes).write(to: root.appendingPathComponent("file.txt"))
        let port = try BenchRemoteWrite.freePort()
        let configuration = """
            daemon off;
            worker_processes \(workers);
            pid \(root.path)/nginx.pid;
            error_log \(root.path)/error.log error;
            events { worker_connections 4096; }
            http {
              access_log off;
              client_body_temp_path \(root.path)/body;
              proxy_temp_path \(root.path)/proxy;
              fastcgi_temp_path \(root.path)/fastcgi;
              uwsgi_temp_path \(root.path)/uwsgi;
              scgi_temp_path \(root.path)/scgi;
              keepalive_requests 100000000;
              keepalive_timeout 300s;
              server { listen 127.0.0.1:\(port); root \(root.path); }
            }
            """
        let path = root.appendingPathComponent("nginx.conf")
        try Data(configuration.utf8).write(to: path)
        let child = try BenchChild("nginx", executable: nginx, arguments: ["-c", path.path, "-p", root.path])
        let url = "http://127.0.0.1:\(port)/file.txt"
        for _ in 0..<100 {
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(1)), response.status == .ok {
                return (child, url)
            }
            guard child.process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        await child.stop()
        throw BenchmarkError("nginx did not serve \(url) within 10 s; it printed:\n\(child.printed.suffix(2000))")
    }
}

/// wrk's own figures from one run.
struct WrkResult {
    var requestsPerSecond: Double
    var non2xx: Int
    var socketErrors: Int

    /// Runs wrk (`-t2 -cCONNECTIONS -dSECONDS`, plus `extra` such as `-s script`) against `url`, optionally pinned
    /// to `cpus`, and reads its report.
    static func run(url: String, connections: Int, seconds: Int, extra: [String] = [], cpus: String? = nil, folder: URL) async throws -> WrkResult {
        let wrk = try BenchIntake.tool("wrk", package: "wrk")
        let output = folder.appendingPathComponent("wrk-\(UUID().uuidString).txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        var arguments = ["-t2", "-c\(connections)", "-d\(seconds)s"] + extra + [url]
        var tool = wrk
        if let cpus {
            arguments = ["-c", cpus, wrk.path] + arguments
            tool = try BenchIntake.tool("taskset", package: "util-linux")
        }
        try await BenchIntake.run(tool, arguments, output: try FileHandle(forWritingTo: output))
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        return parse(text)
    }

    /// Requests/sec, "Non-2xx or 3xx responses" and the socket error counts of a wrk report.
    static func parse(_ text: String) -> WrkResult {
        let lines = text.split(separator: "\n")
        let rate = lines.first { $0.hasPrefix("Requests/sec:") }.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        let non2xx = lines.first { $0.contains("Non-2xx or 3xx responses:") }.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        var socketErrors = 0
        if let line = lines.first(where: { $0.contains("Socket errors:") }) {
            // "  Socket errors: connect 0, read 0, write 0, timeout 12"
            socketErrors = line.split(whereSeparator: { $0 == " " || $0 == "," }).compactMap { Int($0) }.reduce(0, +)
        }
        return WrkResult(requestsPerSecond: rate, non2xx: non2xx, socketErrors: socketErrors)
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import Services
import Telemetry
import TestSupport
import Testing

/// `otelbench services` as a child process: the built binary at `.build/debug/otelbench` (built by
/// `swift build --build-tests`).
@Suite(.serialized) struct ServicesCommandTests {
    static var binary: URL {
        // Tests/ServicesTests/ServicesCommandTests.swift → the package root.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/otelbench")
    }

    /// Reads lines from a pipe as they come.
    final class LineReader: @unchecked Sendable {
        private let handle: FileHandle
        private var buffer = Data()
        init(_ handle: FileHandle) { self.handle = handle }

        /// The next line, or nil at end of file (blocking; call off the cooperative pool's hot path).
        func nextLine() -> String? {
            while true {
                if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    return line
                }
                let chunk = handle.availableData
                if chunk.isEmpty { return nil }
                buffer.append(chunk)
            }
        }
    }

    @Test func runsTheFamilyPrintsURLsAndFlushesOnSIGTERM() async throws {
        try await withIntake { intake in
            let process = Process()
            process.executableURL = Self.binary
            process.arguments = [
                "services", "--ports-from", "0", "--otlp-endpoint", intake.httpEndpoint, "--otlp-protocol", "http",
                "--metrics-interval", "60s", "--fault", "tasks:drop_tracestate",
            ]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let reader = LineReader(output.fileHandleForReading)
            var urls: [String: String] = [:]
            while urls.count < 4, let line = reader.nextLine() {
                // "tasks listening on http://127.0.0.1:PORT (service.name cf_core.services.tasks)"
                let words = line.split(separator: " ")
                if words.count >= 4, words[1] == "listening" { urls[String(words[0])] = String(words[3]) }
            }
            #expect(Set(urls.keys) == ["tasks", "projects", "sprints", "migrations"])
            let tasksURL = try #require(urls["tasks"])
            let config = try await HTTPClient.shared.execute(HTTPClientRequest(url: tasksURL + "/health/cf_core/config"), timeout: .seconds(30))
            let body = String(buffer: try await config.body.collect(upTo: 1 << 20))
            #expect(body.contains("drop_tracestate"))
            #expect(body.contains(intake.httpEndpoint))

            var request = HTTPClientRequest(url: tasksURL + "/tasks")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: #"{"title":"From the CLI"}"#))
            let created = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(created.status.code == 201)

            // The metrics interval is 60 s: task_create_total can only arrive through the flush at shutdown.
            #expect(intake.store.series(named: "task_create_total").isEmpty)
            process.terminate()  // SIGTERM
            var rest: [String] = []
            while let line = reader.nextLine() { rest.append(line) }
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(rest.contains("stopped; telemetry flushed"))
            #expect(intake.store.series(named: "task_create_total").count == 1)
            #expect(intake.store.spans(ofService: "cf_core.services.tasks").contains { $0.name == "POST /tasks" })
        }
    }

    /// A port already taken: exit 2 and a message that says what to change.
    @Test func portInUseExitsWithCode2() async throws {
        let recorder = HeaderRecorder()
        try await recorder.run { url in
            let port = try #require(URLComponents(string: url)?.port)
            // Bounded: a child that hangs after the bind failure fails this test instead of hanging the suite.
            let outcome = try await runProcess(
                Self.binary,
                ["services", "--ports-from", String(port), "--otlp-endpoint", "http://127.0.0.1:1"],
                timeout: .seconds(60)
            )
            #expect(outcome.status == 2)
            #expect(outcome.stderr.contains("cannot listen:"))
            #expect(outcome.stderr.contains("Choose another --ports-from (0 picks free ports) or --host."))
        }
    }

    @Test(arguments: [
        (["services", "--otlp-protocol", "udp"], "The value 'udp' is invalid for '--otlp-protocol <protocol>'. Please provide one of 'grpc' and 'http'."),
        (["services", "--ports-from", "70000"], "--ports-from must be between 0 and 65532 (got 70000)"),
        (["services", "--fault", "billing:drop_tracestate"], "--fault billing:drop_tracestate: unknown service billing"),
        (["services", "--fault", "explode"], "--fault explode: unknown fault explode"),
        (["services", "--config", "/nonexistent/services.yaml"], "/nonexistent/services.yaml: cannot read the services configuration"),
    ])
    func badInputExitsWithCode2(_ arguments: [String], _ message: String) async throws {
        let outcome = try await runProcess(Self.binary, arguments, timeout: .seconds(60))
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains(message), "\(outcome.stderr)")
    }
}

import Foundation
import OTelBenchProtos
import Telemetry
import TestSupport
import Testing

/// `otelbench receive` run as a user runs it: the built binary, real clients (curl, the Python SDK), SIGTERM.
@Suite(.serialized) struct ReceiveCommandTests {
    private func port(after label: String, in output: String) -> Int? {
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(label) }) else { return nil }
        let digits = line.split(separator: " ")[3].split(separator: ":").last?.prefix { $0.isNumber }
        return digits.flatMap { Int($0) }
    }

    @Test func receivesFromCurlAndThePythonSDKThenSummarizesAndRecords() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("receive-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let summaryURL = folder.appendingPathComponent("summary.json")
        let recordURL = folder.appendingPathComponent("received.jsonl")
        let receiver = try ChildProcess(
            try otelbenchExecutable(),
            [
                "receive", "--otlp-grpc", "127.0.0.1:0", "--otlp-http", "127.0.0.1:0",
                "--summary-json", summaryURL.path, "--record", recordURL.path, "--duration", "120s",
            ]
        )
        let (grpcPort, httpPort) = try await receiver.waitForOutput { output -> (Int, Int)? in
            guard let grpc = port(after: "OTLP/gRPC listening on", in: output),
                let http = port(after: "OTLP/HTTP listening on", in: output)
            else { return nil }
            return (grpc, http)
        }

        // curl posts the specification's JSON example.
        let json =
            #"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"curl-client"}}]},"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"from curl","kind":2,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000"}]}]}]}"#
        let curl = try await runProcess(
            try curlExecutable(),
            [
                "-sS", "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", json,
                "-w", "\n%{http_code}", "http://127.0.0.1:\(httpPort)/v1/traces",
            ]
        )
        #expect(curl.stdout.hasSuffix("\n200"), "curl: \(curl.stdout) \(curl.stderr)")

        // The Python SDK sends all three signals over gRPC.
        let manifest = folder.appendingPathComponent("manifest.json")
        let python = try await runProcess(
            try testVenvPython(),
            [
                repositoryRoot.appendingPathComponent("Tests/Interop/otlp_export.py").path,
                "--protocol", "grpc", "--endpoint", "127.0.0.1:\(grpcPort)", "--manifest", manifest.path,
            ]
        )
        #expect(python.status == 0, "\(python.stderr)")

        let status = try await receiver.terminate()
        #expect(status == 0, "stderr: \(receiver.stderr)")
        let output = receiver.stdout
        #expect(output.contains("received: 4 spans in 2 traces"), "\(output)")
        #expect(output.contains("curl-client: 1 spans"))
        #expect(output.contains("interop-python: 3 spans"))
        #expect(output.contains("request_duration_seconds (histogram [s]): 1 series, 1 data points"))
        #expect(output.contains("otlp-grpc traces: requests 1 accepted, 0 rejected; items 3 accepted, 0 rejected"))
        #expect(output.contains("otlp-http-json traces: requests 1 accepted"))

        let summary = try JSONDecoder().decode(IntakeSummary.self, from: Data(contentsOf: summaryURL))
        #expect(summary.schema == "otelbench.intake-summary/v1")
        #expect(summary.spans == 4)
        #expect(summary.traces == 2)
        #expect(summary.logRecords == 2)
        #expect(summary.metrics.map(\.name) == ["queue_depth", "request_duration_seconds", "tasks_created"])

        // The recording holds one OTLP/JSON request per line, ids in hex, and reads back into the same data.
        let lines = try String(contentsOf: recordURL, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix(#"{"resourceSpans":"#))
        #expect(lines[0].contains(#""traceId":"5b8efff798038103d269b633813fc60c""#))
        let replayed = TelemetryStore()
        for request in try RecordingReader.read(path: recordURL.path) {
            replayed.replay(request)
        }
        #expect(replayed.totals.spans == 4)
        #expect(replayed.totals.logRecords == 2)
        #expect(Set(replayed.spans.map(\.spanID)).count == 4)
    }

    @Test(arguments: [
        (["receive", "--otlp-grpc", "nonsense"], "--otlp-grpc"),
        (["receive", "--max-request-bytes", "0"], "--max-request-bytes must be > 0"),
        (
            ["receive", "--log-level", "loud"],
            "The value 'loud' is invalid for '--log-level <level>'"
        ),
        (["receive", "--record", "/nonexistent-folder/x.jsonl"], "cannot create recording file /nonexistent-folder/x.jsonl"),
    ])
    func badInputExitsTwoWithAMessage(arguments: [String], phrase: String) async throws {
        let result = try await runProcess(try otelbenchExecutable(), arguments, timeout: .seconds(30))
        #expect(result.status == 2)
        #expect(result.stderr.contains(phrase), "\(result.stderr)")
    }

    @Test func busyPortIsReportedWithTheFix() async throws {
        let first = try ChildProcess(try otelbenchExecutable(), ["receive", "--otlp-grpc", "127.0.0.1:0", "--otlp-http", "127.0.0.1:0", "--quiet"])
        let httpPort = try await first.waitForOutput { port(after: "OTLP/HTTP listening on", in: $0) }
        let second = try await runProcess(try otelbenchExecutable(), ["receive", "--otlp-grpc", "127.0.0.1:0", "--otlp-http", "127.0.0.1:\(httpPort)"])
        #expect(second.status == 2)
        #expect(second.stderr.contains("cannot listen"), "\(second.stderr)")
        #expect(second.stderr.contains("--otlp-http"))
        #expect(try await first.terminate() == 0)
    }

    @Test func helpNamesEveryFlag() async throws {
        let result = try await runProcess(try otelbenchExecutable(), ["receive", "--help"])
        #expect(result.status == 0)
        for flag in ["--otlp-grpc", "--otlp-http", "--max-request-bytes", "--memory-limit", "--duration", "--summary-json", "--record", "--quiet"] {
            #expect(result.stdout.contains(flag), "help is missing \(flag)")
        }
    }
}

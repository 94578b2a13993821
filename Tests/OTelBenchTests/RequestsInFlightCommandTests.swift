import Foundation
import TestSupport
import Testing

/// `--max-requests-in-flight` on the built binary: a bad value is exit 2 naming the flag; a good one is the limit
/// the intake refuses beyond, before reading the body.
@Suite(.serialized) struct RequestsInFlightCommandTests {
    @Test(arguments: [
        (["receive", "--max-requests-in-flight", "0"], "--max-requests-in-flight must be > 0 (got 0)"),
        (["receive", "--max-requests-in-flight", "-3"], "--max-requests-in-flight"),
        (["receive", "--max-requests-in-flight", "many"], "--max-requests-in-flight"),
        (["run", "scenario.yaml", "--max-requests-in-flight", "0"], "--max-requests-in-flight must be > 0 (got 0)"),
    ])
    func badValuesAreRefusedWithExitCode2(_ arguments: [String], _ message: String) async throws {
        let outcome = try await runProcess(try otelbenchExecutable(), arguments, timeout: .seconds(30))
        #expect(outcome.status == 2, "\(outcome.output)")
        #expect(outcome.stderr.contains(message), "\(outcome.stderr)")
    }

    @Test func receiveRefusesARequestBeyondTheLimitWith503AndCountsIt() async throws {
        let receiver = try ChildProcess(
            try otelbenchExecutable(),
            [
                "receive", "--otlp-grpc", "127.0.0.1:0", "--otlp-http", "127.0.0.1:0", "--quiet", "--duration", "120s",
                "--max-requests-in-flight", "1",
            ]
        )
        let port = try await receiver.waitForOutput { output -> Int? in
            output.split(separator: "\n").first { $0.contains("OTLP/HTTP listening on") }
                .flatMap { $0.split(separator: ":").last?.prefix { $0.isNumber } }.flatMap { Int($0) }
        }
        let curl = try curlExecutable()
        let arguments = ["-s", "-i", "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "{}", "http://127.0.0.1:\(port)/v1/traces"]
        // Held: the header and one byte of a ten-byte body. Until the server has read its header, another request can
        // come first and have the held one refused instead: then a new one is held.
        var held = try RawConnection(port: port)
        let heldHeader = "POST /v1/traces HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"
        try held.send(heldHeader)
        var refused = ""
        var acceptedBefore = 0
        var heldRefused = 0
        let wasRefused = try await eventually(timeout: .seconds(60)) {
            refused = try await runToCompletion(curl.path, arguments).stdout
            guard refused.hasPrefix("HTTP/1.1 200") else { return refused.hasPrefix("HTTP/1.1 503") }
            acceptedBefore += 1
            if held.read(atLeast: 1, timeout: .milliseconds(100)).text.hasPrefix("HTTP/1.1 503") {
                heldRefused += 1
                held = try RawConnection(port: port)
                try held.send(heldHeader)
            }
            return false
        }
        #expect(wasRefused, "\(refused)")
        #expect(refused.lowercased().contains("retry-after: 1\r\n"), "\(refused)")
        try held.send("}        ")
        #expect(held.readResponse(timeout: .seconds(30)).text.hasPrefix("HTTP/1.1 200"))
        let accepted = try await runToCompletion(curl.path, arguments)
        #expect(accepted.stdout.hasPrefix("HTTP/1.1 200"), "\(accepted.stdout)")
        #expect(try await receiver.terminate() == 0, "\(receiver.stderr)")
        // The held request, the ones served before it was read, and the last: accepted; every 503: rejected.
        let summary = "otlp-http-json traces: requests \(acceptedBefore + 2) accepted, \(heldRefused + 1) rejected"
        #expect(receiver.stdout.contains(summary), "\(receiver.stdout)")
    }
}

import Foundation
import TestSupport
import Testing

/// `--max-connections`, `--idle-timeout`, `--header-timeout` and `--body-timeout` on the built binary: a bad value
/// is exit 2 naming the flag; a good one reaches every listener.
@Suite(.serialized) struct ConnectionOptionsCommandTests {
    @Test(arguments: [
        (["receive", "--max-connections", "0"], "--max-connections must be > 0 (got 0)"),
        (["receive", "--idle-timeout", "0s"], "--idle-timeout must be more than 0"),
        (["receive", "--header-timeout", "soon"], "--header-timeout"),
        (["run", "scenario.yaml", "--body-timeout", "0s"], "--body-timeout must be more than 0"),
    ])
    func badValuesAreRefusedWithExitCode2(_ arguments: [String], _ message: String) async throws {
        let outcome = try await runProcess(try otelbenchExecutable(), arguments, timeout: .seconds(30))
        #expect(outcome.status == 2, "\(outcome.output)")
        #expect(outcome.stderr.contains(message), "\(outcome.stderr)")
    }

    @Test func receiveClosesIdleAndSlowConnectionsAsConfigured() async throws {
        let receiver = try ChildProcess(
            try otelbenchExecutable(),
            [
                "receive", "--otlp-grpc", "127.0.0.1:0", "--otlp-http", "127.0.0.1:0", "--jaeger-thrift", "127.0.0.1:0", "--quiet",
                "--duration", "120s", "--idle-timeout", "1s", "--header-timeout", "1s", "--max-connections", "64",
            ]
        )
        let ports = try await receiver.waitForOutput { output -> [Int]? in
            let labels = ["OTLP/gRPC listening on", "OTLP/HTTP listening on", "Jaeger Thrift"]
            let found = labels.compactMap { label in
                output.split(separator: "\n").first { $0.contains(label) }
                    .flatMap { $0.split(separator: ":").last?.prefix { $0.isNumber } }.flatMap { Int($0) }
            }
            return found.count == labels.count ? found : nil
        }
        for port in ports {
            let idle = try RawConnection(port: port)
            #expect(idle.readUntilClosed(timeout: .seconds(30)).closed, "an idle connection to \(port) stayed open")
        }
        // The idle timeout is 1 s too, so this shows only that a slow header does not keep a connection open.
        let slowloris = try RawConnection(port: ports[1])
        try slowloris.send("POST /v1/traces HTTP/1.1\r\n")
        #expect(slowloris.readUntilClosed(timeout: .seconds(30)).closed)
        #expect(try await receiver.terminate() == 0, "\(receiver.stderr)")
    }
}

import Foundation
import TestSupport
import Testing

/// The command line's side of TLS and the token: listening beyond loopback unprotected is refused at start
/// (exit 2, naming the flags to add) unless `--insecure`; files that cannot serve are named by their flag.
@Suite(.serialized) struct ListenerSecurityCommandTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var arguments: [String]
        var message: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let refusals = [
        Case(arguments: ["receive", "--otlp-grpc", "0.0.0.0:0", "--otlp-http", "127.0.0.1:0"], message: "--otlp-grpc 0.0.0.0:0 listens beyond loopback"),
        Case(
            arguments: ["receive", "--otlp-grpc", "127.0.0.1:0", "--otlp-http", "127.0.0.1:0", "--jaeger-query", "0.0.0.0:0"],
            message: "--jaeger-query 0.0.0.0:0 listens beyond loopback"
        ),
        Case(arguments: ["receive", "--tls-cert", "server.pem"], message: "--tls-cert and --tls-key go together"),
        Case(arguments: ["receive", "--tls-client-ca", "ca.pem"], message: "--tls-client-ca needs --tls-cert"),
        Case(arguments: ["receive", "--auth-token-file", "/nonexistent/token"], message: "--auth-token-file /nonexistent/token: cannot be read"),
        Case(arguments: ["intake", "scenario.yaml", "--shards", "1", "--control", "0.0.0.0:4320"], message: "add --insecure"),
        Case(arguments: ["run", "scenario.yaml", "--target-ca", "/nonexistent/ca.pem"], message: "--target-ca /nonexistent/ca.pem cannot be read"),
    ]

    @Test(arguments: refusals)
    func refusedAtStartWithExitCode2(_ testCase: Case) async throws {
        let outcome = try await runProcess(try otelbenchExecutable(), testCase.arguments, timeout: .seconds(30))
        #expect(outcome.status == 2, "\(outcome.output)")
        #expect(outcome.stderr.contains(testCase.message), "\(outcome.stderr)")
        if testCase.arguments.contains("0.0.0.0:0") {
            #expect(outcome.stderr.contains("--insecure") && outcome.stderr.contains("--auth-token-file"), "the message names the flags to add")
        }
    }

    /// With --insecure, or with a token, the same addresses are taken.
    @Test(arguments: [["--insecure"], ["--auth-token-file", "TOKEN"]])
    func beyondLoopbackWithInsecureOrATokenStarts(_ extra: [String]) async throws {
        try await withTemporaryDirectory { folder in
            let token = folder.appendingPathComponent("token").path
            try "secret\n".write(toFile: token, atomically: true, encoding: .utf8)
            let outcome = try await runProcess(
                try otelbenchExecutable(),
                ["receive", "--otlp-grpc", "0.0.0.0:0", "--otlp-http", "127.0.0.1:0", "--duration", "500ms", "--quiet"]
                    + extra.map { $0 == "TOKEN" ? token : $0 },
                timeout: .seconds(30)
            )
            #expect(outcome.status == 0, "\(outcome.output)")
            #expect(outcome.stdout.contains("OTLP/gRPC listening on 0.0.0.0:"), "\(outcome.stdout)")
        }
    }

    /// A scenario whose intake listens beyond loopback without intake.tls or intake.auth_token_file is refused by
    /// `run`, naming the file and the key.
    @Test func aScenarioBindingBeyondLoopbackUnprotectedIsRefused() async throws {
        try await withTemporaryDirectory { folder in
            let scenario = try writeShardedScenario(in: folder, otlpGRPC: "0.0.0.0:0")
            let outcome = try await runProcess(try otelbenchExecutable(), ["run", scenario, "--quiet"], timeout: .seconds(60))
            #expect(outcome.status == 2, "\(outcome.output)")
            #expect(outcome.stderr.contains("\(scenario): intake.otlp_grpc listens on 0.0.0.0:0"), "\(outcome.stderr)")
            #expect(outcome.stderr.contains("intake.auth_token_file") && outcome.stderr.contains("--insecure"), "\(outcome.stderr)")
        }
    }
}

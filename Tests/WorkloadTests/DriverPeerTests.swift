import Foundation
import Scenario
import TestSupport
import Testing
import Workload

/// The driver against a real HTTP/1.1 server with every response framing a service may use
/// (`Tests/Interop/http1_peer.py`), in plain text and over TLS with a private CA (`--target-ca`): each request is
/// classified by its answer, the server counts exactly the requests the driver says it sent, and the
/// connections the server closes are replaced.
@Suite(.serialized) struct DriverPeerTests {
    private static let framings = ["length", "chunked", "close", "eof", "http10", "continue", "nocontent"]

    /// Runs `body` with the peer (over TLS with `certificates`) listening on the port it is given.
    private func withPeer(tls certificates: TestCertificates? = nil, _ body: (Int) async throws -> Void) async throws {
        let python = try requirePeer("/usr/bin/python3")
        let tlsArguments = certificates.map { ["--tls", $0.serverCertificate, $0.serverKey] } ?? []
        let peer = try ChildProcess(python, ["Tests/Interop/http1_peer.py"] + tlsArguments)
        do {
            let port = try await peer.waitForOutput(timeout: .seconds(30)) { output in
                output.split(separator: "\n").first { $0.hasPrefix("listening ") }.flatMap { Int($0.dropFirst("listening ".count)) }
            }
            try await body(port)
        } catch {
            await peer.stop()
            throw error
        }
        await peer.stop()
    }

    private func workload(_ paths: [String], users: Int, duration: Duration, timeout: Duration = .seconds(10)) -> WorkloadSection {
        var section = WorkloadSection(
            phases: [Phase(name: "steady", duration: duration, arrival: .closed(users: users, thinkTime: .zero))],
            requests: paths.map { RequestTemplate(name: $0, service: "peer", path: "/" + $0) },
            connections: users
        )
        section.timeout = timeout
        return section
    }

    /// The peer's own count of requests per path.
    private func peerCounts(port: Int, scheme: String = "http", ca: String? = nil) async throws -> [String: Int] {
        let curl = try requirePeer("/usr/bin/curl")
        let outcome = try await runProcess(
            URL(fileURLWithPath: curl),
            ["-sS", "--noproxy", "*", "--max-time", "20"] + (ca.map { ["--cacert", $0] } ?? []) + ["\(scheme)://127.0.0.1:\(port)/stats"],
            timeout: .seconds(30)
        )
        let counts = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Int]
        return try #require(counts, "\(outcome.output)").reduce(into: [:]) { $0[String($1.key.dropFirst())] = $1.value }
    }

    @Test func everyFramingIsReadAndEveryRequestIsCountedOnBothSides() async throws {
        try await withPeer { port in
            let log = SentRequestLog()
            let report = try await WorkloadDriver(
                workload: workload(Self.framings, users: 4, duration: .seconds(2)),
                targets: ["peer": "http://127.0.0.1:\(port)"],
                observer: log
            ).run()
            let phase = try #require(report.phases.first)
            for name in Self.framings {
                let request = try #require(phase.requests[name], "\(name) was sent")
                #expect(request.count > 0 && request.outcomes["ok"] == request.count, "\(name): \(request.outcomes)")
            }
            // Requests whose connection the server closed were answered, and the next ones went on new connections.
            let counts = try await peerCounts(port: port)
            for name in Self.framings { #expect(counts[name] == phase.requests[name]?.count, "\(name): peer \(counts[name] ?? 0)") }
            #expect(log.sent.count == phase.sentCount && phase.sentCount == counts.values.reduce(0, +))
        }
    }

    @Test func aResponseThatIsNotHTTPAndOneTooSlowAreClassified() async throws {
        try await withPeer { port in
            let report = try await WorkloadDriver(
                workload: workload(["garbage", "slow", "length"], users: 3, duration: .seconds(1), timeout: .milliseconds(300)),
                targets: ["peer": "http://127.0.0.1:\(port)"]
            ).run()
            let phase = try #require(report.phases.first)
            let garbage = try #require(phase.requests["garbage"])
            #expect(garbage.outcomes["connect"] == garbage.count, "\(garbage.outcomes)")
            let slow = try #require(phase.requests["slow"])
            #expect(slow.outcomes["timeout"] == slow.count, "\(slow.outcomes)")
            // The connections those broke were replaced: plain requests still went through.
            let plain = try #require(phase.requests["length"])
            #expect((plain.outcomes["ok"] ?? 0) > 0, "\(plain.outcomes)")
        }
    }

    @Test func httpsTargetsSignedByTheUsersCA() async throws {
        try await withTemporaryDirectory { folder in
            let certificates = try await TestCertificates.make(in: folder)
            try await withPeer(tls: certificates) { port in
                let trusted = try await WorkloadDriver(
                    workload: workload(["length", "chunked"], users: 2, duration: .seconds(1)),
                    targets: ["peer": "https://127.0.0.1:\(port)"],
                    trust: try TargetTrust(pemFile: certificates.caCertificate)
                ).run()
                let phase = try #require(trusted.phases.first)
                #expect(phase.sentCount > 0 && phase.requests.values.allSatisfy { $0.outcomes["ok"] == $0.count }, "\(phase.requests.mapValues(\.outcomes))")
                let counts = try await peerCounts(port: port, scheme: "https", ca: certificates.caCertificate)
                #expect(counts.values.reduce(0, +) == phase.sentCount)
                // Without the CA the certificate is not trusted: every request fails to connect, none is answered.
                let untrusted = try await WorkloadDriver(
                    workload: workload(["length"], users: 1, duration: .milliseconds(300)),
                    targets: ["peer": "https://127.0.0.1:\(port)"]
                ).run()
                let refused = try #require(untrusted.phases.first?.requests["length"])
                #expect(refused.count > 0 && refused.outcomes["connect"] == refused.count, "\(refused.outcomes)")
                #expect(try await peerCounts(port: port, scheme: "https", ca: certificates.caCertificate).values.reduce(0, +) == phase.sentCount)
            }
        }
    }
}

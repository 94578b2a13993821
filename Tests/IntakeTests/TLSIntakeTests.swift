import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Intake
import Scenario
import Telemetry
import TestSupport
import Testing

/// The intake over TLS with a bearer token, as a staging collector reaches it: the real OpenTelemetry Python SDK
/// exporters (configured by their standard environment variables: a CA certificate, headers, a client
/// certificate) and curl, against certificates made by Debian's openssl in each test. Every refusal stores
/// nothing, is counted, and leaves the server serving the next good request.
@Suite(.serialized) struct TLSIntakeTests {
    static let token = "t0ken-for-the-tls-tests"
    static let protocols = ["grpc", "http"]

    /// The SDK's exporter over TLS with the token: the span arrives, on the channel of its protocol.
    @Test(arguments: protocols)
    func pythonExporterSendsOverTLSWithTheToken(_ protocolName: String) async throws {
        try await withSecureSetup { certificates, intake in
            let outcome = try await export(protocolName, to: intake, name: "over-tls", environment: certificates.exporterEnvironment(token: Self.token))
            #expect(outcome.status == 0, "exporter: \(outcome.output)")
            let span = try #require(intake.store.spans.first { $0.name == "over-tls" }, "the span did not arrive")
            #expect(span.channel == (protocolName == "grpc" ? .otlpGRPC : .otlpHTTPProtobuf))
            #expect(outcome.stdout.contains(span.traceID.hex))
        }
    }

    /// No token, or another one: the exporter is refused (401 / UNAUTHENTICATED), nothing is stored, the refusal
    /// is counted, and the same exporter with the right token then gets through.
    @Test(arguments: protocols)
    func aRequestWithoutTheTokenOrWithAnotherIsRefusedAndCounted(_ protocolName: String) async throws {
        try await withSecureSetup { certificates, intake in
            for (tokenCase, token) in [("none", nil), ("wrong", "not-the-token")] {
                let before = intake.store.totals.rejectedRequests
                let outcome = try await export(protocolName, to: intake, name: "refused", environment: certificates.exporterEnvironment(token: token))
                #expect(outcome.status == 1, "\(tokenCase) token: the exporter should have failed: \(outcome.output)")
                #expect(
                    outcome.stderr.contains(protocolName == "grpc" ? "UNAUTHENTICATED" : "401"),
                    "\(tokenCase) token: the refusal names 401 / UNAUTHENTICATED: \(outcome.stderr)"
                )
                #expect(intake.store.totals.rejectedRequests == before + 1, "\(tokenCase) token: the refusal is counted once")
            }
            #expect(intake.store.spans.isEmpty, "nothing of a refused request is stored")
            let good = try await export(protocolName, to: intake, name: "after-refusals", environment: certificates.exporterEnvironment(token: Self.token))
            #expect(good.status == 0, "the server keeps serving: \(good.output)")
            #expect(intake.store.spans.map(\.name) == ["after-refusals"])
        }
    }

    /// Every HTTP sink and read API over TLS: 401 with `WWW-Authenticate: Bearer` without the token, its usual
    /// answer with it (curl trusting the test CA).
    @Test func everyHTTPSinkServesTLSAndAsksForTheToken() async throws {
        try await withSecureSetup { certificates, intake in
            let paths: [(SinkKind, String)] = [
                (.jaegerThrift, "/api/traces"), (.jaegerQuery, "/api/services"), (.prometheus, "/api/v1/labels"), (.exposition, "/metrics"),
                (.elasticsearch, "/"),
            ]
            for (kind, path) in paths {
                let url = "https://127.0.0.1:\(intake.port(of: kind))\(path)"
                let refused = try await curl(["--cacert", certificates.caCertificate, url])
                #expect(refused.status == 0, "\(kind): curl over TLS: \(refused.output)")
                #expect(refused.stdout.hasPrefix("401"), "\(kind) without the token: \(refused.stdout)")
                #expect(refused.stdout.lowercased().contains("www-authenticate: bearer"), "\(kind): \(refused.stdout)")
                let answered = try await curl(["--cacert", certificates.caCertificate, "-H", "Authorization: Bearer \(Self.token)", url])
                #expect(!answered.stdout.hasPrefix("401"), "\(kind) with the token: \(answered.stdout)")
            }
            // Jaeger Thrift counts its refusals as intake (Jaeger query, exposition and the query API do not).
            #expect(intake.store.totals.rejectedRequests >= 1)
            #expect(intake.store.spans.isEmpty)
        }
    }

    /// The Jaeger gRPC sink takes the same `authorization` metadata: UNAUTHENTICATED without it.
    @Test func theJaegerGRPCSinkAsksForTheToken() async throws {
        try await withSecureSetup { certificates, intake in
            let method = MethodDescriptor(fullyQualifiedService: "jaeger.api_v2.CollectorService", method: "PostSpans")
            let port = intake.port(of: .jaegerGRPC)
            for metadata in [[:], ["authorization": "Bearer nope"]] as [[String: String]] {
                let code = await rpcCode { try await postEmpty(method, port: port, ca: certificates.caCertificate, metadata: metadata) }
                #expect(code == .unauthenticated, "metadata \(metadata.keys.sorted())")
            }
            let accepted = await rpcCode {
                try await postEmpty(method, port: port, ca: certificates.caCertificate, metadata: ["authorization": "Bearer \(Self.token)"])
            }
            #expect(accepted == nil, "an empty PostSpans with the token is accepted")
        }
    }

    /// A plain-text client on a TLS port gets no answer (curl, and the SDK's exporter with an http:// endpoint),
    /// and the server goes on serving TLS.
    @Test(arguments: protocols)
    func aPlainTextClientOnATLSPortIsRefused(_ protocolName: String) async throws {
        try await withSecureSetup { certificates, intake in
            let port = protocolName == "grpc" ? intake.endpoints.grpc.port : intake.endpoints.http.port
            let plain = try await export(
                protocolName,
                endpoint: "http://127.0.0.1:\(port)",
                name: "plain",
                environment: certificates.exporterEnvironment(token: Self.token),
                timeout: 3
            )
            #expect(plain.status == 1, "plain text on a TLS port: \(plain.output)")
            if protocolName == "http" {
                let curled = try await curl(["-H", "Authorization: Bearer \(Self.token)", "http://127.0.0.1:\(port)/v1/traces"])
                #expect(curled.status != 0, "curl in plain text gets no HTTP answer: \(curled.output)")
            }
            #expect(intake.store.spans.isEmpty)
            let good = try await export(protocolName, to: intake, name: "after-plain", environment: certificates.exporterEnvironment(token: Self.token))
            #expect(good.status == 0, "the server keeps serving: \(good.output)")
        }
    }

    /// A server whose certificate expired: the SDK's exporters and curl refuse it; the server keeps serving (a
    /// client told not to check, curl -k, still gets through).
    @Test(arguments: protocols)
    func anExpiredCertificateIsRefusedByTheClients(_ protocolName: String) async throws {
        try await withTemporaryDirectory { folder in
            let certificates = try await TestCertificates.make(in: folder)
            let security = try ListenerSecurity.load(
                tls: TLSFiles(certificate: certificates.expiredCertificate, key: certificates.serverKey),
                tokenFile: try certificates.tokenFile(Self.token)
            )
            #expect(security.tls.map { $0.notValidAfter < Date() } == true)
            try await withSecureIntake(security: security) { intake in
                let refused = try await export(
                    protocolName,
                    to: intake,
                    name: "expired",
                    environment: certificates.exporterEnvironment(token: Self.token),
                    timeout: 3
                )
                #expect(refused.status == 1, "the exporter must refuse an expired certificate: \(refused.output)")
                let curled = try await curl(["--cacert", certificates.caCertificate, "https://127.0.0.1:\(intake.endpoints.http.port)/v1/traces"])
                #expect(curled.status == 60, "curl: certificate problem (exit 60): \(curled.output)")
                #expect(intake.store.spans.isEmpty)
                let unchecked = try await curl([
                    "-k", "-X", "POST", "-H", "Authorization: Bearer \(Self.token)", "-H", "Content-Type: application/json", "--data", "{}",
                    "https://127.0.0.1:\(intake.endpoints.http.port)/v1/traces",
                ])
                #expect(unchecked.stdout.hasPrefix("200"), "the server keeps serving: \(unchecked.output)")
            }
        }
    }

    /// Mutual TLS: without a client certificate the handshake fails; with one signed by the client CA the span
    /// arrives.
    @Test(arguments: protocols)
    func mutualTLSRefusesAClientWithoutACertificate(_ protocolName: String) async throws {
        try await withTemporaryDirectory { folder in
            let certificates = try await TestCertificates.make(in: folder)
            let security = try ListenerSecurity.load(
                tls: TLSFiles(certificate: certificates.serverCertificate, key: certificates.serverKey, clientCA: certificates.caCertificate),
                tokenFile: try certificates.tokenFile(Self.token)
            )
            try await withSecureIntake(security: security) { intake in
                let anonymous = try await export(
                    protocolName,
                    to: intake,
                    name: "anonymous",
                    environment: certificates.exporterEnvironment(token: Self.token),
                    timeout: 3
                )
                #expect(anonymous.status == 1, "no client certificate: \(anonymous.output)")
                #expect(intake.store.spans.isEmpty)
                let identified = try await export(
                    protocolName,
                    to: intake,
                    name: "identified",
                    environment: certificates.exporterEnvironment(token: Self.token, clientCertificate: true)
                )
                #expect(identified.status == 0, "with a client certificate: \(identified.output)")
                #expect(intake.store.spans.map(\.name) == ["identified"])
            }
        }
    }

    /// Files that cannot serve are refused before anything listens, naming the file; the token never shows in a
    /// description.
    @Test func badFilesAreRefusedAndTheTokenIsNeverShown() async throws {
        try await withTemporaryDirectory { folder in
            let certificates = try await TestCertificates.make(in: folder)
            let mismatched = Self.failure(TLSFiles(certificate: certificates.serverCertificate, key: certificates.clientKey), tokenFile: nil)
            #expect(mismatched?.file == .key, "the client's key does not go with the server's certificate")
            let keyAsCertificate = Self.failure(TLSFiles(certificate: certificates.serverKey, key: certificates.serverKey), tokenFile: nil)
            #expect(keyAsCertificate?.file == .certificate)
            let empty = folder.appendingPathComponent("empty-token").path
            try "\n".write(toFile: empty, atomically: true, encoding: .utf8)
            #expect(Self.failure(nil, tokenFile: empty)?.file == .token)
            let token = try BearerToken(contentsOfFile: try certificates.tokenFile(Self.token))
            #expect(!"\(token)".contains(Self.token) && !String(reflecting: token).contains(Self.token) && !"\([token])".contains(Self.token))
            #expect(token.check(authorization: "Bearer \(Self.token)") == nil)
            #expect(token.check(authorization: "bearer \(Self.token)") == nil, "the scheme is case-insensitive")
            #expect(token.check(authorization: "Bearer \(Self.token)x") == .mismatch)
            #expect(token.check(authorization: "Bearer \(Self.token.dropLast())") == .mismatch)
            #expect(token.check(authorization: "Basic \(Self.token)") == .missing)
            #expect(token.check(authorization: nil) == .missing)
        }
    }

    // MARK: Helpers

    /// Why ``ListenerSecurity/load(tls:tokenFile:)`` refuses the files, or nil when it takes them.
    private static func failure(_ tls: TLSFiles?, tokenFile: String?) -> ListenerSecurityError? {
        do {
            _ = try ListenerSecurity.load(tls: tls, tokenFile: tokenFile)
            return nil
        } catch {
            return error
        }
    }

    /// Certificates, and the intake with TLS (server.pem) and the token, for `body`.
    private func withSecureSetup(_ body: @Sendable (TestCertificates, RunningSecureIntake) async throws -> Void) async throws {
        try await withTemporaryDirectory { folder in
            let certificates = try await TestCertificates.make(in: folder)
            let security = try ListenerSecurity.load(
                tls: TLSFiles(certificate: certificates.serverCertificate, key: certificates.serverKey),
                tokenFile: try certificates.tokenFile(Self.token)
            )
            try await withSecureIntake(security: security) { intake in try await body(certificates, intake) }
        }
    }

    private func export(
        _ protocolName: String,
        to intake: RunningSecureIntake,
        name: String,
        environment: [String: String],
        timeout: Int = 10
    ) async throws -> ProcessOutcome {
        let port = protocolName == "grpc" ? intake.endpoints.grpc.port : intake.endpoints.http.port
        return try await export(protocolName, endpoint: "https://127.0.0.1:\(port)", name: name, environment: environment, timeout: timeout)
    }

    private func export(_ protocolName: String, endpoint: String, name: String, environment: [String: String], timeout: Int) async throws -> ProcessOutcome {
        try await runProcess(
            try testVenvPython(),
            [
                repositoryRoot.appendingPathComponent("Tests/Interop/otlp_tls_export.py").path, "--protocol", protocolName, "--endpoint", endpoint,
                "--span-name", name, "--timeout", "\(timeout)",
            ],
            environment: environment,
            timeout: .seconds(timeout + 60)
        )
    }

    /// curl printing the status line and the headers (`-i`, body dropped); its exit status tells TLS failures.
    private func curl(_ arguments: [String]) async throws -> ProcessOutcome {
        try await runProcess(
            URL(fileURLWithPath: try requirePeer("/usr/bin/curl")),
            ["-sS", "-o", "/dev/null", "-D", "-", "--max-time", "20", "--noproxy", "*", "-w", ""] + arguments,
            timeout: .seconds(60)
        ).withStatusLineFirst()
    }

    private func postEmpty(_ method: MethodDescriptor, port: Int, ca: String, metadata: [String: String]) async throws -> [UInt8] {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port),
            transportSecurity: .tls { $0.trustRoots = .certificates([.file(path: ca, format: .pem)]) },
            config: .defaults
        )
        return try await withGRPCClient(transport: transport) { client in
            var requestMetadata = Metadata()
            for (key, value) in metadata { requestMetadata.addString(value, forKey: key) }
            return try await client.unary(
                request: ClientRequest(message: [], metadata: requestMetadata),
                descriptor: method,
                serializer: RawBytesSerializer(),
                deserializer: RawBytesDeserializer(),
                options: .defaults
            ) { try $0.message }
        }
    }

    private func rpcCode(_ body: () async throws -> [UInt8]) async -> RPCError.Code? {
        do {
            _ = try await body()
            return nil
        } catch let error as RPCError {
            return error.code
        } catch {
            return .unknown
        }
    }
}

/// Whatever bytes the server answers.
struct RawBytesDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

extension TestCertificates {
    /// A token file beside the certificates.
    func tokenFile(_ token: String) throws -> String {
        let path = path("token")
        try "\(token)\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The OpenTelemetry SDK's own variables: trust the test CA, send `token` (none when nil), and present the
    /// client certificate when asked.
    func exporterEnvironment(token: String?, clientCertificate: Bool = false) -> [String: String] {
        [
            "OTEL_EXPORTER_OTLP_CERTIFICATE": caCertificate,
            "OTEL_EXPORTER_OTLP_HEADERS": token.map { "authorization=Bearer%20\($0)" } ?? "",
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": clientCertificate ? self.clientCertificate : "",
            "OTEL_EXPORTER_OTLP_CLIENT_KEY": clientCertificate ? clientKey : "",
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
            // A machine-wide CA bundle in these would win over the exporter's own setting (requests lets
            // REQUESTS_CA_BUNDLE override a session's CA file): empty, they leave it to OTEL_EXPORTER_OTLP_CERTIFICATE.
            "REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": "", "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": "",
        ]
    }
}

extension ProcessOutcome {
    /// The same outcome; curl's `-D -` already puts the status line first (`HTTP/1.1 401 ...`): keep the code only.
    func withStatusLineFirst() -> ProcessOutcome {
        var outcome = self
        if let first = stdout.split(separator: "\n").first, first.hasPrefix("HTTP/") {
            let code = first.split(separator: " ").dropFirst().first.map(String.init) ?? ""
            outcome.stdout = code + "\n" + stdout
        }
        return outcome
    }
}

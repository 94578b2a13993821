import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import Harness
import Intake
import Logging
import OTelBenchProtos
import Scenario
import SwiftProtobuf
import Telemetry
import TestSupport
import Testing
import Workload

/// Refuse under overload instead of queueing (issue 16, part 2): beyond the intake's requests in flight, a request is
/// refused retryably before its body is read, on every protocol, counted as refused, and nothing of it stored. The
/// limit is 1 and one request is held half-sent, so nothing depends on the machine's speed.
@Suite(.serialized) struct RequestsInFlightTests {
    private typealias TraceService = Opentelemetry_Proto_Collector_Trace_V1_TraceService

    /// One span as OTLP/JSON: the held request's body.
    private static let heldBody = """
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"held"}}]},\
        "scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"held",\
        "kind":2,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000"}]}]}]}
        """

    @Test func beyondTheLimitHTTPIs503AndGRPCIsUnavailableWithRetryInfoUntilTheHeldRequestEnds() async throws {
        var factory = OTLPPayloadFactory(seed: 61)
        let httpExport = try factory.traces(spanCount: 2).serializedBytes() as [UInt8]
        let grpcExport = factory.traces(spanCount: 3)
        let curl = try curlExecutable()
        try await withTemporaryDirectory { folder in
            let bodyFile = folder.appendingPathComponent("export.binpb")
            try Data(httpExport).write(to: bodyFile)
            let curlArguments = [
                "-s", "-i", "-X", "POST", "-H", "Content-Type: application/x-protobuf", "--data-binary", "@\(bodyFile.path)",
            ]
            try await withReceivers(maxRequestsInFlight: 1) { http, grpc, store in
                // The held request: its header and half its body, then nothing until the refusals are checked.
                let held = try RawConnection(port: http)
                let body = Self.heldBody
                let half = body.utf8.count / 2
                try held.send(
                    "POST /v1/traces HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                        + String(body.prefix(half))
                )
                let holding = await eventually(timeout: .seconds(30)) { store.requestsInFlight.current == 1 }
                try #require(holding, "the half-sent request never counted as in flight")

                // OTLP/HTTP with curl: 503 and Retry-After at once, the held request still open.
                let refused = try await runToCompletion(curl.path, curlArguments + ["http://127.0.0.1:\(http)/v1/traces"])
                #expect(refused.stdout.hasPrefix("HTTP/1.1 503"), "\(refused.stdout)")
                #expect(refused.stdout.lowercased().contains("retry-after: 1\r\n"), "\(refused.stdout)")
                #expect(refused.stdout.contains("--max-requests-in-flight"), "\(refused.stdout)")

                // OTLP/gRPC with a grpc-swift client: UNAVAILABLE with RetryInfo, in both places clients look.
                var options = CallOptions.defaults
                options.timeout = .seconds(30)
                let callOptions = options
                let refusal = await #expect(throws: RPCError.self) {
                    try await withGRPCClient(port: grpc) { client in
                        try await TraceService.Client(wrapping: client).export(grpcExport, options: callOptions)
                    }
                }
                #expect(refusal?.code == .unavailable, "\(String(describing: refusal))")
                let status = try #require(try refusal?.unpackGoogleRPCStatus())
                #expect(status.details.compactMap(\.retryInfo).map(\.delay) == [.seconds(1)])
                let trailer = refusal?.metadata[binaryValues: "google.rpc.retryinfo-bin"].first(where: { _ in true })
                // RetryInfo { retry_delay { seconds: 1 } }
                #expect(trailer == [0x0a, 0x02, 0x08, 0x01])
                #expect(store.requestsInFlight.current == 1)

                // The held request ends and is accepted; then both protocols are served again.
                try held.send(String(body.dropFirst(half)))
                let heldAnswer = held.readResponse(timeout: .seconds(30))
                #expect(heldAnswer.text.hasPrefix("HTTP/1.1 200"), "\(heldAnswer.text)")
                let accepted = try await runToCompletion(curl.path, curlArguments + ["http://127.0.0.1:\(http)/v1/traces"])
                #expect(accepted.stdout.hasPrefix("HTTP/1.1 200"), "\(accepted.stdout)")
                _ = try await withGRPCClient(port: grpc) { client in
                    try await TraceService.Client(wrapping: client).export(grpcExport, options: callOptions)
                }
                #expect(store.requestsInFlight.current == 0)

                // Exact accounting: one refusal per protocol, nothing of them stored, every acceptance stored.
                let counts = store.counts
                let json = counts[.otlpHTTPJSON]?[.traces]
                let protobuf = counts[.otlpHTTPProtobuf]?[.traces]
                let grpcCounts = counts[.otlpGRPC]?[.traces]
                #expect(json?.requestsAccepted == 1 && json?.itemsAccepted == 1 && json?.requestsRejected == 0)
                #expect(protobuf?.requestsAccepted == 1 && protobuf?.itemsAccepted == 2 && protobuf?.requestsRejected == 1)
                #expect(grpcCounts?.requestsAccepted == 1 && grpcCounts?.itemsAccepted == 3 && grpcCounts?.requestsRejected == 1)
                #expect(store.totals.spans == 1 + 2 + 3)
                #expect(store.totals.rejectedRequests == 2)
            }
        }
    }

    @Test func everySinkAndGRPCMethodOfTheIntakeSharesTheLimit() async throws {
        let logger = {
            var logger = Logger(label: "test.requests-in-flight")
            logger.logLevel = .critical
            return logger
        }()
        var factory = OTLPPayloadFactory(seed: 62)
        let metrics = factory.metrics(seriesCount: 2, firstSeries: 0)
        try await withReceivers(maxRequestsInFlight: 1) { http, grpc, store in
            let configuration = ReceiverConfiguration(
                address: ListenAddress(host: "127.0.0.1", port: 0),
                security: ListenerSecurity(connections: ConnectionLimits(maxRequestsInFlight: 1))
            )
            let thrift = JaegerThriftHTTPSink(configuration: configuration, store: store, logger: logger)
            let remoteWrite = RemoteWriteReceiver(configuration: configuration, store: store, logger: logger)
            let elasticsearch = ElasticsearchSink(configuration: configuration, store: store, logger: logger)
            try await withServices([thrift, remoteWrite, elasticsearch], logger: logger) {
                let held = try await holdTheOnlySlot(http: http, store: store)
                defer { withExtendedLifetime(held) {} }
                // Elasticsearch answers load as it does its memory limit, 429 without Retry-After (as Elasticsearch
                // itself does), which its clients retry; the others 503 with Retry-After.
                let sinks: [(port: Int, path: String, status: String, retryAfter: Bool, channel: IntakeChannel)] = [
                    (try await thrift.boundAddress.value().port, "/api/traces", "503", true, .jaegerThrift),
                    (try await remoteWrite.boundAddress.value().port, "/api/v1/write", "503", true, .prometheusRemoteWrite),
                    (try await elasticsearch.boundAddress.value().port, "/_bulk", "429", false, .elasticsearch),
                ]
                for sink in sinks {
                    let connection = try RawConnection(port: sink.port)
                    try connection.send("POST \(sink.path) HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nabcd")
                    let answer = connection.readResponse(timeout: .seconds(30)).text
                    #expect(answer.hasPrefix("HTTP/1.1 \(sink.status)"), "\(sink.path): \(answer)")
                    #expect(answer.lowercased().contains("retry-after: 1\r\n") == sink.retryAfter, "\(sink.path): \(answer)")
                    #expect(answer.contains("--max-requests-in-flight"), "\(sink.path): \(answer)")
                    #expect(store.counts[sink.channel]?.values.reduce(0) { $0 + $1.requestsRejected } == 1, "\(sink.channel)")
                }
                // A gRPC method registered with registerIntake (metrics) refuses as the trace method does.
                let refusal = await #expect(throws: RPCError.self) {
                    try await withGRPCClient(port: grpc) { client in
                        try await Opentelemetry_Proto_Collector_Metrics_V1_MetricsService.Client(wrapping: client).export(metrics)
                    }
                }
                #expect(refusal?.code == .unavailable, "\(String(describing: refusal))")
                #expect(refusal?.metadata[binaryValues: "google.rpc.retryinfo-bin"].first(where: { _ in true }) == [0x0a, 0x02, 0x08, 0x01])
                #expect(store.counts[.otlpGRPC]?[.metrics]?.requestsRejected == 1)
                #expect(store.totals.rejectedRequests == 4)
                #expect(store.requestsInFlight.current == 1)
            }
        }
    }

    /// A gRPC refusal comes before the message is read, while the client may still be sending it. The stream is then
    /// reset with NO_ERROR after the answer (RFC 9113 §8.1), so a client that sends its whole message, as nghttp2's
    /// do, stops and frees the stream. Before, such a stream was never granted window again and never ended: h2load
    /// with one stream per connection stalled after its first request.
    @Test func aGRPCRefusalResetsTheStreamSoAClientStillSendingItsMessageCarriesOn() async throws {
        let h2load = try requirePeer("/usr/bin/h2load")
        let nghttp = try requirePeer("/usr/bin/nghttp")
        var factory = OTLPPayloadFactory(seed: 63)
        // Several times the stream's initial flow-control window (64 KiB), so the client is still sending when
        // the refusal comes.
        let message = try factory.traces(spanCount: 1_500).serializedBytes() as [UInt8]
        try #require(message.count > 4 * 65_536)
        try await withTemporaryDirectory { folder in
            let bodyFile = folder.appendingPathComponent("export.grpc")
            try Data(GRPCMessageReservationTests.framed(message)).write(to: bodyFile)
            try await withReceivers(maxRequestsInFlight: 1) { http, grpc, store in
                let held = try await holdTheOnlySlot(http: http, store: store)
                defer { withExtendedLifetime(held) {} }
                let url = "http://127.0.0.1:\(grpc)/opentelemetry.proto.collector.trace.v1.TraceService/Export"
                let headers = ["-H", "content-type: application/grpc", "-H", "te: trailers"]

                // The frames: the refusal (trailers only, END_STREAM), then RST_STREAM with NO_ERROR.
                let frames = try await runToCompletion(nghttp, ["-v", "-d", bodyFile.path] + headers + [url])
                let lines = frames.stdout.split(separator: "\n").map { String($0) }
                let status = lines.firstIndex { $0.contains("grpc-status: 14") }
                let reset = lines.firstIndex { $0.contains("recv RST_STREAM frame") }
                #expect(status != nil, "\(frames.stdout.suffix(3000))")
                #expect(reset.map { lines[($0 + 1)...].first?.contains("error_code=NO_ERROR") } == true, "\(frames.stdout.suffix(3000))")
                if let status, let reset { #expect(status < reset) }

                // Twenty requests, one stream at a time on one connection: each is answered and its stream ends.
                // (-N: h2load gives up on a connection idle that long, so a stall fails instead of hanging.)
                let run = try await runToCompletion(
                    h2load,
                    ["-n", "20", "-c", "1", "-m", "1", "-N", "30s", "-d", bodyFile.path] + headers + [url],
                    timeout: .seconds(120)
                )
                #expect(run.stdout.contains("requests: 20 total, 20 started, 20 done, 20 succeeded"), "\(run.stdout)")
                #expect(store.counts[.otlpGRPC]?[.traces]?.requestsRejected == 21)
                #expect(store.totals.spans == 0)
            }
        }
    }

    /// An HTTP request refused for load is answered from its header (on the connection's event loop): the answer is
    /// the protocol's, its body is read and dropped, the connection stays open for the next request, and answers keep
    /// their requests' order, also behind a request still being answered.
    @Test func anHTTPRefusalKeepsTheConnectionAndTheOrderOfAnswers() async throws {
        try await withReceivers(maxRequestsInFlight: 1) { http, _, store in
            let body = Self.heldBody
            let export = "POST /v1/traces HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            let connection = try RawConnection(port: http)
            do {
                let held = try await holdTheOnlySlot(http: http, store: store)
                defer { withExtendedLifetime(held) {} }
                // In one write: a request that is not telemetry (answered 404 by the responder), then two exports.
                try connection.send("GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n" + export + export)
                let answers = (0..<3).map { _ in connection.readResponse(timeout: .seconds(30)) }
                #expect(answers[0].text.hasPrefix("HTTP/1.1 404"), "\(answers[0].text)")
                for answer in answers.dropFirst() {
                    #expect(answer.text.hasPrefix("HTTP/1.1 503"), "\(answer.text)")
                    #expect(answer.text.lowercased().contains("retry-after: 1\r\n"), "\(answer.text)")
                    #expect(answer.text.lowercased().contains("content-type: application/json\r\n"), "\(answer.text)")
                    #expect(answer.text.contains(#""code":14"#) && answer.text.contains("--max-requests-in-flight"), "\(answer.text)")
                    #expect(!answer.closed)
                }
                #expect(store.counts[.otlpHTTPJSON]?[.traces]?.requestsRejected == 2)

                // A refused request that closes its connection gets its answer, then the close.
                let closing = try RawConnection(port: http)
                try closing.send(export.replacingOccurrences(of: "Host: t\r\n", with: "Host: t\r\nConnection: close\r\n"))
                let answer = closing.readUntilClosed(timeout: .seconds(30))
                #expect(answer.text.hasPrefix("HTTP/1.1 503"), "\(answer.text)")
                #expect(answer.closed)
            }
            // The held request is abandoned with its connection; the refused requests' connection takes the next export.
            let freed = await eventually(timeout: .seconds(30)) { store.requestsInFlight.current == 0 }
            try #require(freed, "the abandoned request still counts as in flight")
            try connection.send(export)
            let accepted = connection.readResponse(timeout: .seconds(30))
            #expect(accepted.text.hasPrefix("HTTP/1.1 200"), "\(accepted.text)")
            #expect(store.totals.spans == 1)
            #expect(store.counts[.otlpHTTPJSON]?[.traces]?.requestsRejected == 3)
        }
    }

    @Test func aRequestThatIsNotTelemetryIsNeitherCountedNorRefusedForLoad() async throws {
        try await withReceivers(maxRequestsInFlight: 1) { http, _, store in
            let held = try await holdTheOnlySlot(http: http, store: store)
            defer { withExtendedLifetime(held) {} }
            // An unknown path is not intake: answered 404 as ever, not 503, and not counted.
            let connection = try RawConnection(port: http)
            try connection.send("GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
            let answer = connection.readResponse(timeout: .seconds(30))
            #expect(answer.text.hasPrefix("HTTP/1.1 404"), "\(answer.text)")
            #expect(store.requestsInFlight.current == 1)
            #expect(store.totals.rejectedRequests == 0)
        }
    }

    /// Opens a request to the OTLP/HTTP receiver on `http` that holds the intake's only slot: its header and the first
    /// byte of a 100-byte body, then nothing. The slot is held until the returned connection is released.
    private func holdTheOnlySlot(http: Int, store: TelemetryStore) async throws -> RawConnection {
        let held = try RawConnection(port: http)
        try held.send("POST /v1/traces HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        let holding = await eventually(timeout: .seconds(30)) { store.requestsInFlight.current == 1 }
        try #require(holding, "the half-sent request never counted as in flight")
        return held
    }

    /// Runs `body` with an OTLP/HTTP and an OTLP/gRPC receiver on loopback, sharing one store, under the limit.
    private func withReceivers(
        maxRequestsInFlight: Int,
        _ body: @Sendable (_ httpPort: Int, _ grpcPort: Int, _ store: TelemetryStore) async throws -> Void
    ) async throws {
        var logger = Logger(label: "test.requests-in-flight")
        logger.logLevel = .critical
        let store = TelemetryStore()
        let ingestor = OTLPIngestor(store: store, logger: logger)
        let configuration = ReceiverConfiguration(
            address: ListenAddress(host: "127.0.0.1", port: 0),
            security: ListenerSecurity(connections: ConnectionLimits(maxRequestsInFlight: maxRequestsInFlight))
        )
        let http = OTLPHTTPReceiver(configuration: configuration, ingestor: ingestor, logger: logger)
        let grpc = OTLPGRPCReceiver(configuration: configuration, ingestor: ingestor, logger: logger)
        try await withServices([http, grpc], logger: logger) {
            try await body(try await http.boundAddress.value().port, try await grpc.boundAddress.value().port, store)
        }
    }
}

import AsyncHTTPClient
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import Harness
import Intake
import Logging
import NIOCore
import OTelBenchProtos
import Scenario
import SwiftProtobuf
import Synchronization
import Telemetry
import TestSupport
import Testing
import Workload

/// Slow, idle and too many clients (issue 16, part 2): every listener keeps its connection limit and its idle, header
/// and body timeouts, and refuses retryably. Timeouts here are short and every bound generous: nothing depends on
/// the machine's speed.
@Suite(.serialized) struct ConnectionLimitTests {
    private typealias TraceService = Opentelemetry_Proto_Collector_Trace_V1_TraceService
    private typealias MetricsService = Opentelemetry_Proto_Collector_Metrics_V1_MetricsService

    /// An empty OTLP/HTTP export: answered 200 by a receiver that serves it.
    private static let emptyExport = "POST /v1/traces HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"

    @Test func connectionOverTheLimitIsAnswered503WithRetryAfterWhileOthersAreServed() async throws {
        let limits = ConnectionLimits(maxConnections: 2, idleTimeout: .seconds(60), headerTimeout: .seconds(30))
        try await withReceivers(limits) { http, _, _ in
            let first = try RawConnection(port: http)
            let second = try RawConnection(port: http)
            // Both are answered, so both are counted before the third connects.
            for connection in [first, second] {
                try connection.send(Self.emptyExport)
                #expect(connection.readResponse(timeout: .seconds(20)).text.hasPrefix("HTTP/1.1 200"))
            }

            let third = try RawConnection(port: http)
            try third.send(Self.emptyExport)
            let refused = third.readUntilClosed(timeout: .seconds(20))
            #expect(refused.text.hasPrefix("HTTP/1.1 503"), "\(refused.text)")
            #expect(refused.text.lowercased().contains("retry-after: 1\r\n"))
            #expect(refused.text.lowercased().contains("connection: close\r\n"))
            #expect(refused.closed)

            // The connections within the limit keep being served.
            try second.send(Self.emptyExport)
            #expect(second.readResponse(timeout: .seconds(20)).text.hasPrefix("HTTP/1.1 200"))
            try first.send(Self.emptyExport)
            #expect(first.readResponse(timeout: .seconds(20)).text.hasPrefix("HTTP/1.1 200"))
            _ = consume first
            // Once one closes, a new connection is served again.
            let servedAgain = await eventually(timeout: .seconds(20)) {
                guard let next = try? RawConnection(port: http) else { return false }
                try? next.send(Self.emptyExport)
                return next.readResponse(timeout: .seconds(5)).text.hasPrefix("HTTP/1.1 200")
            }
            #expect(servedAgain)
        }
    }

    @Test func idleConnectionsAreClosedAfterTheIdleTimeout() async throws {
        let limits = ConnectionLimits(idleTimeout: .seconds(1), headerTimeout: .seconds(2), bodyTimeout: .seconds(30))
        try await withReceivers(limits) { http, grpc, _ in
            let silent = try RawConnection(port: http)
            let afterARequest = try RawConnection(port: http)
            try afterARequest.send(Self.emptyExport)
            #expect(afterARequest.readResponse(timeout: .seconds(20)).text.hasPrefix("HTTP/1.1 200"))
            let silentGRPC = try RawConnection(port: grpc)
            #expect(silent.readUntilClosed(timeout: .seconds(20)).closed)
            #expect(afterARequest.readUntilClosed(timeout: .seconds(20)).closed)
            #expect(silentGRPC.readUntilClosed(timeout: .seconds(20)).closed)
        }
    }

    @Test func slowHeaderClientIsDroppedAfterTheHeaderTimeoutWhileANormalClientIsServed() async throws {
        // The idle timeout is long: only the header timeout can close the slow client within the wait.
        let limits = ConnectionLimits(idleTimeout: .seconds(120), headerTimeout: .seconds(1), bodyTimeout: .seconds(120))
        try await withReceivers(limits) { http, _, _ in
            let slowloris = try RawConnection(port: http)
            try slowloris.send("POST /v1/traces HTTP/1.1\r\nHost: t\r\n")
            let curl = try curlExecutable()
            let started = ContinuousClock.now
            // One header line at a time, never the blank line that ends the header.
            var dropped = false
            for line in 0..<600 where !dropped {
                do {
                    try slowloris.send("X-Slow-\(line): 1\r\n")
                } catch {
                    dropped = true
                    break
                }
                dropped = slowloris.readUntilClosed(timeout: .milliseconds(100)).closed
            }
            #expect(dropped, "the slow-header client was still connected after \(ContinuousClock.now - started)")
            let answer = try await runToCompletion(
                curl.path,
                [
                    "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Content-Type: application/x-protobuf", "--data-binary", "",
                    "http://127.0.0.1:\(http)/v1/traces",
                ]
            )
            #expect(answer.stdout == "200")
        }
    }

    @Test func slowBodyClientIsDroppedAfterTheBodyTimeout() async throws {
        let limits = ConnectionLimits(idleTimeout: .seconds(120), headerTimeout: .seconds(120), bodyTimeout: .seconds(1))
        try await withReceivers(limits) { http, _, store in
            let slowBody = try RawConnection(port: http)
            try slowBody.send("POST /v1/traces HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000\r\n\r\n")
            try slowBody.send(String(repeating: "\u{0}", count: 10))
            let received = slowBody.readUntilClosed(timeout: .seconds(30))
            #expect(received.closed)
            #expect(!received.text.hasPrefix("HTTP/1.1 200"))
            #expect(store.counts[.otlpHTTPProtobuf]?[.traces]?.requestsAccepted ?? 0 == 0)
        }
    }

    @Test func grpcConnectionOverTheLimitIsUnavailableAndServedOnceOneCloses() async throws {
        let limits = ConnectionLimits(maxConnections: 1, idleTimeout: .seconds(60), headerTimeout: .seconds(30))
        var factory = OTLPPayloadFactory(seed: 16)
        let request = factory.traces(spanCount: 3)
        try await withReceivers(limits) { _, grpc, store in
            var holder: RawConnection? = try RawConnection(port: grpc)
            // The server's SETTINGS frame (9 bytes of header at least) comes once the connection is counted: the
            // client's connection is then over the limit.
            let settings = holder?.read(atLeast: 9, timeout: .seconds(20))
            #expect(settings?.bytes.count ?? 0 >= 9 && settings?.closed == false)
            var options = CallOptions.defaults
            options.waitForReady = false
            options.timeout = .seconds(20)
            let refusedOptions = options
            let refusal = await #expect(throws: RPCError.self) {
                try await withGRPCClient(port: grpc) { client in
                    try await TraceService.Client(wrapping: client).export(request, options: refusedOptions)
                }
            }
            #expect(refusal?.code == .unavailable)
            holder = nil
            let servedAgain = await eventually(timeout: .seconds(30)) {
                (try? await withGRPCClient(port: grpc) { client in
                    try await TraceService.Client(wrapping: client).export(request, options: refusedOptions)
                }) != nil
            }
            #expect(servedAgain)
            #expect(store.counts[.otlpGRPC]?[.traces]?.itemsAccepted == 3)
        }
    }

    /// The smaller version of the overload benchmark: a store whose metric points (never evicted) fill its memory
    /// limit refuses every further export retryably, on both protocols, and whatever it answered accepted is exactly
    /// what it stored and recorded.
    @Test func overloadRefusalsAreRetryableAndNothingAcceptedIsLost() async throws {
        try await withTemporaryDirectory { folder in
            let recordingPath = folder.appendingPathComponent("recording.jsonl").path
            let recorder = try RecordingWriter(path: recordingPath)
            let tally = Mutex((requests: 0, points: 0))
            try await withIntake(memoryLimit: 256 << 10, recorder: recorder) { intake in
                var factory = OTLPPayloadFactory(seed: 17)
                var acceptedPoints = 0
                var acceptedRequests = 0
                var httpRefusals: [RunningIntake.HTTPAnswer] = []
                // Each request is about 6 KB; the limit is reached after a few dozen, and stays reached.
                for batch in 0..<120 {
                    let request = factory.metrics(seriesCount: 100, firstSeries: batch * 100)
                    let answer = try await intake.send("/v1/metrics", body: try request.serializedBytes())
                    if answer.status == 200 {
                        acceptedPoints += 100
                        acceptedRequests += 1
                    } else {
                        httpRefusals.append(answer)
                    }
                }
                let metrics = factory.metrics(seriesCount: 100, firstSeries: 1_000_000)
                let grpcRefusals = try await withGRPCClient(port: intake.grpcPort) { client in
                    var refusals: [RPCError] = []
                    for _ in 0..<3 {
                        do {
                            _ = try await MetricsService.Client(wrapping: client).export(metrics)
                            Issue.record("a full store accepted a gRPC export")
                        } catch let error as RPCError {
                            refusals.append(error)
                        }
                    }
                    return refusals
                }
                #expect(acceptedRequests > 0)
                #expect(httpRefusals.count >= 60)
                for refusal in httpRefusals {
                    #expect([429, 503].contains(refusal.status), "\(refusal.status) \(refusal.text)")
                    #expect(refusal.headers["retry-after"].flatMap(Int.init).map { $0 > 0 } == true, "\(refusal.headers)")
                }
                #expect(grpcRefusals.count == 3)
                for refusal in grpcRefusals {
                    #expect([.unavailable, .resourceExhausted].contains(refusal.code), "\(refusal)")
                    let details = refusal.metadata[binaryValues: "grpc-status-details-bin"].map { $0 }
                    #expect(!details.isEmpty, "no google.rpc.Status with RetryInfo in \(refusal.metadata)")
                }
                let counts = intake.store.counts[.otlpHTTPProtobuf]?[.metrics]
                #expect(counts?.requestsAccepted == acceptedRequests)
                #expect(counts?.itemsAccepted == acceptedPoints)
                #expect(intake.store.series.count == acceptedPoints)
                tally.withLock { $0 = (acceptedRequests, acceptedPoints) }
            }
            let (acceptedRequests, acceptedPoints) = tally.withLock { $0 }
            try recorder.close()
            let recorded = try RecordingReader.read(path: recordingPath)
            #expect(recorded.count == acceptedRequests)
            let recordedPoints = recorded.reduce(0) { total, request in
                guard case .metrics(let message) = request else { return total }
                return total + message.resourceMetrics.flatMap(\.scopeMetrics).flatMap(\.metrics).reduce(0) { $0 + $1.sum.dataPoints.count }
            }
            #expect(recordedPoints == acceptedPoints)
        }
    }

    /// Runs `body` with an OTLP/HTTP and an OTLP/gRPC receiver on loopback under `limits`.
    private func withReceivers(
        _ limits: ConnectionLimits,
        _ body: @Sendable (_ httpPort: Int, _ grpcPort: Int, _ store: TelemetryStore) async throws -> Void
    ) async throws {
        var logger = Logger(label: "test.connection-limits")
        logger.logLevel = .critical
        let store = TelemetryStore()
        let ingestor = OTLPIngestor(store: store, logger: logger)
        let configuration = ReceiverConfiguration(
            address: ListenAddress(host: "127.0.0.1", port: 0),
            security: ListenerSecurity(connections: limits)
        )
        let http = OTLPHTTPReceiver(configuration: configuration, ingestor: ingestor, logger: logger)
        let grpc = OTLPGRPCReceiver(configuration: configuration, ingestor: ingestor, logger: logger)
        try await withServices([http, grpc], logger: logger) {
            try await body(try await http.boundAddress.value().port, try await grpc.boundAddress.value().port, store)
        }
    }
}

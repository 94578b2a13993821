import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import Intake
import OTelBenchProtos
import Telemetry
import TestSupport
import Testing
import Workload

@Suite(.serialized) struct OTLPGRPCReceiverTests {
    private typealias TraceService = Opentelemetry_Proto_Collector_Trace_V1_TraceService
    private typealias MetricsService = Opentelemetry_Proto_Collector_Metrics_V1_MetricsService
    private typealias LogsService = Opentelemetry_Proto_Collector_Logs_V1_LogsService

    @Test(arguments: [CompressionAlgorithm.none, .gzip, .deflate])
    func allThreeSignalsAreStored(compression: CompressionAlgorithm) async throws {
        var factory = OTLPPayloadFactory(seed: 11)
        let traces = factory.traces(spanCount: 100, attributesPerSpan: 5)
        let metrics = factory.metrics(seriesCount: 7)
        let logs = factory.logs(count: 4)
        try await withIntake { intake in
            try await withGRPCClient(port: intake.grpcPort, compression: compression) { client in
                let traceResponse = try await TraceService.Client(wrapping: client).export(traces)
                #expect(!traceResponse.hasPartialSuccess)
                _ = try await MetricsService.Client(wrapping: client).export(metrics)
                _ = try await LogsService.Client(wrapping: client).export(logs)
            }
            #expect(intake.store.spans.count == 100)
            #expect(intake.store.spans.map(\.spanID.bytes) == traces.resourceSpans[0].scopeSpans[0].spans.map { Array($0.spanID) })
            #expect(intake.store.series.count == 7)
            #expect(intake.store.logs.count == 4)
            let counts = intake.store.counts[.otlpGRPC]
            #expect(counts?[.traces]?.itemsAccepted == 100)
            #expect(counts?[.metrics]?.itemsAccepted == 7)
            #expect(counts?[.logs]?.requestsAccepted == 1)
        }
    }

    @Test func invalidIDsArePartialSuccess() async throws {
        var factory = OTLPPayloadFactory(seed: 12)
        var traces = factory.traces(spanCount: 3)
        traces.resourceSpans[0].scopeSpans[0].spans[0].parentSpanID = .init([9, 9])
        let request = traces
        try await withIntake { intake in
            let response = try await withGRPCClient(port: intake.grpcPort) { client in
                try await TraceService.Client(wrapping: client).export(request)
            }
            #expect(response.partialSuccess.rejectedSpans == 1)
            #expect(response.partialSuccess.errorMessage.contains("parent_span_id has 2 bytes, want 8"))
            #expect(intake.store.spans.count == 2)
        }
    }

    @Test func malformedMessageIsInvalidArgumentAndServingGoesOn() async throws {
        var factory = OTLPPayloadFactory(seed: 13)
        let traces = factory.traces(spanCount: 8)
        try await withIntake { intake in
            try await withGRPCClient(port: intake.grpcPort) { client in
                _ = try await TraceService.Client(wrapping: client).export(traces)
                let error = await #expect(throws: RPCError.self) {
                    try await rawExport([0xff, 0xff, 0xff, 0x0f], method: TraceService.Method.Export.descriptor, client: client)
                }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message.contains("not a valid protobuf ExportTraceServiceRequest") == true, "\(String(describing: error))")
                _ = try await TraceService.Client(wrapping: client).export(traces)
            }
            #expect(intake.store.spans.count == 16)
            #expect(intake.store.counts[.otlpGRPC]?[.traces]?.requestsRejected == 1)
        }
    }

    @Test(arguments: [CompressionAlgorithm.none, .gzip])
    func oversizedMessageIsResourceExhausted(compression: CompressionAlgorithm) async throws {
        var factory = OTLPPayloadFactory(seed: 14)
        let big = factory.traces(spanCount: 2000, attributesPerSpan: 10)
        let small = factory.traces(spanCount: 10)
        try await withIntake(maxRequestBytes: 64 << 10) { intake in
            try await withGRPCClient(port: intake.grpcPort, compression: compression) { client in
                let error = await #expect(throws: RPCError.self) {
                    try await TraceService.Client(wrapping: client).export(big)
                }
                #expect(error?.code == .resourceExhausted, "\(String(describing: error))")
                #expect(error?.message.contains("over the 65536-byte limit") == true)
                _ = try await TraceService.Client(wrapping: client).export(small)
            }
            #expect(intake.store.spans.count == 10)
        }
    }

    @Test func overMemoryLimitIsUnavailableSoExportersRetry() async throws {
        var factory = OTLPPayloadFactory(seed: 15)
        let traces = factory.traces(spanCount: 50)
        let size = (try traces.serializedBytes() as [UInt8]).count
        // Room for one request being decoded (five times its size, ResidentCost) and a little more.
        let limit = ResidentCost.admission(bytes: size) + size / 2
        try await withIntake(memoryLimit: limit) { intake in
            try await withGRPCClient(port: intake.grpcPort) { client in
                _ = try await TraceService.Client(wrapping: client).export(traces)
                // Requests in flight hold the room.
                let inFlight = intake.store.reservableBytes ?? 0
                #expect(intake.store.reserve(bytes: inFlight))
                let error = await #expect(throws: RPCError.self) {
                    try await TraceService.Client(wrapping: client).export(traces)
                }
                #expect(error?.code == .unavailable)
                #expect(error?.message.contains("--memory-limit") == true)
                intake.store.release(bytes: inFlight)
            }
            #expect(intake.store.totals.spans == 50)
        }
    }

    /// The receiver's first SETTINGS frame offers each stream a 1 MiB window (SETTINGS_INITIAL_WINDOW_SIZE, RFC 9113
    /// §6.5.2), so that a sender of a few hundred KB export writes it whole instead of waiting for WINDOW_UPDATEs.
    @Test func streamsAreOfferedAOneMebibyteFlowControlWindow() async throws {
        try await withIntake { intake in
            let connection = try RawConnection(port: intake.grpcPort)
            try connection.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + "\0\0\0\u{4}\0\0\0\0\0")
            let header = connection.read(atLeast: 9, timeout: .seconds(20)).bytes
            try #require(header.count >= 9)
            // The server's preface is a SETTINGS frame (type 4) on stream 0.
            #expect(header[3] == 4)
            let length = Int(header[0]) << 16 | Int(header[1]) << 8 | Int(header[2])
            let payload =
                header.count >= 9 + length
                ? Array(header[9..<9 + length]) : Array(header[9...]) + connection.read(atLeast: 9 + length - header.count, timeout: .seconds(20)).bytes
            try #require(payload.count >= length && length % 6 == 0)
            var settings: [Int: Int] = [:]
            for offset in stride(from: 0, to: length, by: 6) {
                let identifier = Int(payload[offset]) << 8 | Int(payload[offset + 1])
                settings[identifier] = payload[offset + 2..<offset + 6].reduce(0) { $0 << 8 | Int($1) }
            }
            #expect(settings[0x4] == 1 << 20)
        }
    }
}

/// What the OTLP receivers record of every request, whichever path wrote it (from the bytes, transcoded, or from the
/// decoded message): the same file as recording the decoded requests, in every format.
@Suite(.serialized) struct OTLPRecordingTests {
    private typealias TraceService = Opentelemetry_Proto_Collector_Trace_V1_TraceService
    private typealias MetricsService = Opentelemetry_Proto_Collector_Metrics_V1_MetricsService
    private typealias LogsService = Opentelemetry_Proto_Collector_Logs_V1_LogsService

    @Test(arguments: RecordingFormat.allCases)
    func everySignalOnEveryPathIsRecordedAsItsDecodedRequest(format: RecordingFormat) async throws {
        var factory = OTLPPayloadFactory(seed: 23)
        let traces = factory.traces(spanCount: 20, attributesPerSpan: 4)
        let metrics = factory.metrics(seriesCount: 3)
        let logs = factory.logs(count: 5)
        try await withTemporaryDirectory { directory in
            let recorder = try RecordingWriter(path: directory.appendingPathComponent("received").path, format: format)
            try await withIntake(recorder: recorder) { intake in
                try await withGRPCClient(port: intake.grpcPort) { client in
                    _ = try await TraceService.Client(wrapping: client).export(traces)
                    _ = try await MetricsService.Client(wrapping: client).export(metrics)
                    _ = try await LogsService.Client(wrapping: client).export(logs)
                }
                for (path, body) in [
                    ("/v1/traces", try traces.serializedBytes()), ("/v1/metrics", try metrics.serializedBytes()), ("/v1/logs", try logs.serializedBytes()),
                ] as [(String, [UInt8])] {
                    #expect(try await intake.send(path, contentType: "application/x-protobuf", body: body).status == 200)
                }
                #expect(try await intake.send("/v1/logs", contentType: "application/json", body: try OTLPJSON.encode(logs)).status == 200)
            }
            try recorder.close()
            let reference = try RecordingWriter(path: directory.appendingPathComponent("decoded").path, format: format)
            for request in [RecordedRequest.traces(traces), .metrics(metrics), .logs(logs), .traces(traces), .metrics(metrics), .logs(logs), .logs(logs)] {
                try reference.append(request)
            }
            try reference.close()
            #expect(recorder.requestCount == 7)
            #expect(recorder.paths.count == reference.paths.count)
            for (mine, theirs) in zip(recorder.paths, reference.paths) {
                #expect(try Data(contentsOf: URL(fileURLWithPath: mine)) == Data(contentsOf: URL(fileURLWithPath: theirs)), "\(mine)")
            }
        }
    }
}

import CompressNIO
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import Intake
import NIOCore
import OTelBenchProtos
import Scenario
import SwiftProtobuf
import Telemetry
import TestSupport
import Testing
import Workload

/// Every receiver counts the bytes of what it accepts as they came over the wire (`wireBytesAccepted`, the
/// data-volume estimate's figure) beside their decompressed size (`bytesAccepted`, the memory limit's).
@Suite(.serialized) struct WireBytesTests {
    private typealias TraceService = Opentelemetry_Proto_Collector_Trace_V1_TraceService
    private typealias MetricsService = Opentelemetry_Proto_Collector_Metrics_V1_MetricsService
    private typealias LogsService = Opentelemetry_Proto_Collector_Logs_V1_LogsService

    private func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var buffer = ByteBuffer(bytes: bytes)
        return Array(buffer: try buffer.compress(with: .gzip()))
    }

    /// gRPC: the length-prefixed message as sent, so 5 bytes more than the message uncompressed, and the
    /// compressed length (plus 5) for a gzip message, whose inflated size is still the memory limit's.
    @Test(arguments: [GRPCCore.CompressionAlgorithm.none, .gzip])
    func grpcCountsTheFramedMessageAsSent(compression: GRPCCore.CompressionAlgorithm) async throws {
        var factory = OTLPPayloadFactory(seed: 41)
        let traces = factory.traces(spanCount: 200, attributesPerSpan: 5)
        let metrics = factory.metrics(seriesCount: 20)
        let logs = factory.logs(count: 30)
        try await withIntake { intake in
            try await withGRPCClient(port: intake.grpcPort, compression: compression) { client in
                _ = try await TraceService.Client(wrapping: client).export(traces)
                _ = try await MetricsService.Client(wrapping: client).export(metrics)
                _ = try await LogsService.Client(wrapping: client).export(logs)
            }
            let counts = try #require(intake.store.counts[.otlpGRPC])
            let sizes: [(Signal, Int)] = [
                (.traces, (try traces.serializedBytes() as [UInt8]).count),
                (.metrics, (try metrics.serializedBytes() as [UInt8]).count),
                (.logs, (try logs.serializedBytes() as [UInt8]).count),
            ]
            for (signal, size) in sizes {
                let count = try #require(counts[signal], "\(signal)")
                #expect(count.bytesAccepted == size, "\(signal): the inflated message")
                if compression == .none {
                    #expect(count.wireBytesAccepted == 5 + size, "\(signal): prefix and message")
                } else {
                    #expect(count.wireBytesAccepted > 5 && count.wireBytesAccepted < size, "\(signal): \(count.wireBytesAccepted) compressed of \(size)")
                }
            }
        }
    }

    /// OTLP/HTTP: the body as sent, gzip or not.
    @Test func httpCountsTheBodyAsSent() async throws {
        var factory = OTLPPayloadFactory(seed: 42)
        let body: [UInt8] = try factory.traces(spanCount: 64, attributesPerSpan: 3).serializedBytes()
        let compressed = try gzip(body)
        try await withIntake { intake in
            let plainAnswer = try await intake.send("/v1/traces", body: body)
            #expect(plainAnswer.status == 200)
            let plain = try #require(intake.store.counts[.otlpHTTPProtobuf]?[.traces])
            #expect(plain.wireBytesAccepted == body.count && plain.bytesAccepted == body.count)
            let gzipAnswer = try await intake.send("/v1/traces", headers: [("Content-Encoding", "gzip")], body: compressed)
            #expect(gzipAnswer.status == 200)
            let both = try #require(intake.store.counts[.otlpHTTPProtobuf]?[.traces])
            #expect(both.wireBytesAccepted == body.count + compressed.count, "the gzip body counts \(compressed.count) bytes")
            #expect(both.bytesAccepted == 2 * body.count)
        }
    }

    /// A request refused whole counts no bytes: they were not accepted.
    @Test func refusedRequestsCountNoBytes() async throws {
        try await withIntake { intake in
            let answer = try await intake.send("/v1/traces", body: [0xff, 0xff, 0xff])
            #expect(answer.status == 400)
            #expect(intake.store.counts[.otlpHTTPProtobuf]?[.traces]?.wireBytesAccepted ?? 0 == 0)
        }
    }

    /// Remote write: the snappy-compressed body as sent (here literal blocks, longer than the message).
    @Test func remoteWriteCountsTheSnappyBody() async throws {
        let body = try remoteWriteBody([remoteWriteSeries([("__name__", "wire_metric"), ("job", "x")], samples: [(1_700_000_000_000, 1)])])
        try await withSinks { sinks in
            let answer = try await sinks.remoteWrite(body)
            #expect(answer.status == 204)
            let counts = try #require(sinks.store.counts[.prometheusRemoteWrite]?[.metrics])
            #expect(counts.wireBytesAccepted == body.count)
            #expect(counts.bytesAccepted < body.count, "decoded: the message without snappy's literal headers")
        }
    }
}

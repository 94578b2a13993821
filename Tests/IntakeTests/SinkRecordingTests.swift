import Foundation
import Intake
import OTelBenchProtos
import PromQL
import Telemetry
import TestSupport
import Testing

/// `--record` holds what the sinks accepted, as OTLP that replays to the same spans, samples and log records.
@Suite(.serialized) struct SinkRecordingTests {
    @Test func sinkIntakeIsRecordedAndReplaysToTheSameItems() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("run.jsonl").path
            let recorder = try RecordingWriter(path: path)
            try await withSinks(recorder: recorder) { sinks in
                #expect(
                    try await sinks.send(
                        port: sinks.jaegerThriftPort,
                        "/api/traces",
                        contentType: "application/x-thrift",
                        body: ThriftReaderTests.sampleBatch()
                    ).status == 202
                )
                let write = try remoteWriteBody([
                    remoteWriteSeries(
                        [("__name__", "mailer:queue_depth:max"), ("queue", "emails")],
                        samples: [(1_700_000_000_000, 4), (1_700_000_001_000, 2.5)]
                    )
                ])
                #expect(try await RemoteWriteReceiverTests.send(sinks, write).status == 204)
                let document =
                    #"{"@timestamp":"2026-11-26T03:00:00Z","message":"queue drained","log.level":"warn","service.name":"mailer","trace.id":"4bf92f3577b34da6a3ce929d0e0e4736"}"#
                #expect(
                    try await sinks.send(port: sinks.elasticsearchPort, "/logs/_doc", contentType: "application/json", body: Array(document.utf8)).status == 201
                )
                // A refused request is not recorded.
                #expect(try await sinks.send(port: sinks.jaegerThriftPort, "/api/traces", contentType: "application/x-thrift", body: [1, 2, 3]).status == 400)
                try recorder.close()
                try Self.expectReplay(path: path, matches: sinks.store)
            }
        }
    }

    private static func expectReplay(path: String, matches store: TelemetryStore) throws {
        let requests = try RecordingReader.read(path: path)
        #expect(requests.count == 3)
        var replayedSpans: [Span] = []
        var replayedSeries: [MetricSeries] = []
        var replayedLogs: [LogRecord] = []
        for request in requests {
            switch request {
            case .traces(let traces): replayedSpans += OTLPConversion.traces(traces, channel: .recording).batch.spans
            case .metrics(let metrics): replayedSeries += OTLPConversion.metrics(metrics, channel: .recording).batch.series
            case .logs(let logs): replayedLogs += OTLPConversion.logs(logs, channel: .recording).batch.logs
            }
        }
        let stored = store.spans
        #expect(replayedSpans.count == 2)
        for (original, replayed) in zip(stored, replayedSpans) {
            var expected = original
            expected.channel = .recording
            #expect(replayed == expected)
        }
        #expect(replayedSeries.count == 1)
        #expect(replayedSeries.first?.key == store.series.first?.key)
        #expect(replayedSeries.first?.points == store.series.first?.points)
        // Replayed, remote-written samples are still Prometheus' own series to PromQL: same names and labels.
        #expect(PrometheusView.series(from: replayedSeries) == PrometheusView.series(from: store.series.filter { $0.channel == .prometheusRemoteWrite }))
        let storedLogs = store.logs
        #expect(replayedLogs.count == 1 && storedLogs.count == 1)
        for (original, replayed) in zip(storedLogs, replayedLogs) {
            var expected = original
            expected.channel = .recording
            #expect(replayed == expected)
        }
    }
}

import Foundation
import TestSupport
import Intake
import OTelBenchProtos
import Telemetry
import Testing

extension SinkSuites {
    /// `--record` holds what the sinks accepted, as OTLP that replays to the same spans and samples.
    @Suite(.serialized) struct SinkRecordingTests {
        @Test func sinkIntakeIsRecordedAndReplaysToTheSameItems() async throws {
            try await withTemporaryDirectory { directory in
                let path = directory.appendingPathComponent("run.jsonl").path
                let recorder = try RecordingWriter(path: path)
                try await withSinks(recorder: recorder) { sinks in
                    #expect(try await sinks.send(port: sinks.jaegerThriftPort, "/api/traces", contentType: "application/x-thrift", body: ThriftReaderTests.sampleBatch()).status == 202)
                    let write = try remoteWriteBody([
                        remoteWriteSeries([("__name__", "queue_depth"), ("queue", "emails")], samples: [(1_700_000_000_000, 4), (1_700_000_001_000, 2.5)])
                    ])
                    #expect(try await RemoteWriteReceiverTests.send(sinks, write).status == 204)
                    // A refused request is not recorded.
                    #expect(try await sinks.send(port: sinks.jaegerThriftPort, "/api/traces", contentType: "application/x-thrift", body: [1, 2, 3]).status == 400)
                    try recorder.close()
                    try Self.expectReplay(path: path, matches: sinks.store)
                }
            }
        }

        private static func expectReplay(path: String, matches store: TelemetryStore) throws {
            let requests = try RecordingReader.read(path: path)
            #expect(requests.count == 2)
            var replayedSpans: [Span] = []
            var replayedSeries: [MetricSeries] = []
            for request in requests {
                switch request {
                case .traces(let traces): replayedSpans += OTLPConversion.traces(traces, channel: .recording).batch.spans
                case .metrics(let metrics): replayedSeries += OTLPConversion.metrics(metrics, channel: .recording).batch.series
                case .logs: Issue.record("no logs were sent")
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
        }
    }
}

import Foundation
import FuzzTargets
import OTelBenchProtos
import SwiftProtobuf
import Telemetry
import Testing

/// What the fuzz targets found, each pinned by name (the inputs are also in the corpora).
@Suite struct FuzzFindingsTests {
    /// OTLPConversion counted the points of a metric without a name as rejected, but not those of its histogram
    /// points that had a problem of their own: they were neither accepted nor rejected (found by the otlp-metrics
    /// target's accounting invariant).
    @Test func everyPointOfANamelessMetricIsRejected() throws {
        var bad = Opentelemetry_Proto_Metrics_V1_HistogramDataPoint()
        bad.bucketCounts = [1, 2, 3]  // three counts for no bounds
        var good = Opentelemetry_Proto_Metrics_V1_HistogramDataPoint()
        good.bucketCounts = [4]
        good.count = 4
        var metric = Opentelemetry_Proto_Metrics_V1_Metric()
        metric.histogram.dataPoints = [bad, good]
        var request = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest()
        request.resourceMetrics = [.with { $0.scopeMetrics = [.with { $0.metrics = [metric] }] }]

        let converted = OTLPConversion.metrics(request, channel: .otlpHTTPProtobuf)
        #expect(converted.batch.itemCount == 0)
        #expect(converted.rejectedItems == 2)
        #expect(throws: Never.self) { try FuzzTarget.named("otlp-metrics")!.run(try request.serializedBytes()) }
    }

    /// A histogram whose sum is NaN converts to the same series after a re-encode: the target compares models by
    /// `==` and then by hash (NaN is never `==` to itself, and printing a model lists its attributes in an order
    /// that differs between equal dictionaries).
    @Test func aNaNHistogramIsTheSameSeriesAfterReencoding() throws {
        var point = Opentelemetry_Proto_Metrics_V1_HistogramDataPoint()
        point.sum = .nan
        point.count = 1
        point.bucketCounts = [1]
        point.attributes = (0..<8).map { index in
            .with {
                $0.key = "k\(index)"
                $0.value.stringValue = "v"
            }
        }
        var metric = Opentelemetry_Proto_Metrics_V1_Metric()
        metric.name = "latency"
        metric.histogram.dataPoints = [point]
        var request = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest()
        request.resourceMetrics = [.with { $0.scopeMetrics = [.with { $0.metrics = [metric] }] }]
        #expect(throws: Never.self) { try FuzzTarget.named("otlp-metrics")!.run(try request.serializedBytes()) }
        let found = try Data(contentsOf: FuzzCorpusTests.corpora.appendingPathComponent("otlp-metrics/finding-nan-histogram-series"))
        #expect(throws: Never.self) { try FuzzTarget.named("otlp-metrics")!.run([UInt8](found)) }
    }

    /// `-NaN` prints as `NaN` (as Prometheus prints it); the sign of a NaN means nothing, so the round trip holds.
    @Test func negativeNaNRoundTrips() throws {
        #expect(throws: Never.self) { try FuzzTarget.named("promql")!.run(Array("-(((0))) + xf+ -NaN".utf8)) }
    }

    /// A metric name given as a matcher (`{__name__="…"}`) was printed before the braces even when it does not read
    /// back as a name there: not an identifier (NULs, `*`, a leading digit or colon), or a keyword, an aggregation,
    /// Inf or NaN. It stays a matcher now, as Prometheus prints it.
    @Test func aMetricNameThatDoesNotReadBackAsANameStaysAMatcher() throws {
        let found = try Data(contentsOf: FuzzCorpusTests.corpora.appendingPathComponent("promql/finding-name-matcher-not-an-identifier.promql"))
        #expect(throws: Never.self) { try FuzzTarget.named("promql")!.run([UInt8](found)) }
        for name in ["job:\u{0}x*", "sum", "Inf", "nan", "by", "9x", ":x", "a-b", ""] {
            let text = "rate({__name__=\"\(name)\", le=\"1\"}[5m])"
            #expect(throws: Never.self, "\(text)") { try FuzzTarget.named("promql")!.run(Array(text.utf8)) }
        }
    }

    /// A refused `_bulk` body names its line even when the message also says "newline [\n]".
    @Test func aBulkActionWithoutItsDocumentNamesItsLine() throws {
        let body = Array("\u{0}{\"index\":{\"_index\":\"logs\"}}\n{\"message\":\"a\"}\n{\"index\":{}}\n".utf8)
        #expect(throws: Never.self) { try FuzzTarget.named("elasticsearch-bulk")!.run(body) }
    }

    /// YAML errors count `\r` as a line break (as libyaml does), so a file with carriage returns has more lines than
    /// newlines: the error's line is one of them.
    @Test func yamlErrorLinesCountCarriageReturns() throws {
        #expect(throws: Never.self) { try FuzzTarget.named("rule-file")!.run(Array("groups:\r\r\r\r  - {name: a,\r".utf8)) }
        #expect(throws: Never.self) { try FuzzTarget.named("scenario-yaml")!.run(Array("name: x\rworkload: [\r\r\r".utf8)) }
    }

    /// A PromQL string literal printed without escaping (`"a\\b"` printed as `"a\b"`) did not parse again; and a
    /// backslash before a combining mark was left unescaped in label values too (escaped by Character, not scalar).
    @Test func promQLStringsAndLabelValuesPrintEscaped() throws {
        for text in [#"label_replace(up, "a", "\\\"q\"\n", "b", "c")"#, "up{a=\"\\\\\u{301}\"}", #"label_join(up, "x", "\\\u0301", "a")"#] {
            #expect(throws: Never.self, "\(text)") { try FuzzTarget.named("promql")!.run(Array(text.utf8)) }
        }
    }
}

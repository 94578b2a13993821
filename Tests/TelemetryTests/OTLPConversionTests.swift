import Foundation
import OTelBenchProtos
import Testing
import Workload

@testable import Telemetry

@Suite struct OTLPConversionTests {
    private func histogramRequest(bounds: [Double], counts: [UInt64], count: UInt64) -> Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest {
        var point = Opentelemetry_Proto_Metrics_V1_HistogramDataPoint()
        point.explicitBounds = bounds
        point.bucketCounts = counts
        point.count = count
        point.timeUnixNano = 1
        var metric = Opentelemetry_Proto_Metrics_V1_Metric()
        metric.name = "rollback_duration_seconds"
        metric.unit = "s"
        metric.histogram.aggregationTemporality = .cumulative
        metric.histogram.dataPoints = [point]
        var request = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest()
        request.resourceMetrics = [.init()]
        request.resourceMetrics[0].scopeMetrics = [.init()]
        request.resourceMetrics[0].scopeMetrics[0].metrics = [metric]
        return request
    }

    @Test func consistentHistogramIsKept() {
        let result = OTLPConversion.metrics(histogramRequest(bounds: [5, 15, 30], counts: [1, 2, 0, 1], count: 4), channel: .otlpGRPC)
        #expect(result.rejectedItems == 0)
        #expect(result.batch.series.first?.kind == .histogram(temporality: .cumulative))
    }

    @Test(arguments: [
        ([5.0, 15, 30], [UInt64(1), 2, 0], UInt64(3), "3 bucket counts for 3 explicit bounds, want 4"),
        ([5.0, 5, 30], [UInt64(1), 2, 0, 0], UInt64(3), "not strictly increasing"),
        ([5.0, 15, 30], [UInt64(1), 2, 0, 0], UInt64(9), "bucket counts add up to 3 but count is 9"),
        // The wrapping sum of these is 0, the count given: it passed, and every cumulative reader then overflowed.
        ([5.0, 15, 30], [UInt64.max, 1, 0, 0], UInt64(0), "bucket counts add up to more than 18446744073709551615"),
    ])
    func inconsistentHistogramPointIsRejectedWithTheReason(bounds: [Double], counts: [UInt64], count: UInt64, reason: String) {
        let result = OTLPConversion.metrics(histogramRequest(bounds: bounds, counts: counts, count: count), channel: .otlpGRPC)
        #expect(result.rejectedItems == 1)
        #expect(result.errorMessage.contains(reason), "\(result.errorMessage)")
        #expect(result.errorMessage.contains("rollback_duration_seconds"))
    }

    @Test func logWithWrongLengthTraceIDIsRejectedButOneWithoutIDsIsKept() {
        var factory = OTLPPayloadFactory(seed: 8)
        var request = factory.logs(count: 2)
        request.resourceLogs[0].scopeLogs[0].logRecords[0].traceID = Data([1, 2, 3])
        request.resourceLogs[0].scopeLogs[0].logRecords[1].traceID = Data()
        request.resourceLogs[0].scopeLogs[0].logRecords[1].spanID = Data()
        let result = OTLPConversion.logs(request, channel: .otlpGRPC)
        #expect(result.rejectedItems == 1)
        #expect(result.errorMessage.contains("trace_id has 3 bytes, want 16 or none"))
        #expect(result.batch.logs.count == 1)
        #expect(result.batch.logs[0].traceID == nil)
    }

    @Test func errorMessageListsFiveProblemsAndCountsTheRest() {
        var factory = OTLPPayloadFactory(seed: 10)
        var request = factory.traces(spanCount: 8)
        for index in 0..<8 { request.resourceSpans[0].scopeSpans[0].spans[index].spanID = Data() }
        let result = OTLPConversion.traces(request, channel: .otlpGRPC)
        #expect(result.rejectedItems == 8)
        #expect(result.errorMessage.hasSuffix("and 3 more"))
    }
}

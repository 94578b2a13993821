package import Foundation
package import OTelBenchProtos

/// An OTLP metrics request with one metric of every kind, for the exposition, scraper and lint tests.
package enum SampleMetrics {
    package static func keyValue(_ key: String, _ value: Opentelemetry_Proto_Common_V1_AnyValue.OneOf_Value) -> Opentelemetry_Proto_Common_V1_KeyValue {
        var keyValue = Opentelemetry_Proto_Common_V1_KeyValue()
        keyValue.key = key
        keyValue.value.value = value
        return keyValue
    }

    /// Counter, gauge, ratio, histogram, summary and a delta sum, from one resource, with awkward label values.
    package static func request(
        time: UInt64 = UInt64(Date().timeIntervalSince1970 * 1e9),
        durationUnit unit: String = "s"
    ) -> Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest {
        func numberPoint(
            _ value: Double,
            attributes: [Opentelemetry_Proto_Common_V1_KeyValue] = [],
            at offset: UInt64 = 0
        ) -> Opentelemetry_Proto_Metrics_V1_NumberDataPoint {
            var point = Opentelemetry_Proto_Metrics_V1_NumberDataPoint()
            point.asDouble = value
            point.attributes = attributes
            point.startTimeUnixNano = time - 60_000_000_000
            point.timeUnixNano = time + offset
            return point
        }
        var requests = Opentelemetry_Proto_Metrics_V1_Metric()
        requests.name = "http.server.requests"
        requests.unit = "{request}"
        requests.description_p = "Requests served.\nBy route \\ status."
        requests.sum.isMonotonic = true
        requests.sum.aggregationTemporality = .cumulative
        requests.sum.dataPoints = [
            numberPoint(10, attributes: [keyValue("http.method", .stringValue("GET")), keyValue("http.status_code", .intValue(200))]),
            numberPoint(3, attributes: [keyValue("http.method", .stringValue("POST")), keyValue("http.status_code", .intValue(500))]),
            numberPoint(1, attributes: [keyValue("http.method", .stringValue("say \"hi\"\\\nnow")), keyValue("http.status_code", .intValue(400))]),
        ]
        var memory = Opentelemetry_Proto_Metrics_V1_Metric()
        memory.name = "process.memory.usage"
        memory.unit = "By"
        memory.description_p = "Resident memory."
        memory.gauge.dataPoints = [numberPoint(1_048_576)]
        var utilization = Opentelemetry_Proto_Metrics_V1_Metric()
        utilization.name = "cpu.utilization"
        utilization.unit = "1"
        utilization.gauge.dataPoints = [numberPoint(0.25)]
        var duration = Opentelemetry_Proto_Metrics_V1_Metric()
        duration.name = "http.server.duration"
        duration.unit = unit
        duration.description_p = "Request latency."
        duration.histogram.aggregationTemporality = .cumulative
        var histogramPoint = Opentelemetry_Proto_Metrics_V1_HistogramDataPoint()
        histogramPoint.startTimeUnixNano = time - 60_000_000_000
        histogramPoint.timeUnixNano = time
        histogramPoint.explicitBounds = [5, 10, 25.5]
        histogramPoint.bucketCounts = [1, 2, 3, 4]
        histogramPoint.count = 10
        histogramPoint.sum = 123.5
        histogramPoint.attributes = [keyValue("http.route", .stringValue("/tasks"))]
        duration.histogram.dataPoints = [histogramPoint]
        var rpc = Opentelemetry_Proto_Metrics_V1_Metric()
        rpc.name = "rpc.latency"
        rpc.unit = "s"
        rpc.description_p = "RPC latency."
        var summaryPoint = Opentelemetry_Proto_Metrics_V1_SummaryDataPoint()
        summaryPoint.timeUnixNano = time
        summaryPoint.count = 4
        summaryPoint.sum = 2.5
        summaryPoint.quantileValues = [(0.5, 0.4), (0.99, 1.5)].map { quantile, value in
            var entry = Opentelemetry_Proto_Metrics_V1_SummaryDataPoint.ValueAtQuantile()
            entry.quantile = quantile
            entry.value = value
            return entry
        }
        rpc.summary.dataPoints = [summaryPoint]
        var jobs = Opentelemetry_Proto_Metrics_V1_Metric()
        jobs.name = "jobs.processed"
        jobs.description_p = "Jobs done."
        jobs.sum.isMonotonic = true
        jobs.sum.aggregationTemporality = .delta
        jobs.sum.dataPoints = [numberPoint(3, at: 0), numberPoint(4, at: 1_000_000_000)]

        var scope = Opentelemetry_Proto_Metrics_V1_ScopeMetrics()
        scope.scope.name = "checkout.instrumentation"
        scope.scope.version = "0.3.0"
        scope.metrics = [requests, memory, utilization, duration, rpc, jobs]
        var resource = Opentelemetry_Proto_Metrics_V1_ResourceMetrics()
        resource.resource.attributes = [
            keyValue("service.name", .stringValue("checkout")), keyValue("service.namespace", .stringValue("shop")),
            keyValue("service.instance.id", .stringValue("i-1")), keyValue("host.name", .stringValue("box-7")),
        ]
        resource.scopeMetrics = [scope]
        var request = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest()
        request.resourceMetrics = [resource]
        return request
    }
}

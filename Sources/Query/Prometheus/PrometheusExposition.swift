import Foundation
import Hummingbird
package import Intake
package import Logging
import NIOCore
import PromQL
package import PromQLSyntax
package import Scenario
package import Scrape
package import ServiceLifecycle
package import Telemetry

/// The metrics received over OTLP, exposed for Prometheus to scrape (`GET /metrics`, default port 9464)
/// in the text format 0.0.4, or OpenMetrics 1.0 when the `Accept` header prefers it (as Prometheus' does),
/// translated as the Collector's `prometheus` exporter does.
///
/// - Names and labels: ``PrometheusTranslation`` (namespace prefix, unit and `_total` suffixes, dots to
///   underscores); the configured constant labels on every series; `job` (`service.namespace/service.name`)
///   and `instance` (`service.instance.id`) from the resource, the other resource attributes on one
///   `target_info` series per resource; `otel_scope_name`/`otel_scope_version` from the scope.
/// - Types: gauges and non-monotonic sums → `gauge`; monotonic sums → `counter`; explicit-bucket
///   histograms → `histogram` (cumulative `_bucket{le=…}` with `+Inf`, `_sum`, `_count`); summaries →
///   `summary`. Delta sums and histograms are accumulated into cumulative values, as the exporter does.
///   Exponential histograms have no 0.0.4 form and are left out. Series from remote write or scraping are not re-exposed.
/// - Each series shows its latest value, without timestamps; every family has `# HELP` and `# TYPE`, so
///   that `promtool check metrics` passes. In OpenMetrics, counter families are named without `_total`
///   (their samples keep it), `target_info` is an `info` family, and the text ends with `# EOF`.
package struct PrometheusExposition: Service {
    /// Endpoint settings.
    package struct Configuration: Sendable {
        /// Where to listen. Default `127.0.0.1:9464` (`--exposition`).
        package var address: ListenAddress
        /// Prefix of every metric name (the exporter's `namespace`). Default none.
        package var namespace: String
        /// Labels added to every series (the exporter's `const_labels`). Default none.
        package var constantLabels: [String: String]
        /// TLS and the bearer token scrapers must send. Default plain text, no token.
        package var security: ListenerSecurity

        package init(
            address: ListenAddress = .init(host: "127.0.0.1", port: 9464),
            namespace: String = "",
            constantLabels: [String: String] = [:],
            security: ListenerSecurity = .plaintext
        ) {
            self.address = address
            self.namespace = namespace
            self.constantLabels = constantLabels
            self.security = security
        }
    }

    package let configuration: Configuration
    /// The address once listening (the real port when asked for port 0).
    package let boundAddress = BoundAddress()
    let store: TelemetryStore
    let logger: Logger

    package init(configuration: Configuration = .init(), store: TelemetryStore, logger: Logger = Logger(label: "otelbench.exposition")) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
    }

    package func run() async throws {
        try await HTTPSink.serve(
            ExpositionResponder(configuration: configuration, store: store),
            address: configuration.address,
            tls: configuration.security.tls,
            token: configuration.security.token,
            connections: configuration.security.connections,
            bound: boundAddress,
            logger: logger
        )
    }

    /// The two exposition formats.
    package typealias Format = ExpositionFormat

    /// The exposition of `series`, as `GET /metrics` serves it.
    package static func text(
        of series: [MetricSeries],
        format: Format = .text,
        namespace: String = "",
        constantLabels: [String: String] = [:]
    ) -> String {
        ExpositionWriter(namespace: namespace, constantLabels: constantLabels, format: format)
            .text(series.filter { $0.channel != .prometheusRemoteWrite && $0.channel != .prometheusScrape })
    }
}

struct ExpositionResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let configuration: PrometheusExposition.Configuration
    let store: TelemetryStore

    func respond(to request: Request, context: Context) async throws -> Response {
        guard request.uri.path == "/metrics" || request.uri.path == "/" else {
            return Refusal(.notFound, "no endpoint at \(request.uri.path): the exposition is at GET /metrics").plainTextResponse
        }
        guard request.method == .get || request.method == .head else {
            return Refusal(.methodNotAllowed, "\(request.method) is not allowed: GET /metrics", allowedMethods: "GET").plainTextResponse
        }
        let format = PrometheusExposition.Format.negotiated(accept: request.headers[.accept])
        let text = PrometheusExposition.text(
            of: store.series,
            format: format,
            namespace: configuration.namespace,
            constantLabels: configuration.constantLabels
        )
        return Response(
            status: .ok,
            headers: [.contentType: format.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }
}

/// Builds the exposition text: families by name, series by labels.
struct ExpositionWriter {
    let namespace: String
    let constantLabels: [String: String]
    var format: PrometheusExposition.Format = .text

    private struct Family {
        var type: String
        var help: String
        /// Sample lines by their label text, so a later point of the same series replaces an earlier one.
        var samples: [String: [String]] = [:]
    }

    func text(_ series: [MetricSeries]) -> String {
        var families: [String: Family] = [:]
        var targets: [String: [(String, String)]] = [:]
        for one in series {
            guard let rendered = render(one) else { continue }
            let labels = seriesLabels(one)
            if let target = targetInfoLabels(one.key.resource) {
                targets[labelText(target)] = target
            }
            var family = families[rendered.name] ?? Family(type: rendered.type, help: rendered.help)
            // Two OTLP metrics that translate to one name of different types: the first one wins.
            guard family.type == rendered.type else { continue }
            family.samples[labelText(labels)] = rendered.lines(labels)
            families[rendered.name] = family
        }
        if !targets.isEmpty, families["target_info"] == nil {
            var family = Family(type: "gauge", help: "Target metadata")
            for (key, labels) in targets { family.samples[key] = ["target_info\(labelText(labels)) 1"] }
            families["target_info"] = family
        }
        var out = ""
        for name in families.keys.sorted() {
            let family = families[name]!
            var familyName = name
            var type = family.type
            if format == .openMetrics {
                // OpenMetrics names a counter family without `_total` (its samples keep it), and has an info type.
                if type == "counter", name.hasSuffix("_total") { familyName = String(name.dropLast(6)) }
                if name == "target_info" {
                    familyName = "target"
                    type = "info"
                }
            }
            out += "# HELP \(familyName) \(escapeHelp(family.help))\n"
            out += "# TYPE \(familyName) \(type)\n"
            for key in family.samples.keys.sorted() {
                for line in family.samples[key]! { out += line + "\n" }
            }
        }
        if format == .openMetrics { out += "# EOF\n" }
        return out
    }

    private struct Rendered {
        var name: String
        var type: String
        var help: String
        var lines: ([(String, String)]) -> [String]
    }

    private func render(_ series: MetricSeries) -> Rendered? {
        let help = series.description.isEmpty ? "OTLP metric \(series.name) (sent without a description)" : series.description
        switch series.kind {
        case .gauge, .sum(isMonotonic: false, _):
            let name = PrometheusTranslation.metricName(series.name, unit: series.unit, kind: .gauge, namespace: namespace)
            guard let value = numberValue(series) else { return nil }
            return Rendered(name: name, type: "gauge", help: help) { labels in ["\(name)\(labelText(labels)) \(formatValue(value))"] }
        case .sum(isMonotonic: true, _):
            let name = PrometheusTranslation.metricName(series.name, unit: series.unit, kind: .counter, namespace: namespace)
            guard let value = numberValue(series) else { return nil }
            return Rendered(name: name, type: "counter", help: help) { labels in ["\(name)\(labelText(labels)) \(formatValue(value))"] }
        case .histogram:
            let name = PrometheusTranslation.metricName(series.name, unit: series.unit, kind: .histogram, namespace: namespace)
            guard let point = histogramValue(series) else { return nil }
            return Rendered(name: name, type: "histogram", help: help) { labels in
                var lines: [String] = []
                var cumulative: UInt64 = 0
                for (index, bound) in point.explicitBounds.enumerated() {
                    cumulative = cumulative.saturatingAdding(index < point.bucketCounts.count ? point.bucketCounts[index] : 0)
                    lines.append("\(name)_bucket\(labelText(labels + [("le", formatBound(bound))])) \(cumulative)")
                }
                lines.append("\(name)_bucket\(labelText(labels + [("le", "+Inf")])) \(point.count)")
                lines.append("\(name)_sum\(labelText(labels)) \(formatValue(point.sum ?? 0))")
                lines.append("\(name)_count\(labelText(labels)) \(point.count)")
                return lines
            }
        case .summary:
            let name = PrometheusTranslation.metricName(series.name, unit: series.unit, kind: .summary, namespace: namespace)
            guard case .summary(let point)? = series.points.max(by: { $0.timeUnixNano < $1.timeUnixNano }) else { return nil }
            return Rendered(name: name, type: "summary", help: help) { labels in
                var lines = point.quantiles.sorted { $0.quantile < $1.quantile }.map {
                    "\(name)\(labelText(labels + [("quantile", formatBound($0.quantile))])) \(formatValue($0.value))"
                }
                lines.append("\(name)_sum\(labelText(labels)) \(formatValue(point.sum))")
                lines.append("\(name)_count\(labelText(labels)) \(point.count)")
                return lines
            }
        case .exponentialHistogram:
            return nil
        }
    }

    /// The value to show: the latest point, or for delta sums the sum of every point.
    private func numberValue(_ series: MetricSeries) -> Double? {
        let numbers = series.points.compactMap { point -> NumberPoint? in
            if case .number(let number) = point { return number }
            return nil
        }
        guard !numbers.isEmpty else { return nil }
        if case .sum(_, .delta) = series.kind { return numbers.reduce(0) { $0 + $1.value.doubleValue } }
        return numbers.max { $0.timeUnixNano < $1.timeUnixNano }!.value.doubleValue
    }

    /// The histogram to show: the latest point, or for delta histograms the points added up (while their bounds agree).
    private func histogramValue(_ series: MetricSeries) -> HistogramPoint? {
        let points = series.points.compactMap { point -> HistogramPoint? in
            if case .histogram(let histogram) = point { return histogram }
            return nil
        }
        guard let latest = points.max(by: { $0.timeUnixNano < $1.timeUnixNano }) else { return nil }
        guard case .histogram(.delta) = series.kind else { return latest }
        var total = HistogramPoint(
            timeUnixNano: latest.timeUnixNano,
            count: 0,
            sum: 0,
            explicitBounds: latest.explicitBounds,
            bucketCounts: Array(repeating: 0, count: latest.bucketCounts.count)
        )
        for point in points where point.explicitBounds == latest.explicitBounds && point.bucketCounts.count == total.bucketCounts.count {
            total.count = total.count.saturatingAdding(point.count)
            total.sum = (total.sum ?? 0) + (point.sum ?? 0)
            for index in point.bucketCounts.indices { total.bucketCounts[index] = total.bucketCounts[index].saturatingAdding(point.bucketCounts[index]) }
        }
        return total
    }

    private func seriesLabels(_ series: MetricSeries) -> [(String, String)] {
        PrometheusView.labels(for: series, constantLabels: constantLabels)
    }

    private func targetInfoLabels(_ resource: Resource) -> [(String, String)]? {
        let identifying: Set<String> = ["service.name", "service.namespace", "service.instance.id"]
        let others = resource.attributes.filter { !identifying.contains($0.key) }
        guard !others.isEmpty else { return nil }
        var labels: [String: String] = [:]
        for (key, value) in others { labels[PrometheusTranslation.labelName(key)] = value.description }
        if let job = PrometheusView.jobLabel(resource.attributes) { labels["job"] = job }
        if let instance = resource.attributes.string("service.instance.id") { labels["instance"] = instance }
        for (name, value) in constantLabels where labels[name] == nil { labels[name] = value }
        return labels.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    private func labelText(_ labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        return "{" + labels.map { "\($0.0)=\"\(PromQLFormat.escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    private func escapeHelp(_ help: String) -> String {
        let escaped = help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
        return format == .openMetrics ? escaped.replacingOccurrences(of: "\"", with: "\\\"") : escaped
    }

    private func formatValue(_ value: Double) -> String { PromQLFormat.number(value) }

    private func formatBound(_ value: Double) -> String { PromQLFormat.number(value) }
}

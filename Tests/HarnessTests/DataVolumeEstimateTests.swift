import Foundation
import Harness
import Reporting
import Scenario
import TestSupport
import Testing

/// The data-volume estimate: its arithmetic from measured figures, and a run's `summary.json`, `report.md` and
/// `report.html` carrying it, consistent with the run's own accounting.
@Suite(.serialized) struct DataVolumeEstimateTests {
    /// 10 s of workload: 200 series, 4000 samples, 1000 spans, 50 log records, and bytes per signal.
    static let measured = DataVolumeEstimate.Measured(
        durationSeconds: 10,
        activeSeries: 200,
        samples: 4000,
        spans: 1000,
        logRecords: 50,
        wire: [
            .init(channel: "otlp-grpc", signal: "metrics", requests: 20, bytes: 300_000),
            .init(channel: "otlp-grpc", signal: "traces", requests: 40, bytes: 150_000),
            .init(channel: "otlp-http-protobuf", signal: "traces", requests: 10, bytes: 50_000),
            .init(channel: "elasticsearch", signal: "logs", requests: 5, bytes: 20_000),
        ]
    )

    @Test func ratesScaleWithTrafficAndStorageFollowsTheDocumentedFormulas() throws {
        let estimate = DataVolumeEstimate(
            measured: Self.measured,
            assumptions: EstimateSection(trafficMultiplier: 50, retention: .seconds(15 * 86_400), replicas: 1),
            fromScenario: true
        )
        func row(_ quantity: String) throws -> DataVolumeEstimate.Volume { try #require(estimate.volume.first { $0.quantity == quantity }, "\(quantity)") }
        // Series and samples follow the export interval, not traffic.
        #expect(estimate.activeSeries == 200)
        let samples = try row("samples")
        #expect(!samples.scalesWithTraffic && samples.measured == 4000 && samples.perSecond == 400)
        #expect(samples.perDay == 400 * 86_400 && samples.perMonth == 400 * 86_400 * 30)
        // Spans, log records and their bytes grow 50 times.
        #expect(try row("spans").perSecond == 100 * 50)
        #expect(try row("log records").perSecond == 5 * 50)
        #expect(try row("bytes on the wire (traces)").perSecond == 20_000 * 50, "both trace channels: 200 kB over 10 s")
        #expect(try row("bytes on the wire (logs)").perDay == 2000 * 50 * 86_400)
        let metricBytes = try row("bytes on the wire (metrics)")
        #expect(!metricBytes.scalesWithTraffic && metricBytes.perSecond == 30_000)
        #expect(estimate.measured.wire.map(\.bytesPerSecond) == [30_000, 15_000, 5000, 2000])

        func storage(_ system: String) throws -> Double { try #require(estimate.storage.first { $0.system == system }, "\(system)").bytes }
        // Prometheus: retention_time_seconds × ingested_samples_per_second × 2 bytes.
        #expect(try storage("Prometheus") == 1_296_000 * 400 * 2)
        // Elastic's sizing: bytes per day × days × (replicas + 1) × 1.25.
        #expect(try storage("Jaeger (on Elasticsearch)") == 20_000 * 50 * 86_400 * 15 * 2 * 1.25)
        #expect(try storage("Elasticsearch (logs)") == 2000 * 50 * 86_400 * 15 * 2 * 1.25)
        #expect(estimate.storage.allSatisfy { !$0.source.isEmpty && !$0.method.isEmpty })
        #expect(estimate.assumptions.fromScenario && estimate.assumptions.retentionSeconds == 1_296_000)
    }

    /// With `scrape_interval`, Prometheus ingests every active series once per interval, whatever the exporters did.
    @Test func aScrapeIntervalSetsTheSampleRate() throws {
        let estimate = DataVolumeEstimate(
            measured: Self.measured,
            assumptions: EstimateSection(retention: .seconds(2 * 86_400), scrapeInterval: .seconds(20), replicas: 0),
            fromScenario: true
        )
        let samples = try #require(estimate.volume.first { $0.quantity == "samples" })
        #expect(samples.perSecond == 10, "200 series every 20 s")
        let prometheus = try #require(estimate.storage.first { $0.system == "Prometheus" })
        #expect(prometheus.bytes == 172_800.0 * 10 * 2, "2 days × 10 samples/s × 2 B")
        #expect(estimate.storage.last?.bytes == 2000 * 86_400 * 2 * 1 * 1.25, "no replica: one copy")
    }

    /// A run measuring nothing (no workload time) gives zero rates, not infinities.
    @Test func noDurationGivesZeroRates() {
        var nothing = Self.measured
        nothing.durationSeconds = 0
        let estimate = DataVolumeEstimate(measured: nothing, assumptions: .default, fromScenario: false)
        #expect(estimate.volume.allSatisfy { $0.perSecond == 0 })
        #expect(estimate.storage.allSatisfy { $0.bytes == 0 })
        #expect(estimate.measured.wire.allSatisfy { $0.bytesPerSecond == nil })
    }

    @Test(arguments: [(0.0, "0 B"), (999, "999 B"), (1000, "1 kB"), (1_234_567, "1.23 MB"), (45_600_000_000, "45.6 GB"), (7.89e12, "7.89 TB")])
    func bytesAreWrittenInDecimalUnits(bytes: Double, text: String) {
        #expect(DataVolumeEstimate.decimalBytes(bytes) == text)
    }

    @Test(arguments: [(0.0, "0"), (643, "643"), (6881, "6.88k"), (55_547_176, "55.5M"), (1.67e9, "1.67G"), (0.25, "0.25")])
    func countsAreWrittenWithDecimalSuffixes(count: Double, text: String) {
        #expect(DataVolumeEstimate.decimalCount(count) == text)
    }

    /// A run of the built-in services (exporting over gRPC or HTTP) with `estimate:`: summary.json's estimate
    /// agrees with the run's own accounting, and report.md and report.html carry its tables.
    @Test(arguments: ["grpc", "http"])
    func aRunReportsTheEstimateFromItsOwnAccounting(exporting otlpProtocol: String) async throws {
        try await withTemporaryDirectory { folder in
            let scenarios = repositoryRoot.appendingPathComponent("Scenarios").path
            let scenario = folder.appendingPathComponent("estimate.yaml")
            try """
            name: estimate
            services:
              builtin: {time_scale: 0.001, otlp_protocol: \(otlpProtocol), export_interval: 500ms, config: \(scenarios)/services/cf-core-smoke.yaml}
            intake: {otlp_grpc: 127.0.0.1:0, otlp_http: 127.0.0.1:0}
            workload:
              phases:
                - {name: steady, duration: 2s, arrival: constant, rate: 20}
              requests:
                - {name: create-task, service: tasks, method: POST, path: /tasks, body: '{"title": "t {{counter}}"}'}
                - {name: live, service: tasks, path: /health/live}
            rules:
              accounting: {tolerance: 0}
            settle: {timeout: 15s, quiet: 1s}
            estimate: {traffic_multiplier: 50, retention: 15d}
            """.write(to: scenario, atomically: true, encoding: .utf8)
            let outcome = try await ScenarioRun(scenarioPath: scenario.path, options: .init(reportDirectory: folder.appendingPathComponent("r").path)).run()
            let summary = outcome.summary
            let estimate = try #require(summary.estimate)

            // Consistent with the accounting: counts are the intake's, rates are counts over the workload's time.
            let duration = summary.phases.reduce(0) { $0 + $1.elapsedSeconds }
            #expect(estimate.measured.durationSeconds == duration && duration > 0)
            #expect(estimate.measured.spans == summary.intake.spans && estimate.measured.spans > 0)
            #expect(estimate.activeSeries == summary.cardinality.total && estimate.activeSeries > 0)
            #expect(estimate.measured.samples >= summary.intake.dataPoints, "a histogram point is several samples")
            let spans = try #require(estimate.volume.first { $0.quantity == "spans" })
            #expect(abs(spans.perSecond / 50 * duration - Double(summary.intake.spans)) < 1e-6)
            let channel = otlpProtocol == "grpc" ? "otlp-grpc" : "otlp-http-protobuf"
            for signal in ["traces", "metrics"] {
                let wire = try #require(estimate.measured.wire.first { $0.channel == channel && $0.signal == signal }, "\(signal) over \(channel)")
                let accounted = try #require(summary.intake.channels.first { $0.channel == channel && $0.signal == signal })
                #expect(wire.bytes > 0 && wire.bytes == accounted.wireBytesAccepted && wire.requests == accounted.requestsAccepted)
                // Each request's wire bytes are its body; gRPC adds its 5-byte prefix (swift-otel does not compress).
                #expect(wire.bytes == accounted.bytesAccepted + (otlpProtocol == "grpc" ? 5 * accounted.requestsAccepted : 0))
            }
            #expect(estimate.storage.map(\.system) == ["Prometheus", "Jaeger (on Elasticsearch)", "Elasticsearch (logs)"])
            #expect(try #require(estimate.storage.first).bytes > 0)

            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: outcome.directory + "/summary.json"))) as? [String: Any]
            let written = try #require(json?["estimate"] as? [String: Any])
            #expect((written["assumptions"] as? [String: Any])?["trafficMultiplier"] as? Double == 50)
            #expect((written["storage"] as? [[String: Any]])?.count == 3)
            let markdown = try String(contentsOfFile: outcome.directory + "/report.md", encoding: .utf8)
            #expect(markdown.contains("## Data volume estimate"))
            #expect(markdown.contains("| quantity | measured | per second at 50× | per day | per 30 days |"))
            #expect(markdown.contains("| spans | \(summary.intake.spans) |"))
            #expect(markdown.contains("| Prometheus | \(DataVolumeEstimate.decimalBytes(estimate.storage[0].bytes)) |"))
            let html = try String(contentsOfFile: outcome.directory + "/report.html", encoding: .utf8)
            for id in ["estimate-volume", "estimate-wire", "estimate-storage"] { #expect(html.contains("<table id=\(id)>"), "\(id)") }
            #expect(html.contains("<td>Jaeger (on Elasticsearch)</td>"))
        }
    }
}

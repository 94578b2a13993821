import AsyncHTTPClient
import Foundation
import Intake
import Logging
import Scrape
import ServiceLifecycle
import Telemetry
import TestSupport
import Testing

/// The scraper against real expositions (Debian's Prometheus 2.42 and our own exposition service, in
/// both formats), hand-written bad ones, limits, failures, and its loop as a Service.
@Suite(.serialized) struct PrometheusScraperTests {
    static func scraper(
        _ targets: [PrometheusScraper.Target],
        store: TelemetryStore,
        interval: Duration = .seconds(1),
        timeout: Duration = .seconds(5)
    ) -> PrometheusScraper {
        var logger = Logger(label: "test.scraper")
        logger.logLevel = .critical
        return PrometheusScraper(configuration: .init(interval: interval, timeout: timeout, targets: targets), store: store, logger: logger)
    }

    static func scraped(_ store: TelemetryStore, _ name: String) -> [MetricSeries] {
        store.series.filter { $0.channel == .prometheusScrape && $0.name == name }
    }

    static func lastValue(_ series: MetricSeries?) -> Double? {
        guard case .number(let point)? = series?.points.last else { return nil }
        return point.value.doubleValue
    }

    // MARK: Real expositions

    /// Prometheus' own `/metrics` (text 0.0.4, whatever the Accept header) parses strictly, every sample
    /// is stored, and our lints of it are exactly promtool's.
    @Test func prometheusOwnMetricsParseAndLintAsPromtoolSays() async throws {
        let prometheus = try requirePeer("/usr/bin/prometheus")
        let webPort = try freeLoopbackPort()
        try await withTemporaryDirectory { directory in
            let configFile = directory.appendingPathComponent("prometheus.yml")
            try Data("global:\n  scrape_interval: 1m\n".utf8).write(to: configFile)
            try await withChildProcess(
                prometheus,
                [
                    "--config.file=\(configFile.path)", "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
                    "--web.listen-address=127.0.0.1:\(webPort)", "--log.level=warn",
                ]
            ) { child in
                let store = TelemetryStore()
                let target = PrometheusScraper.Target(url: "http://127.0.0.1:\(webPort)/metrics", job: "prometheus")
                let scraper = Self.scraper([target], store: store)
                var outcome = ScrapeOutcome(target: target)
                let up = await eventually(timeout: .seconds(60)) {
                    outcome = await scraper.scrapeOnce(target)
                    return outcome.up || !child.isRunning
                }
                #expect(up && child.isRunning, "\(outcome.findings) \(child.output)")
                #expect(!outcome.findings.contains { $0.kind == .parse || $0.kind == .format }, "\(outcome.findings)")
                #expect(outcome.samplesScraped > 200)
                // Every sample stored, with job and instance, plus up, scrape_duration_seconds, scrape_samples_scraped.
                let points = store.series.filter { $0.channel == .prometheusScrape }.reduce(0) { $0 + $1.points.count }
                #expect(points == outcome.samplesStored)
                #expect(points >= outcome.samplesScraped + 3)
                let goroutines = Self.scraped(store, "go_goroutines").first
                #expect(goroutines?.key.attributes["job"] == .string("prometheus"))
                #expect(goroutines?.key.attributes["instance"] == .string("127.0.0.1:\(webPort)"))
                #expect(goroutines?.kind == .gauge && goroutines?.key.resource == Resource())
                #expect(Self.scraped(store, "prometheus_tsdb_compaction_duration_seconds_bucket").count > 5)
                #expect(outcome.format == .text, "Prometheus 2.42 answers its own /metrics in text 0.0.4 whatever the Accept header")
                #expect(Self.lastValue(Self.scraped(store, "up").last) == 1)
                #expect(Self.lastValue(Self.scraped(store, "scrape_samples_scraped").last) == Double(outcome.samplesScraped))

                // The same metrics in text 0.0.4: our parser takes them, and our lints are promtool's.
                var request = HTTPClientRequest(url: target.url)
                request.headers.add(name: "Accept", value: "text/plain;version=0.0.4")
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                let text = String(buffer: try await response.body.collect(upTo: 16 << 20))
                let parsed = try ExpositionParser.parse(text, format: .text)
                #expect(parsed.samples.count > 200)
                let ours = Set(ExpositionLint.findings(parsed).compactMap(\.promtoolLine))
                let promtool = Set(try await ExpositionLintTests.promtoolLints(text))
                #expect(ours == promtool, "only ours: \(ours.subtracting(promtool).sorted()), only promtool: \(promtool.subtracting(ours).sorted())")
            }
        }
    }

    /// Our exposition service in both formats: OpenMetrics by the scraper's Accept header, text 0.0.4
    /// when asked; both parse strictly, lint clean, and the scraped samples are the exposed ones.
    @Test func ourExpositionScrapesCleanInBothFormats() async throws {
        try await withSinks { sinks in
            let body: [UInt8] = try SampleMetrics.request().serializedBytes()
            #expect(try await sinks.send(port: sinks.otlpHTTPPort, "/v1/metrics", contentType: "application/x-protobuf", body: body).status == 200)
            let target = PrometheusScraper.Target(url: "http://127.0.0.1:\(sinks.expositionPort)/metrics", job: "self")
            let scraper = Self.scraper([target], store: sinks.store)
            let outcome = await scraper.scrapeOnce(target)
            #expect(outcome.up && outcome.format == .openMetrics)
            #expect(outcome.findings.isEmpty, "\(outcome.findings.map(\.description))")
            let requests = Self.scraped(sinks.store, "http_server_requests_total").first { $0.key.attributes["http_method"] == .string("GET") }
            #expect(Self.lastValue(requests) == 10)
            // The exposition's own job/instance labels are kept as exported_*.
            #expect(requests?.key.attributes["exported_job"] == .string("shop/checkout"))
            #expect(requests?.key.attributes["job"] == .string("self"))
            #expect(!Self.scraped(sinks.store, "http_server_duration_seconds_bucket").isEmpty)

            let text = try await sinks.send(port: sinks.expositionPort, "/metrics", method: .GET, headers: [("Accept", "text/plain;version=0.0.4")])
            let parsed = try ExpositionParser.parse(text.body, format: .text)
            #expect(ExpositionLint.findings(parsed).isEmpty, "\(ExpositionLint.findings(parsed).map(\.description))")
            let openMetrics = try await sinks.send(port: sinks.expositionPort, "/metrics", method: .GET, headers: [("Accept", PrometheusScraper.acceptHeader)])
            let parsedOpenMetrics = try ExpositionParser.parse(openMetrics.body, format: .openMetrics)
            #expect(parsed.samples.count == parsedOpenMetrics.samples.count - parsedOpenMetrics.samples.filter { $0.name.hasSuffix("_created") }.count)
            // Scraped series are not exposed again.
            let again = try await sinks.send(port: sinks.expositionPort, "/metrics", method: .GET)
            #expect(!again.text.contains("scrape_duration_seconds"))
        }
    }

    // MARK: Hand-written targets

    static let badText = CannedAnswer.badExposition

    @Test func findingsNameTheLineAndTheSamplesAreStillStored() async throws {
        try await withExpositionServer(["/metrics": CannedAnswer(body: Self.badText)]) { server in
            let store = TelemetryStore()
            let target = PrometheusScraper.Target(url: server.url("/metrics"), job: "bad")
            let scraper = Self.scraper([target], store: store)
            let outcome = await scraper.scrapeOnce(target)
            #expect(outcome.up && outcome.format == .text)
            let lines = outcome.findings.map(\.description)
            #expect(lines.contains(#"line 1: http_requests counter metrics should have "_total" suffix"#), "\(lines)")
            #expect(lines.contains("line 4: latency_seconds no help text"), "\(lines)")
            #expect(lines.contains { $0.hasPrefix("line 8: ") && $0.contains("latency_seconds_count is 6") }, "\(lines)")
            #expect(Self.lastValue(Self.scraped(store, "http_requests").first) == 7)
            #expect(Self.scraped(store, "latency_seconds_bucket").count == 2)
            // Prometheus' request headers.
            #expect(server.lastHeaders["accept"] == PrometheusScraper.acceptHeader)
            #expect(server.lastHeaders["x-prometheus-scrape-timeout-seconds"] == "5.0")
            let report = scraper.report.targets
            #expect(report.count == 1 && report[0].scrapes == 1 && report[0].failures == 0 && report[0].findings.count == 3)
            // A second scrape adds points, not repeated findings.
            await scraper.scrapeOnce(target)
            #expect(scraper.report.targets[0].scrapes == 2 && scraper.report.targets[0].findings.count == 3)
            #expect(Self.scraped(store, "http_requests").first?.points.count == 2)
        }
    }

    @Test func anUnparseableExpositionFailsTheScrapeWithTheLine() async throws {
        let answers = [
            "/text": CannedAnswer(body: "ok 1\nbroken{a=\"1\" 2\n"),
            "/om": CannedAnswer(contentType: "application/openmetrics-text; version=1.0.0; charset=utf-8", body: "# TYPE a gauge\na 1\n"),
        ]
        try await withExpositionServer(answers) { server in
            let store = TelemetryStore()
            for (path, line, words) in [("/text", 2, "text 0.0.4 parse error: expected , or }"), ("/om", 3, "OpenMetrics 1.0 parse error: missing # EOF")] {
                let target = PrometheusScraper.Target(url: server.url(path), job: path)
                let outcome = await Self.scraper([target], store: store).scrapeOnce(target)
                #expect(!outcome.up)
                let parse = outcome.findings.first { $0.kind == .parse }
                #expect(parse?.line == line && parse?.message.contains(words) == true, "\(outcome.findings)")
            }
            #expect(Self.scraped(store, "ok").isEmpty && Self.scraped(store, "a").isEmpty, "nothing of a failed scrape is stored")
            #expect(Self.scraped(store, "up").allSatisfy { Self.lastValue($0) == 0 })
            #expect(Self.scraped(store, "up").count == 2)
        }
    }

    @Test func sampleAndLabelLimitsFailTheWholeScrapeAsInPrometheus() async throws {
        let text = "# HELP a x\n# TYPE a gauge\na{x=\"1\"} 1\na{x=\"2\"} 2\na{x=\"3\",y=\"1\",z=\"1\"} 3\n"
        try await withExpositionServer(["/metrics": CannedAnswer(body: text)]) { server in
            let cases: [(sample: Int, label: Int, up: Bool, words: String?)] = [
                (3, 6, true, nil),  // exactly at both limits
                (2, 0, false, "sample limit exceeded: the scrape has 3 samples, sample_limit is 2"),
                (0, 5, false, "label_limit exceeded (metric: a, number of labels: 6, limit: 5)"),
            ]
            for limits in cases {
                let store = TelemetryStore()
                let target = PrometheusScraper.Target(url: server.url("/metrics"), job: "limits", sampleLimit: limits.sample, labelLimit: limits.label)
                let outcome = await Self.scraper([target], store: store).scrapeOnce(target)
                #expect(outcome.up == limits.up)
                #expect(Self.lastValue(Self.scraped(store, "up").first) == (limits.up ? 1 : 0))
                #expect(Self.lastValue(Self.scraped(store, "scrape_samples_scraped").first) == 3)
                #expect(Self.scraped(store, "a").count == (limits.up ? 3 : 0))
                if let words = limits.words {
                    let finding = outcome.findings.first { $0.kind == .limit }
                    #expect(finding?.message.contains(words) == true, "\(outcome.findings)")
                    if limits.label > 0 { #expect(finding?.line == 5) }
                } else {
                    #expect(!outcome.findings.contains { $0.kind == .limit })
                }
            }
        }
    }

    @Test func failedScrapesAreFindings() async throws {
        let answers = [
            "/error": CannedAnswer(status: .internalServerError, body: "boom"),
            "/slow": CannedAnswer(body: "a 1\n", delay: .seconds(3)),
            "/json": CannedAnswer(contentType: "application/json", body: "# HELP a x\n# TYPE a gauge\na 1\n"),
        ]
        try await withExpositionServer(answers) { server in
            let store = TelemetryStore()
            let closedPort = try freeLoopbackPort()
            let cases = [
                (server.url("/error"), "answered 500"), (server.url("/slow"), "within the"),
                ("http://127.0.0.1:\(closedPort)/metrics", "refused"),
            ]
            for (url, words) in cases {
                let target = PrometheusScraper.Target(url: url, job: "down")
                let started = ContinuousClock.now
                let outcome = await Self.scraper([target], store: store, timeout: .milliseconds(500)).scrapeOnce(target)
                #expect(ContinuousClock.now - started < .seconds(2), "the timeout bounds the scrape")
                #expect(!outcome.up)
                #expect(
                    outcome.findings.count == 1 && outcome.findings[0].kind == .scrape && outcome.findings[0].message.contains(words),
                    "\(outcome.findings)"
                )
            }
            // A body with another Content-Type is read as text 0.0.4, as Prometheus does, and said so.
            let target = PrometheusScraper.Target(url: server.url("/json"), job: "json")
            let outcome = await Self.scraper([target], store: store).scrapeOnce(target)
            #expect(outcome.up && outcome.format == .text)
            #expect(outcome.findings.map(\.kind) == [.format], "\(outcome.findings)")
        }
    }

    /// As a Service: scrapes at the interval until graceful shutdown, which it honours promptly.
    @Test func theLoopScrapesAtTheIntervalAndStopsOnGracefulShutdown() async throws {
        try await withExpositionServer(["/a": CannedAnswer(body: "# HELP a x\n# TYPE a gauge\na 1\n"), "/b": CannedAnswer(body: Self.badText)]) { server in
            let store = TelemetryStore()
            let targets = [PrometheusScraper.Target(url: server.url("/a"), job: "a"), PrometheusScraper.Target(url: server.url("/b"), job: "b")]
            let scraper = Self.scraper(targets, store: store, interval: .milliseconds(200), timeout: .milliseconds(200))
            var logger = Logger(label: "test.group")
            logger.logLevel = .critical
            let group = ServiceGroup(configuration: .init(services: [scraper], gracefulShutdownSignals: [], logger: logger))
            try await withThrowingTaskGroup { tasks in
                tasks.addTask { try await group.run() }
                try await Task.sleep(for: .milliseconds(1100))
                let stopping = ContinuousClock.now
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                #expect(ContinuousClock.now - stopping < .seconds(1))
            }
            let report = scraper.report.targets
            #expect(report.map(\.scrapes).allSatisfy { (4...7).contains($0) }, "\(report.map(\.scrapes))")
            #expect(report[0].findings.isEmpty && report[1].findings.count == 3)
            #expect((4...7).contains(server.count("/a")))
            let upPoints = Self.scraped(store, "up").map(\.points.count)
            #expect(upPoints.count == 2 && upPoints.allSatisfy { (4...7).contains($0) })
        }
    }
}

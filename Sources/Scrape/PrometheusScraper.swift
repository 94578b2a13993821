import AsyncHTTPClient
import Foundation
import Intake
package import Logging
import NIOCore
import NIOHTTP1
import Scenario
package import ServiceLifecycle
import Synchronization
package import Telemetry

extension IntakeChannel {
    /// Samples scraped from Prometheus targets (``PrometheusScraper``).
    package static let prometheusScrape = IntakeChannel("prometheus-scrape")
}

/// Scrapes Prometheus targets at an interval, as Prometheus does, into the store, and keeps what is
/// wrong with each target's exposition as findings (``ScrapeReport``).
///
/// Every scrape: `GET` with Prometheus' `Accept` header (OpenMetrics 1.0 first, then text 0.0.4), bounded
/// by the timeout; the body is parsed strictly in the format the response's `Content-Type` names (text
/// 0.0.4 for anything that is not OpenMetrics, as Prometheus does) and linted (``ExpositionLint``).
/// `sample_limit` and `label_limit` work as in Prometheus: past either, the whole scrape fails and none
/// of its samples are stored. Like Prometheus, each scrape adds `up` (1 or 0), `scrape_duration_seconds`
/// and `scrape_samples_scraped`, and every sample gets `job` and `instance` (a scraped `job`/`instance`
/// label becomes `exported_job`/`exported_instance`).
///
/// Stored as ``RemoteWriteReceiver`` stores remote-written samples: one ``MetricSeries`` per sample name
/// (`_bucket`, `_sum`, `_count` included) and label set, the labels as string attributes, an empty
/// resource, kind ``MetricKind/gauge``, a ``NumberPoint`` at the sample's own timestamp or else the
/// scrape's start; channel `prometheus-scrape`.
///
/// ```swift
/// let scraper = PrometheusScraper(configuration: .init(targets: [.init(url: "http://127.0.0.1:9100/metrics", job: "node")]), store: store)
/// // run it in a ServiceGroup; after graceful shutdown:
/// for target in scraper.report.targets { print(target.url, target.findings) }
/// ```
package struct PrometheusScraper: Service {
    /// One target.
    package struct Target: Sendable, Hashable {
        /// The exposition URL (`http://host:port/metrics`).
        package var url: String
        /// The `job` label. Default `scrape`.
        package var job: String
        /// Most samples one scrape may have; 0: no limit (Prometheus' default).
        package var sampleLimit: Int
        /// Most labels one sample may have, counting `__name__`, `job` and `instance`; 0: no limit.
        package var labelLimit: Int

        package init(url: String, job: String = "scrape", sampleLimit: Int = 0, labelLimit: Int = 0) {
            self.url = url
            self.job = job
            self.sampleLimit = sampleLimit
            self.labelLimit = labelLimit
        }

        /// `host:port` of the URL (the scheme's port when it names none), as Prometheus' `instance`.
        package var instance: String {
            guard let components = URLComponents(string: url), let host = components.host else { return url }
            let port = components.port ?? (components.scheme == "https" ? 443 : 80)
            return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    /// Scrape settings.
    package struct Configuration: Sendable {
        /// Time between scrapes of a target. Default 15 s.
        package var interval: Duration
        /// How long one scrape may take. Default 10 s.
        package var timeout: Duration
        /// The targets, each scraped in its own loop.
        package var targets: [Target]
        /// The largest body read (after decompression). Default 64 MiB.
        package var maxBodyBytes: Int

        package init(interval: Duration = .seconds(15), timeout: Duration = .seconds(10), targets: [Target], maxBodyBytes: Int = 64 << 20) {
            self.interval = interval
            self.timeout = timeout
            self.targets = targets
            self.maxBodyBytes = maxBodyBytes
        }
    }

    /// What Prometheus 2.x sends.
    package static let acceptHeader = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

    /// Interval, timeout and targets.
    package let configuration: Configuration
    /// Per-target scrape counts and findings, updated after every scrape.
    package let report: ScrapeReport
    let store: TelemetryStore
    let recorder: RecordingWriter?
    let logger: Logger

    /// Creates the scraper; samples go into `store` and, as OTLP gauges, into `recorder` when given.
    package init(configuration: Configuration, store: TelemetryStore, recorder: RecordingWriter? = nil, logger: Logger = Logger(label: "otelbench.scrape")) {
        self.configuration = configuration
        self.store = store
        self.recorder = recorder
        self.logger = logger
        self.report = ScrapeReport(targets: configuration.targets)
    }

    /// Scrapes every target at the interval (the first scrape at once) until graceful shutdown or
    /// cancellation; a scrape under way when shutdown comes is finished.
    package func run() async throws {
        let client = Self.makeClient()
        await withDiscardingTaskGroup { group in
            for target in configuration.targets {
                group.addTask {
                    var next = ContinuousClock.now
                    while !Task.isCancelled && !Task.isShuttingDownGracefully {
                        _ = await scrape(target, client: client)
                        next += configuration.interval
                        let now = ContinuousClock.now
                        // A scrape that overran the interval: the next one starts now, not in a burst.
                        if next < now { next = now }
                        let deadline = next
                        do {
                            try await cancelWhenGracefulShutdown { try await Task.sleep(until: deadline, clock: .continuous) }
                        } catch {
                            break
                        }
                    }
                }
            }
        }
        try? await client.shutdown()
    }

    /// Scrapes `target` once with a client of its own: stores the samples and updates ``report``.
    @discardableResult
    package func scrapeOnce(_ target: Target) async -> ScrapeOutcome {
        let client = Self.makeClient()
        let outcome = await scrape(target, client: client)
        try? await client.shutdown()
        return outcome
    }

    private static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.decompression = .enabled(limit: .ratio(100))
        configuration.redirectConfiguration = .follow(max: 5, allowCycles: false)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    // MARK: One scrape

    func scrape(_ target: Target, client: HTTPClient) async -> ScrapeOutcome {
        let started = ContinuousClock.now
        let startedAt = Date()
        let scrapeMillis = Int64((startedAt.timeIntervalSince1970 * 1000).rounded(.down))
        var outcome = ScrapeOutcome(target: target)

        let fetched: Fetched
        do {
            fetched = try await fetch(target, client: client)
        } catch {
            // Stopped mid-scrape (the run was cancelled): nothing to report about the target.
            if Task.isCancelled { return outcome }
            outcome.findings = [ExpositionFinding(kind: .scrape, message: "scrape of \(target.url) failed: \(error)")]
            finish(&outcome, target: target, started: started, scrapeMillis: scrapeMillis, batch: Batch(), reservedBytes: 0)
            return outcome
        }
        outcome.format = fetched.format
        var findings: [ExpositionFinding] = []
        if let note = fetched.contentTypeNote { findings.append(ExpositionFinding(kind: .format, message: note)) }
        let parsed: ParsedExposition
        do {
            parsed = try ExpositionParser.parse(fetched.body, format: fetched.format)
        } catch {
            findings.append(ExpositionFinding(kind: .parse, line: error.line, message: "\(fetched.format.name) parse error: \(error.message)"))
            outcome.findings = findings
            finish(&outcome, target: target, started: started, scrapeMillis: scrapeMillis, batch: Batch(), reservedBytes: 0)
            return outcome
        }
        findings += ExpositionLint.findings(parsed)
        let samples = parsed.samples
        outcome.samplesScraped = samples.count

        // Limits, as Prometheus applies them: past either, the whole scrape fails.
        if target.sampleLimit > 0, samples.count > target.sampleLimit {
            findings.append(
                ExpositionFinding(
                    kind: .limit,
                    message:
                        "sample limit exceeded: the scrape has \(samples.count) samples, sample_limit is \(target.sampleLimit) (the scrape failed; nothing stored)"
                )
            )
            outcome.findings = findings
            finish(&outcome, target: target, started: started, scrapeMillis: scrapeMillis, batch: Batch(), reservedBytes: 0)
            return outcome
        }
        if target.labelLimit > 0 {
            for sample in samples {
                // Counted once the target's labels are added: the sample's (a job or instance of its own
                // renamed to exported_*), __name__, job and instance.
                let count = sample.labels.count + 3
                if count > target.labelLimit {
                    findings.append(
                        ExpositionFinding(
                            kind: .limit,
                            line: sample.line,
                            metric: sample.name,
                            message:
                                "label_limit exceeded (metric: \(sample.name), number of labels: \(count), limit: \(target.labelLimit)): the scrape failed; nothing stored"
                        )
                    )
                    outcome.findings = findings
                    finish(&outcome, target: target, started: started, scrapeMillis: scrapeMillis, batch: Batch(), reservedBytes: 0)
                    return outcome
                }
            }
        }

        var batch = Batch()
        var index: [SeriesKey: Int] = [:]
        for sample in samples {
            let millis = sample.timestampMilliseconds ?? scrapeMillis
            let (nanos, overflow) = millis.multipliedReportingOverflow(by: 1_000_000)
            guard millis >= 0, !overflow else {
                findings.append(
                    ExpositionFinding(
                        kind: .format,
                        line: sample.line,
                        metric: sample.name,
                        message: "timestamp \(millis) ms of \(sample.name) is outside 1970...2262: sample not stored"
                    )
                )
                continue
            }
            var attributes: Attributes = [:]
            for label in sample.labels {
                let name = label.name == "job" || label.name == "instance" ? "exported_" + label.name : label.name
                attributes[name] = .string(label.value)
            }
            attributes["job"] = .string(target.job)
            attributes["instance"] = .string(target.instance)
            let point = MetricPoint.number(NumberPoint(timeUnixNano: UInt64(nanos), value: .double(sample.value)))
            let key = SeriesKey(metricName: sample.name, attributes: attributes, resource: Resource())
            if let existing = index[key] {
                batch.series[existing].points.append(point)
            } else {
                index[key] = batch.series.count
                batch.series.append(MetricSeries(key: key, kind: .gauge, points: [point], channel: .prometheusScrape))
            }
        }
        guard store.reserve(bytes: fetched.body.count) else {
            findings.append(ExpositionFinding(kind: .scrape, message: "the store is over its memory limit: scrape of \(target.url) not stored"))
            outcome.findings = findings
            finish(&outcome, target: target, started: started, scrapeMillis: scrapeMillis, batch: Batch(), reservedBytes: 0)
            return outcome
        }
        outcome.up = true
        outcome.findings = findings
        finish(&outcome, target: target, started: started, scrapeMillis: scrapeMillis, batch: batch, reservedBytes: fetched.body.count)
        return outcome
    }

    /// Adds the scrape's own series (`up`, `scrape_duration_seconds`, `scrape_samples_scraped`), stores,
    /// records and reports.
    private func finish(
        _ outcome: inout ScrapeOutcome,
        target: Target,
        started: ContinuousClock.Instant,
        scrapeMillis: Int64,
        batch: Batch,
        reservedBytes: Int
    ) {
        var batch = batch
        let elapsed = ContinuousClock.now - started
        outcome.duration = elapsed
        let seconds = elapsed.inSeconds
        let time = UInt64(max(0, scrapeMillis)) * 1_000_000
        let attributes: Attributes = ["job": .string(target.job), "instance": .string(target.instance)]
        for (name, value) in [("up", outcome.up ? 1.0 : 0.0), ("scrape_duration_seconds", seconds), ("scrape_samples_scraped", Double(outcome.samplesScraped))]
        {
            batch.series.append(
                MetricSeries(
                    key: SeriesKey(metricName: name, attributes: attributes, resource: Resource()),
                    kind: .gauge,
                    points: [.number(NumberPoint(timeUnixNano: time, value: .double(value)))],
                    channel: .prometheusScrape
                )
            )
        }
        store.store(batch, channel: .prometheusScrape, signal: .metrics, rejectedItems: 0, reservedBytes: reservedBytes)
        if let problem = SinkRecording.record(batch, to: recorder) { logger.error("\(problem)") }
        outcome.samplesStored = batch.itemCount
        report.add(outcome)
    }

    private struct Fetched {
        var body: [UInt8]
        var format: ExpositionFormat
        var contentTypeNote: String?
    }

    private struct ScrapeFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// One GET of `url` as a scrape makes it (Prometheus' `Accept` header, gzip, bounded by `timeout`):
    /// the body, the format its `Content-Type` names (text 0.0.4 for anything not OpenMetrics, as
    /// Prometheus reads it) and, when the type is neither format, a note saying so.
    ///
    /// - Throws: an error naming the URL when there is no `200` answer with a body within the timeout.
    package static func fetchExposition(
        url: String,
        timeout: Duration = .seconds(10),
        maxBodyBytes: Int = 64 << 20
    ) async throws -> (body: [UInt8], format: ExpositionFormat, note: String?) {
        let client = makeClient()
        do {
            let fetched = try await fetch(url: url, client: client, timeout: timeout, maxBodyBytes: maxBodyBytes)
            try? await client.shutdown()
            return (fetched.body, fetched.format, fetched.contentTypeNote)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// GET with Prometheus' headers, the whole exchange bounded by the timeout.
    private func fetch(_ target: Target, client: HTTPClient) async throws -> Fetched {
        try await Self.fetch(url: target.url, client: client, timeout: configuration.timeout, maxBodyBytes: configuration.maxBodyBytes)
    }

    private static func fetch(url: String, client: HTTPClient, timeout: Duration, maxBodyBytes: Int) async throws -> Fetched {
        try await withThrowingTaskGroup(of: Fetched?.self) { group in
            group.addTask {
                var request = HTTPClientRequest(url: url)
                request.method = .GET
                request.headers.add(name: "Accept", value: Self.acceptHeader)
                request.headers.add(name: "Accept-Encoding", value: "gzip")
                request.headers.add(name: "User-Agent", value: "otelbench-scraper")
                // At most a day: the header and the client's deadline need a number that fits.
                let seconds = min(86_400, timeout.inSeconds)
                request.headers.add(name: "X-Prometheus-Scrape-Timeout-Seconds", value: String(seconds))
                // The client's deadline ends the scrape at the timeout (and names a refused connection as
                // such, where a plain race would only say "timed out"); the race below is the backstop.
                let response: HTTPClientResponse
                do {
                    response = try await client.execute(request, timeout: .nanoseconds(Int64(seconds * 1e9)))
                } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
                    throw ScrapeFailure(description: "no complete answer from \(url) within the \(timeout) scrape timeout")
                }
                guard response.status == .ok else {
                    throw ScrapeFailure(description: "GET \(url) answered \(response.status.code) \(response.status.reasonPhrase), not 200")
                }
                let body: ByteBuffer
                do {
                    body = try await response.body.collect(upTo: maxBodyBytes)
                } catch is NIOTooManyBytesError {
                    throw ScrapeFailure(description: "the body of \(url) is over \(maxBodyBytes) bytes")
                }
                let contentType = response.headers.first(name: "Content-Type")
                let mediaType = HTTPSink.mediaType(contentType)
                var note: String?
                let format: ExpositionFormat
                switch mediaType {
                case "application/openmetrics-text": format = .openMetrics
                case "text/plain": format = .text
                default:
                    format = .text
                    note =
                        "Content-Type \(contentType ?? "missing") is not an exposition format (text/plain; version=0.0.4 or application/openmetrics-text): read as text 0.0.4, as Prometheus does"
                }
                return Fetched(body: Array(buffer: body), format: format, contentTypeNote: note)
            }
            group.addTask {
                try? await Task.sleep(for: timeout + .seconds(1))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let fetched = first else {
                throw ScrapeFailure(description: "no complete answer from \(url) within the \(timeout) scrape timeout")
            }
            return fetched
        }
    }
}

extension ExpositionFormat {
    /// `text 0.0.4` or `OpenMetrics 1.0`.
    package var name: String {
        switch self {
        case .text: "text 0.0.4"
        case .openMetrics: "OpenMetrics 1.0"
        }
    }
}

/// What one scrape did.
package struct ScrapeOutcome: Sendable {
    /// The target scraped.
    package var target: PrometheusScraper.Target
    /// Whether the scrape succeeded (Prometheus' `up`).
    package var up = false
    /// The format the response was parsed in, once there was a response.
    package var format: ExpositionFormat?
    /// Samples in the exposition (also when a limit failed the scrape).
    package var samplesScraped = 0
    /// Points stored, the scrape's own series included.
    package var samplesStored = 0
    /// How long the scrape took.
    package var duration: Duration = .zero
    /// Everything wrong with this scrape.
    package var findings: [ExpositionFinding] = []

    package init(target: PrometheusScraper.Target) { self.target = target }
}

/// Per-target results of a scraper, safe to read while it runs.
package final class ScrapeReport: Sendable {
    /// One target's scrapes so far.
    package struct TargetStatus: Sendable {
        /// The target.
        package var target: PrometheusScraper.Target
        /// Its URL.
        package var url: String { target.url }
        /// Scrapes so far, failed ones included.
        package var scrapes = 0
        /// Scrapes that failed (`up` 0).
        package var failures = 0
        /// Distinct findings over every scrape, first seen first (at most ``ScrapeReport/maxFindings``).
        package var findings: [ExpositionFinding] = []
        /// Findings left out past the cap.
        package var findingsOmitted = 0
        /// The format of the last response.
        package var lastFormat: ExpositionFormat?
    }

    /// Most distinct findings kept per target.
    package static let maxFindings = 500

    private struct State {
        var targets: [TargetStatus]
        var seen: [Set<ExpositionFinding>]
    }

    private let state: Mutex<State>

    init(targets: [PrometheusScraper.Target]) {
        state = Mutex(State(targets: targets.map { TargetStatus(target: $0) }, seen: targets.map { _ in [] }))
    }

    /// Every target, in configuration order.
    package var targets: [TargetStatus] { state.withLock { $0.targets } }

    func add(_ outcome: ScrapeOutcome) {
        state.withLock { state in
            guard let index = state.targets.firstIndex(where: { $0.target == outcome.target }) else { return }
            state.targets[index].scrapes += 1
            if !outcome.up { state.targets[index].failures += 1 }
            if let format = outcome.format { state.targets[index].lastFormat = format }
            for finding in outcome.findings where state.seen[index].insert(finding).inserted {
                if state.targets[index].findings.count < Self.maxFindings {
                    state.targets[index].findings.append(finding)
                } else {
                    state.targets[index].findingsOmitted += 1
                }
            }
        }
    }
}

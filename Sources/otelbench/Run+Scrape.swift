import Checks
import Intake
import Logging
import ServiceLifecycle
import Telemetry
import Workload

/// `run`'s Prometheus scraping: the scenario's `scrape:` targets, scraped while the workload runs and
/// the telemetry settles, their findings handed to the exposition rules.
extension Run {
    /// The scraper for the scenario's targets, or `nil` when it names none.
    static func makeScraper(_ section: ScrapeSection, store: TelemetryStore, recorder: RecordingWriter?, logger: Logger) -> PrometheusScraper? {
        guard !section.targets.isEmpty else { return nil }
        let targets = section.targets.map {
            PrometheusScraper.Target(url: $0.url, job: $0.job, sampleLimit: $0.sampleLimit, labelLimit: $0.labelLimit)
        }
        return PrometheusScraper(
            configuration: .init(interval: section.interval, timeout: section.timeout, targets: targets), store: store, recorder: recorder, logger: logger
        )
    }

    /// Runs `body` with `scraper` scraping in the background; stops it (letting a scrape under way
    /// finish) once `body` returns or throws.
    static func whileScraping<T: Sendable>(
        _ scraper: PrometheusScraper?, logger: Logger, _ body: () async throws -> T
    ) async throws -> T {
        guard let scraper else { return try await body() }
        let group = ServiceGroup(configuration: .init(services: [scraper], gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { tasks in
            tasks.addTask { try await group.run() }
            let result: T
            do {
                result = try await body()
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }

    /// The scraper's per-target results, for ``ExpositionCheck``.
    static func scrapedTargets(_ scraper: PrometheusScraper?) -> [ScrapedTarget] {
        guard let scraper else { return [] }
        return scraper.report.targets.map { status in
            ScrapedTarget(
                url: status.url, job: status.target.job, scrapes: status.scrapes, failedScrapes: status.failures,
                format: status.lastFormat?.name, findings: status.findings.map { "\($0.kind.rawValue): \($0)" },
                findingsOmitted: status.findingsOmitted
            )
        }
    }
}

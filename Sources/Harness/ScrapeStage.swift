import Checks
import Logging
import Scenario
import Scrape
import ServiceLifecycle
import Telemetry

/// The run's Prometheus scraping: the scenario's `scrape:` targets, scraped while the workload runs and the
/// telemetry settles, their findings handed to the exposition rules.
struct ScrapeStage {
    private let scraper: PrometheusScraper?

    init(_ section: ScrapeSection, store: TelemetryStore, recorder: RecordingWriter?, logger: Logger) {
        guard !section.targets.isEmpty else {
            scraper = nil
            return
        }
        let targets = section.targets.map {
            PrometheusScraper.Target(url: $0.url, job: $0.job, sampleLimit: $0.sampleLimit, labelLimit: $0.labelLimit)
        }
        scraper = PrometheusScraper(
            configuration: .init(interval: section.interval, timeout: section.timeout, targets: targets),
            store: store,
            recorder: recorder,
            logger: logger
        )
    }

    /// The scraper, when the scenario names targets.
    var services: [any Service] { scraper.map { [$0] } ?? [] }

    /// Each target's results so far, for ``ExpositionCheck``.
    var results: [ScrapedTarget] {
        guard let scraper else { return [] }
        return scraper.report.targets.map { status in
            ScrapedTarget(
                url: status.url,
                job: status.target.job,
                scrapes: status.scrapes,
                failedScrapes: status.failures,
                format: status.lastFormat?.name,
                findings: status.findings.map { "\($0.kind.rawValue): \($0)" },
                findingsOmitted: status.findingsOmitted
            )
        }
    }
}

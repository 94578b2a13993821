package import PromQL
package import Telemetry
package import Workload

/// What a run produced, for the checks: everything received, and what the driver did (if it ran).
package struct RunData: Sendable {
    package var store: TelemetryStore
    package var driver: DriverReport?
    /// The received metrics as Prometheus holds them, for `expr:` SLOs and alerting rules: converted on
    /// first use (a scenario without them pays nothing) and shared by every rule while the store is unchanged.
    package var prometheus: PromQLEngine { engines.engine() }
    private let engines: PromQLEngineCache
    /// The scraped Prometheus targets and what was wrong with their expositions (empty without `scrape:`).
    package var scrapedTargets: [ScrapedTarget] = []

    package init(store: TelemetryStore, driver: DriverReport?, scrapedTargets: [ScrapedTarget] = []) {
        self.store = store
        self.driver = driver
        self.scrapedTargets = scrapedTargets
        engines = PromQLEngineCache(store: store)
    }
}

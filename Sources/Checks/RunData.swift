package import PromQL
package import Telemetry
package import Workload

/// What a run produced, for the checks: what the intake kept, what the driver did (if it ran), and the ledger
/// that joined the driver's requests with their spans as they arrived.
package struct RunData: Sendable {
    package var store: TelemetryStore
    package var driver: DriverReport?
    /// The driver's requests judged trace by trace (nil when no workload ran).
    package var requests: RequestLedger?
    /// The received metrics as Prometheus holds them, for `expr:` SLOs and alerting rules: converted on
    /// first use (a scenario without them pays nothing) and shared by every rule while the store is unchanged.
    package var prometheus: PromQLEngine { engines.engine() }
    private let engines: PromQLEngineCache
    /// The scraped Prometheus targets and what was wrong with their expositions (empty without `scrape:`).
    package var scrapedTargets: [ScrapedTarget] = []
    /// What each process under test used, by its name (empty without `services.processes`, or over a recording).
    package var processResources: [String: ProcessResourceUsage] = [:]

    package init(store: TelemetryStore, driver: DriverReport?, requests: RequestLedger? = nil, scrapedTargets: [ScrapedTarget] = []) {
        self.store = store
        self.driver = driver
        self.requests = requests
        self.scrapedTargets = scrapedTargets
        engines = PromQLEngineCache(store: store)
    }
}

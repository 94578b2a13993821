public import PromQL
public import Telemetry
public import Workload

/// What a run produced, for the checks: everything received, and what the driver did (if it ran).
public struct RunData: Sendable {
    public var store: TelemetryStore
    public var driver: DriverReport?
    /// The received metrics as Prometheus holds them, for `expr:` SLOs and alerting rules: converted on
    /// first use (a scenario without them pays nothing) and shared by every rule while the store is unchanged.
    public var prometheus: PromQLEngine { engines.engine() }
    private let engines: PromQLEngineCache
    /// The scraped Prometheus targets and what was wrong with their expositions (empty without `scrape:`).
    public var scrapedTargets: [ScrapedTarget] = []

    public init(store: TelemetryStore, driver: DriverReport?, scrapedTargets: [ScrapedTarget] = []) {
        self.store = store
        self.driver = driver
        self.scrapedTargets = scrapedTargets
        engines = PromQLEngineCache(store: store)
    }
}

public import PromQL
public import Telemetry
public import Workload

/// What a run produced, for the checks: everything received, and what the driver did (if it ran).
public struct RunData: Sendable {
    public var store: TelemetryStore
    public var driver: DriverReport?
    /// The received metrics as Prometheus holds them, for `expr:` SLOs and alerting rules (built once).
    public let prometheus: PromQLEngine

    public init(store: TelemetryStore, driver: DriverReport?) {
        self.store = store
        self.driver = driver
        prometheus = PromQLEngine(store: store)
    }
}

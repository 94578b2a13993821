public import Telemetry
public import Workload

/// What a run produced, for the checks: everything received, and what the driver did (if it ran).
public struct RunData: Sendable {
    public var store: TelemetryStore
    public var driver: DriverReport?

    public init(store: TelemetryStore, driver: DriverReport?) {
        self.store = store
        self.driver = driver
    }
}

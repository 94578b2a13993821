import Synchronization
package import Telemetry

/// The PromQL engine over a store's metrics, converted once and rebuilt only when the store has new points.
///
/// Converting every series to Prometheus samples (``PrometheusView``) and indexing them costs far more than
/// most queries; the query API asks for an engine on every request and gets the same one until the
/// store's ``TelemetryStore/metricsGeneration`` moves.
///
/// ```swift
/// let engines = PromQLEngineCache(store: store)
/// let value = try engines.engine().instantQuery(expression, at: now)
/// ```
package final class PromQLEngineCache: Sendable {
    private let store: TelemetryStore
    private let cached = Mutex<(generation: UInt64, engine: PromQLEngine)?>(nil)

    /// A cache over `store`; nothing is converted until the first ``engine()``.
    package init(store: TelemetryStore) { self.store = store }

    /// An engine over everything the store holds now: the cached one while the store is unchanged, else a
    /// fresh conversion (which then replaces the cached one).
    package func engine() -> PromQLEngine {
        let generation = store.metricsGeneration
        if let hit = cached.withLock({ $0 }), hit.generation == generation { return hit.engine }
        // Converted outside the lock: no request waits on another's conversion; two racing requests may
        // both convert, and the newer snapshot wins.
        let (snapshotGeneration, series) = store.seriesSnapshot
        let engine = PromQLEngine(sortedSeries: PrometheusView.series(from: series))
        cached.withLock { current in
            if current.map({ $0.generation < snapshotGeneration }) ?? true { current = (snapshotGeneration, engine) }
        }
        return engine
    }
}

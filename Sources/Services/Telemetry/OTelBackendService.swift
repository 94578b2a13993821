import ServiceLifecycle
import Synchronization

/// Runs one of swift-otel's background services (the nested ServiceGroup that `OTel.makeTracingBackend` or
/// `OTel.makeMetricsBackend` returns), tolerating a shutdown race in swift-otel 1.6.0.
///
/// In that nested group the batch span processor (or the metrics reader) shuts its exporter down itself, right
/// after its final flush. The exporter then finishes while the group is still waiting for the processor, and
/// ServiceLifecycle reports `serviceFinishedUnexpectedly` (seen here once in three full test runs). The flush
/// has already happened by then, so this wrapper accepts exactly that error, and only once graceful shutdown has
/// begun; anything else is rethrown. Without it, one backend's spurious error would cancel the other backends
/// before they flush.
struct OTelBackendService: Service {
    let base: any Service

    func run() async throws {
        let shuttingDown = Mutex(false)
        do {
            try await withGracefulShutdownHandler {
                try await base.run()
            } onGracefulShutdown: {
                shuttingDown.withLock { $0 = true }
            }
        } catch let error as ServiceGroupError
            where error.errorCode == .serviceFinishedUnexpectedly && shuttingDown.withLock({ $0 })
        {
            return
        }
    }
}

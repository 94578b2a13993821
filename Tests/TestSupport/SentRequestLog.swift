import Synchronization
package import Workload

/// Every request a driver sent, kept in memory for a test to look at one by one (the driver itself keeps none).
package final class SentRequestLog: RequestObserver {
    private let requests = Mutex<[SentRequest]>([])
    private let sendings = Mutex(0)

    package init() {}

    package func sending(_ context: SentTraceContext, name: String) { sendings.withLock { $0 += 1 } }

    package func completed(_ request: SentRequest) { requests.withLock { $0.append(request) } }

    /// The requests that ended, in intended order.
    package var sent: [SentRequest] { requests.withLock { $0 }.sorted { $0.intendedOffsetSeconds < $1.intendedOffsetSeconds } }

    /// How many times the driver said it was sending.
    package var sendingCount: Int { sendings.withLock { $0 } }
}

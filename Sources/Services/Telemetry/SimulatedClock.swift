import Foundation
import Synchronization
package import Tracing

/// Scaled time for one request: long operations sleep a fraction of their simulated length while spans and
/// metrics record the full simulated length.
///
/// ## The exact relation
/// Each latency drawn from a ``LatencyModel`` is a simulated duration `L`. The service sleeps `L × timeScale` of
/// wall time and then advances the request's *skew* by `L − w`, where `w` is the wall time the sleep really took.
/// The request's simulated now is `wall now + skew`, and every span timestamp and every recorded duration is
/// taken on that clock. Hence, for any operation:
///
///     recorded duration = wall duration − Σ wᵢ + Σ Lᵢ
///
/// over the simulated sleeps `i` inside it: real work (parsing, HTTP, file writes) counts at wall speed and each
/// simulated latency counts exactly as drawn. With the default `timeScale` 0.001 a drawn 180 s rollback sleeps
/// 180 ms and is recorded as 180 s (plus the few real milliseconds of work around it).
///
/// The skew travels with outgoing calls in the `otelbench-simulated-skew` header (nanoseconds) and comes back in
/// the response's header of the same name, so a callee's spans start after, and end before, the caller's client
/// span, and the caller's clock includes the callee's simulated time. Requests without the header (from any
/// other client) start with skew 0, i.e. at the real wall-clock time.
package final class RequestTimeline: Sendable {
    /// The header that carries the skew between the built-in services.
    package static let skewHeader = "otelbench-simulated-skew"

    private let skewNanos: Mutex<Int64>

    /// Creates a timeline that starts `skewNanos` ahead of the wall clock.
    package init(skewNanos: Int64 = 0) { self.skewNanos = Mutex(max(0, skewNanos)) }

    /// The timeline of the request being handled (a fresh one outside any request).
    @TaskLocal package static var current = RequestTimeline()

    /// The skew: how far simulated time is ahead of wall time, in nanoseconds.
    package var skew: Int64 { skewNanos.withLock { $0 } }

    /// Adopts a later skew reported by a callee (never moves backwards).
    package func advance(toSkew newSkew: Int64) {
        skewNanos.withLock { $0 = max($0, newSkew) }
    }

    /// Simulated now.
    package func now() -> SimulatedInstant {
        SimulatedInstant(nanosecondsSinceEpoch: UInt64(max(0, Self.wallNanos() + skew)))
    }

    /// Spends `simulatedSeconds` of simulated time: sleeps `simulatedSeconds × timeScale` of wall time and
    /// advances the skew by the rest.
    package func spend(simulatedSeconds: Double, timeScale: Double) async throws {
        guard simulatedSeconds > 0 else { return }
        let wallStart = Self.wallNanos()
        let sleepNanos = Int64((simulatedSeconds * timeScale * 1e9).rounded())
        if sleepNanos > 0 { try await Task.sleep(for: .nanoseconds(sleepNanos)) }
        let slept = Self.wallNanos() - wallStart
        let simulated = Int64((simulatedSeconds * 1e9).rounded())
        skewNanos.withLock { $0 += max(0, simulated - slept) }
    }

    static func wallNanos() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}

/// A point on a request's simulated clock, usable as a span timestamp.
package struct SimulatedInstant: TracerInstant {
    /// Nanoseconds since the Unix epoch.
    package var nanosecondsSinceEpoch: UInt64

    /// Creates an instant.
    package init(nanosecondsSinceEpoch: UInt64) { self.nanosecondsSinceEpoch = nanosecondsSinceEpoch }

    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch }

    /// Seconds from `earlier` to this instant.
    package func seconds(since earlier: SimulatedInstant) -> Double {
        Double(Int64(bitPattern: nanosecondsSinceEpoch &- earlier.nanosecondsSinceEpoch)) / 1e9
    }
}

import Synchronization

/// Client latency percentiles over the run, per request name: one point per window (a second, or longer for
/// runs over ``maximumWindows`` seconds), as k6's and Gatling's reports show them.
///
/// A request counts in the window its answer (or its failure) was recorded in, as k6 stamps a sample; its
/// latency is from the intended send time, as everywhere else. Each window's percentiles are exact within the
/// HDR histogram's precision: the window's latencies are recorded in one histogram per request name, folded
/// into a point when the window closes, and the histogram is reused for the next.
package struct LatencyOverTime: Sendable, Codable, Hashable {
    /// One window of one request name: what completed in `[second, second + windowSeconds)` of the run.
    package struct Point: Sendable, Codable, Hashable {
        /// The window's start, in whole seconds from the run's start.
        package var second: Int
        /// Requests recorded in the window.
        package var count: Int
        /// Latency percentiles in milliseconds.
        package var p50: Double
        package var p90: Double
        package var p99: Double

        package init(second: Int, count: Int, p50: Double, p90: Double, p99: Double) {
            self.second = second
            self.count = count
            self.p50 = p50
            self.p90 = p90
            self.p99 = p99
        }
    }

    /// Most windows a run is cut into: an hour of seconds. A longer run's windows are wider (``windowSeconds``),
    /// so memory and the report stay bounded.
    package static let maximumWindows = 3600

    /// Each point's width in seconds: 1, or more for a run planned longer than ``maximumWindows`` seconds.
    package var windowSeconds: Int
    /// Per request name, the windows in which at least one of its requests was recorded, oldest first.
    package var requests: [String: [Point]]

    package init(windowSeconds: Int = 1, requests: [String: [Point]] = [:]) {
        self.windowSeconds = windowSeconds
        self.requests = requests
    }

    /// The window width for a run planned to last `planned`: whole seconds, at most ``maximumWindows`` windows.
    package static func windowSeconds(forPlanned planned: Duration) -> Int {
        let seconds = Double(planned.components.seconds) + Double(planned.components.attoseconds) / 1e18
        return max(1, Int((seconds / Double(maximumWindows)).rounded(.up)))
    }

    /// Shards' series as one: a window's counts add up; its percentiles are the highest any shard measured (an
    /// upper bound: percentiles of separate histograms cannot be combined exactly once folded).
    package static func merging(_ parts: [LatencyOverTime]) -> LatencyOverTime {
        var merged = LatencyOverTime(windowSeconds: parts.map(\.windowSeconds).max() ?? 1)
        var byWindow: [String: [Int: Point]] = [:]
        for part in parts {
            for (name, points) in part.requests {
                for point in points {
                    guard let existing = byWindow[name]?[point.second] else {
                        byWindow[name, default: [:]][point.second] = point
                        continue
                    }
                    byWindow[name]![point.second] = Point(
                        second: point.second,
                        count: existing.count + point.count,
                        p50: max(existing.p50, point.p50),
                        p90: max(existing.p90, point.p90),
                        p99: max(existing.p99, point.p99)
                    )
                }
            }
        }
        merged.requests = byWindow.mapValues { $0.values.sorted { $0.second < $1.second } }
        return merged
    }
}

/// Records latencies into the current window of ``LatencyOverTime`` from the driver's workers, concurrently.
///
/// The window is read from the clock under the lock, so windows only move forward: when a record falls in a
/// later window, every open histogram is folded into a point and reset. Memory is one histogram per request
/// name plus the points, whatever the run's length.
package final class LatencyTimeline: Sendable {
    private struct State {
        var window = 0
        var open: [String: LatencyRecorder] = [:]
        var folded = LatencyOverTime()
    }

    private let start: ContinuousClock.Instant
    private let windowSeconds: Int
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state: Mutex<State>

    /// - Parameters:
    ///   - start: the run's start, second 0.
    ///   - windowSeconds: each point's width (``LatencyOverTime/windowSeconds(forPlanned:)``).
    ///   - now: the clock a record is placed by (tests pass their own).
    package init(
        start: ContinuousClock.Instant,
        windowSeconds: Int,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.start = start
        self.windowSeconds = max(1, windowSeconds)
        self.now = now
        state = Mutex(State(folded: LatencyOverTime(windowSeconds: max(1, windowSeconds))))
    }

    /// Records one request of `name` that took `latency`, in the window of now.
    package func record(_ name: String, latency: Duration) {
        state.withLock { state in
            let window = Int(max(.zero, now() - start).components.seconds) / windowSeconds
            if window > state.window {
                Self.fold(&state)
                state.window = window
            }
            state.open[name, default: LatencyRecorder()].record(latency)
        }
    }

    /// Every window so far, the current one folded too.
    package func finish() -> LatencyOverTime {
        state.withLock { state in
            Self.fold(&state)
            return state.folded
        }
    }

    private static func fold(_ state: inout State) {
        let second = state.window * state.folded.windowSeconds
        for name in state.open.keys.sorted() {
            // The point is taken from a borrowed histogram, so that resetting it in place copies nothing.
            guard let point = state.open[name].flatMap({ Self.point(of: $0, second: second) }) else { continue }
            state.folded.requests[name, default: []].append(point)
            state.open[name]?.reset()
        }
    }

    private static func point(of recorder: LatencyRecorder, second: Int) -> LatencyOverTime.Point? {
        guard recorder.count > 0 else { return nil }
        return LatencyOverTime.Point(
            second: second,
            count: Int(recorder.count),
            p50: recorder.milliseconds(atPercentile: 50),
            p90: recorder.milliseconds(atPercentile: 90),
            p99: recorder.milliseconds(atPercentile: 99)
        )
    }
}

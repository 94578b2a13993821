package import Scenario
import Synchronization

/// Everything received, indexed for the checks: spans by trace id, series by key, log records,
/// and per-channel accounting.
///
/// Thread-safe; every intake writes into one store. The memory limit is applied to the bytes of
/// accepted request bodies (after decompression), which the receivers reserve before decoding.
///
/// ```swift
/// let store = TelemetryStore()
/// let outcome = store.ingest(traces: request, channel: .otlpGRPC, bodyBytes: 4096)
/// print(store.spans(inTrace: someTraceID).count)
/// ```
package final class TelemetryStore: Sendable {
    /// Limits the store enforces.
    package struct Limits: Sendable, Hashable {
        /// Stop accepting once accepted request bytes reach this; `nil` means no limit.
        /// Default 1 GiB (`--memory-limit`).
        package var maxStoredBytes: Int?

        package init(maxStoredBytes: Int? = 1 << 30) { self.maxStoredBytes = maxStoredBytes }

        /// 1 GiB of accepted request bytes.
        package static let `default` = Limits()
    }

    struct State {
        var spans: [Span] = []
        var spanIndexByTrace: [TraceID: [Int]] = [:]
        var series: [MetricSeries] = []
        var seriesIndexByKey: [SeriesKey: Int] = [:]
        /// Bumped by every write that brings metric points, so readers can cache views of `series`.
        var metricsGeneration: UInt64 = 0
        var logs: [LogRecord] = []
        var counts: [ChannelSignal: IntakeCounts] = [:]
        var storedBytes = 0
        var reservedBytes = 0
    }

    struct ChannelSignal: Hashable {
        var channel: IntakeChannel
        var signal: Signal
    }

    /// The limits in force.
    package let limits: Limits
    private let state = Mutex(State())

    /// Creates an empty store.
    package init(limits: Limits = .default) { self.limits = limits }

    // MARK: Admission (the memory limiter)

    /// Reserves room for a request body of `bytes` before it is decoded.
    ///
    /// - Returns: `false` when accepting it would pass ``Limits/maxStoredBytes``: the receiver then refuses
    ///   the request with a retryable status (HTTP 503, gRPC UNAVAILABLE) instead of growing without bound.
    package func reserve(bytes: Int) -> Bool {
        state.withLock { state in
            if let limit = limits.maxStoredBytes, state.storedBytes + state.reservedBytes + bytes > limit {
                return false
            }
            state.reservedBytes += bytes
            return true
        }
    }

    /// Returns a reservation made with ``reserve(bytes:)`` for a request that was not stored.
    package func release(bytes: Int) {
        state.withLock { $0.reservedBytes -= bytes }
    }

    // MARK: Writing

    /// Stores decoded items of one request and counts them; turns a reservation into stored bytes.
    ///
    /// - Parameters:
    ///   - reservedBytes: what the receiver reserved for this request (0 when it reserved nothing).
    package func store(_ batch: Batch, channel: IntakeChannel, signal: Signal, rejectedItems: Int, reservedBytes: Int) {
        state.withLock { state in
            for span in batch.spans {
                state.spanIndexByTrace[span.traceID, default: []].append(state.spans.count)
                state.spans.append(span)
            }
            for series in batch.series {
                if let index = state.seriesIndexByKey[series.key] {
                    state.series[index].points.append(contentsOf: series.points)
                } else {
                    state.seriesIndexByKey[series.key] = state.series.count
                    state.series.append(series)
                }
            }
            if !batch.series.isEmpty { state.metricsGeneration &+= 1 }
            state.logs.append(contentsOf: batch.logs)
            state.reservedBytes -= reservedBytes
            state.storedBytes += reservedBytes
            var counts = state.counts[ChannelSignal(channel: channel, signal: signal), default: .init()]
            counts.requestsAccepted += 1
            counts.itemsAccepted += batch.itemCount
            counts.itemsRejected += rejectedItems
            counts.bytesAccepted += reservedBytes
            state.counts[ChannelSignal(channel: channel, signal: signal)] = counts
        }
    }

    /// Counts a request refused whole (malformed, too large, unsupported, over the limit).
    package func countRejectedRequest(channel: IntakeChannel, signal: Signal) {
        state.withLock { $0.counts[ChannelSignal(channel: channel, signal: signal), default: .init()].requestsRejected += 1 }
    }

    /// Counts a request answered with every item rejected (a partial success refusing all), storing nothing.
    package func countRejectedItems(channel: IntakeChannel, signal: Signal, items: Int) {
        state.withLock { state in
            var counts = state.counts[ChannelSignal(channel: channel, signal: signal), default: .init()]
            counts.requestsAccepted += 1
            counts.itemsRejected += items
            state.counts[ChannelSignal(channel: channel, signal: signal)] = counts
        }
    }

    // MARK: Reading

    /// Every span, in arrival order.
    package var spans: [Span] { state.withLock { $0.spans } }

    /// The spans of one trace, in arrival order.
    package func spans(inTrace traceID: TraceID) -> [Span] {
        state.withLock { state in (state.spanIndexByTrace[traceID] ?? []).map { state.spans[$0] } }
    }

    /// The ids of every trace that has at least one span.
    package var traceIDs: [TraceID] { state.withLock { Array($0.spanIndexByTrace.keys) } }

    /// Every series, in order of first arrival.
    package var series: [MetricSeries] { state.withLock { $0.series } }

    /// A number that changes whenever metric points are stored (and only then); cheap to read.
    ///
    /// A view built from ``series`` (such as the PromQL engine's) stays valid while it is unchanged.
    package var metricsGeneration: UInt64 { state.withLock { $0.metricsGeneration } }

    /// Every series with the ``metricsGeneration`` it belongs to, read under one lock.
    package var seriesSnapshot: (generation: UInt64, series: [MetricSeries]) {
        state.withLock { ($0.metricsGeneration, $0.series) }
    }

    /// Every log record, in arrival order.
    package var logs: [LogRecord] { state.withLock { $0.logs } }

    /// Counts per channel and signal.
    package var counts: [IntakeChannel: [Signal: IntakeCounts]] {
        state.withLock { state in
            var result: [IntakeChannel: [Signal: IntakeCounts]] = [:]
            for (key, counts) in state.counts { result[key.channel, default: [:]][key.signal] = counts }
            return result
        }
    }

    /// Accepted request bytes the memory limit is counting.
    package var storedBytes: Int { state.withLock { $0.storedBytes } }

    /// Totals for a live progress line, read under one lock.
    package var totals: Totals {
        state.withLock { state in
            Totals(
                spans: state.spans.count,
                traces: state.spanIndexByTrace.count,
                series: state.series.count,
                dataPoints: state.series.reduce(0) { $0 + $1.points.count },
                logRecords: state.logs.count,
                rejectedRequests: state.counts.values.reduce(0) { $0 + $1.requestsRejected },
                rejectedItems: state.counts.values.reduce(0) { $0 + $1.itemsRejected }
            )
        }
    }

    /// Headline counts.
    package struct Totals: Sendable, Hashable {
        package var spans: Int
        package var traces: Int
        package var series: Int
        package var dataPoints: Int
        package var logRecords: Int
        package var rejectedRequests: Int
        package var rejectedItems: Int
    }
}

/// Decoded items of one request, ready to store.
package struct Batch: Sendable {
    package var spans: [Span] = []
    /// Series with the points this request brought for them.
    package var series: [MetricSeries] = []
    package var logs: [LogRecord] = []

    package init(spans: [Span] = [], series: [MetricSeries] = [], logs: [LogRecord] = []) {
        self.spans = spans
        self.series = series
        self.logs = logs
    }

    /// Spans + data points + log records.
    package var itemCount: Int { spans.count + series.reduce(0) { $0 + $1.points.count } + logs.count }
}

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
public final class TelemetryStore: Sendable {
    /// Limits the store enforces.
    public struct Limits: Sendable, Hashable {
        /// Stop accepting once accepted request bytes reach this; `nil` means no limit.
        /// Default 1 GiB (`--memory-limit`).
        public var maxStoredBytes: Int?

        public init(maxStoredBytes: Int? = 1 << 30) { self.maxStoredBytes = maxStoredBytes }

        /// 1 GiB of accepted request bytes.
        public static let `default` = Limits()
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
    public let limits: Limits
    private let state = Mutex(State())

    /// Creates an empty store.
    public init(limits: Limits = .default) { self.limits = limits }

    // MARK: Admission (the memory limiter)

    /// Reserves room for a request body of `bytes` before it is decoded.
    ///
    /// - Returns: `false` when accepting it would pass ``Limits/maxStoredBytes``: the receiver then refuses
    ///   the request with a retryable status (HTTP 503, gRPC UNAVAILABLE) instead of growing without bound.
    public func reserve(bytes: Int) -> Bool {
        state.withLock { state in
            if let limit = limits.maxStoredBytes, state.storedBytes + state.reservedBytes + bytes > limit {
                return false
            }
            state.reservedBytes += bytes
            return true
        }
    }

    /// Returns a reservation made with ``reserve(bytes:)`` for a request that was not stored.
    public func release(bytes: Int) {
        state.withLock { $0.reservedBytes -= bytes }
    }

    // MARK: Writing

    /// Stores decoded items of one request and counts them; turns a reservation into stored bytes.
    ///
    /// - Parameters:
    ///   - reservedBytes: what the receiver reserved for this request (0 when it reserved nothing).
    public func store(_ batch: Batch, channel: IntakeChannel, signal: Signal, rejectedItems: Int, reservedBytes: Int) {
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
    public func countRejectedRequest(channel: IntakeChannel, signal: Signal) {
        state.withLock { $0.counts[ChannelSignal(channel: channel, signal: signal), default: .init()].requestsRejected += 1 }
    }

    /// Counts a request answered with every item rejected (a partial success refusing all), storing nothing.
    public func countRejectedItems(channel: IntakeChannel, signal: Signal, items: Int) {
        state.withLock { state in
            var counts = state.counts[ChannelSignal(channel: channel, signal: signal), default: .init()]
            counts.requestsAccepted += 1
            counts.itemsRejected += items
            state.counts[ChannelSignal(channel: channel, signal: signal)] = counts
        }
    }

    // MARK: Reading

    /// Every span, in arrival order.
    public var spans: [Span] { state.withLock { $0.spans } }

    /// The spans of one trace, in arrival order.
    public func spans(inTrace traceID: TraceID) -> [Span] {
        state.withLock { state in (state.spanIndexByTrace[traceID] ?? []).map { state.spans[$0] } }
    }

    /// The ids of every trace that has at least one span.
    public var traceIDs: [TraceID] { state.withLock { Array($0.spanIndexByTrace.keys) } }

    /// Every series, in order of first arrival.
    public var series: [MetricSeries] { state.withLock { $0.series } }

    /// A number that changes whenever metric points are stored (and only then); cheap to read.
    ///
    /// A view built from ``series`` (such as the PromQL engine's) stays valid while it is unchanged.
    public var metricsGeneration: UInt64 { state.withLock { $0.metricsGeneration } }

    /// Every series with the ``metricsGeneration`` it belongs to, read under one lock.
    public var seriesSnapshot: (generation: UInt64, series: [MetricSeries]) {
        state.withLock { ($0.metricsGeneration, $0.series) }
    }

    /// Every log record, in arrival order.
    public var logs: [LogRecord] { state.withLock { $0.logs } }

    /// Counts per channel and signal.
    public var counts: [IntakeChannel: [Signal: IntakeCounts]] {
        state.withLock { state in
            var result: [IntakeChannel: [Signal: IntakeCounts]] = [:]
            for (key, counts) in state.counts { result[key.channel, default: [:]][key.signal] = counts }
            return result
        }
    }

    /// Accepted request bytes the memory limit is counting.
    public var storedBytes: Int { state.withLock { $0.storedBytes } }

    /// Totals for a live progress line, read under one lock.
    public var totals: Totals {
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
    public struct Totals: Sendable, Hashable {
        public var spans: Int
        public var traces: Int
        public var series: Int
        public var dataPoints: Int
        public var logRecords: Int
        public var rejectedRequests: Int
        public var rejectedItems: Int
    }
}

/// Decoded items of one request, ready to store.
public struct Batch: Sendable {
    public var spans: [Span] = []
    /// Series with the points this request brought for them.
    public var series: [MetricSeries] = []
    public var logs: [LogRecord] = []

    public init(spans: [Span] = [], series: [MetricSeries] = [], logs: [LogRecord] = []) {
        self.spans = spans
        self.series = series
        self.logs = logs
    }

    /// Spans + data points + log records.
    public var itemCount: Int { spans.count + series.reduce(0) { $0 + $1.points.count } + logs.count }
}

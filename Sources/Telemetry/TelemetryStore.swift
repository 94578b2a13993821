import DequeModule
package import Scenario
import Synchronization

/// What the intake keeps of everything it received, in bounded memory: every metric series with its points,
/// a window of the most recent traces and log records, per-channel accounting, and counters of everything
/// that went through. Checks that judge spans do not read them back from here: they are fed each span as it
/// arrives (see ``SpanObserver``) and keep only what they need.
///
/// - **Traces** are kept in a window of at most ``Limits/maxTraces`` (the oldest first arrival goes first), like
///   Jaeger's in-memory storage with `--memory.max-traces`; ``evictedTraces`` counts what left. Traces a check
///   keeps as evidence (``retainEvidence(_:)``) stay regardless.
/// - **Log records**: the most recent ``Limits/maxLogRecords``.
/// - **Metric series** keep their points, encoded compactly (``PointColumns``): PromQL needs them, and they grow
///   only by series × export interval.
///
/// The memory limit counts retained bytes (each item charged its share of its request's body), not bytes
/// received over the run: when a request would pass it, the oldest traces and log records are evicted first, and
/// only what cannot be evicted makes the receivers refuse, retryably.
///
/// Thread-safe; every intake writes into one store.
///
/// ```swift
/// let store = TelemetryStore()
/// store.store(batch, channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 4096)
/// print(store.totals.spans, store.spans(inTrace: someTraceID).count)
/// ```
package final class TelemetryStore: Sendable {
    /// Limits the store enforces.
    package struct Limits: Sendable, Hashable {
        /// Refuse new requests once retained bytes (after evicting what may be evicted) would pass this; `nil`
        /// means no limit. Default 1 GiB (`--memory-limit`).
        package var maxRetainedBytes: Int?
        /// The most traces kept for queries and reports. Default 10,000.
        package var maxTraces: Int
        /// The most log records kept. Default 10,000.
        package var maxLogRecords: Int

        package init(maxRetainedBytes: Int? = 1 << 30, maxTraces: Int = 10_000, maxLogRecords: Int = 10_000) {
            self.maxRetainedBytes = maxRetainedBytes
            self.maxTraces = maxTraces
            self.maxLogRecords = maxLogRecords
        }

        /// 1 GiB retained, 10,000 traces, 10,000 log records.
        package static let `default` = Limits()
    }

    struct RetainedTrace {
        var spans: [Span] = []
        var bytes = 0
    }

    /// A series as the store keeps it: what identifies it, and its points encoded compactly.
    struct StoredSeries {
        /// The series without points.
        var header: MetricSeries
        var columns: PointColumns

        init(_ series: MetricSeries) {
            header = series
            header.points = []
            columns = PointColumns()
            columns.append(contentsOf: series.points)
        }

        var decoded: MetricSeries {
            var series = header
            series.points = columns.points
            return series
        }

        var latest: MetricSeries {
            var series = header
            series.points = columns.last.map { [$0] } ?? []
            return series
        }
    }

    struct RetainedLog {
        var record: LogRecord
        var bytes: Int
    }

    struct State {
        var traces: [TraceID: RetainedTrace] = [:]
        /// Retained trace ids by first arrival: the front is evicted first.
        var traceOrder: Deque<TraceID> = []
        var evidence: [TraceID: [Span]] = [:]
        var logs: Deque<RetainedLog> = []
        var series: [StoredSeries] = []
        var seriesIndexByKey: [SeriesKey: Int] = [:]
        /// Bumped by every write that brings metric points, so readers can cache views of `series`.
        var metricsGeneration: UInt64 = 0
        var counts: [ChannelSignal: IntakeCounts] = [:]
        var received = Received()
        var retainedBytes = 0
        /// The part of `retainedBytes` that metric points take: never evicted.
        var metricBytes = 0
        var reservedBytes = 0
        var observers: [any SpanObserver] = []
    }

    /// Counters of everything that went through, whatever is still retained.
    struct Received {
        var spans = 0
        var traces = 0
        var evictedTraces = 0
        var dataPoints = 0
        var logRecords = 0
        var evictedLogRecords = 0
        var spansByService: [String: Int] = [:]
        var logRecordsByService: [String: Int] = [:]
    }

    struct ChannelSignal: Hashable {
        var channel: IntakeChannel
        var signal: Signal
    }

    /// The limits in force.
    package let limits: Limits
    private let state = Mutex(State())
    /// Every OTLP exporter's requests and intake's answers, once a `retry` rule follows them (``ExportLedger/follow()``).
    package let exports = ExportLedger()
    /// The requests the receivers storing here are reading, decoding or admitting now (their shared request limit).
    package let requestsInFlight = RequestsInFlight()

    /// Creates an empty store.
    package init(limits: Limits = .default) { self.limits = limits }

    // MARK: Observers

    /// Feeds `observer` every span the store receives from now on, after first handing it the spans retained now
    /// (so an observer attached after the fact sees what the window still holds). Attaching the same observer
    /// again does nothing.
    package func attach(_ observer: any SpanObserver) {
        let retained: [Span]? = state.withLock { state in
            guard !state.observers.contains(where: { $0 === observer }) else { return nil }
            state.observers.append(observer)
            return state.traceOrder.flatMap { state.traces[$0]?.spans ?? [] }
        }
        if let retained, !retained.isEmpty { observer.observe(spans: retained) }
    }

    // MARK: Admission (the memory limiter)

    /// Reserves room for a request body of `bytes` before it is decoded, evicting the oldest traces and log
    /// records if that makes room.
    ///
    /// - Returns: `false` when even then accepting it would pass ``Limits/maxRetainedBytes``: the receiver then
    ///   refuses the request with a retryable status (HTTP 503, gRPC UNAVAILABLE) instead of growing without bound.
    ///   A request that could not fit even with every trace and log record evicted is refused before anything is
    ///   evicted: one oversized request does not empty the window.
    package func reserve(bytes: Int) -> Bool {
        state.withLock { state in
            if let limit = limits.maxRetainedBytes {
                guard bytes <= limit, state.metricBytes + state.reservedBytes <= limit - bytes else { return false }
                while state.retainedBytes + state.reservedBytes + bytes > limit, Self.evictOldest(&state) {}
                if state.retainedBytes + state.reservedBytes + bytes > limit { return false }
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

    /// Stores decoded items of one request and counts them; turns a reservation into retained bytes, each item
    /// charged its share. Observers get the request's spans after the store has them.
    ///
    /// - Parameters:
    ///   - reservedBytes: what the receiver reserved for this request (0 when it reserved nothing).
    ///   - wireBytes: the request's size on the wire (``IntakeCounts/wireBytesAccepted``); `nil`: `reservedBytes`.
    package func store(_ batch: Batch, channel: IntakeChannel, signal: Signal, rejectedItems: Int, reservedBytes: Int, wireBytes: Int? = nil) {
        let itemCount = batch.itemCount
        let perItem = itemCount == 0 ? 0 : reservedBytes / itemCount
        let observers = state.withLock { state in
            state.reservedBytes -= reservedBytes
            // One dictionary lookup per span; services counted per run of spans with the same name (a request's
            // spans share their resource), not per span.
            var service: (name: String, count: Int)?
            for span in batch.spans {
                if let index = state.traces.index(forKey: span.traceID) {
                    state.traces.values[index].spans.append(span)
                    state.traces.values[index].bytes += perItem
                } else {
                    state.traces[span.traceID] = RetainedTrace(spans: [span], bytes: perItem)
                    state.traceOrder.append(span.traceID)
                    state.received.traces += 1
                }
                let name = span.resource.serviceName
                if let current = service, current.name == name {
                    service!.count += 1
                } else {
                    if let current = service { state.received.spansByService[current.name, default: 0] += current.count }
                    service = (name, 1)
                }
            }
            if let current = service { state.received.spansByService[current.name, default: 0] += current.count }
            state.retainedBytes += perItem * batch.spans.count
            state.received.spans += batch.spans.count
            while state.traceOrder.count > limits.maxTraces { Self.evictOldestTrace(&state) }
            for series in batch.series {
                if let index = state.seriesIndexByKey[series.key] {
                    state.series[index].columns.append(contentsOf: series.points)
                } else {
                    state.seriesIndexByKey[series.key] = state.series.count
                    state.series.append(StoredSeries(series))
                }
                state.received.dataPoints += series.points.count
                state.retainedBytes += perItem * series.points.count
                state.metricBytes += perItem * series.points.count
            }
            if !batch.series.isEmpty { state.metricsGeneration &+= 1 }
            for log in batch.logs {
                state.logs.append(RetainedLog(record: log, bytes: perItem))
                state.retainedBytes += perItem
                state.received.logRecordsByService[log.resource.serviceName, default: 0] += 1
            }
            state.received.logRecords += batch.logs.count
            while state.logs.count > limits.maxLogRecords { Self.evictOldestLog(&state) }
            var counts = state.counts[ChannelSignal(channel: channel, signal: signal), default: .init()]
            counts.requestsAccepted += 1
            counts.itemsAccepted += itemCount
            counts.itemsRejected += rejectedItems
            counts.bytesAccepted += reservedBytes
            counts.wireBytesAccepted += wireBytes ?? reservedBytes
            state.counts[ChannelSignal(channel: channel, signal: signal)] = counts
            return batch.spans.isEmpty ? [] : state.observers
        }
        for observer in observers { observer.observe(spans: batch.spans) }
    }

    /// Keeps the spans of a trace a check names as evidence (for the report's waterfall), whatever the window
    /// evicts. The caller bounds how many it keeps.
    package func retainEvidence(_ spans: [Span]) {
        guard let traceID = spans.first?.traceID else { return }
        state.withLock { $0.evidence[traceID] = spans }
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

    /// Evicts the oldest trace, or failing that the oldest log record; `false` when nothing is left to evict.
    private static func evictOldest(_ state: inout State) -> Bool {
        if !state.traceOrder.isEmpty {
            evictOldestTrace(&state)
            return true
        }
        if !state.logs.isEmpty {
            evictOldestLog(&state)
            return true
        }
        return false
    }

    private static func evictOldestTrace(_ state: inout State) {
        let traceID = state.traceOrder.removeFirst()
        if let trace = state.traces.removeValue(forKey: traceID) { state.retainedBytes -= trace.bytes }
        state.received.evictedTraces += 1
    }

    private static func evictOldestLog(_ state: inout State) {
        let log = state.logs.removeFirst()
        state.retainedBytes -= log.bytes
        state.received.evictedLogRecords += 1
    }

    // MARK: Reading

    /// The retained spans: trace by trace in order of first arrival, each trace's spans in arrival order.
    package var spans: [Span] { state.withLock { state in state.traceOrder.flatMap { state.traces[$0]?.spans ?? [] } } }

    /// The spans of one trace, in arrival order: from the window, or from the evidence kept for a check.
    package func spans(inTrace traceID: TraceID) -> [Span] {
        state.withLock { state in state.traces[traceID]?.spans ?? state.evidence[traceID] ?? [] }
    }

    /// The ids of every retained trace.
    package var traceIDs: [TraceID] { state.withLock { Array($0.traceOrder) } }

    /// Every series with every point, in order of first arrival (decoded: for PromQL and the query APIs; see
    /// ``latestSeries`` for what needs no history).
    package var series: [MetricSeries] { state.withLock { $0.series }.map(\.decoded) }

    /// The series of one metric with every point.
    package func series(named name: String) -> [MetricSeries] {
        state.withLock { $0.series }.filter { $0.header.name == name }.map(\.decoded)
    }

    /// Every series with only its newest point, and how many points it has: what identifies the series, cheaply.
    package var latestSeries: [(series: MetricSeries, pointCount: Int)] {
        state.withLock { $0.series }.map { ($0.latest, $0.columns.count) }
    }

    /// Bytes the metric points take, encoded.
    package var encodedPointBytes: Int { state.withLock { $0.series.reduce(0) { $0 + $1.columns.encodedSize } } }

    /// A number that changes whenever metric points are stored (and only then); cheap to read.
    ///
    /// A view built from ``series`` (such as the PromQL engine's) stays valid while it is unchanged.
    package var metricsGeneration: UInt64 { state.withLock { $0.metricsGeneration } }

    /// Every series with the ``metricsGeneration`` it belongs to, read under one lock.
    /// The series are decoded one at a time as the sequence is walked, so a reader that converts them (as the
    /// PromQL engine does) never holds every decoded point at once.
    package var seriesSnapshot: (generation: UInt64, series: some Sequence<MetricSeries>) {
        let (generation, stored) = state.withLock { ($0.metricsGeneration, $0.series) }
        return (generation, stored.lazy.map(\.decoded))
    }

    /// The retained log records, in arrival order.
    package var logs: [LogRecord] { state.withLock { $0.logs.map(\.record) } }

    /// Counts per channel and signal.
    package var counts: [IntakeChannel: [Signal: IntakeCounts]] {
        state.withLock { state in
            var result: [IntakeChannel: [Signal: IntakeCounts]] = [:]
            for (key, counts) in state.counts { result[key.channel, default: [:]][key.signal] = counts }
            return result
        }
    }

    /// Bytes the memory limit counts now: retained items' shares of their requests' bodies.
    package var retainedBytes: Int { state.withLock { $0.retainedBytes } }

    /// Spans and log records received per service name, over the whole run.
    package var receivedByService: [String: (spans: Int, logRecords: Int)] {
        state.withLock { state in
            var result: [String: (spans: Int, logRecords: Int)] = [:]
            for (name, count) in state.received.spansByService { result[name, default: (0, 0)].spans = count }
            for (name, count) in state.received.logRecordsByService { result[name, default: (0, 0)].logRecords = count }
            return result
        }
    }

    /// Totals over the whole run, and what is retained now, read under one lock.
    package var totals: Totals {
        state.withLock { state in
            Totals(
                spans: state.received.spans,
                traces: state.received.traces,
                series: state.series.count,
                dataPoints: state.received.dataPoints,
                logRecords: state.received.logRecords,
                rejectedRequests: state.counts.values.reduce(0) { $0 + $1.requestsRejected },
                rejectedItems: state.counts.values.reduce(0) { $0 + $1.itemsRejected },
                retainedTraces: state.traces.count,
                evictedTraces: state.received.evictedTraces,
                retainedLogRecords: state.logs.count,
                evictedLogRecords: state.received.evictedLogRecords,
                retainedBytes: state.retainedBytes
            )
        }
    }

    /// Headline counts: received over the run, and retained now.
    package struct Totals: Sendable, Hashable {
        /// Spans received.
        package var spans: Int
        /// Traces received (a trace whose spans arrive after it was evicted counts again).
        package var traces: Int
        package var series: Int
        package var dataPoints: Int
        package var logRecords: Int
        package var rejectedRequests: Int
        package var rejectedItems: Int
        /// Traces in the window now.
        package var retainedTraces: Int
        /// Traces that left the window (``Limits/maxTraces`` or the memory limit).
        package var evictedTraces: Int
        package var retainedLogRecords: Int
        package var evictedLogRecords: Int
        /// What the memory limit counts now.
        package var retainedBytes: Int
    }
}

/// Something fed every span as the store receives it: a check's aggregator, which keeps only what it needs.
///
/// Called outside the store's lock, from whichever receiver stored the spans, possibly concurrently.
package protocol SpanObserver: AnyObject, Sendable {
    /// The spans of one request, in the order the request held them.
    func observe(spans: [Span])
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

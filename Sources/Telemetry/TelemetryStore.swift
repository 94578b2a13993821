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
/// The memory limit counts what retained items cost resident (``ResidentCost``: their strings, attributes, arrays
/// and indexes, estimated from their contents), plus the reservations of requests being read and decoded, not
/// bytes received over the run: when a request would pass it, the oldest traces and log records are evicted first,
/// and only what cannot be evicted (metric points, the trace index, requests in flight) makes the receivers
/// refuse, retryably.
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
        /// Refuse new requests once retained items' resident cost and the reservations of requests in flight (after
        /// evicting what may be evicted) would pass this; `nil` means no limit. Default 1 GiB (`--memory-limit`).
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
        /// What eviction cannot give back: metric series and the trace index.
        var unevictableBytes: Int { metricBytes + traceIndexBytes }

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
        /// What retained items cost resident (``ResidentCost``), with the trace index.
        var retainedBytes = 0
        /// The part of `retainedBytes` that metric series and their points take: never evicted.
        var metricBytes = 0
        /// The part of `retainedBytes` that the trace index takes (its dictionary and order), which keeps its
        /// capacity when traces leave: never evicted.
        var traceIndexBytes = 0
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
        var evicted = Evicted()
        return state.withLock { state in
            if let limit = limits.maxRetainedBytes {
                guard bytes <= limit, state.unevictableBytes + state.reservedBytes <= limit - bytes else { return false }
                while state.retainedBytes + state.reservedBytes + bytes > limit, Self.evictOldest(&state, into: &evicted) {}
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

    /// Stores decoded items of one request and counts them; gives back the request's reservation and charges each
    /// item what it costs resident (``ResidentCost``), evicting the oldest traces and log records while the store
    /// is over its limit. Observers get the request's spans after the store has them.
    ///
    /// An accepted request is stored whole: its items are already in memory, so when they cost more than was
    /// reserved, the store evicts to make up the difference (and, when only metric points are left, goes over
    /// the limit by that difference until traces or log records can leave again).
    ///
    /// - Parameters:
    ///   - reservedBytes: what the receiver reserved for this request (0 when it reserved nothing).
    ///   - bodyBytes: the request's decompressed size (``IntakeCounts/bytesAccepted``); `nil`: `reservedBytes`.
    ///   - wireBytes: the request's size on the wire (``IntakeCounts/wireBytesAccepted``); `nil`: `bodyBytes`.
    package func store(
        _ batch: Batch,
        channel: IntakeChannel,
        signal: Signal,
        rejectedItems: Int,
        reservedBytes: Int,
        bodyBytes: Int? = nil,
        wireBytes: Int? = nil
    ) {
        let itemCount = batch.itemCount
        // Costs are worked out before the lock.
        let spans = Self.charges(batch.spans, own: ResidentCost.span, resource: \.resource, scope: \.scope)
        let logs = Self.charges(batch.logs, own: ResidentCost.logRecord, resource: \.resource, scope: \.scope)
        var evicted = Evicted()
        let observers = state.withLock { state in
            state.reservedBytes -= reservedBytes
            // One dictionary lookup per span.
            for (span, spanCost) in zip(batch.spans, spans.costs) {
                if let index = state.traces.index(forKey: span.traceID) {
                    let capacity = state.traces.values[index].spans.capacity
                    state.traces.values[index].spans.append(span)
                    let grown = state.traces.values[index].spans.capacity
                    let cost = spanCost + Self.spansStorage(grown) - Self.spansStorage(capacity)
                    state.traces.values[index].bytes += cost
                    state.retainedBytes += cost
                } else {
                    let spans = [span]
                    let cost = spanCost + Self.spansStorage(spans.capacity)
                    state.traces[span.traceID] = RetainedTrace(spans: spans, bytes: cost)
                    state.traceOrder.append(span.traceID)
                    state.retainedBytes += cost
                    state.received.traces += 1
                }
            }
            for (name, count) in spans.services { state.received.spansByService[name, default: 0] += count }
            state.received.spans += batch.spans.count
            while state.traceOrder.count > limits.maxTraces { Self.evictOldestTrace(&state, into: &evicted) }
            if !batch.spans.isEmpty { Self.chargeTraceIndex(&state) }
            for series in batch.series {
                let cost: Int
                if let index = state.seriesIndexByKey[series.key] {
                    let before = Self.columnsCost(state.series[index].columns)
                    state.series[index].columns.append(contentsOf: series.points)
                    cost = Self.columnsCost(state.series[index].columns) - before
                } else {
                    let stored = StoredSeries(series)
                    state.seriesIndexByKey[series.key] = state.series.count
                    state.series.append(stored)
                    cost = Self.seriesSlot + ResidentCost.seriesHeader(stored.header) + Self.columnsCost(stored.columns)
                }
                state.received.dataPoints += series.points.count
                state.retainedBytes += cost
                state.metricBytes += cost
            }
            if !batch.series.isEmpty { state.metricsGeneration &+= 1 }
            for (log, cost) in zip(batch.logs, logs.costs) {
                state.logs.append(RetainedLog(record: log, bytes: cost))
                state.retainedBytes += cost
            }
            for (name, count) in logs.services { state.received.logRecordsByService[name, default: 0] += count }
            state.received.logRecords += batch.logs.count
            while state.logs.count > limits.maxLogRecords { Self.evictOldestLog(&state, into: &evicted) }
            if let limit = limits.maxRetainedBytes {
                while state.retainedBytes + state.reservedBytes > limit, Self.evictOldest(&state, into: &evicted) {}
            }
            var counts = state.counts[ChannelSignal(channel: channel, signal: signal), default: .init()]
            counts.requestsAccepted += 1
            counts.itemsAccepted += itemCount
            counts.itemsRejected += rejectedItems
            counts.bytesAccepted += bodyBytes ?? reservedBytes
            counts.wireBytesAccepted += wireBytes ?? bodyBytes ?? reservedBytes
            state.counts[ChannelSignal(channel: channel, signal: signal)] = counts
            return batch.spans.isEmpty ? [] : state.observers
        }
        for observer in observers { observer.observe(spans: batch.spans) }
    }

    /// What each of `items` (spans or log records) costs resident, in order, and how many of them each service
    /// sent: each item's own heap (`own`), plus, for the first of each run of consecutive items sharing a resource
    /// and scope (a request's `ScopeSpans` or `ScopeLogs`), that resource and scope
    /// (``ResidentCost/shared(resource:scope:)``). Services are counted per run, not per item: `service.name` is
    /// looked up once a run.
    static func charges<Item>(
        _ items: [Item],
        own: (Item) -> Int,
        resource: (Item) -> Resource,
        scope: (Item) -> InstrumentationScope
    ) -> (costs: [Int], services: [(name: String, count: Int)]) {
        var costs: [Int] = []
        costs.reserveCapacity(items.count)
        var services: [(name: String, count: Int)] = []
        var run: (resource: Resource, scope: InstrumentationScope)?
        for item in items {
            var cost = own(item)
            // Items of one run share their resource's and scope's storage, so these comparisons end at identity.
            if let current = run, current.resource == resource(item), current.scope == scope(item) {
                services[services.count - 1].count += 1
            } else {
                let next = (resource: resource(item), scope: scope(item))
                cost += ResidentCost.shared(resource: next.resource, scope: next.scope)
                let name = next.resource.serviceName
                if let last = services.last, last.name == name {
                    services[services.count - 1].count += 1
                } else {
                    services.append((name, 1))
                }
                run = next
            }
            costs.append(cost)
        }
        return (costs, services)
    }

    /// The storage of a trace's array of spans of `capacity`.
    static func spansStorage(_ capacity: Int) -> Int { ResidentCost.arrayStorage(capacity: capacity, stride: MemoryLayout<Span>.stride) }

    /// A stored series' slot in the store's array and its entry in the index by key (at the dictionary's fullest,
    /// three quarters, and the array's emptiest, half, on average).
    static let seriesSlot = MemoryLayout<StoredSeries>.stride * 3 / 2 + (MemoryLayout<SeriesKey>.stride + MemoryLayout<Int>.stride) * 2

    /// What a series' points cost: their encoded bytes' storage and the newest point kept decoded.
    static func columnsCost(_ columns: PointColumns) -> Int {
        ResidentCost.arrayStorage(capacity: columns.storageCapacity, stride: 1) + (columns.last.map(ResidentCost.point) ?? 0)
    }

    /// Charges the trace index at its capacity now: the dictionary's storage (which keeps its capacity when
    /// entries leave) and the order of arrival, a slot per trace the dictionary can hold.
    private static func chargeTraceIndex(_ state: inout State) {
        let capacity = state.traces.capacity
        let bytes =
            ResidentCost.dictionaryStorage(
                capacity: capacity,
                keyStride: MemoryLayout<TraceID>.stride,
                valueStride: MemoryLayout<RetainedTrace>.stride
            ) + ResidentCost.arrayStorage(capacity: capacity, stride: MemoryLayout<TraceID>.stride)
        state.retainedBytes += bytes - state.traceIndexBytes
        state.traceIndexBytes = bytes
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

    /// What eviction took out of the store under its lock, freed once the lock is released: freeing a trace's
    /// spans takes long enough that the other receivers should not wait for it.
    private struct Evicted {
        var traces: [RetainedTrace] = []
        var logs: [RetainedLog] = []
    }

    /// Evicts the oldest trace, or failing that the oldest log record, into `evicted`; `false` when nothing is
    /// left to evict.
    private static func evictOldest(_ state: inout State, into evicted: inout Evicted) -> Bool {
        if !state.traceOrder.isEmpty {
            evictOldestTrace(&state, into: &evicted)
            return true
        }
        if !state.logs.isEmpty {
            evictOldestLog(&state, into: &evicted)
            return true
        }
        return false
    }

    private static func evictOldestTrace(_ state: inout State, into evicted: inout Evicted) {
        let traceID = state.traceOrder.removeFirst()
        if let trace = state.traces.removeValue(forKey: traceID) {
            state.retainedBytes -= trace.bytes
            evicted.traces.append(trace)
        }
        state.received.evictedTraces += 1
    }

    private static func evictOldestLog(_ state: inout State, into evicted: inout Evicted) {
        let log = state.logs.removeFirst()
        state.retainedBytes -= log.bytes
        state.received.evictedLogRecords += 1
        evicted.logs.append(log)
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

    /// Bytes the memory limit counts now for what is retained: the items' resident cost (``ResidentCost``) and the
    /// trace index; reservations of requests in flight come on top.
    package var retainedBytes: Int { state.withLock { $0.retainedBytes } }

    /// The most one reservation could take now, once every trace and log record is evicted: the limit less what
    /// cannot be evicted (metric series, the trace index) and what is reserved already; `nil` without a limit.
    package var reservableBytes: Int? {
        guard let limit = limits.maxRetainedBytes else { return nil }
        return state.withLock { max(0, limit - $0.unevictableBytes - $0.reservedBytes) }
    }

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

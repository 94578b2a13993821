import Testing

@testable import Telemetry

@Suite struct TelemetryStoreTests {
    private func span(trace: UInt64, id: UInt64, parent: UInt64? = nil) -> Span {
        Span(
            traceID: TraceID(high: 0, low: trace),
            spanID: SpanID(value: id),
            parentSpanID: parent.map(SpanID.init(value:)),
            name: "s\(id)",
            channel: .otlpGRPC
        )
    }

    @Test func indexesSpansByTrace() {
        let store = TelemetryStore()
        store.store(
            Batch(spans: [span(trace: 1, id: 1), span(trace: 2, id: 2), span(trace: 1, id: 3, parent: 1)]),
            channel: .otlpGRPC,
            signal: .traces,
            rejectedItems: 1,
            reservedBytes: 0
        )
        #expect(store.spans(inTrace: TraceID(high: 0, low: 1)).map(\.spanID.value) == [1, 3])
        #expect(Set(store.traceIDs) == [TraceID(high: 0, low: 1), TraceID(high: 0, low: 2)])
        let counts = store.counts[.otlpGRPC]?[.traces]
        #expect(counts?.itemsAccepted == 3)
        #expect(counts?.itemsRejected == 1)
        #expect(counts?.requestsAccepted == 1)
    }

    /// Items are counted per service whatever the order their resources and scopes come in, and each run of items
    /// sharing a resource and scope is charged those once, with its first item.
    @Test func itemsAreCountedPerServiceAndSharedPartsChargedPerRun() {
        let a = Resource(attributes: ["service.name": .string("service-a"), "host.name": .string("a-host-with-a-long-name")])
        let b = Resource(attributes: ["service.name": .string("service-b")])
        let scoped = InstrumentationScope(name: "a-scope-with-a-long-name")
        let placed: [(Resource, InstrumentationScope)] = [(a, .init()), (a, .init()), (a, scoped), (b, .init()), (a, .init()), (Resource(), .init())]
        let spans = placed.enumerated().map { index, place in
            var span = span(trace: UInt64(index + 1), id: UInt64(index + 1))
            (span.resource, span.scope) = place
            return span
        }
        let logs = placed.map { LogRecord(resource: $0.0, scope: $0.1, channel: .otlpGRPC) }
        let store = TelemetryStore(limits: .init(maxRetainedBytes: nil))
        store.store(Batch(spans: spans), channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 0)
        store.store(Batch(logs: logs), channel: .otlpGRPC, signal: .logs, rejectedItems: 0, reservedBytes: 0)
        let received = store.receivedByService
        #expect(received["service-a"]?.spans == 4 && received["service-a"]?.logRecords == 4)
        #expect(received["service-b"]?.spans == 1 && received["service-b"]?.logRecords == 1)
        #expect(received["unknown_service"]?.spans == 1 && received["unknown_service"]?.logRecords == 1)
        #expect(received.count == 3)

        let charged = TelemetryStore.charges(spans, own: ResidentCost.span, resource: \.resource, scope: \.scope)
        let runStarts = [0, 2, 3, 4, 5]
        for (index, span) in spans.enumerated() {
            let shared = runStarts.contains(index) ? ResidentCost.shared(resource: span.resource, scope: span.scope) : 0
            #expect(charged.costs[index] == ResidentCost.span(span) + shared, "span \(index)")
        }
        #expect(ResidentCost.shared(resource: a, scope: .init()) > 0, "the long host name is charged")
        #expect(charged.services.map(\.name) == ["service-a", "service-b", "service-a", "unknown_service"])
        #expect(charged.services.map(\.count) == [3, 1, 1, 1])
    }

    /// What a trace of one ``span(trace:)`` is charged (its slot, its array; the name is a small string), and the
    /// trace index once `traces` traces were stored one request at a time with at most `maxTraces` kept.
    static func charges(traces: Int, maxTraces: Int = 10_000) -> (trace: Int, index: Int) {
        let trace = TelemetryStore.spansStorage(1) + ResidentCost.span(span(trace: 1))
        let store = TelemetryStore(limits: .init(maxRetainedBytes: nil, maxTraces: maxTraces))
        for id in 1...traces {
            store.store(Batch(spans: [span(trace: id)]), channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 0)
        }
        return (trace, store.retainedBytes - store.traceIDs.count * trace)
    }

    /// A request that could not fit under the memory limit even with every trace evicted used to evict every trace
    /// first and then be refused anyway: one oversized request emptied the window. It is refused with nothing evicted;
    /// a request that fits after evicting still evicts the oldest traces only.
    @Test func anOversizedRequestEvictsNothing() {
        let (one, index) = Self.charges(traces: 4)
        let limit = index + 6 * one
        let store = TelemetryStore(limits: .init(maxRetainedBytes: limit))
        for trace in 1...4 {
            #expect(store.reserve(bytes: 200))
            store.store(
                Batch(spans: [span(trace: UInt64(trace), id: UInt64(trace))]),
                channel: .otlpGRPC,
                signal: .traces,
                rejectedItems: 0,
                reservedBytes: 200
            )
        }
        #expect(store.retainedBytes == index + 4 * one, "each trace charged what it costs, not what was reserved")
        #expect(!store.reserve(bytes: limit + 1))
        #expect(!store.reserve(bytes: limit - index + 1), "the trace index cannot be evicted")
        #expect(!store.reserve(bytes: .max))
        #expect(store.traceIDs.count == 4)
        #expect(store.totals.evictedTraces == 0)
        #expect(store.reserve(bytes: 3 * one + one / 2))
        #expect(store.traceIDs.map(\.low) == [3, 4])
        store.release(bytes: 3 * one + one / 2)
        #expect(store.retainedBytes == index + 2 * one)
    }

    @Test func pointsOfTheSameSeriesAccumulate() {
        let store = TelemetryStore()
        let key = SeriesKey(metricName: "m", attributes: ["a": .string("x")], resource: Resource(attributes: ["service.name": .string("svc")]))
        for value in 1...3 {
            let series = MetricSeries(
                key: key,
                kind: .gauge,
                points: [.number(.init(timeUnixNano: UInt64(value), value: .int(Int64(value))))],
                channel: .otlpHTTPJSON
            )
            store.store(Batch(series: [series]), channel: .otlpHTTPJSON, signal: .metrics, rejectedItems: 0, reservedBytes: 0)
        }
        #expect(store.series.count == 1)
        #expect(store.series.first?.points.count == 3)
        #expect(store.totals.dataPoints == 3)
    }

    @Test func memoryLimitRefusesAndReleasesReservations() {
        let store = TelemetryStore(limits: .init(maxRetainedBytes: 1000))
        #expect(store.reserve(bytes: 600))
        #expect(!store.reserve(bytes: 600), "a second reservation would pass the limit")
        store.release(bytes: 600)
        #expect(store.reserve(bytes: 600))
        // Three metric points: charged their series and encoded points, and not evictable.
        store.store(Batch(series: [Self.series(points: 3)]), channel: .otlpGRPC, signal: .metrics, rejectedItems: 0, reservedBytes: 600)
        var columns = PointColumns()
        columns.append(contentsOf: Self.series(points: 3).points)
        // The encoded points are charged at their array's capacity, which Swift takes from malloc_usable_size: it may
        // be a 16-byte granule larger than when built here.
        let charge = store.retainedBytes
        #expect(abs(charge - TelemetryStore.seriesSlot - TelemetryStore.columnsCost(columns)) <= 32, "the header holds only small strings")
        #expect(store.reserve(bytes: 1000 - charge))
        #expect(!store.reserve(bytes: 1))
    }

    /// Traces are a window: the oldest leave first when there are more than `maxTraces`, or to make room under
    /// the memory limit, and the totals still count everything received.
    @Test func tracesAreAWindowNotAnArchive() {
        let (one, index) = Self.charges(traces: 5, maxTraces: 3)
        let limit = index + 10 * one
        let store = TelemetryStore(limits: .init(maxRetainedBytes: limit, maxTraces: 3))
        for trace in 1...5 {
            #expect(store.reserve(bytes: 100))
            store.store(Batch(spans: [Self.span(trace: trace)]), channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 100)
        }
        #expect(store.traceIDs == (3...5).map { TraceID(high: 0, low: UInt64($0)) })
        #expect(store.totals.spans == 5 && store.totals.traces == 5 && store.totals.evictedTraces == 2)
        #expect(store.retainedBytes == index + 3 * one, "evicted traces give their bytes back")
        // A request that needs more room than is free evicts the oldest traces rather than being refused.
        #expect(store.reserve(bytes: 9 * one))
        #expect(store.traceIDs == [TraceID(high: 0, low: 5)])
        #expect(store.totals.evictedTraces == 4)
        store.release(bytes: 9 * one)
        // Evidence a check keeps stays readable after its trace left the window.
        store.retainEvidence([Self.span(trace: 1)])
        #expect(store.spans(inTrace: TraceID(high: 0, low: 1)).count == 1)
    }

    @Test func logRecordsAreAWindowToo() {
        let store = TelemetryStore(limits: .init(maxLogRecords: 2))
        for _ in 0..<3 {
            store.store(
                Batch(logs: [LogRecord(body: .string("x"), channel: .otlpGRPC)]),
                channel: .otlpGRPC,
                signal: .logs,
                rejectedItems: 0,
                reservedBytes: 0
            )
        }
        #expect(store.logs.count == 2)
        #expect(store.totals.logRecords == 3 && store.totals.evictedLogRecords == 1)
    }

    /// An observer attached late first gets what the window retains, then every new span, once.
    @Test func observersCatchUpThenFollow() {
        final class Count: SpanObserver, @unchecked Sendable {
            var spans = 0
            func observe(spans: [Span]) { self.spans += spans.count }
        }
        let store = TelemetryStore(limits: .init(maxTraces: 2))
        for trace in 1...3 {
            store.store(Batch(spans: [Self.span(trace: trace)]), channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 0)
        }
        let count = Count()
        store.attach(count)
        store.attach(count)
        #expect(count.spans == 2, "the two retained traces, once")
        store.store(Batch(spans: [Self.span(trace: 4)]), channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 0)
        #expect(count.spans == 3)
    }

    static func span(trace: Int) -> Span {
        Span(traceID: TraceID(high: 0, low: UInt64(trace)), spanID: SpanID(value: UInt64(trace)), name: "op", channel: .otlpGRPC)
    }

    static func series(points: Int) -> MetricSeries {
        MetricSeries(
            key: SeriesKey(metricName: "m", attributes: [:], resource: Resource()),
            kind: .gauge,
            points: (0..<points).map { .number(.init(timeUnixNano: UInt64($0), value: .int(1))) },
            channel: .otlpGRPC
        )
    }
}

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
        let store = TelemetryStore(limits: .init(maxStoredBytes: 1000))
        #expect(store.reserve(bytes: 600))
        #expect(!store.reserve(bytes: 600), "a second reservation would pass the limit")
        store.release(bytes: 600)
        #expect(store.reserve(bytes: 600))
        store.store(Batch(), channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 600)
        #expect(store.storedBytes == 600)
        #expect(store.reserve(bytes: 400))
        #expect(!store.reserve(bytes: 1))
    }
}

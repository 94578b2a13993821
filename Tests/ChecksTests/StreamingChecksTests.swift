import Checks
import Foundation
import Scenario
import Telemetry
import TestSupport
import Testing
import Workload

/// The checks that judge as telemetry arrives give what judging everything at the end gives, merge across
/// parts of a run, and hold memory that follows the request rate rather than the run's length.
@Suite struct StreamingChecksTests {
    static let templates = LedgerCase.templates

    static func cases(count: Int, seed: UInt64) -> [LedgerCase] { LedgerCase.cases(count: count, seed: seed) }

    /// Feeds `cases` to a ledger as a run would: the request is sent, its spans arrive, it ends; with
    /// `judgeAsItGoes`, every trace is judged as soon as it is complete (a zero quiet window).
    static func ledger(_ cases: some Sequence<LedgerCase>, judgeAsItGoes: Bool, onEach: (RequestLedger) -> Void = { _ in }) -> RequestLedger {
        let ledger = RequestLedger(configuration: .init(templates: templates, quietWindow: judgeAsItGoes ? .zero : .seconds(3600)))
        for one in cases {
            ledger.sending(one.request.traceContext, name: one.request.name)
            if !one.spans.isEmpty { ledger.observe(spans: one.spans) }
            ledger.completed(one.request)
            if judgeAsItGoes { ledger.sweep() }
            onEach(ledger)
        }
        return ledger
    }

    static func comparable(_ tallies: RequestLedger.Tallies) -> RequestLedger.Tallies {
        var result = tallies.resolved(templates: templates)
        result.problems.sort { ($0.trace, $0.text) < ($1.trace, $1.text) }
        return result
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func judgingTraceByTraceEqualsJudgingAtTheEnd(seed: UInt64) {
        let cases = Self.cases(count: 300, seed: seed)
        let streamed = Self.ledger(cases, judgeAsItGoes: true).finish()
        let batch = Self.ledger(cases, judgeAsItGoes: false).finish()
        #expect(Self.comparable(streamed) == Self.comparable(batch))
        #expect(streamed.traces == 300 && streamed.brokenTraces > 0 && streamed.missing > 0, "the cases exercise every path")
        // And the rule reads the same either way.
        #expect(PropagationCheck.result(streamed.resolved(templates: Self.templates)) == PropagationCheck.result(batch.resolved(templates: Self.templates)))
    }

    /// Two ledgers that each saw part of the requests merge into the tallies of one that saw them all.
    @Test(arguments: [4, 5, 6, 7, 8] as [UInt64])
    func mergingPartsEqualsTheWhole(seed: UInt64) {
        let cases = Self.cases(count: 200, seed: seed)
        var random = SplitMix64(seed: seed * 31)
        let cut = Int(random.next() % 201)
        var merged = Self.ledger(cases[..<cut], judgeAsItGoes: true).finish()
        merged.merge(Self.ledger(cases[cut...], judgeAsItGoes: true).finish())
        let whole = Self.ledger(cases, judgeAsItGoes: true).finish()
        #expect(merged == whole, "cut at \(cut)")
        // The tallies survive JSON, as a shard's partial result would travel.
        let decoded = try? JSONDecoder().decode(RequestLedger.Tallies.self, from: JSONEncoder().encode(merged))
        #expect(decoded == merged)
    }

    /// However long the run, the ledger holds only the traces not yet judged.
    @Test func ledgerMemoryFollowsTheRateNotTheRunLength() {
        var largest = 0
        let ledger = Self.ledger(Self.cases(count: 20_000, seed: 9), judgeAsItGoes: true) { largest = max(largest, $0.openTraces) }
        #expect(largest <= 2, "at most the trace being fed and a fresh one: \(largest)")
        #expect(ledger.finish().traces == 20_000)
    }

    /// Spans faster than the window can hold: the traces quiet the longest are judged early, so the ledger
    /// never holds more than its limit, and says how many it judged early.
    @Test func ledgerHoldsAtMostItsLimit() {
        let cases = Self.cases(count: 2000, seed: 14)
        var largest = 0
        let ledger = RequestLedger(configuration: .init(templates: Self.templates, quietWindow: .seconds(3600), maxOpenTraces: 100))
        for one in cases {
            ledger.sending(one.request.traceContext, name: one.request.name)
            if !one.spans.isEmpty { ledger.observe(spans: one.spans) }
            ledger.completed(one.request)
            largest = max(largest, ledger.openTraces)
        }
        #expect(largest <= 110, "its limit, and the few requests in flight: \(largest) open at most")
        var tallies = ledger.finish()
        #expect(tallies.judgedEarly > 1000)
        #expect(PropagationCheck.result(tallies.resolved(templates: Self.templates)).evidence.contains { $0.contains("judged before they had been quiet") })
        // Every trace was complete when judged early here, so the verdicts are those of judging at the end.
        tallies.judgedEarly = 0
        #expect(Self.comparable(tallies) == Self.comparable(Self.ledger(cases, judgeAsItGoes: false).finish()))
    }

    /// The store keeps a window of traces however many arrive; the checks that follow it still see every span.
    @Test func storeRetainsABoundedWindowWhileChecksSeeEverything() {
        let store = TelemetryStore(limits: .init(maxTraces: 500))
        let ledger = RequestLedger(configuration: .init(templates: Self.templates, quietWindow: .zero))
        ledger.attach(to: store)
        var rule = SLORule(name: "spans", source: .spans(name: "op", service: nil))
        rule.quantile = 0.5
        rule.threshold = 1
        let slo = SLOCheck(rule: rule)
        slo.attach(to: store)
        var spans = 0
        for one in Self.cases(count: 5000, seed: 10) {
            ledger.sending(one.request.traceContext, name: one.request.name)
            store.store(Batch(spans: one.spans), channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 0)
            ledger.completed(one.request)
            spans += one.spans.count
            #expect(store.totals.retainedTraces <= 500)
        }
        #expect(store.totals.spans == spans && store.totals.evictedTraces > 0)
        #expect(ledger.finish().traces == 5000)
        #expect(slo.durations?.snapshot[[:]]?.histogram.totalCount == UInt64(spans))
    }

    /// A `spans:` SLO's quantile from its histogram is the nearest-rank quantile of the durations, to the
    /// histogram's three significant digits.
    @Test(arguments: [0.5, 0.9, 0.99, 0.999])
    func spanDurationQuantilesMatchNearestRank(quantile: Double) throws {
        var random = SplitMix64(seed: 11)
        let durations = (0..<5000).map { _ in UInt64(1000 + random.next() % 5_000_000_000) }
        let half = SpanDurations(name: nil, service: nil, selector: [:], groupBy: [])
        let other = SpanDurations(name: nil, service: nil, selector: [:], groupBy: [])
        let whole = SpanDurations(name: nil, service: nil, selector: [:], groupBy: [])
        for (index, nanoseconds) in durations.enumerated() {
            let span = Span(
                traceID: TraceID(high: 1, low: UInt64(index)),
                spanID: SpanID(value: UInt64(index + 1)),
                name: "op",
                endTimeUnixNano: nanoseconds,
                channel: .otlpGRPC
            )
            (index % 2 == 0 ? half : other).observe(spans: [span])
            whole.observe(spans: [span])
        }
        let reference = try #require(Quantiles.nearestRank(quantile, of: durations.map { Double($0) / 1e9 }))
        let streamed = try #require(whole.snapshot[[:]]?.seconds(atQuantile: quantile))
        #expect(abs(streamed - reference) <= reference * 1e-3, "\(streamed) vs \(reference)")
        var merged = try #require(half.snapshot[[:]])
        merged.merge(try #require(other.snapshot[[:]]))
        #expect(merged.seconds(atQuantile: quantile) == streamed)
        #expect(merged.slowest == whole.snapshot[[:]]?.slowest)
    }

    /// A client SLO's quantile from the driver's histograms is the nearest-rank quantile of the latencies.
    @Test func clientLatencyQuantilesMatchNearestRank() throws {
        var random = SplitMix64(seed: 12)
        let latencies = (0..<3000).map { _ in Double(100 + random.next() % 2_000_000) / 1e6 }
        var recorder = LatencyRecorder()
        for latency in latencies { recorder.record(.nanoseconds(Int64(latency * 1e9))) }
        for quantile in [0.5, 0.99, 0.999] {
            let reference = try #require(Quantiles.nearestRank(quantile, of: latencies))
            let streamed = recorder.milliseconds(atPercentile: quantile * 100) / 1000
            #expect(abs(streamed - reference) <= reference * 1e-3 + 1e-6, "p\(quantile): \(streamed) vs \(reference)")
        }
    }

    /// The driver's latency histograms merge across parts of a run (or shards) into the whole's, and travel as JSON.
    @Test func latencyHistogramsMergeAndSerialize() throws {
        var random = SplitMix64(seed: 13)
        var whole = LatencyRecorder()
        var parts = [LatencyRecorder(), LatencyRecorder()]
        for index in 0..<4000 {
            let latency = Duration.microseconds(Int64(1 + random.next() % 3_000_000))
            whole.record(latency)
            parts[index % 2].record(latency)
        }
        let decoded = try parts.map { try JSONDecoder().decode(LatencyRecorder.self, from: JSONEncoder().encode($0)) }
        var merged = decoded[0]
        merged.merge(decoded[1])
        #expect(merged.summary == whole.summary)
        #expect(merged.count == 4000)
    }
}

import NIOCore
import Scenario
import Testing

@testable import Workload

/// The driver's tallies are kept per event loop and combined when read: what is read must be what one shared
/// tally would have counted.
struct PerLoopTalliesTests {
    private final class NoSink: LoadRequestSink {
        func finished(_ request: LoadRequest, sentAt: ContinuousClock.Instant, outcome: RequestOutcome, status: Int?) {}
    }

    private func request(_ name: String, intended: ContinuousClock.Instant) -> LoadRequest {
        let template = RequestTemplate(name: name, service: "tasks", path: "/")
        let trace = SentTraceContext(
            traceID: "0af7651916cd43dd8448eb211c80319c",
            spanID: "b7ad6b7169203331",
            sampled: true,
            tracestate: nil,
            invalid: nil,
            propagated: true
        )
        return LoadRequest(
            slot: Slot(intended: intended, request: PreparedRequest(template, index: name == "write" ? 0 : 1), trace: trace, index: 0),
            deadline: .now(),
            sink: NoSink()
        )
    }

    @Test func phaseTalliesFromEveryLoopAddUp() {
        let start = ContinuousClock.now
        let perLoop = PhaseTallies(phase: "steady", runStart: start, observer: nil, recordsLateness: true, loops: 3)
        let shared = PhaseTallies(phase: "steady", runStart: start, observer: nil, recordsLateness: true, loops: 1)
        // Requests of two names over three seconds, on three loops, with every outcome.
        let outcomes: [RequestOutcome] = [.ok, .ok, .serverError, .timeout, .clientError, .connectionError]
        for number in 0..<60 {
            let intended = start + .milliseconds(50 * number)
            let item = request(number % 4 == 0 ? "write" : "read", intended: intended)
            let sentAt = intended + .microseconds(10 * number)
            let end = sentAt + .milliseconds(1 + number % 7)
            let outcome = outcomes[number % outcomes.count]
            perLoop.record(slot: item.slot, sentAt: sentAt, outcome: outcome, status: 200, end: end, loop: number % 3)
            shared.record(slot: item.slot, sentAt: sentAt, outcome: outcome, status: 200, end: end, loop: 0)
        }
        let (combined, single) = (perLoop.snapshot, shared.snapshot)
        #expect(combined.sentCount == 60 && single.sentCount == 60)
        #expect(combined.byRequest.mapValues(\.count) == single.byRequest.mapValues(\.count))
        #expect(combined.byRequest.mapValues(\.outcomes) == single.byRequest.mapValues(\.outcomes))
        #expect(combined.byRequest.mapValues(\.latency.summary) == single.byRequest.mapValues(\.latency.summary))
        #expect(combined.byRequest["write"]?.count == 15 && combined.byRequest["read"]?.outcomes["ok"] == 15)
        #expect(combined.timeline == single.timeline && combined.timeline.count == 3)
        #expect(combined.sendSpan == single.sendSpan)
        #expect(combined.lateness.summary == single.lateness.summary && combined.lateness.summary.count == 60)
    }

    @Test func templatesOfOneNameAreReportedTogether() {
        var counts = PhaseTallies.Counts()
        let first = PreparedRequest(RequestTemplate(name: "read", service: "tasks", path: "/a"), index: 2)
        let second = PreparedRequest(RequestTemplate(name: "read", service: "tasks", path: "/b"), index: 0)
        counts.add(first, .ok, latency: .milliseconds(1))
        counts.add(second, .timeout, latency: .milliseconds(2))
        var other = PhaseTallies.Counts()
        other.add(first, .ok, latency: .milliseconds(3))
        counts.merge(other)
        #expect(counts.byRequest.count == 1)
        #expect(counts.byRequest["read"]?.count == 3 && counts.byRequest["read"]?.outcomes == ["ok": 2, "timeout": 1])
        #expect(counts.byRequest["read"]?.latency.summary.count == 3)
    }

    @Test func liveCountersFromEveryLoopAddUpAndTheRateIsSinceTheLastLook() {
        let live = LiveCounters(loops: 2)
        for number in 0..<10 { live.send(loop: number % 2) }
        for number in 0..<7 { live.complete(number < 2 ? .timeout : .ok, latency: .milliseconds(number + 1), loop: number % 2) }
        live.drop(loop: 1)
        let first = live.snapshot(phase: "p", elapsed: .seconds(1), total: .seconds(2), targetRate: nil)
        #expect(first.sent == 10 && first.completed == 7 && first.failed == 2 && first.dropped == 1 && first.achievedRate == 10)
        #expect(first.p99 >= 7 && first.p99 < 7.1)
        live.send(loop: 0)
        #expect(live.snapshot(phase: "p", elapsed: .seconds(2), total: .seconds(2), targetRate: nil).achievedRate == 1)
    }
}

import Foundation
import Hummingbird
import Logging
import Scenario
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing
import Workload

/// A small HTTP service for the driver to hit: records the trace headers it gets, and can stall.
final class StubService: Sendable {
    struct Received: Sendable {
        var path: String
        var traceparent: String?
        var tracestate: String?
    }

    let received = Mutex<[Received]>([])
    /// Requests arriving in this window are held until its end (a GC pause, a lock, a full queue).
    let stall = Mutex<(start: ContinuousClock.Instant, end: ContinuousClock.Instant)?>(nil)

    func run(_ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("/ok") { request, _ -> String in
            self.received.withLock {
                $0.append(
                    Received(path: request.uri.path, traceparent: request.headers[.init("traceparent")!], tracestate: request.headers[.init("tracestate")!])
                )
            }
            if let window = self.stall.withLock({ $0 }) {
                let now = ContinuousClock.now
                if now >= window.start && now < window.end { try? await Task.sleep(until: window.end, clock: .continuous) }
            }
            return "ok"
        }
        router.get("/missing") { _, _ -> Response in Response(status: .notFound) }
        var logger = Logger(label: "stub")
        logger.logLevel = .critical
        let bound = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: {
                bound.continuation.yield($0.localAddress?.port ?? 0)
            },
            logger: logger
        )
        let group = ServiceGroup(services: [app], logger: logger)
        try await withThrowingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            var iterator = bound.stream.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            do {
                try await body(port)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

@Suite(.serialized) struct WorkloadDriverTests {
    private func workload(
        _ arrival: ArrivalSchedule,
        duration: Duration,
        connections: Int = 32,
        requests: [RequestTemplate]? = nil,
        timeout: Duration = .seconds(10)
    ) -> WorkloadSection {
        var section = WorkloadSection(
            phases: [Phase(name: "steady", duration: duration, arrival: arrival)],
            requests: requests ?? [
                RequestTemplate(name: "ok", weight: 1, service: "stub", method: "GET", path: "/ok", body: nil, headers: [], trace: TraceContextSpec())
            ]
        )
        section.connections = connections
        section.timeout = timeout
        return section
    }

    /// The schedule is exact (every slot sent, none dropped); the achieved rate is within 2 % of the target in
    /// at least one of three runs — a 2-core machine busy with other work can stretch one run.
    @Test func constantRateIsKeptWithinTwoPercent() async throws {
        let stub = StubService()
        try await stub.run { port in
            var rates: [Double] = []
            for _ in 0..<3 {
                let report = try await WorkloadDriver(
                    workload: workload(.constant(rate: 200), duration: .seconds(2)),
                    targets: ["stub": "http://127.0.0.1:\(port)"]
                ).run()
                let phase = try #require(report.phases.first)
                #expect(phase.scheduled == 400)
                #expect(phase.sentCount == 400)
                #expect(phase.droppedSlots == 0)
                #expect(phase.requests["ok"]?.outcomes["ok"] == 400)
                rates.append(phase.achievedRate)
                if abs(phase.achievedRate - 200) / 200 < 0.02 { break }
            }
            #expect(rates.contains { abs($0 - 200) / 200 < 0.02 }, "achieved \(rates.map { String(format: "%.1f", $0) }.joined(separator: ", "))/s")
        }
    }

    @Test func traceIDsTheDriverRecordsAreTheOnesTheServiceReceived() async throws {
        let stub = StubService()
        let requests = [
            RequestTemplate(
                name: "sampled",
                weight: 1,
                service: "stub",
                method: "GET",
                path: "/ok",
                body: nil,
                headers: [],
                trace: TraceContextSpec(sampled: true, tracestate: "congo=t61rcWkgMzE")
            ),
            RequestTemplate(
                name: "unsampled",
                weight: 1,
                service: "stub",
                method: "GET",
                path: "/ok",
                body: nil,
                headers: [],
                trace: TraceContextSpec(sampled: false)
            ),
            RequestTemplate(
                name: "invalid",
                weight: 1,
                service: "stub",
                method: "GET",
                path: "/ok",
                body: nil,
                headers: [],
                trace: TraceContextSpec(invalid: .versionFF)
            ),
            RequestTemplate(
                name: "none",
                weight: 1,
                service: "stub",
                method: "GET",
                path: "/ok",
                body: nil,
                headers: [],
                trace: TraceContextSpec(propagate: false)
            ),
        ]
        try await stub.run { port in
            let log = SentRequestLog()
            _ = try await WorkloadDriver(
                workload: workload(.constant(rate: 100), duration: .seconds(1), requests: requests),
                targets: ["stub": "http://127.0.0.1:\(port)"],
                observer: log
            ).run()
            let received = stub.received.withLock { $0 }
            #expect(received.count == 100)
            #expect(log.sent.count == 100 && log.sendingCount == 100, "the observer hears of every request as it goes and as it ends")
            let headers = Set(received.compactMap(\.traceparent))
            for sent in log.sent {
                switch sent.name {
                case "sampled":
                    #expect(headers.contains("00-\(sent.traceID)-\(sent.spanID)-01"))
                    #expect(sent.tracestate == "congo=t61rcWkgMzE")
                case "unsampled": #expect(headers.contains("00-\(sent.traceID)-\(sent.spanID)-00"))
                case "invalid": #expect(headers.contains("ff-\(sent.traceID)-\(sent.spanID)-01"))
                default: #expect(!sent.propagated)
                }
            }
            #expect(received.filter { $0.traceparent == nil }.count == log.sent.filter { !$0.propagated }.count)
            #expect(received.compactMap(\.tracestate).allSatisfy { $0 == "congo=t61rcWkgMzE" })
        }
    }

    /// Coordinated omission: with few connections, requests scheduled during a 1 s stall wait in the driver's
    /// queue; measured from their intended send time they must show the stall, not hide it.
    @Test func stallShowsInLatenciesMeasuredFromTheIntendedTime() async throws {
        let stub = StubService()
        try await stub.run { port in
            let start = ContinuousClock.now
            stub.stall.withLock { $0 = (start + .seconds(1), start + .seconds(2)) }
            let log = SentRequestLog()
            let report = try await WorkloadDriver(
                workload: workload(.constant(rate: 100), duration: .seconds(3), connections: 1),
                targets: ["stub": "http://127.0.0.1:\(port)"],
                observer: log
            ).run()
            let sent = log.sent
            #expect(sent.count == 300)
            // Offsets are from the driver's start, a few ms after `start`.
            let during = sent.filter { (1.05...1.9).contains($0.intendedOffsetSeconds) }
            let waited = during.filter { $0.latencySeconds >= (2.0 - $0.intendedOffsetSeconds) - 0.1 }
            #expect(Double(waited.count) >= Double(during.count) * 0.9, "\(waited.count) of \(during.count) requests scheduled during the stall show it")
            let first = try #require(sent.first { $0.intendedOffsetSeconds >= 1.02 })
            #expect(first.latencySeconds > 0.8, "the request scheduled at the stall's start waited about 1 s: \(first.latencySeconds)")
            #expect((report.phases[0].requests["ok"]?.latency.max ?? 0) >= 800)
            // The requests that waited for the one connection left late, and the phase says how late.
            let lateness = try #require(report.phases[0].sendLateness)
            #expect(lateness.count == 300 && lateness.max >= 800, "\(lateness)")
            let before = sent.filter { $0.intendedOffsetSeconds < 0.9 }
            #expect(before.allSatisfy { $0.latencySeconds < 0.5 })
        }
    }

    @Test func closedLoopUsersWaitForAnswersAndErrorsAreClassified() async throws {
        let stub = StubService()
        let requests = [
            RequestTemplate(name: "ok", weight: 3, service: "stub", method: "GET", path: "/ok", body: nil, headers: [], trace: TraceContextSpec()),
            RequestTemplate(name: "missing", weight: 1, service: "stub", method: "GET", path: "/missing", body: nil, headers: [], trace: TraceContextSpec()),
        ]
        try await stub.run { port in
            let report = try await WorkloadDriver(
                workload: workload(.closed(users: 2, thinkTime: .milliseconds(50)), duration: .seconds(1), requests: requests),
                targets: ["stub": "http://127.0.0.1:\(port)"]
            ).run()
            let phase = try #require(report.phases.first)
            // Two users, each about 20 requests per second with 50 ms think time.
            #expect((20...44).contains(phase.sentCount), "\(phase.sentCount)")
            #expect(phase.requests["missing"]?.outcomes["4xx"] == phase.requests["missing"]?.count)
            #expect(phase.requests["ok"]?.outcomes["ok"] == phase.requests["ok"]?.count)
            #expect(phase.sendLateness == nil, "closed-loop users have no intended times to be late for")
        }
    }

    @Test func refusedConnectionsAreCountedNotHidden() async throws {
        let log = SentRequestLog()
        let report = try await WorkloadDriver(
            workload: workload(.constant(rate: 20), duration: .milliseconds(500), timeout: .milliseconds(300)),
            targets: ["stub": "http://127.0.0.1:9"],
            observer: log
        ).run()
        #expect(report.sentCount == 10)
        #expect(log.sent.count == 10)
        #expect(log.sent.allSatisfy { $0.outcome == .connectionError || $0.outcome == .timeout })
    }
}

import Foundation
import Scenario
import TestSupport
import Testing
import Workload

/// A workload split into shards: every slot sent by exactly one shard, the parts together the whole schedule,
/// and their reports merging into exactly what one driver reports.
@Suite(.serialized) struct ShardTests {
    @Test func shardsAreWrittenIOfN() throws {
        let shard = try Shard(parsing: "2/5")
        #expect(shard.index == 2 && shard.count == 5 && shard.description == "2/5")
        #expect((0..<10).filter(shard.owns) == [2, 7])
        for (text, message) in [
            ("5/5", "between 0 and 4"), ("-1/3", "between 0 and 2"), ("1/0", "at least 1"), ("1", "written I/N"), ("a/b", "written I/N"),
            ("1/2/3", "written I/N"),
        ] {
            #expect(throws: ShardError.self, "\(text)") { try Shard(parsing: text) }
            do { _ = try Shard(parsing: text) } catch { #expect(error.description.contains(message), "\(text): \(error)") }
        }
    }

    /// Three shards of one open-loop phase and one closed-loop phase, against a real HTTP server: together they
    /// send every trace id one driver sends, each exactly once, and the open-loop counts add up exactly.
    @Test func shardsSplitTheScheduleDisjointlyAndCompletely() async throws {
        let stub = StubService()
        try await stub.run { port in
            let request = RequestTemplate(name: "ok", weight: 1, service: "stub", method: "GET", path: "/ok", body: nil, headers: [], trace: TraceContextSpec())
            let other = RequestTemplate(
                name: "other",
                weight: 2,
                service: "stub",
                method: "GET",
                path: "/ok",
                body: nil,
                headers: [],
                trace: TraceContextSpec()
            )
            var workload = WorkloadSection(
                phases: [
                    Phase(name: "open", duration: .seconds(1), arrival: .poisson(rate: 150)),
                    Phase(name: "closed", duration: .milliseconds(300), arrival: .closed(users: 5, thinkTime: .milliseconds(20))),
                ],
                requests: [request, other]
            )
            workload.connections = 8
            let targets = ["stub": "http://127.0.0.1:\(port)"]

            let whole = SentRequestLog()
            let wholeReport = try await WorkloadDriver(workload: workload, targets: targets, observer: whole).run()
            var parts: [SentRequestLog] = []
            var reports: [DriverReport] = []
            for index in 0..<3 {
                let log = SentRequestLog()
                reports.append(try await WorkloadDriver(workload: workload, targets: targets, shard: try Shard(index: index, count: 3), observer: log).run())
                parts.append(log)
            }

            // Open loop: the same slots, each sent once, with the same request and trace context.
            func open(_ log: SentRequestLog) -> [SentRequest] { log.sent.filter { $0.phase == "open" } }
            let wholeOpen = open(whole)
            let shardedOpen = parts.flatMap(open)
            #expect(wholeOpen.count > 100)
            #expect(Set(shardedOpen.map(\.traceID)).count == shardedOpen.count, "no slot is sent twice")
            #expect(Set(shardedOpen.map { "\($0.traceID) \($0.spanID) \($0.name)" }) == Set(wholeOpen.map { "\($0.traceID) \($0.spanID) \($0.name)" }))
            for (index, part) in parts.enumerated() {
                #expect(abs(open(part).count - wholeOpen.count / 3) <= 1, "shard \(index) sends a third")
            }
            let merged = DriverReport.merging(reports)
            #expect(merged.phases.map(\.name) == ["open", "closed"])
            #expect(merged.phases[0].scheduled == wholeReport.phases[0].scheduled)
            #expect(merged.phases[0].sentCount == wholeReport.phases[0].sentCount)
            let mergedCounts = merged.phases[0].requests.mapValues { $0.count }
            let wholeCounts = wholeReport.phases[0].requests.mapValues { $0.count }
            #expect(mergedCounts == wholeCounts)
            // Closed loop: users 0 and 3 on shard 0, 1 and 4 on shard 1, 2 on shard 2; their trace ids are
            // drawn from per-user seeds, so the first request of each user is the same in both runs.
            func firstOfEachUser(_ log: SentRequestLog) -> Set<String> {
                Set(log.sent.filter { $0.phase == "closed" }.map(\.traceID))
            }
            let closedWhole = firstOfEachUser(whole)
            let closedSharded = parts.map(firstOfEachUser)
            #expect(closedSharded.allSatisfy { !$0.isEmpty })
            #expect(closedSharded[0].isDisjoint(with: closedSharded[1]) && closedSharded[1].isDisjoint(with: closedSharded[2]))
            #expect(!closedWhole.intersection(closedSharded.reduce(Set(), { $0.union($1) })).isEmpty)
        }
    }

    /// Merging the reports of any split of the requests gives the report of all of them: counts, outcomes,
    /// the timeline and the latency histograms, bit for bit.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func mergingAnySplitEqualsTheWhole(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let phases = ["warm-up", "steady", "users"]
        let outcomes = RequestOutcome.allCases
        var requests: [SentRequest] = []
        for index in 0..<2_000 {
            let name = ["a", "b", "c"][Int(random.next() % 3)]
            let phase = phases[Int(random.next() % 3)]
            let delay = Double(random.next() % 1000) / 1e6
            let latency = Double(random.next() % 5_000_000) / 1e6
            let outcome = outcomes[Int(random.next() % UInt64(outcomes.count))]
            requests.append(
                SentRequest(
                    name: name,
                    phase: phase,
                    intendedOffsetSeconds: Double(index) / 100,
                    sentOffsetSeconds: Double(index) / 100 + delay,
                    latencySeconds: latency,
                    outcome: outcome,
                    status: 200,
                    traceID: String(format: "%032x", index + 1),
                    spanID: String(format: "%016x", index + 1),
                    sampled: true,
                    tracestate: nil,
                    invalidCase: nil,
                    propagated: true
                )
            )
        }
        let count = Int(random.next() % 6) + 2
        var parts = Array(repeating: [SentRequest](), count: count)
        for request in requests { parts[Int(random.next() % UInt64(count))].append(request) }

        let whole = Self.report(requests, phases: phases)
        let merged = DriverReport.merging(parts.map { Self.report($0, phases: phases) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(merged.phases.map(\.name) == phases)
        for (left, right) in zip(merged.phases, whole.phases) {
            #expect(left.scheduled == right.scheduled && left.sentCount == right.sentCount && left.droppedSlots == right.droppedSlots)
            #expect(left.sendSpan == right.sendSpan)
            #expect(left.timeline == right.timeline)
            let leftCounts = left.requests.mapValues { $0.count }
            let rightCounts = right.requests.mapValues { $0.count }
            let leftOutcomes = left.requests.mapValues { $0.outcomes }
            let rightOutcomes = right.requests.mapValues { $0.outcomes }
            let leftLatency = left.requests.mapValues { $0.latency }
            let rightLatency = right.requests.mapValues { $0.latency }
            #expect(leftCounts == rightCounts)
            #expect(leftOutcomes == rightOutcomes)
            #expect(leftLatency == rightLatency)
            let leftHistograms = try encoder.encode(left.latencies)
            let rightHistograms = try encoder.encode(right.latencies)
            #expect(leftHistograms == rightHistograms, "histograms merge exactly")
        }
        // A shard's report travels as JSON to the intake and arrives the same.
        let decoded = try JSONDecoder().decode(DriverReport.self, from: encoder.encode(merged))
        #expect(try encoder.encode(decoded) == encoder.encode(merged))
    }

    /// What a driver that sent `requests` reports, with every phase present (as every shard runs every phase)
    /// and a timeline per second.
    static func report(_ requests: [SentRequest], phases: [String]) -> DriverReport {
        DriverReport(
            phases: phases.map { phase in
                let mine = requests.filter { $0.phase == phase }
                let replayed: DriverReport = DriverReport(replaying: mine)
                let empty = PhaseReport(
                    name: phase,
                    plannedDuration: .seconds(1),
                    elapsed: .seconds(1),
                    scheduled: 0,
                    droppedSlots: 0,
                    requests: [:],
                    sentCount: 0,
                    timeline: [:]
                )
                var report = replayed.phases.first ?? empty
                for request in mine {
                    report.timeline[Int(request.intendedOffsetSeconds), default: TimelineBucket()].completed += 1
                    if request.outcome != .ok { report.timeline[Int(request.intendedOffsetSeconds), default: TimelineBucket()].failed += 1 }
                }
                return report
            }
        )
    }
}

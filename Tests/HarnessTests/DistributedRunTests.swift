import Checks
import Foundation
import Harness
import Logging
import Reporting
import Scenario
import TestSupport
import Testing
import Workload

/// A scenario run as N shards against one central intake, all in this process (the multi-process and
/// multi-host versions are in OTelBenchTests): the same verdicts and request counts as one process, a shard
/// that dies or never comes fails the run, and shards that do not add up are refused with the reason.
@Suite(.serialized) struct DistributedRunTests {
    static let logger: Logger = {
        var logger = Logger(label: "distributed-test")
        logger.logLevel = .critical
        return logger
    }()

    /// Runs `scenario` with an in-process intake and the shards `running` (all N by default) as in-process shards.
    static func runSharded(
        _ scenario: String,
        count: Int,
        folder: URL,
        running: [Int]? = nil,
        configure: (inout ShardCoordinator.Configuration) -> Void = { _ in },
        beforeShards: (ShardCoordinator) throws -> Void = { _ in }
    ) async throws -> (intake: ScenarioRun.Outcome, shards: [Result<ShardRun.Outcome, any Error>]) {
        var configuration = ShardCoordinator.Configuration(count: count)
        configuration.startDelay = .milliseconds(300)
        configure(&configuration)
        let coordinator = ShardCoordinator(configuration: configuration)
        let control = ControlServer(address: ListenAddress(host: "127.0.0.1", port: 0), coordinator: coordinator, logger: logger)
        return try await withServices([control], logger: logger) {
            let port = try await control.boundAddress.value().port
            var options = ScenarioRun.Options(reportDirectory: folder.appendingPathComponent("intake").path)
            options.stopsOnSignal = false
            options.distribution = ScenarioRun.Distribution(coordinator: coordinator)
            let run = try ScenarioRun(scenarioPath: scenario, options: options)
            try beforeShards(coordinator)
            async let intake = run.run()
            var shards: [Result<ShardRun.Outcome, any Error>] = []
            try await withThrowingTaskGroup(of: Result<ShardRun.Outcome, any Error>.self) { group in
                for index in running ?? Array(0..<count) {
                    var shardOptions = ShardRun.Options(shard: try Shard(index: index, count: count), intake: "http://127.0.0.1:\(port)")
                    shardOptions.stopsOnSignal = false
                    shardOptions.connectTimeout = .seconds(30)
                    let shard = try ShardRun(scenarioPath: scenario, options: shardOptions)
                    group.addTask {
                        do { return .success(try await shard.run()) } catch { return .failure(error) }
                    }
                }
                for try await result in group { shards.append(result) }
            }
            return (try await intake, shards)
        }
    }

    static func verdicts(_ summary: RunSummary) -> [String] {
        summary.rules.filter { $0.kind != .shards }.map { "\($0.kind.rawValue): \($0.name) = \($0.verdict.rawValue)" }
    }

    /// Three shards give the verdicts and the exact request counts one process gives, for a healthy run and for
    /// one whose services drop the trace context (so that propagation fails in both).
    @Test(arguments: [[], ["drop_traceparent"]] as [[String]])
    func threeShardsJudgeAsOneProcessDoes(faults: [String]) async throws {
        try await withTemporaryDirectory { folder in
            let scenario = try writeShardedScenario(in: folder, faults: faults)
            var options = ScenarioRun.Options(reportDirectory: folder.appendingPathComponent("single").path)
            options.stopsOnSignal = false
            let single = try await ScenarioRun(scenarioPath: scenario, options: options).run()
            let (sharded, shards) = try await Self.runSharded(scenario, count: 3, folder: folder)

            #expect(shards.allSatisfy { (try? $0.get().completed) == true }, "\(shards)")
            #expect(Self.verdicts(sharded.summary) == Self.verdicts(single.summary))
            #expect(single.passed == faults.isEmpty, "the fault fails a rule: \(Self.verdicts(single.summary))")
            #expect(sharded.passed == single.passed)
            let shardRule = try #require(sharded.summary.rules.first { $0.kind == .shards })
            #expect(shardRule.verdict == .pass && shardRule.measured.hasPrefix("3 of 3 shards finished"))
            // Open-loop phases: the same schedule, so the same counts, per phase and per request.
            for (merged, whole) in zip(sharded.summary.phases, single.summary.phases) {
                #expect(merged.name == whole.name)
                #expect(merged.scheduled == whole.scheduled && merged.sent == whole.sent, "\(merged.name)")
                #expect(merged.requests.mapValues { $0.count } == whole.requests.mapValues { $0.count }, "\(merged.name)")
            }
            let entries = try #require(sharded.summary.shards)
            #expect(entries.map(\.status) == [.finished, .finished, .finished])
            #expect(entries.reduce(0) { $0 + $1.sent } == single.summary.phases.reduce(0) { $0 + $1.sent })
            let markdown = try String(contentsOfFile: sharded.directory + "/report.md", encoding: .utf8)
            #expect(markdown.contains("## Shards") && markdown.contains("| 2/3 | finished |"))
        }
    }

    /// A shard that registers and then says nothing is given up after the timeout: the run fails, naming it.
    @Test func aShardThatFallsSilentFailsTheRun() async throws {
        try await withTemporaryDirectory { folder in
            let scenario = try writeShardedScenario(in: folder)
            let fingerprint = ShardRegistration.fingerprint(try Data(contentsOf: URL(fileURLWithPath: scenario)))
            let (intake, shards) = try await Self.runSharded(
                scenario,
                count: 2,
                folder: folder,
                running: [0],
                configure: { $0.shardTimeout = .seconds(2) },
                beforeShards: { coordinator in
                    let silent = ShardRegistration(
                        shard: try Shard(index: 1, count: 2),
                        scenario: "sharded",
                        scenarioFingerprint: fingerprint,
                        seed: WorkloadDriver.defaultSeed,
                        durationScale: 1,
                        instance: "silent",
                        hostName: "gone"
                    )
                    _ = try coordinator.register(silent)
                }
            )
            #expect((try? shards[0].get().completed) == true)
            #expect(!intake.passed)
            let rule = try #require(intake.summary.rules.first { $0.kind == .shards })
            #expect(rule.verdict == .fail && rule.measured.hasPrefix("1 of 2 shards finished"))
            #expect(rule.evidence.contains { $0.contains("shard 1/2 died") && $0.contains("its requests are missing") }, "\(rule.evidence)")
            #expect(intake.summary.shards?.map(\.status) == [.finished, .died])
            #expect(intake.summary.shards?[1].host == "gone")
        }
    }

    /// A shard that never registers calls the run off once the registration timeout passes: the shards that came
    /// are told why, and the run fails naming the missing one.
    @Test func aShardThatNeverComesCallsTheRunOff() async throws {
        try await withTemporaryDirectory { folder in
            let scenario = try writeShardedScenario(in: folder)
            let (intake, shards) = try await Self.runSharded(
                scenario,
                count: 2,
                folder: folder,
                running: [0],
                configure: { $0.registrationTimeout = .seconds(2) }
            )
            guard case .failure(let error) = shards[0] else {
                Issue.record("shard 0 should be told the run was called off")
                return
            }
            #expect("\(error)".contains("called the run off") && "\(error)".contains("1/2 did not register"), "\(error)")
            #expect(!intake.passed)
            #expect(intake.summary.shards?.map(\.status) == [.died, .neverRegistered])
            #expect(intake.summary.phases.allSatisfy { $0.sent == 0 })
        }
    }

    // MARK: Shards that do not add up

    static func registration(
        _ index: Int,
        of count: Int,
        fingerprint: String = "f",
        seed: UInt64 = 1,
        scale: Double = 1,
        instance: String? = nil
    ) throws -> ShardRegistration {
        ShardRegistration(
            shard: try Shard(index: index, count: count),
            scenario: "s",
            scenarioFingerprint: fingerprint,
            seed: seed,
            durationScale: scale,
            instance: instance ?? "shard-\(index)",
            hostName: "host-\(index)"
        )
    }

    static func refusal(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func shardsThatDoNotAddUpAreRefusedWithTheReason() throws {
        let coordinator = ShardCoordinator(configuration: .init(count: 3))
        _ = try coordinator.register(try Self.registration(0, of: 3))
        #expect(Self.refusal { _ = try coordinator.register(try Self.registration(0, of: 3)) } == "accepted", "the same process again (a retry)")
        #expect(Self.refusal { _ = try coordinator.register(try Self.registration(1, of: 4)) }.contains("this intake runs 3 (--shards)"))
        #expect(
            Self.refusal { _ = try coordinator.register(try Self.registration(0, of: 3, instance: "other")) }.contains(
                "shard 0/3 is already registered from host-0"
            )
        )
        #expect(Self.refusal { _ = try coordinator.register(try Self.registration(1, of: 3, fingerprint: "g")) }.contains("different scenario file"))
        #expect(Self.refusal { _ = try coordinator.register(try Self.registration(1, of: 3, seed: 2)) }.contains("give every shard the same --seed"))
        #expect(Self.refusal { _ = try coordinator.register(try Self.registration(1, of: 3, scale: 0.5)) }.contains("--duration-scale"))
        #expect(Self.refusal { try coordinator.receive(ShardEvents(), from: 2) }.contains("shard 2 is not registered"))
        #expect(Self.refusal { _ = try coordinator.plan(for: 2) }.contains("not registered"))
        // Nothing starts until every shard has registered and the services listen.
        _ = try coordinator.register(try Self.registration(1, of: 3))
        let plan = try coordinator.register(try Self.registration(2, of: 3))
        #expect(plan.startAt == nil && plan.waitingFor.isEmpty)
        coordinator.publish(targets: ["tasks": "http://127.0.0.1:1"], observer: SentRequestLog())
        let started = try coordinator.plan(for: 0)
        #expect(started.startAt != nil && started.targets == ["tasks": "http://127.0.0.1:1"])
    }

    /// The request events of any split of the requests, interleaved in any order and sent as JSON through the
    /// coordinator, give the intake's ledger the same tallies one driver's events give: propagation and
    /// accounting have one ledger at the intake, so nothing of theirs needs merging.
    @Test(arguments: [21, 22, 23] as [UInt64])
    func eventsOfAnySplitGiveTheTalliesOfTheWhole(seed: UInt64) throws {
        let cases = LedgerCase.cases(count: 600, seed: seed)
        func ledger() -> RequestLedger { RequestLedger(configuration: .init(templates: LedgerCase.templates, quietWindow: .seconds(3600))) }
        let whole = ledger()
        for one in cases {
            whole.sending(one.request.traceContext, name: one.request.name)
            whole.completed(one.request)
        }
        whole.observe(spans: cases.flatMap(\.spans))

        var random = SplitMix64(seed: seed)
        let count = Int(random.next() % 4) + 2
        let coordinator = ShardCoordinator(configuration: .init(count: count))
        for index in 0..<count { _ = try coordinator.register(try Self.registration(index, of: count)) }
        let sharded = ledger()
        coordinator.publish(targets: [:], observer: sharded)
        // Each shard's events in its own order, cut into batches; the batches of all shards interleaved at random.
        var batches: [(Int, ShardEvents)] = []
        for index in 0..<count {
            var events: [ShardEvents.Event] = []
            for (position, one) in cases.enumerated() where position % count == index {
                events.append(.sending(ShardEvents.Sending(context: one.request.traceContext, name: one.request.name)))
                events.append(.completed(one.request))
            }
            while !events.isEmpty {
                let size = min(events.count, Int(random.next() % 40) + 1)
                batches.append((index, ShardEvents(events: Array(events.prefix(size)))))
                events.removeFirst(size)
            }
        }
        var queues = Dictionary(grouping: batches, by: \.0).mapValues { $0.map(\.1) }
        while !queues.isEmpty {
            let shard = queues.keys.sorted()[Int(random.next() % UInt64(queues.count))]
            let batch = queues[shard]!.removeFirst()
            if queues[shard]!.isEmpty { queues[shard] = nil }
            let travelled = try JSONDecoder().decode(ShardEvents.self, from: JSONEncoder().encode(batch))
            try coordinator.receive(travelled, from: shard)
        }
        sharded.observe(spans: cases.flatMap(\.spans))
        let expected = whole.finish().resolved(templates: LedgerCase.templates)
        #expect(expected.traces == 600 && expected.brokenTraces > 0)
        #expect(sharded.finish().resolved(templates: LedgerCase.templates) == expected, "\(count) shards")
    }
}

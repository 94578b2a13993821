package import Checks
package import Foundation
package import Reporting
import Synchronization
package import Workload

/// The central intake's side of a run spread over N shards: who registered, the common start, the request
/// events that feed the checks, each shard's driver report, the shards that died, and at the end the verdict.
///
/// The control API (``ControlServer``) calls it for the shards; the run's drive stage waits on it
/// (``awaitShards()``) instead of driving itself.
package final class ShardCoordinator: Sendable {
    package struct Configuration: Sendable {
        /// N: how many shards make the run.
        package var count: Int
        /// From the last registration (and the services listening) to the common start: time for every shard to
        /// hear of it.
        package var startDelay: Duration = .seconds(3)
        /// A shard silent this long (no events, no heartbeat) before its result is dead.
        package var shardTimeout: Duration = .seconds(60)
        /// How long to wait for every shard to register before calling the run off.
        package var registrationTimeout: Duration = .seconds(300)

        package init(count: Int) { self.count = count }
    }

    /// What the shards came to: the merged report and each shard's figures; `missing` names what went wrong.
    package struct Outcome: Sendable {
        package var report: DriverReport
        package var entries: [ShardEntry]
        /// One line per shard that did not finish, or whose events did not all arrive.
        package var problems: [String]
    }

    struct Registered {
        var registration: ShardRegistration
        var lastHeard: ContinuousClock.Instant
        var result: ShardResult?
        var died: String?
    }

    struct State {
        var shards: [Int: Registered] = [:]
        var targets: [String: String]?
        var startAt: Double?
        var startedDriving: ContinuousClock.Instant?
        var cancelled: String?
        var observer: (any RequestObserver)?
        var verdict: RunVerdict?
        var reportDirectory: String?
    }

    package let configuration: Configuration
    private let createdAt = ContinuousClock.now
    private let state = Mutex(State())

    package init(configuration: Configuration) {
        self.configuration = configuration
    }

    // MARK: The shards' calls

    /// Takes a shard's registration, or refuses it when it does not add up with the shards before it.
    package func register(_ registration: ShardRegistration) throws(ShardRefusal) -> ShardPlan {
        let shard = registration.shard
        let result: Result<ShardPlan, ShardRefusal> = state.withLock { state in
            if let cancelled = state.cancelled { return .failure(ShardRefusal("the run was called off: \(cancelled)")) }
            guard shard.count == configuration.count else {
                return .failure(
                    ShardRefusal(
                        "shard \(shard) says the run has \(shard.count) shards; this intake runs \(configuration.count) (--shards): start every shard with --shard I/\(configuration.count)"
                    )
                )
            }
            if let existing = state.shards[shard.index] {
                guard existing.registration.instance == registration.instance else {
                    return .failure(
                        ShardRefusal(
                            "shard \(shard) is already registered from \(existing.registration.hostName): give each shard its own index (0 to \(shard.count - 1))"
                        )
                    )
                }
            } else if let other = state.shards.values.first?.registration {
                let otherShard = other.shard
                if other.scenarioFingerprint != registration.scenarioFingerprint {
                    return .failure(
                        ShardRefusal(
                            "shard \(shard) runs a different scenario file (\(registration.scenario), fingerprint \(registration.scenarioFingerprint)) from shard \(otherShard) (\(other.scenario), \(other.scenarioFingerprint)): give every shard the same file"
                        )
                    )
                }
                if other.seed != registration.seed {
                    return .failure(
                        ShardRefusal("shard \(shard) uses seed \(registration.seed), shard \(otherShard) seed \(other.seed): give every shard the same --seed")
                    )
                }
                if other.durationScale != registration.durationScale {
                    return .failure(
                        ShardRefusal(
                            "shard \(shard) uses --duration-scale \(registration.durationScale), shard \(otherShard) \(other.durationScale): give every shard the same one"
                        )
                    )
                }
            }
            if state.startAt != nil, state.shards[shard.index] == nil {
                return .failure(ShardRefusal("shard \(shard) registered after the run started"))
            }
            state.shards[shard.index] = Registered(registration: registration, lastHeard: .now)
            scheduleStartIfReady(&state)
            return .success(plan(state))
        }
        return try result.get()
    }

    /// What `shard` is to do now.
    package func plan(for shard: Int) throws(ShardRefusal) -> ShardPlan {
        let result: Result<ShardPlan, ShardRefusal> = state.withLock { state in
            guard state.shards[shard] != nil else { return .failure(ShardRefusal("shard \(shard) is not registered: POST /v1/shards first")) }
            state.shards[shard]!.lastHeard = .now
            return .success(plan(state))
        }
        return try result.get()
    }

    /// A batch of `shard`'s request events: handed to the checks, and the shard counts as alive.
    package func receive(_ batch: ShardEvents, from shard: Int) throws(ShardRefusal) {
        let observer: (any RequestObserver)? = try state.withLock { state throws(ShardRefusal) in
            guard state.shards[shard] != nil else { throw ShardRefusal("shard \(shard) is not registered: POST /v1/shards first") }
            if let died = state.shards[shard]!.died { throw ShardRefusal("shard \(shard) was given up for dead (\(died)); its events no longer count") }
            state.shards[shard]!.lastHeard = .now
            return state.observer
        }
        guard let observer else { return }
        for event in batch.events {
            switch event {
            case .sending(let sending): observer.sending(sending.context, name: sending.name)
            case .completed(let request): observer.completed(request)
            }
        }
    }

    /// `shard`'s report: its part is done.
    package func finish(_ result: ShardResult) throws(ShardRefusal) {
        try state.withLock { state throws(ShardRefusal) in
            let index = result.shard.index
            guard state.shards[index] != nil, result.shard.count == configuration.count else {
                throw ShardRefusal("shard \(result.shard) is not registered: POST /v1/shards first")
            }
            if let died = state.shards[index]!.died { throw ShardRefusal("shard \(result.shard) was given up for dead (\(died)); its result comes too late") }
            state.shards[index]!.result = result
            state.shards[index]!.lastHeard = .now
        }
    }

    // MARK: The run's calls

    /// The services listen at `targets`, and the checks take the requests as `observer`: once every shard has
    /// registered, they get a common start.
    package func publish(targets: [String: String], observer: any RequestObserver) {
        state.withLock { state in
            state.targets = targets
            state.observer = observer
            scheduleStartIfReady(&state)
        }
    }

    /// Waits until every shard reported, died or never came, and merges what they sent.
    package func awaitShards(progress: (@Sendable (String) -> Void)? = nil) async -> Outcome {
        var announced: Set<Int> = []
        while true {
            let (done, newlyDead) = state.withLock { state in sweep(&state) }
            for line in newlyDead where announced.insert(line.0).inserted { progress?(line.1) }
            if done { break }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return state.withLock { state in outcome(state) }
    }

    /// The verdict is in: `GET /v1/verdict` answers from now on.
    package func judged(_ verdict: RunVerdict, reportDirectory: String) {
        state.withLock { state in
            state.verdict = verdict
            state.reportDirectory = reportDirectory
        }
    }

    /// The verdict, once judged.
    package var verdict: (RunVerdict, directory: String)? {
        state.withLock { state in state.verdict.map { ($0, state.reportDirectory ?? ".") } }
    }

    // MARK: Internals

    private func plan(_ state: State) -> ShardPlan {
        ShardPlan(
            startAt: state.startAt,
            targets: state.startAt == nil ? nil : state.targets,
            waitingFor: (0..<configuration.count).filter { state.shards[$0] == nil },
            cancelled: state.cancelled
        )
    }

    private func scheduleStartIfReady(_ state: inout State) {
        guard state.startAt == nil, state.cancelled == nil, state.targets != nil, state.shards.count == configuration.count else { return }
        state.startAt = Date().timeIntervalSince1970 + configuration.startDelay.inSeconds
        state.startedDriving = .now + configuration.startDelay
        for index in state.shards.keys { state.shards[index]!.lastHeard = .now + configuration.startDelay }
    }

    /// Marks the silent shards dead and calls the run off when registration timed out; returns whether every
    /// shard is accounted for, and the lines to print about shards newly given up.
    private func sweep(_ state: inout State) -> (Bool, [(Int, String)]) {
        let now = ContinuousClock.now
        var lines: [(Int, String)] = []
        if state.startAt == nil {
            guard now - createdAt >= configuration.registrationTimeout else { return (false, []) }
            let missing = (0..<configuration.count).filter { state.shards[$0] == nil }
            if state.cancelled == nil {
                state.cancelled =
                    missing.isEmpty
                    ? "the services were not ready within \(configuration.registrationTimeout)"
                    : "shards \(missing.map { "\($0)/\(configuration.count)" }.joined(separator: ", ")) did not register within \(configuration.registrationTimeout)"
                lines.append((-1, "shards: \(state.cancelled!); calling the run off"))
            }
            return (true, lines)
        }
        for index in state.shards.keys.sorted() {
            let shard = state.shards[index]!
            guard shard.result == nil, shard.died == nil, now - shard.lastHeard >= configuration.shardTimeout else { continue }
            let driving = state.startedDriving.map { max(0, (shard.lastHeard - $0).inSeconds) } ?? 0
            let reason = "no word for \(configuration.shardTimeout) after \(String(format: "%.1f", driving)) s of driving"
            state.shards[index]!.died = reason
            lines.append((index, "shard \(index)/\(configuration.count) died: \(reason)"))
        }
        let done = state.shards.values.allSatisfy { $0.result != nil || $0.died != nil }
        return (done, lines)
    }

    private func outcome(_ state: State) -> Outcome {
        var entries: [ShardEntry] = []
        var problems: [String] = []
        var reports: [DriverReport] = []
        for index in 0..<configuration.count {
            let name = "shard \(index)/\(configuration.count)"
            guard let shard = state.shards[index] else {
                entries.append(ShardEntry(index: index, count: configuration.count, status: .neverRegistered, detail: state.cancelled, report: nil))
                problems.append("\(name) never registered: its part of the schedule was not sent")
                continue
            }
            if let result = shard.result {
                reports.append(result.report)
                entries.append(
                    ShardEntry(index: index, count: configuration.count, status: .finished, host: shard.registration.hostName, report: result.report)
                )
                if result.undeliveredEvents > 0 {
                    problems.append("\(name) could not deliver \(result.undeliveredEvents) request events to the intake: the checks did not see those requests")
                }
                if result.report.interrupted { problems.append("\(name) was interrupted: it sent only part of its schedule") }
            } else {
                let detail = shard.died ?? state.cancelled ?? "never reported"
                entries.append(
                    ShardEntry(index: index, count: configuration.count, status: .died, detail: detail, host: shard.registration.hostName, report: nil)
                )
                problems.append("\(name) died (\(detail)): its requests are missing from the run")
            }
        }
        var report = DriverReport.merging(reports)
        if state.cancelled != nil { report.interrupted = true }
        return Outcome(report: report, entries: entries, problems: problems)
    }
}

extension ShardCoordinator.Outcome {
    /// The rule every sharded run has: all N shards ran their part and reported.
    package var rule: RuleResult {
        let count = entries.count
        let finished = entries.filter { $0.status == .finished }.count
        return RuleResult(
            kind: .shards,
            name: "every shard ran its part and reported",
            verdict: problems.isEmpty ? .pass : .fail,
            measured: "\(finished) of \(count) shards finished" + (problems.isEmpty ? "" : "; \(problems.count) problem\(problems.count == 1 ? "" : "s")"),
            expected: "\(count) of \(count), every request event delivered",
            evidence: problems
        )
    }
}

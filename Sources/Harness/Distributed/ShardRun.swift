import AsyncHTTPClient
package import Foundation
package import Logging
import NIOCore
import NIOHTTP1
package import Scenario
import Synchronization
package import Workload

/// One shard of a run spread over several machines (`otelbench run SCENARIO --shard I/N --intake URL`): registers
/// with the central intake, waits for the common start, sends its part of every phase's arrivals to the targets
/// the intake names, streams its request events to the intake as it goes, and posts its driver report at the end.
///
/// ```swift
/// var options = ShardRun.Options(shard: try Shard(parsing: "0/2"), intake: "http://10.0.0.1:4320")
/// let outcome = try await ShardRun(scenarioPath: "Scenarios/cf-core-load.yaml", options: options).run()
/// ```
package struct ShardRun: Sendable {
    package struct Options: Sendable {
        package var shard: Shard
        /// The intake's control API, e.g. `http://otelbench-intake:4320`.
        package var intake: String
        /// Where the shard's own result is also written (`shard-I-of-N.json`), if anywhere.
        package var reportDirectory: String?
        package var durationScale: Double = 1
        package var seed: UInt64 = WorkloadDriver.defaultSeed
        /// Service name → base URL, replacing what the intake names.
        package var targetOverrides: [String: String] = [:]
        /// CAs trusted for `https` targets besides the system's (`--target-ca`).
        package var targetTrust: TargetTrust?
        /// How long to keep trying to reach the intake, and to wait for the others to register.
        package var connectTimeout: Duration = .seconds(300)
        /// How often request events (or a heartbeat) go to the intake.
        package var eventInterval: Duration = .milliseconds(500)
        package var stopsOnSignal = true
        package var progress: (@Sendable (String) -> Void)?
        package var driverProgress: (@Sendable (DriverProgress) -> Void)?

        package init(shard: Shard, intake: String) {
            self.shard = shard
            self.intake = intake.hasSuffix("/") ? String(intake.dropLast()) : intake
        }
    }

    /// What the shard did.
    package struct Outcome: Sendable {
        package var report: DriverReport
        /// Request events the intake never got.
        package var undeliveredEvents: Int
        /// The shard's result file, when written.
        package var resultPath: String?
        /// Ran its whole part, and the intake has all of it.
        package var completed: Bool { !report.interrupted && undeliveredEvents == 0 }
    }

    package let scenario: Scenario
    package let options: Options
    private let fingerprint: String

    /// Loads the scenario, so that its mistakes are found before anything is sent.
    package init(scenarioPath: String, options: Options, environment: [String: String] = ProcessInfo.processInfo.environment) throws(HarnessError) {
        do {
            scenario = try ScenarioLoader.load(path: scenarioPath, environment: environment)
        } catch {
            throw HarnessError(code: .invalidScenario, message: error.description, cause: error)
        }
        guard let bytes = FileManager.default.contents(atPath: scenarioPath) else {
            throw HarnessError(code: .invalidScenario, message: "cannot read \(scenarioPath)")
        }
        fingerprint = ShardRegistration.fingerprint(bytes)
        self.options = options
    }

    /// Registers, waits for the start, drives its part and reports it.
    package func run() async throws -> Outcome {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let outcome = try await run(client: ControlClient(base: options.intake, client: client))
            try await client.shutdown()
            return outcome
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func run(client: ControlClient) async throws -> Outcome {
        let shard = options.shard
        let registration = ShardRegistration(
            shard: shard,
            scenario: scenario.name,
            scenarioFingerprint: fingerprint,
            seed: options.seed,
            durationScale: options.durationScale,
            instance: UUID().uuidString
        )
        // 1. Register (the intake may come up after the shards) and wait for the others and the services.
        let deadline = ContinuousClock.now + options.connectTimeout
        var plan: ShardPlan
        do {
            plan = try await client.retrying(until: deadline) { try await client.post("/v1/shards", registration) }
        } catch let refusal as ShardRefusal {
            throw HarnessError(code: .refusedByIntake, message: "the intake at \(options.intake) refused shard \(shard): \(refusal)", cause: refusal)
        } catch {
            throw HarnessError(
                code: .intakeUnreachable,
                message: "cannot register with the intake at \(options.intake) within \(options.connectTimeout): \(error)",
                cause: error
            )
        }
        progress("shard \(shard): registered with \(options.intake)")
        var announced: [Int] = []
        while plan.startAt == nil || plan.targets == nil {
            if let cancelled = plan.cancelled { throw HarnessError(code: .refusedByIntake, message: "the intake called the run off: \(cancelled)") }
            if plan.waitingFor != announced, !plan.waitingFor.isEmpty {
                announced = plan.waitingFor
                progress("waiting for shards " + plan.waitingFor.map { "\($0)/\(shard.count)" }.joined(separator: ", "))
            }
            guard ContinuousClock.now < deadline else {
                throw HarnessError(
                    code: .intakeUnreachable,
                    message: "no start from \(options.intake) within \(options.connectTimeout): still waiting for \(plan.waitingFor)"
                )
            }
            try await Task.sleep(for: .milliseconds(250))
            plan = try await client.retrying(until: deadline) { try await client.get("/v1/shards/\(shard.index)/plan") }
        }
        guard let startAt = plan.startAt, var targets = plan.targets else { fatalError("the loop above ends only with both") }
        targets.merge(options.targetOverrides) { $1 }
        let wait = startAt - Date().timeIntervalSince1970
        progress(
            String(format: "shard \(shard): starting in %.1f s; targets: ", max(0, wait))
                + targets.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        )
        if wait > 0 { try await Task.sleep(for: .seconds(wait)) }

        // 2. Drive, streaming the request events.
        let stream = EventStream()
        let driver = WorkloadDriver(
            workload: scenario.workload,
            targets: targets,
            durationScale: options.durationScale,
            seed: options.seed,
            shard: shard,
            observer: stream,
            progress: options.driverProgress,
            trust: options.targetTrust
        )
        let report = try await withThrowingTaskGroup(of: Void.self, returning: DriverReport.self) { group in
            // The batches go out every interval until the driver is done; a batch in flight is never cut short.
            group.addTask {
                while !stream.isClosed {
                    try? await Task.sleep(for: options.eventInterval)
                    await deliver(stream, client: client)
                }
            }
            let report: DriverReport
            do {
                report = options.stopsOnSignal ? try await Interruptible.run { try await driver.run() } : try await driver.run()
            } catch {
                group.cancelAll()
                throw error
            }
            stream.close()
            try await group.waitForAll()
            return report
        }
        await deliver(stream, client: client)

        // 3. Report.
        let undelivered = stream.undelivered
        let result = ShardResult(shard: shard, report: report, undeliveredEvents: undelivered)
        var resultPath: String?
        if let directory = options.reportDirectory {
            let path = URL(fileURLWithPath: directory).appendingPathComponent("shard-\(shard.index)-of-\(shard.count).json").path
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                try encoder.encode(result).write(to: URL(fileURLWithPath: path))
                resultPath = path
            } catch {
                throw HarnessError(code: .cannotWriteReports, message: "cannot write \(path): \(error)", cause: error)
            }
        }
        try await client.retrying(until: .now + .seconds(60)) { try await client.postExpectingNothing("/v1/shards/\(shard.index)/result", result) }
        if let refusal = stream.refusal { throw HarnessError(code: .refusedByIntake, message: "the intake refused this shard's events: \(refusal)") }
        return Outcome(report: report, undeliveredEvents: undelivered, resultPath: resultPath)
    }

    /// Sends what the driver told since the last batch (an empty batch is a heartbeat); retries a failed batch
    /// a few times, then counts its events as undelivered.
    private func deliver(_ stream: EventStream, client: ControlClient) async {
        let batch = ShardEvents(events: stream.drain())
        do {
            try await client.retrying(until: .now + .seconds(10)) {
                try await client.postExpectingNothing("/v1/shards/\(options.shard.index)/events", batch)
            }
        } catch let refusal as ShardRefusal {
            stream.refused(refusal, lost: batch.events.count)
        } catch {
            stream.lost(batch.events.count)
            options.progress?("shard \(options.shard): \(batch.events.count) request events not delivered to the intake: \(error)")
        }
    }

    private func progress(_ line: String) { options.progress?(line) }
}

/// The driver's request events, buffered between batches.
private final class EventStream: RequestObserver {
    private struct State {
        var events: [ShardEvents.Event] = []
        var undelivered = 0
        var refusal: ShardRefusal?
        var closed = false
    }

    private let state = Mutex(State())

    func sending(_ context: SentTraceContext, name: String) {
        state.withLock { $0.events.append(.sending(ShardEvents.Sending(context: context, name: name))) }
    }

    func completed(_ request: SentRequest) {
        state.withLock { $0.events.append(.completed(request)) }
    }

    func drain() -> [ShardEvents.Event] {
        state.withLock { state in
            defer { state.events = [] }
            return state.events
        }
    }

    func lost(_ count: Int) { state.withLock { $0.undelivered += count } }

    func refused(_ refusal: ShardRefusal, lost count: Int) {
        state.withLock { state in
            state.undelivered += count
            state.refusal = state.refusal ?? refusal
        }
    }

    /// The driver is done: no more events come.
    func close() { state.withLock { $0.closed = true } }
    var isClosed: Bool { state.withLock { $0.closed } }

    var undelivered: Int { state.withLock { $0.undelivered } }
    var refusal: ShardRefusal? { state.withLock { $0.refusal } }
}

/// JSON over HTTP to the intake's control API.
struct ControlClient: Sendable {
    let base: String
    let client: HTTPClient

    /// Fails for a connection problem (retry), or throws the intake's ``ShardRefusal`` (do not).
    func post<Answer: Decodable>(_ path: String, _ body: some Encodable) async throws -> Answer {
        let (status, bytes, _) = try await send(path, method: .POST, body: body)
        guard status == 200 else { throw Self.problem(path, status, bytes) }
        return try JSONDecoder().decode(Answer.self, from: bytes)
    }

    func postExpectingNothing(_ path: String, _ body: some Encodable) async throws {
        let (status, bytes, _) = try await send(path, method: .POST, body: body)
        guard (200..<300).contains(status) else { throw Self.problem(path, status, bytes) }
    }

    func get<Answer: Decodable>(_ path: String) async throws -> Answer {
        let (status, bytes, _) = try await send(path, method: .GET, body: String?.none)
        guard status == 200 else { throw Self.problem(path, status, bytes) }
        return try JSONDecoder().decode(Answer.self, from: bytes)
    }

    /// Status, body (at most 16 MiB) and `Retry-After` seconds of `GET path`.
    func fetch(_ path: String) async throws -> (status: Int, body: Data, retryAfter: Int?) {
        try await send(path, method: .GET, body: String?.none, limit: 16 << 20)
    }

    /// Writes `path`'s body into the file `destination` as it arrives (a recording can be gigabytes); returns the
    /// status, and writes nothing unless it is 200.
    func download(_ path: String, to destination: URL) async throws -> Int {
        var request = HTTPClientRequest(url: base + path)
        request.method = .GET
        let response = try await client.execute(request, deadline: .distantFuture)
        guard response.status == .ok else { return Int(response.status.code) }
        guard FileManager.default.createFile(atPath: destination.path, contents: nil) else {
            throw ControlError(message: "cannot create \(destination.path)")
        }
        let file = try FileHandle(forWritingTo: destination)
        defer { try? file.close() }
        for try await chunk in response.body {
            try file.write(contentsOf: chunk.readableBytesView)
        }
        return 200
    }

    /// Runs `body` until it succeeds, a refusal comes back, or `deadline` passes (then its last error).
    func retrying<Answer>(until deadline: ContinuousClock.Instant, _ body: () async throws -> Answer) async throws -> Answer {
        while true {
            do {
                return try await body()
            } catch let refusal as ShardRefusal {
                throw refusal
            } catch {
                guard ContinuousClock.now + .seconds(1) < deadline else { throw error }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// One request: its status, body (at most `limit` bytes) and `Retry-After` seconds.
    private func send(
        _ path: String,
        method: HTTPMethod,
        body: (some Encodable)?,
        limit: Int = 64 << 20
    ) async throws -> (status: Int, body: Data, retryAfter: Int?) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: limit)
        return (Int(response.status.code), Data(buffer: bytes), response.headers.first(name: "retry-after").flatMap(Int.init))
    }

    private static func problem(_ path: String, _ status: Int, _ bytes: Data) -> any Error {
        if status == 409, let refusal = try? JSONDecoder().decode(ShardRefusal.self, from: bytes) { return refusal }
        return ControlError(message: "\(path): HTTP \(status): \(String(decoding: bytes.prefix(500), as: UTF8.self))")
    }
}

/// The intake answered something unexpected (retried like a connection error).
struct ControlError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
package import Scenario
import Synchronization

/// Drives services with a scenario's workload: open-loop arrivals by the clock (latency measured from the
/// *intended* send time, so a stalled service shows in the percentiles instead of hiding — no coordinated
/// omission), or closed-loop users; every request carries a trace context the driver chose and records.
///
/// ```swift
/// let driver = WorkloadDriver(workload: scenario.workload, targets: ["tasks": "http://127.0.0.1:8080"])
/// let report = try await driver.run()
/// ```
package struct WorkloadDriver: Sendable {
    package let workload: WorkloadSection
    /// Base URL per service name.
    package let targets: [String: String]
    /// Multiplies every phase's duration (`--duration-scale`).
    package let durationScale: Double
    package let seed: UInt64
    /// Called about once a second with the progress so far.
    package let progress: (@Sendable (DriverProgress) -> Void)?
    /// Told of every request as it is sent and as it ends; the driver keeps none of them.
    package let observer: (any RequestObserver)?
    /// The part of the schedule this driver sends (all of it by default).
    package let shard: Shard
    /// CAs trusted for `https` targets besides the system's (`--target-ca`); `nil`: the system's only.
    package let trust: TargetTrust?

    /// The seed every run uses unless told otherwise: the same scenario sends the same requests.
    package static let defaultSeed: UInt64 = 0x0be1_c4

    package init(
        workload: WorkloadSection,
        targets: [String: String],
        durationScale: Double = 1,
        seed: UInt64 = WorkloadDriver.defaultSeed,
        shard: Shard = .whole,
        observer: (any RequestObserver)? = nil,
        progress: (@Sendable (DriverProgress) -> Void)? = nil,
        trust: TargetTrust? = nil
    ) {
        self.trust = trust
        self.workload = workload
        self.targets = targets
        self.durationScale = durationScale
        self.seed = seed
        self.shard = shard
        self.observer = observer
        self.progress = progress
    }

    /// Runs every phase in order; cancellation stops the workload early and still returns what ran.
    package func run() async throws -> DriverReport {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = workload.connections
        configuration.timeout.connect = .seconds(5)
        if let trust { configuration.tlsConfiguration = trust.clientConfiguration }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let live = LiveCounters()
        var report = DriverReport()
        var random = SeededRandom(seed: seed)
        let start = ContinuousClock.now
        let planned = workload.phases.reduce(Duration.zero) { $0 + $1.duration * durationScale }
        let timeline = LatencyTimeline(start: start, windowSeconds: LatencyOverTime.windowSeconds(forPlanned: planned))
        do {
            for phase in workload.phases {
                if Task.isCancelled {
                    report.interrupted = true
                    break
                }
                let scaled = phase.duration * durationScale
                let result = await runPhase(phase, duration: scaled, client: client, random: &random, live: live, runStart: start, timeline: timeline)
                report.phases.append(result)
            }
        }
        if Task.isCancelled { report.interrupted = true }
        report.latencyOverTime = timeline.finish()
        try await client.shutdown()
        return report
    }

    private func runPhase(
        _ phase: Phase,
        duration: Duration,
        client: HTTPClient,
        random: inout SeededRandom,
        live: LiveCounters,
        runStart: ContinuousClock.Instant,
        timeline: LatencyTimeline
    ) async -> PhaseReport {
        let phaseStart = ContinuousClock.now
        let end = phaseStart + duration
        var phaseRandom = SeededRandom(seed: random.next())
        let requestPicker = RequestPicker(requests: workload.requests)
        let tallies = PhaseTallies(phase: phase.name, runStart: runStart, observer: observer, latencyTimeline: timeline)
        let context = SendContext(client: client, targets: targets, timeout: workload.timeout, live: live, observer: observer, tallies: tallies)
        var droppedSlots = 0
        var scheduled = 0

        let progressTask = progress.map { progress in
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    if Task.isCancelled { break }
                    let elapsed = ContinuousClock.now - phaseStart
                    progress(live.snapshot(phase: phase.name, elapsed: elapsed, total: duration, targetRate: phase.arrival.rate(at: elapsed, of: duration)))
                }
            }
        }
        defer { progressTask?.cancel() }

        if var arrivals = phase.arrival.arrivals(over: duration, random: SeededRandom(seed: phaseRandom.next())) {
            // Open loop: the scheduler makes each slot when its time comes (nothing of the phase is held ahead)
            // and offers it; workers take them. Workers are many more than connections so that a slow answer
            // does not delay the next send; a full queue means the driver itself cannot keep up, and those slots
            // are counted as dropped.
            let queue = SlotQueue<Slot>(capacity: 10_000)
            let workerCount = max(workload.connections * 4, 16)
            var slotRandom = SeededRandom(seed: phaseRandom.next())
            droppedSlots = await withTaskGroup(of: Void.self) { group -> Int in
                for _ in 0..<workerCount {
                    group.addTask {
                        while let slot = await queue.take() {
                            await context.send(slot)
                        }
                    }
                }
                var dropped = 0
                var position = 0
                while let time = arrivals.next() {
                    // Every shard draws every slot, so that the random streams stay in step; each sends its own.
                    defer { position += 1 }
                    let owned = shard.owns(position)
                    if Task.isCancelled {
                        if owned { scheduled += 1 }
                        break
                    }
                    let template = requestPicker.pick(&slotRandom)
                    let slot = Slot(
                        intended: phaseStart + .nanoseconds(Int64(time * 1e9)),
                        template: template,
                        trace: template.trace.generate(random: &slotRandom),
                        index: position
                    )
                    guard owned else { continue }
                    scheduled += 1
                    try? await Task.sleep(until: slot.intended, clock: .continuous)
                    if !queue.offer(slot) {
                        dropped += 1
                        live.drop()
                    }
                }
                // Slots an interruption left unsent still count as scheduled.
                while arrivals.next() != nil {
                    if shard.owns(position) { scheduled += 1 }
                    position += 1
                }
                queue.finish()
                await group.waitForAll()
                return dropped
            }
        } else if case .closed(let users, let thinkTime) = phase.arrival {
            let seeds = (0..<users).map { _ in phaseRandom.next() }
            await withTaskGroup(of: Void.self) { group in
                for user in 0..<users where shard.owns(user) {
                    group.addTask {
                        var userRandom = SeededRandom(seed: seeds[user])
                        var index = 0
                        while ContinuousClock.now < end, !Task.isCancelled {
                            let template = requestPicker.pick(&userRandom)
                            let slot = Slot(
                                intended: ContinuousClock.now,
                                template: template,
                                trace: template.trace.generate(random: &userRandom),
                                index: index
                            )
                            index += 1
                            await context.send(slot)
                            if thinkTime > .zero { try? await Task.sleep(for: thinkTime) }
                        }
                    }
                }
            }
            scheduled = tallies.snapshot.sentCount
        }

        let merged = tallies.snapshot
        let elapsed = ContinuousClock.now - phaseStart
        return PhaseReport(
            name: phase.name,
            plannedDuration: duration,
            elapsed: elapsed,
            scheduled: scheduled,
            droppedSlots: droppedSlots,
            requests: merged.byRequest.mapValues { $0.report },
            latencies: merged.byRequest.mapValues { $0.latency },
            sentCount: merged.sentCount,
            sendSpan: merged.sendSpan,
            timeline: merged.timeline
        )
    }
}

/// One scheduled request.
struct Slot: Sendable {
    var intended: ContinuousClock.Instant
    var template: RequestTemplate
    var trace: SentTraceContext
    var index: Int
}

/// Picks request templates by weight.
struct RequestPicker: Sendable {
    let requests: [RequestTemplate]
    let cumulative: [Double]

    init(requests: [RequestTemplate]) {
        self.requests = requests
        var total = 0.0
        cumulative = requests.map {
            total += $0.weight
            return total
        }
    }

    func pick(_ random: inout SeededRandom) -> RequestTemplate {
        let point = random.unitInterval() * (cumulative.last ?? 1)
        let index = cumulative.firstIndex { point <= $0 } ?? (requests.count - 1)
        return requests[index]
    }
}

/// What a worker needs to send one request.
struct SendContext: Sendable {
    let client: HTTPClient
    let targets: [String: String]
    let timeout: Duration
    let live: LiveCounters
    let observer: (any RequestObserver)?
    let tallies: PhaseTallies

    func send(_ slot: Slot) async {
        let template = slot.template
        let path = Placeholders.render(template.path, index: slot.index, traceID: slot.trace.traceID)
        let url = (targets[template.service] ?? "") + path
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: template.method)
        for (name, value) in template.headers { request.headers.add(name: name, value: value) }
        // The trace context replaces any of the template's headers of the same names; a name may repeat (the
        // W3C suite's multiple-header cases), and its spelling is sent as given (the header-name casing cases).
        let traceHeaders = slot.trace.headers
        for name in Set(traceHeaders.map { $0.0.lowercased() }) { request.headers.remove(name: name) }
        for (name, value) in traceHeaders { request.headers.add(name: name, value: value) }
        if let body = template.body {
            request.body = .bytes(ByteBuffer(string: Placeholders.render(body, index: slot.index, traceID: slot.trace.traceID)))
            if !template.headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                request.headers.add(name: "Content-Type", value: "application/json")
            }
        }
        observer?.sending(slot.trace, name: template.name)
        live.send()
        let sentAt = ContinuousClock.now
        let outcome: RequestOutcome
        do {
            let timeoutAmount = TimeAmount.nanoseconds(timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
            let response = try await client.execute(request, timeout: timeoutAmount)
            _ = try await response.body.collect(upTo: 8 << 20)
            let code = Int(response.status.code)
            outcome = code >= 500 ? .serverError : code >= 400 ? .clientError : .ok
            tallies.record(slot: slot, sentAt: sentAt, outcome: outcome, status: code, end: ContinuousClock.now)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            outcome = .timeout
            tallies.record(slot: slot, sentAt: sentAt, outcome: outcome, status: nil, end: ContinuousClock.now)
        } catch {
            outcome = .connectionError
            tallies.record(slot: slot, sentAt: sentAt, outcome: outcome, status: nil, end: ContinuousClock.now)
        }
        live.complete(outcome, latency: ContinuousClock.now - slot.intended)
    }
}

/// `{{counter}}` (the request's index in its phase), `{{uuid}}`, `{{trace_id}}`, `{{random:N}}` (0..<N).
enum Placeholders {
    static func render(_ text: String, index: Int, traceID: String) -> String {
        guard text.contains("{{") else { return text }
        var result = text.replacingOccurrences(of: "{{counter}}", with: String(index))
            .replacingOccurrences(of: "{{trace_id}}", with: traceID)
        while let range = result.range(of: "{{uuid}}") { result.replaceSubrange(range, with: UUID().uuidString.lowercased()) }
        while let open = result.range(of: "{{random:"), let close = result[open.upperBound...].range(of: "}}") {
            let bound = Int(result[open.upperBound..<close.lowerBound]) ?? 1
            result.replaceSubrange(open.lowerBound..<close.upperBound, with: String(Int.random(in: 0..<max(1, bound))))
        }
        return result
    }
}

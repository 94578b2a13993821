import NIOCore
import Synchronization

/// Closed-loop users: each sends a request, waits for its answer and the think time, and sends the next, until
/// the phase ends. A user lives on one event loop (users are spread over the loops in turn), so the next
/// request is made and written as the previous answer is read, with no hop between threads.
struct ClosedLoopUsers {
    let context: PhaseContext
    let picker: RequestPicker
    let thinkTime: Duration
    let end: ContinuousClock.Instant

    /// Runs one user per seed until the phase's end (or cancellation).
    func run(seeds: [UInt64]) async {
        guard !seeds.isEmpty else { return }
        let loops = context.connections.loops
        let stop = StopSignal()
        let users = seeds.enumerated().map { number, seed in
            ClosedLoopUser(
                loop: loops[number % loops.count],
                loopIndex: number % loops.count,
                random: SeededRandom(seed: seed),
                context: context,
                picker: picker,
                thinkTime: thinkTime,
                end: end,
                stop: stop
            )
        }
        context.outstanding.add(users.count)
        await withTaskCancellationHandler {
            for user in users { user.start() }
            await context.outstanding.drained()
        } onCancel: {
            stop.raise()
            Task { await context.connections.shutdown() }
        }
    }
}

/// Set once to stop every user of a phase.
final class StopSignal: Sendable {
    private let raised = Atomic(false)
    func raise() { raised.store(true, ordering: .relaxed) }
    var isRaised: Bool { raised.load(ordering: .relaxed) }
}

/// One closed-loop user, confined to its event loop.
final class ClosedLoopUser: LoadRequestSink, @unchecked Sendable {
    private let loop: any EventLoop
    private let loopIndex: Int
    private var random: SeededRandom
    private let context: PhaseContext
    private let picker: RequestPicker
    private let thinkTime: Duration
    private let end: ContinuousClock.Instant
    private let stop: StopSignal
    private var index = 0

    init(
        loop: any EventLoop,
        loopIndex: Int,
        random: SeededRandom,
        context: PhaseContext,
        picker: RequestPicker,
        thinkTime: Duration,
        end: ContinuousClock.Instant,
        stop: StopSignal
    ) {
        self.loop = loop
        self.loopIndex = loopIndex
        self.random = random
        self.context = context
        self.picker = picker
        self.thinkTime = thinkTime
        self.end = end
        self.stop = stop
    }

    func start() {
        loop.execute { [self] in sendNext() }
    }

    private func sendNext() {
        guard !stop.isRaised, ContinuousClock.now < end else {
            context.outstanding.remove()
            return
        }
        let request = picker.pick(&random)
        let slot = Slot(intended: .now, request: request, trace: request.template.trace.generate(random: &random), index: index)
        index += 1
        context.willSend(slot, loop: loopIndex)
        context.connections.send(slot, onLoop: loopIndex, deadline: context.deadline, sink: self)
    }

    func finished(_ request: LoadRequest, sentAt: ContinuousClock.Instant, outcome: RequestOutcome, status: Int?) {
        context.record(request, sentAt: sentAt, outcome: outcome, status: status, loop: loopIndex)
        if thinkTime > .zero {
            let nanoseconds = thinkTime.components.seconds * 1_000_000_000 + thinkTime.components.attoseconds / 1_000_000_000
            loop.scheduleTask(in: .nanoseconds(nanoseconds)) { [self] in sendNext() }
        } else if outcome == .connectionError {
            // A failure can end a request before `send` returns: go round the loop instead of recursing.
            loop.execute { [self] in sendNext() }
        } else {
            sendNext()
        }
    }
}

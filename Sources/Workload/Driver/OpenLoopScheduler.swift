import DequeModule
import NIOCore
import Synchronization

/// Open-loop arrivals: every slot is made in time order (the same random stream on every shard) and handed, a
/// few milliseconds ahead, to an event loop, whose timer sends it at its intended time on a free connection of
/// that loop. A request that must wait for a connection waits in the pool, and its latency still counts from
/// the intended time (no coordinated omission); when more than ``waitingLimit`` wait, the driver itself cannot
/// keep up and further slots are dropped and counted.
struct OpenLoopScheduler {
    let context: PhaseContext
    let shard: Shard
    let picker: RequestPicker
    let random: SeededRandom

    /// Slots handed to a loop this far ahead of their time.
    static let horizon = Duration.milliseconds(20)
    /// The shortest time between two sends of the same event loop's timer.
    static let minimumTick = TimeAmount.microseconds(100)
    /// Requests that may wait for a connection, over all loops, before slots are dropped.
    static let waitingLimit = 10_000

    init(context: PhaseContext, shard: Shard, picker: RequestPicker, random: SeededRandom) {
        self.context = context
        self.shard = shard
        self.picker = picker
        self.random = random
    }

    /// Sends the phase's slots; returns how many were scheduled (this shard's) and dropped.
    func run(arrivals: ArrivalTimes, phaseStart: ContinuousClock.Instant) async -> (scheduled: Int, dropped: Int) {
        var arrivals = arrivals
        var random = self.random
        let loops = context.connections.loops
        let dropped = DroppedSlots()
        let dispatchers = loops.indices.map { index in
            OpenLoopDispatcher(
                loop: loops[index],
                index: index,
                context: context,
                waitingLimit: Self.waitingLimit / loops.count,
                dropped: dropped
            )
        }
        // NIO's timers run on the monotonic clock: intended instants are carried over by one offset.
        let anchor = (continuous: ContinuousClock.now, nio: NIODeadline.now())
        func deadline(_ instant: ContinuousClock.Instant) -> NIODeadline {
            let offset = instant - anchor.continuous
            return anchor.nio + .nanoseconds(offset.components.seconds * 1_000_000_000 + offset.components.attoseconds / 1_000_000_000)
        }
        var batches: [[(Slot, NIODeadline)]] = Array(repeating: [], count: loops.count)
        func handOver() {
            for index in batches.indices where !batches[index].isEmpty {
                context.outstanding.add(batches[index].count)
                dispatchers[index].enqueue(batches[index])
                batches[index].removeAll(keepingCapacity: true)
            }
        }
        var scheduled = 0
        var position = 0
        var sent = 0
        return await withTaskCancellationHandler {
            while let time = arrivals.next() {
                // Every shard draws every slot, so that the random streams stay in step; each sends its own.
                defer { position += 1 }
                let owned = shard.owns(position)
                if Task.isCancelled {
                    if owned { scheduled += 1 }
                    break
                }
                let request = picker.pick(&random)
                let slot = Slot(
                    intended: phaseStart + .nanoseconds(Int64(time * 1e9)),
                    request: request,
                    trace: request.template.trace.generate(random: &random),
                    index: position
                )
                guard owned else { continue }
                scheduled += 1
                if slot.intended > ContinuousClock.now + Self.horizon {
                    handOver()
                    try? await Task.sleep(until: slot.intended - Self.horizon / 2, clock: .continuous)
                }
                batches[sent % loops.count].append((slot, deadline(slot.intended)))
                sent += 1
                if sent % 512 == 0 { handOver() }
            }
            handOver()
            // Slots an interruption left unsent still count as scheduled.
            while arrivals.next() != nil {
                if shard.owns(position) { scheduled += 1 }
                position += 1
            }
            await context.outstanding.drained()
            return (scheduled, dropped.count)
        } onCancel: {
            for dispatcher in dispatchers { dispatcher.cancel() }
            Task { await context.connections.shutdown() }
        }
    }
}

/// Slots dropped because too many requests waited for a connection.
final class DroppedSlots: Sendable {
    private let value = Atomic<Int>(0)
    func add() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

/// One event loop's share of the open-loop slots, sent when their time comes.
final class OpenLoopDispatcher: LoadRequestSink, @unchecked Sendable {
    private let loop: any EventLoop
    private let index: Int
    private let context: PhaseContext
    private let waitingLimit: Int
    private let dropped: DroppedSlots
    // Confined to `loop`.
    private var pending = Deque<(Slot, NIODeadline)>()
    private var timer: Scheduled<Void>?
    private var cancelled = false

    init(loop: any EventLoop, index: Int, context: PhaseContext, waitingLimit: Int, dropped: DroppedSlots) {
        self.loop = loop
        self.index = index
        self.context = context
        self.waitingLimit = max(1, waitingLimit)
        self.dropped = dropped
    }

    /// Adds slots (in time order, after those already given).
    func enqueue(_ slots: [(Slot, NIODeadline)]) {
        loop.execute { [self] in
            guard !cancelled else {
                context.outstanding.remove(slots.count)
                return
            }
            pending.append(contentsOf: slots)
            if timer == nil { sendDue() }
        }
    }

    /// Forgets the slots not sent yet (an interrupted run).
    func cancel() {
        loop.execute { [self] in
            cancelled = true
            timer?.cancel()
            timer = nil
            let forgotten = pending.count
            pending.removeAll()
            if forgotten > 0 { context.outstanding.remove(forgotten) }
        }
    }

    /// Sends every slot whose time has come, then sets the timer for the next.
    private func sendDue() {
        timer = nil
        let now = NIODeadline.now()
        while let (slot, due) = pending.first, due <= now {
            pending.removeFirst()
            if context.connections.waiting(onLoop: index) >= waitingLimit {
                dropped.add()
                context.live.drop(loop: index)
                context.outstanding.remove()
                continue
            }
            context.willSend(slot, loop: index)
            context.connections.send(slot, onLoop: index, deadline: context.deadline, sink: self)
        }
        if let (_, next) = pending.first {
            // At most one wake-up per `minimumTick`: at high rates the slots due by then leave together (each
            // wake-up costs a timer syscall and a loop turn), at most that much late.
            timer = loop.scheduleTask(deadline: max(next, now + OpenLoopScheduler.minimumTick)) { [self] in sendDue() }
        }
    }

    func finished(_ request: LoadRequest, sentAt: ContinuousClock.Instant, outcome: RequestOutcome, status: Int?) {
        context.record(request, sentAt: sentAt, outcome: outcome, status: status, loop: index)
        context.outstanding.remove()
    }
}

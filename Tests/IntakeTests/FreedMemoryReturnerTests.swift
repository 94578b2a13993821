import Intake
import Logging
import ServiceLifecycle
import Synchronization
import Telemetry
import Testing

/// The receiver gives malloc's freed memory back to the system while requests arrive and once after they stop,
/// not while idle, and runs until its group shuts down.
struct FreedMemoryReturnerTests {
    private final class Counts: Sendable {
        let changes = Atomic(0)
        /// How often the returner looked at `changes`.
        let reads = Atomic(0)
        let trims = Atomic(0)
    }

    /// Waits (bounded) until `condition` holds.
    private func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<1_000 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test func trimsAfterChangesOnlyAndEndsWithItsGroup() async throws {
        let counts = Counts()
        let returner = FreedMemoryReturner(
            interval: .milliseconds(5),
            changes: {
                counts.reads.add(1, ordering: .relaxed)
                return counts.changes.load(ordering: .relaxed)
            },
            trim: { counts.trims.add(1, ordering: .relaxed) },
            logger: Logger(label: "test")
        )
        let group = ServiceGroup(services: [returner], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // Nothing arrived: intervals pass (it looked again) without a trim.
            #expect(await eventually { counts.reads.load(ordering: .relaxed) >= 3 })
            #expect(counts.trims.load(ordering: .relaxed) == 0)
            counts.changes.add(1, ordering: .relaxed)
            // One trim for the interval it moved in, one for the first quiet interval after it (what the last
            // requests and their connections free once they are counted).
            #expect(await eventually { counts.trims.load(ordering: .relaxed) == 2 })
            // Idle again: no further trim, however long it stays idle.
            let readsWhenIdle = counts.reads.load(ordering: .relaxed)
            #expect(await eventually { counts.reads.load(ordering: .relaxed) >= readsWhenIdle + 10 })
            #expect(counts.trims.load(ordering: .relaxed) == 2)
            counts.changes.add(5, ordering: .relaxed)
            #expect(await eventually { counts.trims.load(ordering: .relaxed) == 4 })
            let readsWhenIdleAgain = counts.reads.load(ordering: .relaxed)
            #expect(await eventually { counts.reads.load(ordering: .relaxed) >= readsWhenIdleAgain + 10 })
            #expect(counts.trims.load(ordering: .relaxed) == 4)
            // A service that returned early would have ended the group already.
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func mallocTrimIsFoundOnGlibc() {
        #if canImport(Glibc)
        #expect(FreedMemory.canReturn && FreedMemoryReturner.systemTrim != nil)
        #endif
    }
}

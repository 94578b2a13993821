import Foundation
import PromQL
import PromQLSyntax
import Testing

/// The threads deep PromQL work runs on: kept between uses, as many at once as the work needs up to the maximum,
/// nested uses run in place, and idle threads end.
@Suite struct LargeStackThreadsTests {
    /// Waits (a bounded number of short sleeps, not a deadline on the work) until `condition` holds.
    private func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<3_000 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func workInTurnReusesOneThread() async throws {
        let threads = LargeStackThreads(stackSize: 1 << 20, maximumThreads: 4, idleTimeout: .seconds(600))
        for index in 0..<20 {
            let answer = await withCheckedContinuation { continuation in
                threads.submit { continuation.resume(returning: index * 2) }
            }
            #expect(answer == index * 2)
            try await eventually { threads.idleThreadCount == 1 }
        }
        #expect(threads.threadCount == 1)
    }

    @Test func workAtOnceGetsAThreadEachUpToTheMaximumAndTheRestWaitsItsTurn() async throws {
        let threads = LargeStackThreads(stackSize: 1 << 20, maximumThreads: 2, idleTimeout: .seconds(600))
        let release = DispatchSemaphore(value: 0)
        let running = Counter()
        for _ in 0..<3 {
            threads.submit {
                running.add(1)
                release.wait()
            }
        }
        try await eventually { running.value == 2 }
        #expect(threads.threadCount == 2)
        // Two are blocked, so the third has not run; it runs as soon as one of them returns.
        #expect(running.value == 2)
        release.signal()
        try await eventually { running.value == 3 }
        #expect(running.value == 3)
        release.signal()
        release.signal()
    }

    @Test func nestedUseRunsInPlace() async {
        let outside = LargeStackThreads.isCurrentThreadOne
        let (inside, nested) = await PromQLEvaluationThread.run { () -> (Bool, Bool) in
            (LargeStackThreads.isCurrentThreadOne, LargeStack.run { LargeStackThreads.isCurrentThreadOne })
        }
        #expect(!outside)
        #expect(inside)
        #expect(nested)
    }

    /// The caller owns `run`'s result alone as soon as it returns: the pool thread, still letting go of the work's
    /// closure, holds no copy (a parse tree held there for that moment was reported as leaked by LeakSanitizer).
    /// Without the hand-over this fails only when the pool thread is slower than the caller, so it runs many times.
    @Test func runHandsItsResultOver() {
        for _ in 0..<500 {
            var result = LargeStack.run { Token() }
            #expect(isKnownUniquelyReferenced(&result))
        }
    }

    @Test func idleThreadsEnd() async throws {
        let threads = LargeStackThreads(stackSize: 1 << 20, maximumThreads: 2, idleTimeout: .milliseconds(50))
        await withCheckedContinuation { continuation in threads.submit { continuation.resume() } }
        try await eventually { threads.threadCount == 0 }
        #expect(threads.threadCount == 0)
        // And a new one starts for later work.
        let later = await withCheckedContinuation { continuation in threads.submit { continuation.resume(returning: 7) } }
        #expect(later == 7)
    }
}

/// An object whose references can be counted.
private final class Token: Sendable {}

/// A count several threads add to.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func add(_ amount: Int) { lock.withLock { count += amount } }
}

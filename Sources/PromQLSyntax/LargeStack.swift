import Foundation

/// Runs recursive PromQL work — parsing a long expression, evaluating a deep one — on a thread with a stack large
/// enough for the deepest expression the parser accepts (``PromQLParser/maximumNestingDepth``). The threads such
/// work otherwise runs on (the main thread, Swift's cooperative pool) have 8 MB, which about 1,900 levels of
/// nesting fill in a debug build.
///
/// The threads are kept between uses (``LargeStackThreads``): starting a thread with a 128 MB stack for every
/// query cost more than a simple query's evaluation, and gave the query API a heavy tail.
package enum LargeStack {
    /// The stack of each such thread (reserved, not committed: only the pages used are).
    package static let size = 128 << 20

    /// Expressions at most this deep are handled where they are (a few hundred kilobytes of stack at most).
    package static let shallow = 200

    /// The threads, started as needed and kept while they are used.
    package static let threads = LargeStackThreads(stackSize: size)

    /// `body`'s result, computed on a thread with a ``size`` stack; the caller waits. Already on such a thread,
    /// `body` runs where it is, so that nested uses never wait for a thread of their own.
    ///
    /// The result is handed over: the caller owns it alone when this returns. (It used to be copied out of the box
    /// the work closure shares with the caller, so the box held it until the pool thread let go of the closure,
    /// a moment later. LeakSanitizer, checking in that moment, saw a parse tree reachable only through that box's
    /// enum payload, whose pointer carries the case in its spare bits, and reported the whole tree as leaked.)
    package static func run<Value: Sendable>(_ body: @escaping @Sendable () -> Value) -> Value {
        if LargeStackThreads.isCurrentThreadOne { return body() }
        let box = ResultBox<Value>()
        let done = DispatchSemaphore(value: 0)
        threads.submit {
            box.value = body()
            done.signal()
        }
        done.wait()
        return box.takeValue()
    }

    /// Written once by the thread before it signals, taken once by the caller after: no two at a time.
    private final class ResultBox<Value>: @unchecked Sendable {
        var value: Value?

        /// The value, which the box no longer holds.
        func takeValue() -> Value {
            guard let taken = value.take() else { preconditionFailure("LargeStack.run: the work signalled without a result") }
            return taken
        }
    }
}

/// Threads with large stacks that run submitted work in the order it came, started when no idle one can take it
/// (up to ``maximumThreads``; beyond that, work waits its turn) and ended after ``idleTimeout`` without work, so that
/// an idle process keeps none, and the stack pages a deep expression touched are returned with its thread.
package final class LargeStackThreads: @unchecked Sendable {
    /// The stack of each thread.
    package let stackSize: Int
    /// The most threads at once: as many queries evaluate together (Prometheus' `--query.max-concurrency`
    /// defaults to 20).
    package let maximumThreads: Int
    /// How long a thread waits for work before it ends.
    package let idleTimeout: Duration

    /// Guards everything below; its condition wakes an idle thread when work arrives.
    private let condition = NSCondition()
    /// Work not yet taken by a thread, first at `nextWork`.
    private var work: [@Sendable () -> Void] = []
    private var nextWork = 0
    private var started = 0
    private var idle = 0

    /// Creates the pool; no thread starts before work arrives.
    package init(stackSize: Int, maximumThreads: Int = 20, idleTimeout: Duration = .seconds(30)) {
        self.stackSize = stackSize
        self.maximumThreads = maximumThreads
        self.idleTimeout = idleTimeout
    }

    /// Threads running now, working or idle.
    package var threadCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return started
    }

    /// Threads waiting for work now.
    package var idleThreadCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return idle
    }

    /// Runs `job` on one of the threads, starting one when every running thread is busy or already woken for
    /// earlier work.
    package func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        work.append(job)
        let waiting = work.count - nextWork
        let startsOne = waiting > idle && started < maximumThreads
        if startsOne { started += 1 } else { condition.signal() }
        condition.unlock()
        if startsOne {
            let thread = Thread { [self] in serve() }
            thread.stackSize = stackSize
            thread.name = Self.threadName
            thread.start()
        }
    }

    /// Whether the calling thread is one of any pool's (its stack is a large one).
    package static var isCurrentThreadOne: Bool { pthread_getspecific(poolThreadMark) != nil }

    /// Set on each pool thread when it starts.
    private static let poolThreadMark: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "no thread-specific key left for the PromQL threads")
        return key
    }()
    private static let threadName = "promql-eval"

    /// A thread's life: take work while there is some, wait up to ``idleTimeout`` for more, then end.
    private func serve() {
        pthread_setspecific(Self.poolThreadMark, UnsafeRawPointer(bitPattern: 1))
        condition.lock()
        while true {
            if nextWork < work.count {
                let job = work[nextWork]
                nextWork += 1
                if nextWork == work.count {
                    work.removeAll(keepingCapacity: true)
                    nextWork = 0
                }
                condition.unlock()
                job()
                condition.lock()
                continue
            }
            idle += 1
            let (seconds, attoseconds) = idleTimeout.components
            let woken = condition.wait(until: Date(timeIntervalSinceNow: Double(seconds) + Double(attoseconds) * 1e-18))
            idle -= 1
            if !woken && nextWork == work.count {
                started -= 1
                condition.unlock()
                return
            }
        }
    }
}

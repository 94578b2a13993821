import Foundation

/// Runs recursive PromQL work — parsing a long expression, evaluating a deep one — on a thread of its own with a
/// stack large enough for the deepest expression the parser accepts (``PromQLParser/maximumNestingDepth``),
/// waiting for it. The threads such work otherwise runs on (the main thread, Swift's cooperative pool) have 8 MB,
/// which about 1,900 levels of nesting fill in a debug build.
package enum LargeStack {
    /// The stack of each such thread (reserved, not committed: only the pages used are).
    package static let size = 128 << 20

    /// Expressions at most this deep are handled where they are (a few hundred kilobytes of stack at most).
    package static let shallow = 200

    /// `body`'s result, computed on a new thread with a ``size`` stack; the caller waits.
    package static func run<Value: Sendable>(_ body: @escaping @Sendable () -> Value) -> Value {
        let box = ResultBox<Value>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.value = body()
            done.signal()
        }
        thread.stackSize = size
        thread.start()
        done.wait()
        return box.value!
    }

    /// Written once by the thread before it signals, read once by the caller after: no two at a time.
    private final class ResultBox<Value>: @unchecked Sendable {
        var value: Value?
    }
}

import Foundation
import PromQLSyntax

/// Runs PromQL work — parsing, evaluating, printing — for async callers (the query API) on one of
/// ``PromQLSyntax/LargeStack``'s threads, without blocking a thread of Swift's pool while it waits (``LargeStack/run(_:)``
/// is the synchronous form). Their stacks are large enough for the deepest expression the parser accepts
/// (``PromQLSyntax/PromQLParser/maximumNestingDepth``).
///
/// Parsing and evaluating are recursive, and the threads requests arrive on (Swift's cooperative pool, NIO's
/// event loops) have stacks whose size depends on the platform and `ulimit -s`; a hostile query nested a
/// few thousand deep would overflow them and kill the process. These threads' stacks are fixed. Their memory is
/// reserved, not committed: only the pages a query touches are used.
package enum PromQLEvaluationThread {
    /// The stack of each evaluation thread. 5,000 levels of nesting (the parser's limit) took between 32 and
    /// 64 MB in a debug build before the recursive functions' frames were slimmed (measured 2026-12-02 by
    /// running each kind of nesting on threads of decreasing stack), about half that since: a 4× margin at least.
    package static let stackSize = LargeStack.size

    /// `body`'s result, computed on a thread with a ``stackSize`` stack.
    package static func run<Value: Sendable, Failure: Error>(_ body: @escaping @Sendable () throws(Failure) -> Value) async throws(Failure) -> Value {
        let result: Result<Value, Failure> = await withCheckedContinuation { continuation in
            LargeStack.threads.submit {
                continuation.resume(returning: Result { () throws(Failure) -> Value in try body() })
            }
        }
        return try result.get()
    }
}

import Synchronization

/// State the driver's event loops all write per request, split into one part per loop (at most
/// ``maximumParts``): a loop locks only its own part, so the loops never wait for each other or pass its cache
/// line back and forth. Readers lock each part in turn and combine them.
final class PerLoopState<Value: Sendable>: Sendable {
    /// Parts at most: loops beyond this share them (`loop % count`), which bounds what the copies cost (a
    /// latency histogram is about 190 KB).
    static var maximumParts: Int { 8 }

    private final class Part: Sendable {
        let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
    }

    private let parts: [Part]

    /// One part per loop of `loops` (at most ``maximumParts``), each starting as `initial`.
    init(loops: Int, initial: Value) {
        parts = (0..<max(1, min(loops, Self.maximumParts))).map { _ in Part(initial) }
    }

    /// Changes loop `loop`'s part.
    func withLock<Result>(loop: Int, _ body: (inout sending Value) -> sending Result) -> sending Result {
        parts[loop % parts.count].value.withLock(body)
    }

    /// Every part, combined by `combine` starting from the first.
    func combined(_ combine: (inout Value, Value) -> Void) -> Value {
        var result = parts[0].value.withLock { $0 }
        for part in parts.dropFirst() {
            let value = part.value.withLock { $0 }
            combine(&result, value)
        }
        return result
    }
}

/// One of N parts of a workload, for running a scenario on several machines at once (`otelbench run --shard I/N`).
///
/// Every shard computes the same schedule from the same seed and sends only its own part of it: slot `k` of an
/// open-loop phase belongs to shard `k mod N`, user `u` of a closed-loop phase to shard `u mod N`. The parts are
/// disjoint and together they are the whole schedule, so N shards send exactly what one driver would.
package struct Shard: Sendable, Hashable, Codable, CustomStringConvertible {
    /// 0-based.
    package var index: Int
    package var count: Int

    /// The whole workload, as one process runs it.
    package static let whole = Shard(validIndex: 0, count: 1)

    /// Checks `0 <= index < count`.
    package init(index: Int, count: Int) throws(ShardError) {
        guard count >= 1 else { throw ShardError("the shard count must be at least 1 (got \(count))") }
        guard (0..<count).contains(index) else { throw ShardError("the shard index must be between 0 and \(count - 1) (got \(index) of \(count))") }
        self.index = index
        self.count = count
    }

    private init(validIndex: Int, count: Int) {
        self.index = validIndex
        self.count = count
    }

    /// Parses `I/N`, e.g. `0/4` for the first of four shards.
    package init(parsing text: String) throws(ShardError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw ShardError("a shard is written I/N, e.g. 0/4 for the first of four (got \"\(text)\")")
        }
        try self.init(index: index, count: count)
    }

    /// Whether slot (or user) `position` of a phase is this shard's to send.
    package func owns(_ position: Int) -> Bool { count == 1 || position % count == index }

    /// `I/N`.
    package var description: String { "\(index)/\(count)" }
}

/// A shard written wrongly: the message says how to write it.
package struct ShardError: Error, CustomStringConvertible, Equatable {
    package var description: String
    init(_ description: String) { self.description = description }
}

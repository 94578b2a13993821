import DequeModule

/// A service's records in memory, in the order they were created, at most ``capacity`` of them: the oldest are
/// forgotten first, as a cache with a size limit would. A load test that creates records for hours must not
/// make the service's memory, or its list answers, grow with the run's length.
///
/// Ids are `prefix-N` with N counting up, so creation order is also the order lists are answered in.
package struct RecentRecords<Record: Sendable>: Sendable {
    /// The most records kept.
    package let capacity: Int
    private var records: [String: Record] = [:]
    /// Ids in creation order; removed ids stay until they reach the front, and are skipped.
    private var order: Deque<String> = []

    package init(capacity: Int) { self.capacity = capacity }

    /// Keeps a new record, forgetting the oldest beyond ``capacity``.
    package mutating func insert(_ record: Record, id: String) {
        records[id] = record
        order.append(id)
        while records.count > capacity, let oldest = order.popFirst() { records[oldest] = nil }
        // Ids of removed records are dropped once they are as many as the records.
        if order.count > 2 * capacity { order = Deque(order.filter { records[$0] != nil }) }
    }

    package func find(_ id: String) -> Record? { records[id] }

    /// Replaces a record that is still kept (a forgotten one stays forgotten).
    package mutating func replace(_ record: Record, id: String) {
        if records[id] != nil { records[id] = record }
    }

    package mutating func remove(_ id: String) -> Bool { records.removeValue(forKey: id) != nil }

    /// The first `limit` records, oldest first, that satisfy `isIncluded`.
    package func first(_ limit: Int, where isIncluded: (Record) -> Bool = { _ in true }) -> [Record] {
        var result: [Record] = []
        for id in order where result.count < limit {
            if let record = records[id], isIncluded(record) { result.append(record) }
        }
        return result
    }
}

/// `?limit=N` of a list request: 100 unless given, at most 1,000, as list APIs page their answers.
enum ListLimit {
    static let `default` = 100
    static let maximum = 1000

    static func parse(_ text: String?) -> Int? {
        guard let text else { return Self.default }
        guard let value = Int(text), value > 0 else { return nil }
        return min(value, maximum)
    }
}

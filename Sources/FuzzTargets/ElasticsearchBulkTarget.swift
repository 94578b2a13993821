import Intake

/// `_bulk` bodies as the Elasticsearch sink reads them (``ElasticsearchEndpoint/parsedBulk(_:defaultIndex:observedAt:)``):
/// every action gets exactly one response item, and is stored or failed; a refused body names a line of it.
enum ElasticsearchBulkTarget {
    /// The first byte picks the default index (odd: `POST /logs/_bulk`, even: `POST /_bulk`); the rest is the body.
    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        guard let selector = bytes.first else { return }
        let body = Array(bytes.dropFirst())
        let bulk: ElasticsearchEndpoint.ParsedBulk
        do {
            bulk = try ElasticsearchEndpoint().parsedBulk(body, defaultIndex: selector & 1 == 1 ? "logs" : nil, observedAt: 0)
        } catch {
            let lines = body.lineCount
            let named = error.message.split(separator: "line [").dropFirst().last.flatMap { Int($0.prefix { $0.isNumber }) }
            try require(named.map { (1...lines).contains($0) } == true, "a refused bulk body does not name one of its \(lines) lines: \(error.message)")
            return
        }
        try require(
            bulk.items.count == bulk.records.count + bulk.failed,
            "\(bulk.items.count) response items for \(bulk.records.count) stored and \(bulk.failed) failed actions"
        )
    }
}

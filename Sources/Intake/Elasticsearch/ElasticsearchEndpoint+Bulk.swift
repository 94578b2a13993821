package import Telemetry

extension ElasticsearchEndpoint {
    /// A `_bulk` body read line by line as Elasticsearch reads it: what to store, one response item per action,
    /// and how many actions failed.
    package struct ParsedBulk {
        /// The documents of the `index` and `create` actions that became log records.
        package var records: [LogRecord]
        /// One response item per action, in order (`{"index": {"_index", "_id", "status", ...}}`).
        package var items: [JSONValue]
        /// The actions that failed (each has an item with an `error`).
        package var failed: Int
    }

    /// Reads a `_bulk` body: NDJSON action lines (`index`, `create`, `update`, `delete`), each `index` or `create`
    /// followed by its document. A document that is not valid JSON, or cannot become a log record, fails its
    /// action only (an item with an error); a malformed action line refuses the whole body, naming the line.
    ///
    /// - Parameters:
    ///   - defaultIndex: the index of `POST /{index}/_bulk`, for actions that name none.
    ///   - observedAt: the records' observed time, in nanoseconds since the epoch.
    /// - Throws: ``Refusal`` (`illegal_argument_exception`) for a malformed action line or an action without its
    ///   document, naming the line (counted among the non-blank lines, from 1).
    package func parsedBulk(_ body: [UInt8], defaultIndex: String?, observedAt: UInt64) throws(Refusal) -> ParsedBulk {
        let lines = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
            .filter { !$0.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") } }
        var items: [JSONValue] = []
        var records: [LogRecord] = []
        var failed = 0
        var position = 0
        while position < lines.count {
            let lineNumber = position + 1
            guard case .object(let actionObject)? = try? DocumentValue.parse(lines[position]), actionObject.count == 1,
                let (action, metadataValue) = actionObject.first, case .object(let metadata) = metadataValue
            else {
                throw Refusal(
                    .invalidArgument,
                    "Malformed action/metadata line [\(lineNumber)], expected an object with one action such as {\"index\":{}}",
                    errorType: "illegal_argument_exception"
                )
            }
            position += 1
            let index = metadata["_index"]?.text ?? defaultIndex
            let id = metadata["_id"]?.text ?? generatedID()
            switch action {
            case "index", "create":
                guard position < lines.count else {
                    throw Refusal(
                        .invalidArgument,
                        "The bulk request must be terminated by a newline [\\n]: action line [\(lineNumber)] has no document",
                        errorType: "illegal_argument_exception"
                    )
                }
                let source = lines[position]
                position += 1
                guard let index else {
                    failed += 1
                    items.append(
                        item(
                            action,
                            index: "",
                            id: id,
                            failure: DocumentProblem(type: "action_request_validation_exception", reason: "Validation Failed: 1: index is missing;")
                        )
                    )
                    continue
                }
                do {
                    let document = try DocumentValue.parse(source)
                    records.append(try ElasticsearchDocument.logRecord(document, index: index, observedAt: observedAt))
                    items.append(item(action, index: index, id: id, failure: nil))
                } catch let problem as DocumentProblem {
                    failed += 1
                    items.append(item(action, index: index, id: id, failure: problem))
                } catch {
                    failed += 1
                    items.append(
                        item(
                            action,
                            index: index,
                            id: id,
                            failure: DocumentProblem(
                                type: "document_parsing_exception",
                                reason: "[\(lineNumber + 1):1] failed to parse: the document is not valid JSON"
                            )
                        )
                    )
                }
            case "update":
                position += 1  // its body line
                failed += 1
                items.append(item(action, index: index ?? "", id: id, failure: Self.unsupportedAction(action)))
            case "delete":
                failed += 1
                items.append(item(action, index: index ?? "", id: id, failure: Self.unsupportedAction(action)))
            default:
                throw Refusal(
                    .invalidArgument,
                    "Malformed action/metadata line [\(lineNumber)], expected one of [create, delete, index, update] but found [\(action)]",
                    errorType: "illegal_argument_exception"
                )
            }
        }
        return ParsedBulk(records: records, items: items, failed: failed)
    }
}

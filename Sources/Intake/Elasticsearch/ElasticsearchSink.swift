import Foundation
import HTTPTypes
package import Hummingbird
package import Logging
import NIOCore
package import Scenario
import Synchronization
package import Telemetry

/// Enough of Elasticsearch's document API for a log exporter to be tested against it: documents become
/// store log records (see ``ElasticsearchDocument`` for the mapping), answered as Elasticsearch answers.
///
/// - `GET /` (and `HEAD /`): cluster info, as clients ask before anything else.
/// - `POST|PUT /_bulk`, `/{index}/_bulk`: NDJSON `index` and `create` actions; each item answered on its
///   own (`201` or an error with `type` and `reason`), `errors: true` when any failed; `update` and `delete`
///   are refused per item (a test sink keeps what it received). A malformed action line refuses the request.
/// - `POST /{index}/_doc`, `PUT|POST /{index}/_doc/{id}`, `PUT|POST /{index}/_create/{id}`: one document.
///
/// Every answer carries `X-Elastic-Product: Elasticsearch` (the official clients check it); errors are
/// `{"error": {"root_cause", "type", "reason"}, "status"}`; over the memory limit the answer is 429, which
/// clients retry.
package typealias ElasticsearchSink = HTTPReceiver<ElasticsearchEndpoint>

extension HTTPReceiver where Endpoint == ElasticsearchEndpoint {
    /// Creates the sink; accepted documents go into `store`'s logs and, as OTLP log records, into `recorder`
    /// when given.
    package init(
        configuration: Configuration = .loopback(port: 9200),
        store: TelemetryStore,
        recorder: RecordingWriter? = nil,
        logger: Logger = Logger(label: "otelbench.elasticsearch")
    ) {
        self.init(
            configuration: configuration,
            endpoint: ElasticsearchEndpoint(),
            admission: Admission(store: store, recorder: recorder, logger: logger),
            logger: logger
        )
    }
}

/// Elasticsearch's document endpoints. Refusals carry their Elasticsearch error `type` in
/// ``Refusal/errorType``; without one, the type follows the code (`content_too_long_exception`,
/// `es_rejected_execution_exception`, `parse_exception`).
package struct ElasticsearchEndpoint: HTTPEndpoint {
    package static var defaultPort: Int { 9200 }

    package init() {}

    /// Sequence numbers and generated ids, as Elasticsearch hands them out.
    private let sequence = Counter()

    final class Counter: Sendable {
        private let value = Mutex<Int>(0)
        func next() -> Int {
            value.withLock { current in
                defer { current += 1 }
                return current
            }
        }
    }

    package func respond(to request: Request, admission: Admission, maxRequestBytes: Int) async throws -> Response {
        let segments = request.uri.path.split(separator: "/").map(String.init)
        switch (request.method, segments.count) {
        case (.get, 0), (.head, 0):
            return answer(.ok, Self.clusterInfo)
        case (.post, 1) where segments[0] == "_bulk", (.put, 1) where segments[0] == "_bulk":
            return try await bulk(request, defaultIndex: nil, admission: admission, limit: maxRequestBytes)
        case (.post, 2) where segments[1] == "_bulk", (.put, 2) where segments[1] == "_bulk":
            return try await bulk(request, defaultIndex: try Self.validIndex(segments[0]), admission: admission, limit: maxRequestBytes)
        case (.post, 2) where segments[1] == "_doc":
            return try await single(request, index: try Self.validIndex(segments[0]), id: nil, admission: admission, limit: maxRequestBytes)
        case (.post, 3) where segments[1] == "_doc" || segments[1] == "_create", (.put, 3) where segments[1] == "_doc" || segments[1] == "_create":
            return try await single(request, index: try Self.validIndex(segments[0]), id: segments[2], admission: admission, limit: maxRequestBytes)
        default:
            throw Refusal(
                .invalidArgument,
                "otelbench's Elasticsearch sink has no endpoint [\(request.method) \(request.uri.path)]: "
                    + "use POST /_bulk, POST /{index}/_bulk, POST /{index}/_doc or PUT /{index}/_doc/{id}",
                errorType: "illegal_argument_exception"
            )
        }
    }

    package func accounting(of request: Request) -> (channel: IntakeChannel, signal: Signal)? { (.elasticsearch, .logs) }

    /// `{"error": {"root_cause", "type", "reason"}, "status"}`. Over the memory limit Elasticsearch answers 429
    /// (which its clients retry), not 503.
    package func answer(for refusal: Refusal, to request: Request) -> RefusalAnswer {
        let status: HTTPResponse.Status = refusal.code == .unavailable ? .tooManyRequests : refusal.status
        let type =
            refusal.errorType
            ?? {
                switch refusal.code {
                case .tooLarge: "content_too_long_exception"
                case .unauthenticated: "security_exception"
                case .unavailable, .tooManyRequests: "es_rejected_execution_exception"
                default: "parse_exception"
                }
            }()
        let cause = JSONValue.object([("type", .string(type)), ("reason", .string(refusal.message))])
        return RefusalAnswer(
            status: status,
            headers: Self.answerHeaders,
            body: ByteBuffer(
                bytes: JSONValue.object([
                    ("error", .object([("root_cause", .array([cause])), ("type", .string(type)), ("reason", .string(refusal.message))])),
                    ("status", .int(Int64(status.code))),
                ]).serialized
            )
        )
    }

    // MARK: Endpoints

    private func bulk(_ request: Request, defaultIndex: String?, admission: Admission, limit: Int) async throws -> Response {
        try Self.checkContentType(request, ndjson: true)
        let (buffer, wireBytes) = try await HTTPSink.readWireBody(request, limit: limit)
        let body = Array(buffer: buffer)
        let started = ContinuousClock.now
        let bulk = try parsedBulk(body, defaultIndex: defaultIndex, observedAt: UInt64(Date().timeIntervalSince1970 * 1e9))
        try await admission.admit(.logs, on: .elasticsearch, bytes: body.count, wireBytes: wireBytes) { ticket in
            ticket.accept(Batch(logs: bulk.records), rejectedItems: bulk.failed, recording: .converted)
        }
        let took = Int64(started.duration(to: .now).components.seconds * 1000)
        return answer(.ok, .object([("errors", .bool(bulk.failed > 0)), ("took", .int(took)), ("items", .array(bulk.items))]))
    }

    private func single(_ request: Request, index: String, id: String?, admission: Admission, limit: Int) async throws -> Response {
        try Self.checkContentType(request, ndjson: false)
        let (buffer, wireBytes) = try await HTTPSink.readWireBody(request, limit: limit)
        let body = Array(buffer: buffer)
        let record: LogRecord
        do {
            record = try ElasticsearchDocument.logRecord(DocumentValue.parse(body), index: index, observedAt: UInt64(Date().timeIntervalSince1970 * 1e9))
        } catch let problem as DocumentProblem {
            throw Refusal(.invalidArgument, problem.reason, errorType: problem.type)
        } catch {
            throw Refusal(.invalidArgument, "[1:1] failed to parse: the document is not valid JSON", errorType: "document_parsing_exception")
        }
        try await admission.admit(.logs, on: .elasticsearch, bytes: body.count, wireBytes: wireBytes) { ticket in
            ticket.accept(Batch(logs: [record]), recording: .converted)
        }
        return answer(.created, result(index: index, id: id ?? generatedID()))
    }

    // MARK: Helpers

    func item(_ action: String, index: String, id: String, failure: DocumentProblem?) -> JSONValue {
        guard let failure else {
            var members: [(String, JSONValue)] = []
            if case .object(let fields) = result(index: index, id: id) { members = fields }
            members.append(("status", .int(201)))
            return .object([(action, .object(members))])
        }
        return .object([
            (
                action,
                .object([
                    ("_index", .string(index)), ("_id", .string(id)), ("status", .int(400)),
                    ("error", .object([("type", .string(failure.type)), ("reason", .string(failure.reason))])),
                ])
            )
        ])
    }

    private func result(index: String, id: String) -> JSONValue {
        .object([
            ("_index", .string(index)), ("_id", .string(id)), ("_version", .int(1)), ("result", .string("created")),
            ("_shards", .object([("total", .int(1)), ("successful", .int(1)), ("failed", .int(0))])),
            ("_seq_no", .int(Int64(sequence.next()))), ("_primary_term", .int(1)),
        ])
    }

    func generatedID() -> String { "otelbench-\(sequence.next())" }

    private func answer(_ status: HTTPResponse.Status, _ json: JSONValue) -> Response {
        Response(status: status, headers: Self.answerHeaders, body: ResponseBody(byteBuffer: ByteBuffer(bytes: json.serialized)))
    }

    /// The headers of every answer, as Elasticsearch sends them (its clients check the product header).
    private static let answerHeaders: HTTPFields = [.contentType: "application/json", HTTPField.Name("X-Elastic-Product")!: "Elasticsearch"]

    static func unsupportedAction(_ action: String) -> DocumentProblem {
        DocumentProblem(
            type: "illegal_argument_exception",
            reason: "otelbench's Elasticsearch sink keeps what it receives: [\(action)] is not supported, send index or create"
        )
    }

    /// Index names as Elasticsearch allows them: lower case, no `\ / * ? " < > | , #` or spaces, not starting with `-`, `_`, `+`.
    private static func validIndex(_ name: String) throws(Refusal) -> String {
        let forbidden = Set("\\/*?\"<>| ,#:".utf8)
        guard !name.isEmpty, name == name.lowercased(), !name.utf8.contains(where: forbidden.contains),
            !["-", "_", "+"].contains(name.first.map(String.init) ?? ""), name != ".", name != ".."
        else {
            throw Refusal(
                .invalidArgument,
                "Invalid index name [\(name)]: must be lowercase, without spaces or \\/*?\"<>|,#: and not start with -, _ or +",
                errorType: "invalid_index_name_exception"
            )
        }
        return name
    }

    private static func checkContentType(_ request: Request, ndjson: Bool) throws(Refusal) {
        let mediaType = HTTPSink.mediaType(request.headers[.contentType]) ?? ""
        let accepted = ["application/json", "application/x-ndjson", "application/vnd.elasticsearch+json", "application/vnd.elasticsearch+x-ndjson"]
        guard accepted.contains(mediaType) else {
            throw Refusal(
                .notAcceptable,
                "Content-Type header [\(request.headers[.contentType] ?? "")] is not supported: send \(ndjson ? "application/x-ndjson" : "application/json")",
                errorType: "media_type_header_exception"
            )
        }
    }

    static let clusterInfo = JSONValue.object([
        ("name", .string("otelbench")),
        ("cluster_name", .string("otelbench")),
        ("cluster_uuid", .string("otelbench-sink")),
        (
            "version",
            .object([
                ("number", .string("8.17.0")), ("build_flavor", .string("default")), ("build_type", .string("otelbench")),
                ("lucene_version", .string("9.12.0")), ("minimum_wire_compatibility_version", .string("7.17.0")),
                ("minimum_index_compatibility_version", .string("7.0.0")),
            ])
        ),
        ("tagline", .string("You Know, for Search")),
    ])
}

import Foundation
import NIOHTTP1
import Telemetry
import TestSupport
import Testing

@testable import Intake

/// The Elasticsearch sink: documents into log records, answers in Elasticsearch's shape, the official client.
@Suite(.serialized) struct ElasticsearchSinkTests {
    static let ndjson = "application/x-ndjson"

    @Test func bulkAnswersPerItemAndStoresTheValidDocuments() async throws {
        let body = """
            {"index":{"_index":"logs-app","_id":"a1"}}
            {"@timestamp":"2025-11-26T01:02:03.123456789+01:00","message":"started","log.level":"INFO","trace.id":"4bf92f3577b34da6a3ce929d0e0e4736","service.name":"app","http":{"method":"GET","status":200}}
            {"create":{}}
            {"@timestamp":"not a time","message":"late"}
            {"index":{}}
            {"body":{"text":"otel mode"},"severity_number":17,"severity_text":"ERROR","resource":{"attributes":{"service.name":"worker"}},"attributes":{"retry":true}}
            {"delete":{"_id":"a1"}}
            {"index":{}}
            ["not","an","object"]

            """
        try await withSinks { sinks in
            let answer = try await sinks.send(port: sinks.elasticsearchPort, "/logs-default/_bulk", contentType: Self.ndjson, body: Array(body.utf8))
            #expect(answer.status == 200, "\(answer.text)")
            #expect(answer.headers["x-elastic-product"] == "Elasticsearch")
            let json = try answer.json()
            #expect(json["errors"] as? Bool == true)
            let items = try #require(json["items"] as? [[String: [String: Any]]])
            #expect(items.count == 5)
            #expect(items.map { $0.keys.first } == ["index", "create", "index", "delete", "index"])
            #expect(items.map { $0.values.first?["status"] as? Int } == [201, 400, 201, 400, 400])
            #expect(items[0]["index"]?["_id"] as? String == "a1")
            #expect(items[0]["index"]?["_index"] as? String == "logs-app")
            #expect(items[0]["index"]?["result"] as? String == "created")
            let timeError = items[1]["create"]?["error"] as? [String: Any]
            #expect(timeError?["type"] as? String == "document_parsing_exception")
            #expect((timeError?["reason"] as? String)?.contains("failed to parse field [@timestamp] of type [date]") == true)
            #expect(
                (items[3]["delete"]?["error"] as? [String: Any])?["reason"] as? String
                    == "otelbench's Elasticsearch sink keeps what it receives: [delete] is not supported, send index or create"
            )
            #expect(((items[4]["index"]?["error"] as? [String: Any])?["reason"] as? String)?.contains("must be a JSON object") == true)

            let logs = sinks.store.logs
            #expect(logs.count == 2)
            let started = try #require(logs.first)
            // 01:02:03.123456789+01:00 is 00:02:03.123456789Z.
            #expect(started.timeUnixNano == 1_764_115_323_123_456_789)
            #expect(started.body == .string("started"))
            #expect(started.severityText == "INFO")
            #expect(started.traceID?.hex == "4bf92f3577b34da6a3ce929d0e0e4736")
            #expect(started.resource.serviceName == "app")
            #expect(started.attributes["http.method"] == .string("GET"))
            #expect(started.attributes["http.status"] == .int(200))
            #expect(started.attributes["elasticsearch.index"] == .string("logs-app"))
            #expect(started.channel == .elasticsearch)
            let otelMode = logs[1]
            #expect(otelMode.body == .string("otel mode"))
            #expect(otelMode.severityNumber == 17)
            #expect(otelMode.resource.serviceName == "worker")
            #expect(otelMode.attributes["retry"] == .bool(true))
            #expect(otelMode.attributes["elasticsearch.index"] == .string("logs-default"))
            let counts = sinks.store.counts[.elasticsearch]?[.logs]
            #expect(counts?.itemsAccepted == 2)
            #expect(counts?.itemsRejected == 3)
        }
    }

    /// A request refused whole, its status, error type and a phrase of the reason.
    struct BadRequest: CustomTestStringConvertible, Sendable {
        var name: String
        var method: HTTPMethod = .POST
        var path = "/_bulk"
        var contentType: String? = "application/x-ndjson"
        var body: String
        var status: Int
        var type: String
        var phrase: String
        var testDescription: String { name }
    }

    static let badRequests: [BadRequest] = [
        BadRequest(
            name: "malformed action line",
            body: "{\"index\":\n{}\n",
            status: 400,
            type: "illegal_argument_exception",
            phrase: "Malformed action/metadata line [1]"
        ),
        BadRequest(name: "unknown action", body: "{\"upsert\":{}}\n{}\n", status: 400, type: "illegal_argument_exception", phrase: "found [upsert]"),
        BadRequest(
            name: "action without its document",
            body: "{\"index\":{\"_index\":\"x\"}}\n",
            status: 400,
            type: "illegal_argument_exception",
            phrase: "has no document"
        ),
        BadRequest(
            name: "text/plain",
            contentType: "text/plain",
            body: "{}",
            status: 406,
            type: "media_type_header_exception",
            phrase: "Content-Type header [text/plain] is not supported"
        ),
        BadRequest(
            name: "upper-case index",
            path: "/Logs/_doc",
            contentType: "application/json",
            body: "{}",
            status: 400,
            type: "invalid_index_name_exception",
            phrase: "must be lowercase"
        ),
        BadRequest(
            name: "document not JSON",
            path: "/logs/_doc",
            contentType: "application/json",
            body: "{nope",
            status: 400,
            type: "document_parsing_exception",
            phrase: "not valid JSON"
        ),
        BadRequest(
            name: "bad span id",
            path: "/logs/_doc",
            contentType: "application/json",
            body: #"{"span.id":"xyz"}"#,
            status: 400,
            type: "document_parsing_exception",
            phrase: "16 hex digits"
        ),
        BadRequest(
            name: "search endpoint",
            method: .GET,
            path: "/logs/_search",
            body: "",
            status: 400,
            type: "illegal_argument_exception",
            phrase: "has no endpoint [GET /logs/_search]"
        ),
    ]

    @Test(arguments: badRequests)
    func badRequestIsRefusedInElasticsearchsTermsAndTheSinkKeepsServing(_ bad: BadRequest) async throws {
        try await withSinks { sinks in
            let good = Array(#"{"message":"kept"}"#.utf8)
            #expect(try await sinks.send(port: sinks.elasticsearchPort, "/logs/_doc", contentType: "application/json", body: good).status == 201)
            let answer = try await sinks.send(
                port: sinks.elasticsearchPort,
                bad.path,
                method: bad.method,
                contentType: bad.contentType,
                body: Array(bad.body.utf8)
            )
            #expect(answer.status == bad.status, "\(bad.name): \(answer.text)")
            let json = try answer.json()
            let error = json["error"] as? [String: Any]
            #expect(error?["type"] as? String == bad.type, "\(bad.name): \(answer.text)")
            #expect((error?["reason"] as? String)?.contains(bad.phrase) == true, "\(bad.name): \(answer.text)")
            #expect((error?["root_cause"] as? [[String: Any]])?.first?["type"] as? String == bad.type)
            #expect(json["status"] as? Int == bad.status)
            #expect(answer.headers["x-elastic-product"] == "Elasticsearch")
            #expect(
                try await sinks.send(port: sinks.elasticsearchPort, "/logs/_doc/id-2", method: .PUT, contentType: "application/json", body: good).status == 201
            )
            #expect(sinks.store.logs.count == 2, "nothing accepted lost, nothing of the refused request stored")
        }
    }

    @Test func overTheMemoryLimitIsTooManyRequests() async throws {
        let document = Array(#"{"message":"a log line of some length"}"#.utf8)
        // Room for one request: its body while it is read, and five times it while it is decoded (ResidentCost).
        let limit = document.count + ResidentCost.admission(bytes: document.count) + 5
        try await withSinks(memoryLimit: limit) { sinks in
            #expect(try await sinks.send(port: sinks.elasticsearchPort, "/logs/_doc", contentType: "application/json", body: document).status == 201)
            // Requests in flight hold the room.
            #expect(sinks.store.reserve(bytes: limit))
            let refused = try await sinks.send(port: sinks.elasticsearchPort, "/logs/_doc", contentType: "application/json", body: document)
            #expect(refused.status == 429)
            #expect((try refused.json()["error"] as? [String: Any])?["type"] as? String == "es_rejected_execution_exception")
            #expect(refused.text.contains("--memory-limit"))
            #expect(sinks.store.totals.logRecords == 1)
        }
    }

    @Test func rfc3339TimestampsKeepNanoseconds() {
        #expect(ElasticsearchDocument.rfc3339("1970-01-01T00:00:00Z") == 0)
        #expect(ElasticsearchDocument.rfc3339("2000-02-29T12:34:56.5Z") == 951_827_696_500_000_000)
        #expect(ElasticsearchDocument.rfc3339("2025-11-26T01:02:03.123456789123-00:30") == 1_764_120_723_123_456_789)
        #expect(ElasticsearchDocument.rfc3339("2025-11-26 01:02:03Z") == 1_764_118_923_000_000_000)
        for bad in ["2025-13-01T00:00:00Z", "2025-11-26T01:02:03", "2025-11-26T01:02:03.Z", "yesterday", "2025-11-26T01:02:03+0100"] {
            #expect(ElasticsearchDocument.rfc3339(bad) == nil, "\(bad)")
        }
    }

    @Test func officialPythonClientIndexesAndBulkLoads() async throws {
        let python = try requirePeer(".venv-elasticsearch/bin/python")
        let script = repositoryRoot.appendingPathComponent("Tests/Interop/elasticsearch_export.py").path
        try await withSinks { sinks in
            let outcome = try await runToCompletion(python, [script, "http://127.0.0.1:\(sinks.elasticsearchPort)"], timeout: .seconds(60))
            #expect(outcome.status == 0 && !outcome.timedOut, "\(outcome.output)")
            guard let line = outcome.output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
                let seen = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            else {
                Issue.record("no result line: \(outcome.output)")
                return
            }
            #expect(seen["index_result"] as? String == "created")
            #expect(seen["bulk_successes"] as? Int == 2)
            #expect((seen["bulk_errors"] as? [[String: Any]])?.map { $0["type"] as? String } == ["document_parsing_exception"])
            let logs = sinks.store.logs
            #expect(logs.count == 3)
            let placed = try #require(logs.first { $0.body == .string("order placed") })
            #expect(placed.timeUnixNano == 1_764_118_923_456_789_000)
            #expect(placed.spanID?.hex == "00f067aa0ba902b7")
            #expect(placed.attributes["order.id"] == .int(42))
            #expect(placed.attributes["order.total"] == .double(19.5))
            #expect(placed.attributes["order.express"] == .bool(true))
            #expect(placed.resource.serviceName == "checkout")
            let paid = try #require(logs.first { $0.body == .string("paid") })
            #expect(paid.timeUnixNano == 1_764_118_923_000_000_000)
            #expect(paid.severityNumber == 9)
            let created = try #require(logs.first { $0.body == .string("created") })
            #expect(created.resource.serviceName == "billing")
            #expect(created.attributes["k"] == .string("v"))
        }
    }
}

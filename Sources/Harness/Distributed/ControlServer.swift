import Foundation
import Hummingbird
package import Intake
package import Logging
import NIOCore
package import Scenario
package import ServiceLifecycle

/// The central intake's control API, which shards and the merge step talk to (routes in ``ShardMessages``):
/// registration and the common start, request events, results, the verdict and the report files.
package struct ControlServer: Service {
    package let address: ListenAddress
    package let coordinator: ShardCoordinator
    /// Where it listens, once it does.
    package let boundAddress = BoundAddress()
    /// The largest request body taken (a batch of events, a driver report with its histograms).
    package var maxRequestBytes = 64 << 20
    let logger: Logger

    package init(address: ListenAddress, coordinator: ShardCoordinator, logger: Logger) {
        self.address = address
        self.coordinator = coordinator
        self.logger = logger
    }

    package func run() async throws {
        try await HTTPSink.serve(
            ControlResponder(coordinator: coordinator, maxRequestBytes: maxRequestBytes),
            address: address,
            bound: boundAddress,
            logger: logger
        )
    }
}

struct ControlResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let coordinator: ShardCoordinator
    let maxRequestBytes: Int

    func respond(to request: Request, context: Context) async throws -> Response {
        let parts = request.uri.path.split(separator: "/").map(String.init)
        let method = request.method
        do {
            if method == .get, parts == ["healthz"] {
                return Self.text(.ok, "ok")
            }
            if method == .post, parts == ["v1", "shards"] {
                let registration = try await decode(ShardRegistration.self, from: request)
                return try Self.json(.ok, coordinator.register(registration))
            }
            if parts.count == 4, parts[0] == "v1", parts[1] == "shards" {
                let index = try Self.shardIndex(parts[2])
                switch (method, parts[3]) {
                case (.get, "plan"):
                    return try Self.json(.ok, coordinator.plan(for: index))
                case (.post, "events"):
                    try coordinator.receive(try await decode(ShardEvents.self, from: request), from: index)
                    return Response(status: .noContent)
                case (.post, "result"):
                    let result = try await decode(ShardResult.self, from: request)
                    guard result.shard.index == index else {
                        throw ShardRefusal("the result of shard \(result.shard) was posted to /v1/shards/\(index)/result")
                    }
                    try coordinator.finish(result)
                    return Response(status: .noContent)
                default: break
                }
            }
            if method == .get, parts == ["v1", "verdict"] {
                guard let (verdict, _) = coordinator.verdict else {
                    var response = Self.text(.serviceUnavailable, "not judged yet: the shards are still running or the telemetry is settling")
                    response.headers[.retryAfter] = "1"
                    return response
                }
                return try Self.json(.ok, verdict)
            }
            if method == .get, parts.count == 3, parts[0] == "v1", parts[1] == "reports" {
                let name = parts[2]
                guard let (verdict, directory) = coordinator.verdict else {
                    return Self.text(.serviceUnavailable, "not judged yet: no reports")
                }
                // Only the files the verdict lists: never a path from the request. Streamed from disk in chunks
                // (a long run's recording is large).
                let path = directory + "/" + name
                guard verdict.files.contains(name), FileManager.default.fileExists(atPath: path) else {
                    return Self.text(.notFound, "no report \(name): the reports are \(verdict.files.joined(separator: ", "))")
                }
                let body = try await FileIO().loadFile(path: path, context: context)
                return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: body)
            }
            return Self.text(.notFound, "no endpoint \(method) \(request.uri.path): see GET /healthz, POST /v1/shards, GET /v1/verdict")
        } catch let refusal as ShardRefusal {
            return try Self.json(.conflict, refusal)
        } catch let refusal as Refusal {
            return refusal.plainTextResponse
        }
    }

    private func decode<Message: Decodable>(_ type: Message.Type, from request: Request) async throws -> Message {
        let body = try await HTTPSink.readBody(request, limit: maxRequestBytes)
        do {
            return try JSONDecoder().decode(Message.self, from: Data(buffer: body))
        } catch {
            throw Refusal(.invalidArgument, "the body is not a \(Message.self) in JSON: \(error)")
        }
    }

    private static func shardIndex(_ text: String) throws(ShardRefusal) -> Int {
        guard let index = Int(text), index >= 0 else { throw ShardRefusal("\"\(text)\" is not a shard index (0, 1, …)") }
        return index
    }

    private static func json(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value)))
        )
    }

    private static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}

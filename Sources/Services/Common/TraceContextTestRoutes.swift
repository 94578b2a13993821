import Foundation
import Hummingbird

/// `POST /test`: the callback protocol of the W3C Trace Context test suite.
///
/// The body is a JSON array of `{"url": ..., "arguments": ...}`. For each item, in order, the service POSTs
/// `arguments` as JSON to `url` from a client span under the request's server span, so the callee sees exactly
/// the `traceparent`/`tracestate` the service propagates on its own outgoing calls (faults included). Answers
/// 200 once every callback has been made; a malformed body → 400; an unreachable callback URL → 502.
struct TraceContextTestRoutes {
    let environment: ServiceEnvironment

    struct Callback: Decodable {
        var url: String
        var arguments: JSONValue
    }

    func add(to router: Router<BasicRequestContext>) {
        router.post("/test") { request, _ in
            let callbacks = try await JSONBody.decode([Callback].self, from: request)
            for (index, callback) in callbacks.enumerated() {
                guard let url = URL(string: callback.url), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                    throw HTTPError(.badRequest, message: "[\(index)].url must be an absolute http(s) URL (got \(callback.url))")
                }
                do {
                    _ = try await environment.client.send(.POST, callback.url, json: try JSONBody.bytes(callback.arguments), spanName: "POST test callback")
                } catch let failure as ServiceFailure {
                    throw HTTPError(.badGateway, message: "[\(index)]: \(failure.message)")
                }
            }
            return Response(status: .ok)
        }
    }
}

/// Any JSON value, passed through unchanged.
indirect enum JSONValue: Codable, Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import Tracing

/// Outgoing HTTP calls of a service: one client span per call, W3C context injected (through the service's
/// outgoing faults), the simulated-time skew sent along and adopted from the answer.
struct ServiceClient: Sendable {
    let telemetry: ServiceTelemetry
    let httpClient: HTTPClient

    /// An answer: status and body.
    struct Answer: Sendable {
        var status: Int
        var body: [UInt8]
    }

    /// Sends `body` (JSON bytes) with `method` to `url` inside a client span named `spanName`.
    ///
    /// Throws ``ServiceFailure`` when the peer cannot be reached; a non-2xx answer is returned, and 5xx marks the
    /// client span as an error.
    func send(_ method: HTTPMethod, _ url: String, json body: [UInt8]?, spanName: String) async throws -> Answer {
        try await telemetry.withSpan(spanName, kind: .client) { span in
            span.attributes["http.request.method"] = method.rawValue
            span.attributes["url.full"] = url
            if let components = URLComponents(string: url) {
                span.attributes["server.address"] = components.host
                span.attributes["server.port"] = components.port
            }
            var request = HTTPClientRequest(url: url)
            request.method = method
            for header in telemetry.outgoingHeaders(for: span) { request.headers.add(name: header.name, value: header.value) }
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: body))
            }
            let response: HTTPClientResponse
            let collected: ByteBuffer
            do {
                response = try await httpClient.execute(request, timeout: .seconds(30))
                collected = try await response.body.collect(upTo: 8 << 20)
            } catch {
                throw ServiceFailure(message: "\(method.rawValue) \(url) failed: \(error)")
            }
            if let skew = response.headers.first(name: RequestTimeline.skewHeader).flatMap({ Int64($0) }) {
                RequestTimeline.current.advance(toSkew: skew)
            }
            let status = Int(response.status.code)
            span.attributes["http.response.status_code"] = status
            if status >= 500 {
                span.setStatus(SpanStatus(code: .error, message: "\(method.rawValue) \(url) answered \(status)"))
            }
            return Answer(status: status, body: Array(buffer: collected))
        }
    }
}

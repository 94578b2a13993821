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
    /// A `spanName` of the form `METHOD /template` (`GET /tasks/{id}`) follows the HTTP semantic conventions'
    /// `{method} {url.template}`: its template becomes the span's `url.template`.
    /// Throws ``ServiceFailure`` when the peer cannot be reached; a non-2xx answer is returned, and 4xx or 5xx
    /// marks the client span as an error, with `error.type` the status code, as the conventions ask.
    func send(_ method: HTTPMethod, _ url: String, json body: [UInt8]?, spanName: String) async throws -> Answer {
        try await telemetry.withSpan(spanName, kind: .client) { span in
            span.attributes["http.request.method"] = method.rawValue
            span.attributes["url.full"] = url
            if spanName.hasPrefix(method.rawValue + " /") {
                span.attributes["url.template"] = String(spanName.dropFirst(method.rawValue.count + 1))
            }
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
                span.attributes["error.type"] = String(describing: type(of: error))
                throw ServiceFailure(message: "\(method.rawValue) \(url) failed: \(error)")
            }
            if let skew = response.headers.first(name: RequestTimeline.skewHeader).flatMap({ Int64($0) }) {
                RequestTimeline.current.advance(toSkew: skew)
            }
            let status = Int(response.status.code)
            span.attributes["http.response.status_code"] = status
            // A client span's error is any 4xx or 5xx answer (the conventions' span status for HTTP clients).
            if status >= 400 {
                span.attributes["error.type"] = String(status)
                span.setStatus(SpanStatus(code: .error, message: "\(method.rawValue) \(url) answered \(status)"))
            }
            return Answer(status: status, body: Array(buffer: collected))
        }
    }
}

package import Foundation
import Harness
package import Hummingbird
package import Logging
package import NIOCore
package import ServiceLifecycle
package import Synchronization

/// What a scrape target answers on one path.
package struct CannedAnswer: Sendable {
    package var status: HTTPResponse.Status = .ok
    package var contentType: String? = "text/plain; version=0.0.4; charset=utf-8"
    package var body: String
    /// Waits this long before answering (a slow target).
    package var delay: Duration = .zero

    package init(
        status: HTTPResponse.Status = .ok,
        contentType: String? = "text/plain; version=0.0.4; charset=utf-8",
        body: String,
        delay: Duration = .zero
    ) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.delay = delay
    }

    /// An exposition with two mistakes: a counter without `_total`, a histogram whose `+Inf` bucket is not its count.
    package static let badExposition = """
        # HELP http_requests Requests.
        # TYPE http_requests counter
        http_requests{code="200"} 7
        # TYPE latency_seconds histogram
        latency_seconds_bucket{le="1"} 4
        latency_seconds_bucket{le="+Inf"} 5
        latency_seconds_sum 3
        latency_seconds_count 6

        """
}

/// Requests a test server saw: counts by path, the last request's headers.
package final class RequestLog: Sendable {
    package let counts = Mutex<[String: Int]>([:])
    package let lastHeaders = Mutex<[String: String]>([:])
}

/// A Hummingbird server on 127.0.0.1:0 answering each path with its canned answer.
package struct ExpositionServer: Sendable {
    package let port: Int
    package let log: RequestLog

    package func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
    package func count(_ path: String) -> Int { log.counts.withLock { $0[path] ?? 0 } }
    package var lastHeaders: [String: String] { log.lastHeaders.withLock { $0 } }
}

/// Runs `body` with a started ``ExpositionServer`` and always shuts it down.
package func withExpositionServer(_ answers: [String: CannedAnswer], _ body: @Sendable (ExpositionServer) async throws -> Void) async throws {
    var logger = Logger(label: "test.exposition-server")
    logger.logLevel = .critical
    let log = RequestLog()
    let router = Router()
    for (path, answer) in answers {
        router.get(RouterPath(path)) { request, _ -> Response in
            log.counts.withLock { $0[path, default: 0] += 1 }
            log.lastHeaders.withLock { stored in
                stored = [:]
                for field in request.headers { stored[field.name.canonicalName] = field.value }
            }
            if answer.delay > .zero { try await Task.sleep(for: answer.delay) }
            var fields: HTTPFields = [:]
            if let contentType = answer.contentType { fields[.contentType] = contentType }
            return Response(status: answer.status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
        }
    }
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let application = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
        logger: logger
    )
    try await withServices([application], logger: logger) {
        var port = 0
        for await bound in ports {
            port = bound
            break
        }
        try await body(ExpositionServer(port: port, log: log))
    }
}

import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// A loopback HTTP server that records the headers and body of every request: the callee of `POST /test`
/// callbacks, as the W3C test suite's harness would be.
final class HeaderRecorder: Sendable {
    struct Received: Sendable {
        var path: String
        var headers: [String: String]
        var body: String
    }

    private let received = Mutex<[Received]>([])

    var requests: [Received] { received.withLock { $0 } }

    /// Runs the recorder on 127.0.0.1:0 around `body`, which gets its base URL.
    func run(_ body: @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        router.post("/**") { request, _ in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let entry = Received(path: request.uri.path, headers: headers, body: String(buffer: bytes))
            self.received.withLock { $0.append(entry) }
            return Response(status: .ok)
        }
        var logger = Logger(label: "test.recorder")
        logger.logLevel = .critical
        let listening = AsyncStream<Int>.makeStream()
        let application = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in listening.continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let group = ServiceGroup(services: [application], logger: logger)
        try await withThrowingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            var iterator = listening.stream.makeAsyncIterator()
            let boundPort = await iterator.next() ?? 0
            do {
                try await body("http://127.0.0.1:\(boundPort)")
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

import NIOCore
import NIOPosix
import NIOSSL

/// The driver's connection pools: for every event loop it uses, one ``HTTP1ConnectionPool`` per target service,
/// with the workload's `connections` shared out among the loops. Requests are encoded and sent on the loop they
/// are given to, so each loop works on its own connections without locks.
final class DriverConnections: Sendable {
    /// The event loops in use (at most one per connection).
    let loops: [any EventLoop]
    /// Per loop, per service name.
    private let pools: [[String: HTTP1ConnectionPool]]

    /// Pools for `targets` (service name → base URL), `connections` in all, over NIO's shared event loops.
    ///
    /// - Throws: when TLS cannot be set up for an `https` target.
    init(targets: [String: String], connections: Int, trust: TargetTrust?) throws {
        let group = MultiThreadedEventLoopGroup.singleton
        var all: [any EventLoop] = []
        var iterator = group.makeIterator()
        while let loop = iterator.next() { all.append(loop) }
        let count = max(1, min(all.count, connections))
        loops = Array(all.prefix(count))
        var contexts: [String: NIOSSLContext] = [:]
        var origins: [String: TargetOrigin] = [:]
        for (service, url) in targets {
            guard let origin = TargetOrigin(baseURL: url) else { continue }
            origins[service] = origin
            if origin.secure && contexts[service] == nil {
                contexts[service] = try NIOSSLContext(configuration: trust?.clientConfiguration ?? .makeClientConfiguration())
            }
        }
        pools = loops.indices.map { index in
            let share = connections / count + (index < connections % count ? 1 : 0)
            return origins.reduce(into: [:]) { pools, entry in
                pools[entry.key] = HTTP1ConnectionPool(eventLoop: all[index], origin: entry.value, maximumConnections: share, tls: contexts[entry.key])
            }
        }
    }

    /// Sends `slot` on loop `loop` (call on that loop); a service with no usable target URL ends as a connection
    /// error.
    func send(_ slot: Slot, onLoop loop: Int, deadline: NIODeadline, sink: any LoadRequestSink) {
        let request = LoadRequest(slot: slot, deadline: deadline, sink: sink)
        guard let pool = pools[loop][slot.request.template.service] else {
            sink.finished(request, sentAt: .now, outcome: .connectionError, status: nil)
            return
        }
        pool.submit(request)
    }

    /// Requests waiting for a connection on loop `loop` (call on that loop).
    func waiting(onLoop loop: Int) -> Int {
        pools[loop].values.reduce(0) { $0 + $1.waitingCount }
    }

    /// Closes every connection: what waits or is in flight ends as a connection error.
    func shutdown() async {
        for (index, loop) in loops.enumerated() {
            let pools = self.pools[index]
            try? await loop.flatSubmit {
                EventLoopFuture.andAllComplete(pools.values.map { $0.shutdown() }, on: loop)
            }
            .get()
        }
    }
}

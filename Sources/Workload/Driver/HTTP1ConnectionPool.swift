import DequeModule
import NIOCore
import NIOPosix
import NIOSSL

/// Told how each request ended, on the event loop of the connection that carried it.
protocol LoadRequestSink: AnyObject, Sendable {
    /// `sentAt`: when the request was written (when it ended, if it never was).
    func finished(_ request: LoadRequest, sentAt: ContinuousClock.Instant, outcome: RequestOutcome, status: Int?)
}

/// One request on its way: what to send, its deadline (waiting for a connection counts), and who hears the end.
/// The connection that carries it encodes it (``HTTP1Request``), into a buffer it reuses.
///
/// A class: a request passes from the sender through the pool's queue to a connection and on to its sink, and a
/// reference moves with one retain where the slot's template and trace context would take a dozen.
final class LoadRequest: Sendable {
    let slot: Slot
    let isHead: Bool
    let deadline: NIODeadline
    let sink: any LoadRequestSink

    init(slot: Slot, deadline: NIODeadline, sink: any LoadRequestSink) {
        self.slot = slot
        self.isHead = slot.request.isHead
        self.deadline = deadline
        self.sink = sink
    }
}

/// The driver's connections to one target from one event loop: HTTP/1.1 keep-alive connections, at most
/// `maximumConnections`, each carrying one request at a time; requests wait in order for a free one.
///
/// Everything happens on `eventLoop` (the pool is confined to it: call it only there), so a request is encoded,
/// written, parsed and recorded without a lock or a hop to another thread — the reason the driver keeps up with
/// wrk. Connections that fail or are closed are replaced on demand.
final class HTTP1ConnectionPool: @unchecked Sendable {
    let eventLoop: any EventLoop
    let origin: TargetOrigin
    let maximumConnections: Int
    let allocator = ByteBufferAllocator()
    private let tls: NIOSSLContext?
    private var idle: [HTTP1LoadConnection] = []
    private var open = 0
    private var connecting = 0
    private var waiting = Deque<LoadRequest>()
    private var shutDown = false
    private var connections: [ObjectIdentifier: HTTP1LoadConnection] = [:]
    /// Ends requests past their deadline, every ``sweepInterval`` (one timer per pool rather than one per request).
    private var sweeper: RepeatedTask?

    /// How often deadlines are checked: a request times out at most this late.
    static let sweepInterval = TimeAmount.milliseconds(20)

    init(eventLoop: any EventLoop, origin: TargetOrigin, maximumConnections: Int, tls: NIOSSLContext?) {
        self.eventLoop = eventLoop
        self.origin = origin
        self.maximumConnections = max(1, maximumConnections)
        self.tls = tls
    }

    /// Requests waiting for a connection.
    var waitingCount: Int {
        eventLoop.assertInEventLoop()
        return waiting.count
    }

    /// Sends `request` on a free connection, or queues it until one is free.
    func submit(_ request: LoadRequest) {
        eventLoop.assertInEventLoop()
        if shutDown {
            request.sink.finished(request, sentAt: .now, outcome: .connectionError, status: nil)
            return
        }
        if let connection = idle.popLast() {
            connection.start(request)
            return
        }
        waiting.append(request)
        if open + connecting < maximumConnections { connect() }
    }

    /// Closes every connection; requests still waiting end as connection errors, those in flight as their
    /// connection closes.
    func shutdown() -> EventLoopFuture<Void> {
        eventLoop.assertInEventLoop()
        shutDown = true
        sweeper?.cancel()
        sweeper = nil
        while let request = waiting.popFirst() { request.sink.finished(request, sentAt: .now, outcome: .connectionError, status: nil) }
        idle.removeAll()
        let closing = connections.values.map { $0.close() }
        return EventLoopFuture.andAllComplete(closing, on: eventLoop)
    }

    // MARK: Connections

    private func connect() {
        connecting += 1
        if sweeper == nil {
            sweeper = eventLoop.scheduleRepeatedTask(initialDelay: Self.sweepInterval, delay: Self.sweepInterval) { [self] _ in sweep() }
        }
        let connection = HTTP1LoadConnection(pool: self)
        let tls = self.tls
        let serverName = origin.hostIsAddress ? nil : origin.host
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(5))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            // One read per readiness: an answer fits one read, and a second read would only find EAGAIN.
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelInitializer { channel in
                do {
                    if let tls { try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName)) }
                    try channel.pipeline.syncOperations.addHandler(connection)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .connect(host: origin.host, port: origin.port)
            .whenComplete { result in
                self.connecting -= 1
                switch result {
                case .success:
                    self.open += 1
                    self.connections[ObjectIdentifier(connection)] = connection
                    if self.shutDown {
                        _ = connection.close()
                    } else {
                        self.release(connection)
                    }
                case .failure:
                    // Each failed attempt ends one waiting request, so a target that is down answers every request
                    // with a connection error instead of piling them up.
                    if let request = self.waiting.popFirst() {
                        request.sink.finished(request, sentAt: .now, outcome: .connectionError, status: nil)
                    }
                    if !self.waiting.isEmpty && !self.shutDown && self.open + self.connecting < self.maximumConnections {
                        self.connect()
                    }
                }
            }
    }

    /// Ends what is past its deadline: requests waiting for a connection, and those in flight (whose connection
    /// is closed, since its answer may still come).
    private func sweep() {
        let now = NIODeadline.now()
        while let first = waiting.first, first.deadline <= now {
            waiting.removeFirst()
            first.sink.finished(first, sentAt: .now, outcome: .timeout, status: nil)
        }
        for connection in Array(connections.values) { connection.expire(ifPast: now) }
    }

    /// A connection is free again: it takes the first waiting request whose deadline has not passed.
    func release(_ connection: HTTP1LoadConnection) {
        while let request = waiting.popFirst() {
            if request.deadline <= .now() {
                request.sink.finished(request, sentAt: .now, outcome: .timeout, status: nil)
                continue
            }
            connection.start(request)
            return
        }
        idle.append(connection)
    }

    /// A connection closed (by either side): it is forgotten, and replaced if requests wait.
    func closed(_ connection: HTTP1LoadConnection) {
        guard connections.removeValue(forKey: ObjectIdentifier(connection)) != nil else { return }
        open -= 1
        idle.removeAll { $0 === connection }
        if !waiting.isEmpty && !shutDown && open + connecting < maximumConnections { connect() }
    }
}

/// One keep-alive connection of a pool: writes a request, reads its response, hands itself back.
final class HTTP1LoadConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Strong: a connection can still close (and tell its pool) after the driver let go of the pool, e.g. one
    /// that finished connecting after `shutdown`; the pool forgets the connection when it closes.
    private let pool: HTTP1ConnectionPool
    private var context: ChannelHandlerContext?
    private var parser = HTTP1ResponseParser()
    /// Every request's bytes, cleared and rewritten for the next (the previous is written out by then: a
    /// connection carries one request at a time).
    private var requestBytes: ByteBuffer
    private var current: LoadRequest?
    private var sentAt = ContinuousClock.now
    private var isClosing = false

    init(pool: HTTP1ConnectionPool) {
        self.pool = pool
        requestBytes = pool.allocator.buffer(capacity: 512)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Writes `request`; its answer (or the deadline, or the connection's end) finishes it.
    func start(_ request: LoadRequest) {
        guard let context, !isClosing else {
            request.sink.finished(request, sentAt: .now, outcome: .connectionError, status: nil)
            return
        }
        current = request
        parser.expectResponse(toHead: request.isHead)
        requestBytes.clear()
        HTTP1Request.encode(request.slot, to: pool.origin, into: &requestBytes)
        sentAt = .now
        context.writeAndFlush(wrapOutboundOut(requestBytes), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard current != nil else {
            // Bytes nobody asked for: the connection is out of step.
            _ = close()
            return
        }
        do {
            guard case .complete(let status, let closes) = try parser.parse(&buffer) else { return }
            if closes || buffer.readableBytes > 0 {
                finish(outcome: Self.outcome(status), status: status)
                _ = close()
            } else {
                let request = current
                current = nil
                pool.release(self)
                if let request { request.sink.finished(request, sentAt: sentAt, outcome: Self.outcome(status), status: status) }
            }
        } catch {
            finish(outcome: .connectionError, status: nil)
            _ = close()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosing = true
        if current != nil {
            if parser.endsAtClose {
                finish(outcome: Self.outcome(parser.statusAtClose), status: parser.statusAtClose)
            } else {
                finish(outcome: .connectionError, status: nil)
            }
        }
        pool.closed(self)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        _ = close()
    }

    /// Closes the connection (its request, if any, ends when it is closed).
    func close() -> EventLoopFuture<Void> {
        guard let context else { return pool.eventLoop.makeSucceededVoidFuture() }
        isClosing = true
        return context.close().recover { _ in }
    }

    /// Ends the request in flight as a timeout if its deadline is `now` or earlier, and closes the connection.
    func expire(ifPast now: NIODeadline) {
        guard let request = current, request.deadline <= now else { return }
        finish(outcome: .timeout, status: nil)
        _ = close()
    }

    private func finish(outcome: RequestOutcome, status: Int?) {
        guard let request = current else { return }
        current = nil
        request.sink.finished(request, sentAt: sentAt, outcome: outcome, status: status)
    }

    private static func outcome(_ status: Int) -> RequestOutcome {
        status >= 500 ? .serverError : status >= 400 ? .clientError : .ok
    }
}

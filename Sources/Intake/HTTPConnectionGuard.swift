import NIOCore
import NIOHTTP1

/// Keeps one HTTP/1 connection within a listener's ``ConnectionLimits``: counts it against the listener's
/// connection limit (answering the first request of a connection over it 503 with `Retry-After: 1` and closing it),
/// and closes a connection whose request header or body is too slow to arrive.
///
/// It sits right after NIO's HTTP/1 request decoder, where request boundaries are known; ``RequestBytesWatch`` at the
/// head of the pipeline tells it when the first byte of a request arrives, which starts the header timeout. An idle
/// connection (no byte of a request) is left to Hummingbird's idle timeout. Installed by
/// ``HTTPConnectionGuardInstaller``, which Hummingbird adds as an additional channel handler.
final class HTTPConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Where the connection is in its current request.
    private enum Phase {
        /// No byte of a request yet (between requests, or before the first).
        case awaitingRequest
        /// Bytes of a request have arrived, its header is not complete.
        case readingHead
        /// The header is complete, the body is not.
        case readingBody
        /// The request was read; its response is not complete.
        case responding
    }

    private let limits: ConnectionLimits
    private let count: ConnectionCount
    private var phase = Phase.awaitingRequest
    private var counted = false
    private var overLimit = false
    /// The current request is being refused (the connection is over the limit): its parts are dropped.
    private var refusing = false
    /// The response to the current request ended before its body did (an early refusal).
    private var answeredEarly = false
    private var deadline: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(limits: ConnectionLimits, count: ConnectionCount) {
        self.limits = limits
        self.count = count
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { opened(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        opened(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    /// Called by ``RequestBytesWatch`` for every read: the first byte of a request starts its header timeout.
    func bytesArrived() {
        guard phase == .awaitingRequest else { return }
        phase = .readingHead
        // A connection over the limit keeps the deadline it got when it opened.
        if !overLimit { schedule(after: limits.headerTimeout) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            phase = .readingBody
            answeredEarly = false
            schedule(after: limits.bodyTimeout)
            if overLimit {
                refusing = true
                return
            }
        case .body:
            if refusing { return }
        case .end:
            cancelDeadline()
            phase = answeredEarly ? .awaitingRequest : .responding
            if refusing {
                refuse(context: context)
                return
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            switch phase {
            case .responding: phase = .awaitingRequest
            case .readingBody: answeredEarly = true
            case .awaitingRequest, .readingHead: break
            }
        }
        context.write(data, promise: promise)
    }

    private func opened(context: ChannelHandlerContext) {
        guard !counted else { return }
        counted = true
        overLimit = !count.opened(limit: limits.maxConnections)
        // Over the limit, a client gets the header timeout to send a request that is answered 503; an idle one is
        // closed then instead of holding a connection for the whole idle timeout.
        if overLimit { schedule(after: limits.headerTimeout) }
    }

    private func release() {
        cancelDeadline()
        guard counted else { return }
        counted = false
        count.closed()
    }

    /// Answers 503 with `Retry-After: 1` and closes the connection once the answer is written.
    private func refuse(context: ChannelHandlerContext) {
        let body = ByteBuffer(
            string: "otelbench: this listener has its maximum of \(limits.maxConnections) connections open: retry later (--max-connections)\n"
        )
        let headers: HTTPHeaders = [
            "Retry-After": "1",
            "Connection": "close",
            "Content-Type": "text/plain; charset=utf-8",
            "Content-Length": String(body.readableBytes),
        ]
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .serviceUnavailable, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func schedule(after timeout: Duration) {
        cancelDeadline()
        guard let context else { return }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(timeout.timeAmountNanoseconds)) { [self] in
            deadline = nil
            self.context?.close(promise: nil)
        }
    }

    private func cancelDeadline() {
        deadline?.cancel()
        deadline = nil
    }
}

/// Tells the connection's ``HTTPConnectionGuard`` that bytes arrived, before the HTTP decoder (and TLS) see them:
/// the decoder says nothing until a request's header is complete.
final class RequestBytesWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let connectionGuard: HTTPConnectionGuard

    init(_ connectionGuard: HTTPConnectionGuard) {
        self.connectionGuard = connectionGuard
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connectionGuard.bytesArrived()
        context.fireChannelRead(data)
    }
}

/// Installs ``RequestBytesWatch`` at the head of a Hummingbird HTTP/1 pipeline and ``HTTPConnectionGuard`` right after
/// the request decoder, then removes itself. Hummingbird adds its additional channel handlers after its own codec,
/// where the raw bytes and NIO's request parts are no longer seen.
final class HTTPConnectionGuardInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Any

    private let limits: ConnectionLimits
    private let count: ConnectionCount

    init(limits: ConnectionLimits, count: ConnectionCount) {
        self.limits = limits
        self.count = count
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        let connectionGuard = HTTPConnectionGuard(limits: limits, count: count)
        do {
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(connectionGuard, position: .after(decoder))
            try pipeline.addHandler(RequestBytesWatch(connectionGuard), position: .first)
        } catch {
            // The pipeline is not the HTTP/1 one this guard knows: serve it unguarded rather than not at all.
            context.fireErrorCaught(error)
        }
        pipeline.removeHandler(context: context, promise: nil)
    }
}

import HTTPTypes
import Hummingbird
import NIOCore
package import NIOHTTP1

/// The answer to a request refused for load from its header alone (counted by whoever refuses it); `nil`: the request
/// goes on to the responder. Called on the connection's event loop (``HTTPConnectionGuard``), so it must not block.
package typealias HTTPLoadRefusal = @Sendable (HTTPRequestHead) -> RefusalAnswer?

/// Keeps one HTTP/1 connection within a listener's ``ConnectionLimits``: counts it against the listener's
/// connection limit (answering the first request of a connection over it 503 with `Retry-After: 1` and closing it),
/// and closes a connection whose request header or body is too slow to arrive.
///
/// With an ``HTTPLoadRefusal`` it also answers a request that the intake refuses for load right here, on the event loop,
/// from its header: the answer is written at once, the body is read and dropped, and the connection is kept (unless
/// the request asked to close it). Only when no earlier request of the connection is still owed its response, so
/// that answers keep their requests' order.
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
    private let loadRefusal: HTTPLoadRefusal?
    /// Requests passed on to the responder whose response has not ended: an answer written here while one is owed
    /// would overtake it.
    private var responsesOwed = 0
    /// The current request was answered here for load: its body is dropped. Holds the answer's write, which the
    /// connection waits for before it closes, when the request asked for that.
    private var refusedForLoad: (written: EventLoopFuture<Void>, close: Bool)?
    private var phase = Phase.awaitingRequest
    private var counted = false
    private var overLimit = false
    /// The current request is being refused (the connection is over the limit): its parts are dropped.
    private var refusing = false
    /// The response to the current request ended before its body did (an early refusal).
    private var answeredEarly = false
    private var deadline: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(limits: ConnectionLimits, count: ConnectionCount, loadRefusal: HTTPLoadRefusal?) {
        self.limits = limits
        self.count = count
        self.loadRefusal = loadRefusal
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
        case .head(let head):
            phase = .readingBody
            answeredEarly = false
            schedule(after: limits.bodyTimeout)
            if overLimit {
                refusing = true
                return
            }
            if responsesOwed == 0, let answer = loadRefusal?(head) {
                let written = write(answer, version: head.version, keepAlive: head.isKeepAlive, context: context)
                refusedForLoad = (written, !head.isKeepAlive)
                return
            }
            responsesOwed += 1
        case .body:
            if refusing || refusedForLoad != nil { return }
        case .end:
            cancelDeadline()
            if let refused = refusedForLoad {
                refusedForLoad = nil
                phase = .awaitingRequest
                if refused.close { refused.written.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
                return
            }
            phase = answeredEarly ? .awaitingRequest : .responding
            if refusing {
                refuse(context: context)
                return
            }
        }
        context.fireChannelRead(data)
    }

    /// Writes `answer` whole, in HTTP `version`, with its length, and with `Connection: close` when the connection
    /// is not kept (`keep-alive` when HTTP/1.0 keeps it).
    private func write(_ answer: RefusalAnswer, version: HTTPVersion, keepAlive: Bool, context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        var headers = HTTPHeaders(answer.headers.map { ($0.name.rawName, $0.value) })
        headers.replaceOrAdd(name: "Content-Length", value: String(answer.body.readableBytes))
        if !keepAlive {
            headers.replaceOrAdd(name: "Connection", value: "close")
        } else if version == .http1_0 {
            headers.replaceOrAdd(name: "Connection", value: "keep-alive")
        }
        let status = HTTPResponseStatus(statusCode: Int(answer.status.code), reasonPhrase: answer.status.reasonPhrase)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(answer.body))), promise: nil)
        return context.writeAndFlush(wrapOutboundOut(.end(nil)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            responsesOwed = max(0, responsesOwed - 1)
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
        let refusal = Refusal(
            .unavailable,
            "otelbench: this listener has its maximum of \(limits.maxConnections) connections open: retry later (--max-connections)",
            retryAfterSeconds: 1
        )
        write(refusal.plainTextAnswer, version: .http1_1, keepAlive: false, context: context).assumeIsolated().whenComplete { _ in
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
    private let loadRefusal: HTTPLoadRefusal?

    init(limits: ConnectionLimits, count: ConnectionCount, loadRefusal: HTTPLoadRefusal? = nil) {
        self.limits = limits
        self.count = count
        self.loadRefusal = loadRefusal
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        let connectionGuard = HTTPConnectionGuard(limits: limits, count: count, loadRefusal: loadRefusal)
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

extension Request {
    /// A request with NIO's `head` and no body, for deciding on the event loop from the header alone; `nil` when the
    /// method is not one HTTP allows.
    init?(header head: HTTPRequestHead) {
        guard let method = HTTPRequest.Method(head.method.rawValue) else { return nil }
        var fields = HTTPFields()
        for (name, value) in head.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        self.init(
            head: HTTPRequest(method: method, scheme: nil, authority: nil, path: head.uri, headerFields: fields),
            body: RequestBody(buffer: ByteBuffer())
        )
    }
}

import NIOCore
import NIOHTTP2

/// Counts one gRPC (HTTP/2) connection against its listener's ``ConnectionLimits/maxConnections`` and closes it at
/// once when it is over: before the HTTP/2 preface, so a client sees UNAVAILABLE, which gRPC retries with backoff.
///
/// It also closes a connection from which nothing at all has been read for the idle timeout plus the header timeout.
/// The transport closes an idle connection gracefully (GOAWAY, then a PING to be answered) and waits for the answer
/// for ever; a client that never speaks (not even the HTTP/2 preface) would hold its connection open.
final class GRPCConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let limit: Int
    private let silenceLimit: TimeAmount
    private let count: ConnectionCount
    private var counted = false
    private var lastRead = NIODeadline.now()
    private var check: Scheduled<Void>?

    init(limits: ConnectionLimits, count: ConnectionCount) {
        self.limit = limits.maxConnections
        self.silenceLimit = .nanoseconds(limits.idleTimeout.timeAmountNanoseconds) + .nanoseconds(limits.headerTimeout.timeAmountNanoseconds)
        self.count = count
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { opened(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    func channelActive(context: ChannelHandlerContext) {
        opened(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        context.fireChannelRead(data)
    }

    private func opened(context: ChannelHandlerContext) {
        guard !counted else { return }
        counted = true
        lastRead = .now()
        guard count.opened(limit: limit) else {
            context.close(promise: nil)
            return
        }
        scheduleCheck(context: context, at: lastRead + silenceLimit)
    }

    private func scheduleCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        check = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            check = nil
            let silentUntil = lastRead + silenceLimit
            if silentUntil <= .now() {
                context.close(promise: nil)
            } else {
                scheduleCheck(context: context, at: silentUntil)
            }
        }
    }

    private func release() {
        check?.cancel()
        check = nil
        guard counted else { return }
        counted = false
        count.closed()
    }
}

/// Resets a gRPC stream whose request has not ended ``ConnectionLimits/bodyTimeout`` after the stream opened: a
/// slow-body client does not hold a stream (and its buffered message) for ever.
final class GRPCStreamDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload

    private let timeout: Duration
    private var deadline: Scheduled<Void>?

    init(timeout: Duration) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(timeout.timeAmountNanoseconds)) { [self] in
            deadline = nil
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let headers) where headers.endStream: cancel()
        case .data(let data) where data.endStream: cancel()
        default: break
        }
        context.fireChannelRead(data)
    }

    private func cancel() {
        deadline?.cancel()
        deadline = nil
    }
}

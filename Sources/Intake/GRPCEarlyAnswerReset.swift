import NIOCore
import NIOHTTP2

/// Ends an HTTP/2 stream with RST_STREAM (NO_ERROR) once the server has answered it whole while the client is still
/// sending its request, as RFC 9113 §8.1 provides: "a server MAY request that the client abort transmission of a
/// request without error by sending a RST_STREAM with an error code of NO_ERROR after sending a complete response".
/// gRPC servers in Go and C++ do the same.
///
/// The receivers answer before a message is read whenever they refuse it early (a bearer token missing, the intake's
/// requests in flight at their maximum, a message announcing more than the limit). grpc-swift's transport then
/// leaves the stream half-closed and stops granting it flow-control window. A client that keeps sending its message
/// after the answer, as nghttp2's clients (h2load, nghttp) and others that wait for the window do, waited on that
/// stream for ever, so its stream never ended and a client with a bounded number of streams per connection
/// stalled. Reset, the client stops sending; the connection's window for what was already in flight is given back by
/// the HTTP/2 layer, which discards DATA on a reset stream.
///
/// Goes first in each stream's pipeline (``GRPCListener``), so it sees every frame the transport writes.
final class GRPCEarlyAnswerReset: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    /// The client has ended its side of the stream (END_STREAM on its HEADERS or DATA), or the stream was reset.
    private var requestEnded = false
    /// The server has ended its side of the stream (END_STREAM on its trailers or DATA), or the stream was reset.
    private var answerEnded = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let headers) where headers.endStream: requestEnded = true
        case .data(let data) where data.endStream: requestEnded = true
        case .rstStream: requestEnded = true
        default: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let endsAnswer: Bool
        switch unwrapOutboundIn(data) {
        case .headers(let headers): endsAnswer = headers.endStream
        case .data(let data): endsAnswer = data.endStream
        case .rstStream:
            answerEnded = true
            endsAnswer = false
        default: endsAnswer = false
        }
        context.write(data, promise: promise)
        guard endsAnswer, !answerEnded else { return }
        answerEnded = true
        if !requestEnded {
            // Written after the answer, so the transport's flush that follows sends both together.
            context.write(wrapOutboundOut(.rstStream(.noError)), promise: nil)
        }
    }
}

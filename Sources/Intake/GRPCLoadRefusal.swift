import Foundation
import GRPCCore
import NIOCore
package import NIOHPACK
import NIOHTTP2

/// The trailers-only answer to a gRPC call refused for load from its HEADERS alone (counted by whoever refuses it);
/// `nil`: the call goes on to grpc-swift. Called on the stream's event loop (``GRPCLoadRefusalHandler``), so it must
/// not block.
package typealias GRPCLoadRefusal = @Sendable (HPACKHeaders) -> HPACKHeaders?

/// Answers a gRPC call that the intake refuses for load as soon as its HEADERS arrive, on the stream's event loop:
/// the call never reaches grpc-swift's server, so no task runs its handler and nothing of its message is read, and
/// what the client still sends on the stream is dropped. ``GRPCEarlyAnswerReset``, before it in the pipeline, then
/// resets the stream with NO_ERROR when the client has not finished sending.
///
/// Under overload most calls are refused; refused in the handler, each cost as much CPU as an accepted one (the
/// RPC's task, its executor and its response writer), which left little for the calls that got in.
final class GRPCLoadRefusalHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private enum State {
        /// The stream's first frame has not come.
        case awaitingHeaders
        /// The call goes on to grpc-swift.
        case passing
        /// The call was answered here: what else comes is dropped.
        case refused
    }

    private let refusal: GRPCLoadRefusal
    private var state = State.awaitingHeaders

    init(_ refusal: @escaping GRPCLoadRefusal) {
        self.refusal = refusal
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .passing:
            context.fireChannelRead(data)
        case .refused:
            return
        case .awaitingHeaders:
            guard case .headers(let headers) = unwrapInboundIn(data), let answer = refusal(headers.headers) else {
                state = .passing
                context.fireChannelRead(data)
                return
            }
            state = .refused
            context.writeAndFlush(wrapOutboundOut(.headers(HTTP2Frame.FramePayload.Headers(headers: answer, endStream: true))), promise: nil)
        }
    }
}

extension Refusal {
    /// The refusal as a gRPC trailers-only response: `:status` 200, `content-type: application/grpc`, its status code
    /// and percent-encoded message, and ``rpcErrorMetadata`` (binary values in unpadded base64), as grpc-swift's
    /// transport writes them when a handler throws the refusal.
    package var grpcTrailersOnly: HPACKHeaders {
        var trailers: HPACKHeaders = [":status": "200", "content-type": "application/grpc", "grpc-status": String(rpcErrorCode.rawValue)]
        if !message.isEmpty { trailers.add(name: "grpc-message", value: Self.percentEncoded(message)) }
        for (key, value) in rpcErrorMetadata {
            switch value {
            case .string(let text): trailers.add(name: key.lowercased(), value: text)
            case .binary(let bytes):
                var encoded = Data(bytes).base64EncodedString()
                while encoded.hasSuffix("=") { encoded.removeLast() }
                trailers.add(name: key.lowercased(), value: encoded)
            }
        }
        return trailers
    }

    /// `grpc-message` as the gRPC HTTP/2 protocol has it: UTF-8, with every byte outside printable ASCII (0x20–0x7E)
    /// and `%` itself written as `%XX`.
    static func percentEncoded(_ message: String) -> String {
        var encoded = ""
        for byte in message.utf8 {
            if (0x20...0x7E).contains(byte), byte != UInt8(ascii: "%") {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return encoded
    }
}

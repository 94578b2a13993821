package import GRPCCore

/// A refusal on gRPC: thrown out of a handler, grpc-swift ends the call with this status and message.
extension Refusal: RPCErrorConvertible {
    package var rpcErrorCode: RPCError.Code {
        switch code.wrapped {
        case .invalidArgument, .notAcceptable, .unsupportedMediaType: .invalidArgument
        case .unauthenticated: .unauthenticated
        case .notFound: .notFound
        case .methodNotAllowed: .unimplemented
        case .tooLarge, .tooManyRequests: .resourceExhausted
        case .unavailable: .unavailable
        }
    }

    package var rpcErrorMessage: String { message }

    package var rpcErrorCause: (any Error)? { cause }
}

package import GRPCCore
import GRPCProtobuf
package import Telemetry

extension Refusal {
    /// The refusal as the OTLP specification sorts answers on `channel`: on gRPC by its status code (with the
    /// `RetryInfo` delay it carries, see ``rpcErrorMetadata``), on HTTP by its status (with `Retry-After`).
    package func exportAnswer(on channel: IntakeChannel) -> ExportAnswer {
        let code = rpcErrorCode
        if channel == .otlpGRPC {
            return .grpc(code: code.rawValue, name: Self.grpcCodeName(code.rawValue), retryInfo: retryInfoDelay)
        }
        return .http(status: Int(status.code), retryAfter: retryAfterSeconds.map { .seconds($0) })
    }

    /// The delay a gRPC refusal advertises in `google.rpc.RetryInfo`: its ``retryAfterSeconds``, for the two codes
    /// the OTLP specification throttles with (UNAVAILABLE, RESOURCE_EXHAUSTED).
    var retryInfoDelay: Duration? {
        guard let seconds = retryAfterSeconds, rpcErrorCode == .unavailable || rpcErrorCode == .resourceExhausted else { return nil }
        return .seconds(seconds)
    }

    /// The trailers that carry ``retryInfoDelay``: `grpc-status-details-bin`, a `google.rpc.Status` whose details hold
    /// the `RetryInfo` (how the OTLP specification and gRPC's richer error model say it), and
    /// `google.rpc.retryinfo-bin`, the `RetryInfo` alone, which is where the OpenTelemetry Python SDK (1.45) looks.
    package var rpcErrorMetadata: Metadata {
        guard let delay = retryInfoDelay else { return [:] }
        var metadata = GoogleRPCStatus(code: rpcErrorCode, message: message, details: .retryInfo(delay: delay)).rpcErrorMetadata
        // RetryInfo { google.protobuf.Duration retry_delay = 1; }, Duration { int64 seconds = 1; }.
        var duration: [UInt8] = [0x08]
        var seconds = UInt64(delay.components.seconds)
        while seconds >= 0x80 {
            duration.append(UInt8(seconds & 0x7f) | 0x80)
            seconds >>= 7
        }
        duration.append(UInt8(seconds))
        metadata.addBinary([0x0a, UInt8(duration.count)] + duration, forKey: "google.rpc.retryinfo-bin")
        return metadata
    }

    /// `UNAVAILABLE`: the name of a `google.rpc.Code`.
    static func grpcCodeName(_ code: Int) -> String {
        let names = [
            "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
            "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
            "UNAUTHENTICATED",
        ]
        return names.indices.contains(code) ? names[code] : "CODE_\(code)"
    }
}

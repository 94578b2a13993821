/// A `google.rpc.Status`: the body OTLP/HTTP error responses carry, and what gRPC errors mean.
struct RPCStatus: Sendable {
    /// The gRPC status code (`google.rpc.Code`).
    var code: Int32
    var message: String

    /// Binary protobuf: field 1 `code` (varint), field 2 `message` (string). No other field is used,
    /// so a generated type would only add a dependency on googleapis' protos.
    var protobufBytes: [UInt8] {
        var bytes: [UInt8] = [0x08]
        appendVarint(UInt64(code), to: &bytes)
        let text = Array(message.utf8)
        bytes.append(0x12)
        appendVarint(UInt64(text.count), to: &bytes)
        bytes.append(contentsOf: text)
        return bytes
    }

    /// The proto3 JSON form: `{"code":3,"message":"..."}`.
    /// Written directly (not by `JSONEncoder`): an overloaded receiver writes one for every refused request.
    var jsonBytes: [UInt8] {
        JSONValue.object([("code", .int(Int64(code))), ("message", .string(message))]).serialized
    }

    private func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }
}

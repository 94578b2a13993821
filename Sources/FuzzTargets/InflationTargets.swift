import Intake
import NIOCore
import OTelBenchProtos

/// Compressed request data as the receivers inflate it (``BodyDecompression``, ``GRPCMessageInflation``): never
/// past the limit, exactly at the limit when the data is that long, the same whatever the network's chunking.
enum InflationTargets {
    /// The first byte: bit 0 picks the encoding (gzip, deflate), the other bits the limit (1 + 64 × their value);
    /// the rest is an HTTP request body (`Content-Encoding`).
    static func httpBody(_ bytes: [UInt8]) throws(InvariantViolation) {
        guard let control = bytes.first else { return }
        let encoding = control & 1 == 0 ? "gzip" : "deflate"
        let limit = 1 + 64 * Int(control >> 1)
        let body = ByteBuffer(bytes: bytes.dropFirst())
        let inflated: ByteBuffer
        do {
            inflated = try BodyDecompression.inflate(body, encoding: encoding, limit: limit)
        } catch {
            switch error {
            case .tooLarge:
                // A larger limit may find the data corrupt further on, but never inflates it within this limit.
                if let whole = try? BodyDecompression.inflate(body, encoding: encoding, limit: limit * 64) {
                    try require(whole.readableBytes > limit, "refused as over the \(limit)-byte limit, but inflates to \(whole.readableBytes) bytes")
                }
            case .corrupt:
                if case .success(let whole) = Result(catching: { try BodyDecompression.inflate(body, encoding: encoding, limit: limit * 64) }) {
                    throw InvariantViolation(message: "corrupt at a \(limit)-byte limit, but inflates to \(whole.readableBytes) bytes at a larger one")
                }
            }
            return
        }
        try require(inflated.readableBytes <= limit, "\(encoding) body inflated to \(inflated.readableBytes) bytes, over the \(limit)-byte limit")
        let exact = Result { () throws(BodyDecompression.Failure) in try BodyDecompression.inflate(body, encoding: encoding, limit: inflated.readableBytes) }
        try require((try? exact.get()) == inflated, "\(encoding) body of \(inflated.readableBytes) bytes does not inflate at exactly that limit")
        if inflated.readableBytes > 0 {
            let under = Result { () throws(BodyDecompression.Failure) in
                try BodyDecompression.inflate(body, encoding: encoding, limit: inflated.readableBytes - 1)
            }
            guard case .failure(.tooLarge) = under else {
                throw InvariantViolation(message: "\(encoding) body of \(inflated.readableBytes) bytes is not refused as too large one byte under: \(under)")
            }
        }
    }

    /// Byte 0: the stream's `grpc-encoding` (its value modulo 3: gzip, deflate, none) and the limit (1 + 16 × the
    /// value divided by 3); byte 1: the size of the chunks the stream arrives in (1 + its value); the rest: the
    /// stream's bytes, gRPC message prefixes included.
    static func grpcStream(_ bytes: [UInt8]) throws(InvariantViolation) {
        guard bytes.count >= 2 else { return }
        let format: BodyDecompression.Format? = [.gzip, .zlib, nil][Int(bytes[0] % 3)]
        let limit = 1 + 16 * Int(bytes[0] / 3)
        let chunkSize = 1 + Int(bytes[1])
        let stream = ByteBuffer(bytes: bytes.dropFirst(2))

        var whole = GRPCMessageInflation(format: format, limit: limit)
        var atOnce = whole.consume(stream)
        var rest = whole.finish()
        atOnce.writeBuffer(&rest)

        var chunked = GRPCMessageInflation(format: format, limit: limit)
        var inChunks = ByteBuffer()
        var input = stream
        while input.readableBytes > 0 {
            let chunk = input.readSlice(length: min(chunkSize, input.readableBytes))!
            var output = chunked.consume(chunk)
            inChunks.writeBuffer(&output)
        }
        var tail = chunked.finish()
        inChunks.writeBuffer(&tail)
        try require(atOnce == inChunks, "the stream passes on other bytes in \(chunkSize)-byte chunks than at once")

        // What is passed on is gRPC framing again, one message for each whole message that came (inflated, passed
        // on, or a refusal in its place); each goes to the receiver's deserializer, which takes it or ends the call
        // with a status.
        let messages = wholeMessages(in: atOnce)
        let sent = wholeMessages(in: stream).count
        let cutShort = wholeMessages(in: stream).reduce(0) { $0 + 5 + $1.bytes.count } < stream.readableBytes
        // A message refused for its announced length is answered before it has all come.
        try require(
            messages.count == sent || (cutShort && messages.count == sent + 1),
            "\(sent) whole messages came and \(messages.count) were passed on"
        )
        for (flag, message) in messages {
            if format != nil { try require(flag != 1, "a compressed message was passed on compressed") }
            if flag == 1 { continue }  // no grpc-encoding: the transport refuses compressed messages itself
            _ = try? ReceiverDecoding.grpcMessage(
                Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest.self,
                message,
                specName: "ExportLogsServiceRequest",
                maxBytes: limit
            )
        }
    }

    /// The whole messages of gRPC framing (a compressed-flag byte, a 4-byte big-endian length, the bytes), with
    /// their flags; a message cut short at the end is left out.
    private static func wholeMessages(in framing: ByteBuffer) -> [(flag: UInt8, bytes: [UInt8])] {
        var buffer = framing
        var messages: [(flag: UInt8, bytes: [UInt8])] = []
        while let flag = buffer.readInteger(as: UInt8.self), let length = buffer.readInteger(as: UInt32.self),
            let bytes = buffer.readBytes(length: Int(length))
        {
            messages.append((flag, bytes))
        }
        return messages
    }
}

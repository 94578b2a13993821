import Intake
import OTelBenchProtos
import SwiftProtobuf
import Telemetry

/// Jaeger spans as the Jaeger sinks take them, straight from the bytes: Thrift binary `jaeger.Batch` bodies
/// (``JaegerThriftDecoder``) and gRPC `PostSpansRequest` messages (the gRPC sink's deserializer, built on
/// ``JaegerProtoWireDecoder``).
///
/// Each promises exactly what the api_v2 model gives (``JaegerThriftBatch`` or swift-protobuf's decoding, then
/// ``JaegerConversion``): the same spans, the same problems, the same bytes refused (for Thrift, with the same
/// error); checked both ways on every input, with the model's own invariants (every span converted or refused, a
/// protobuf round trip converts alike).
enum JaegerTargets {
    static func thrift(_ bytes: [UInt8]) throws(InvariantViolation) {
        let reference = Result { () throws(ThriftDecodingError) in try JaegerThriftBatch.decode(bytes) }
        let direct = Result { () throws(ThriftDecodingError) in try JaegerThriftDecoder.spans(bytes, channel: .jaegerThrift) }
        switch (reference, direct) {
        case (.success(let batch), .success(let converted)):
            try requireSame(JaegerConversion.spans(batch, channel: .jaegerThrift), converted, "the Thrift decoder and JaegerThriftBatch + JaegerConversion")
            try convertAndRoundTrip(batch, channel: .jaegerThrift)
        case (.failure(let expected), .failure(let error)):
            try require(
                error.message == expected.message,
                "the Thrift decoder and JaegerThriftBatch refuse with different errors: \(error.message) / \(expected.message)"
            )
            // "(at byte N of M)": every Thrift error names where in the body it is.
            try require(
                error.message.hasSuffix(" of \(bytes.count))"),
                "a Thrift error does not end with its position in the \(bytes.count)-byte body: \(error.message)"
            )
            let offset = error.message.split(separator: "(at byte ").last.flatMap { Int($0.prefix { $0.isNumber }) }
            try require(offset.map { $0 >= 0 && $0 <= bytes.count } == true, "a Thrift error's position is outside the body: \(error.message)")
        case (.success, .failure(let error)):
            throw InvariantViolation(message: "JaegerThriftBatch decodes the body, the Thrift decoder refuses it: \(error.message)")
        case (.failure(let error), .success):
            throw InvariantViolation(message: "the Thrift decoder accepts the body, JaegerThriftBatch refuses it: \(error.message)")
        }
    }

    static func proto(_ bytes: [UInt8]) throws(InvariantViolation) {
        let generated = Result { try Jaeger_ApiV2_PostSpansRequest(serializedBytes: bytes) }
        let direct = Result { () throws(ProtobufWireError) in try JaegerProtoWireDecoder.spans(bytes, channel: .jaegerGRPC) }
        let grpc = Result { try ReceiverDecoding.grpcJaegerSpans(bytes, maxBytes: OTLPProtobufTargets.maxBytes) }
        switch (generated, direct) {
        case (.success(let request), .success(let converted)):
            try requireSame(
                JaegerConversion.spans(request.batch, channel: .jaegerGRPC),
                converted,
                "the wire decoder and swift-protobuf + JaegerConversion"
            )
            try convertAndRoundTrip(request.batch, channel: .jaegerGRPC)
        case (.failure, .failure):
            break
        case (.success, .failure(let error)):
            throw InvariantViolation(message: "swift-protobuf decodes the PostSpansRequest, the wire decoder refuses it: \(error)")
        case (.failure(let error), .success):
            throw InvariantViolation(message: "the wire decoder accepts the PostSpansRequest, swift-protobuf refuses it: \(error)")
        }
        switch (direct, grpc) {
        case (.success(let decoded), .success(let viaGRPC)):
            try require(same(decoded.spans, viaGRPC.spans) && decoded.problems == viaGRPC.problems, "the gRPC sink's deserializer converts differently")
        case (.failure, .failure): break
        default: throw InvariantViolation(message: "the wire decoder and the gRPC sink's deserializer disagree on whether it decodes: \(direct) / \(grpc)")
        }
    }

    /// The reference conversion and the wire decoder's agree: the same spans and the same problems.
    private static func requireSame(
        _ expected: (spans: [Span], problems: [String]),
        _ converted: JaegerBatchSpans,
        _ what: String
    ) throws(InvariantViolation) {
        try require(
            converted.problems == expected.problems,
            "\(what) find different problems: \(converted.problems.prefix(3)) / \(expected.problems.prefix(3))"
        )
        try require(
            same(converted.spans, expected.spans),
            "\(what) convert to different spans (\(converted.spans.count) / \(expected.spans.count))"
        )
    }

    /// Converts `batch` (every span becomes a span or a problem), and checks that its protobuf re-encoding decodes
    /// to the same batch and converts to the same spans.
    private static func convertAndRoundTrip(_ batch: Jaeger_ApiV2_Batch, channel: IntakeChannel) throws(InvariantViolation) {
        let converted = JaegerConversion.spans(batch, channel: channel)
        try require(
            converted.spans.count + converted.problems.count == batch.spans.count,
            "\(batch.spans.count) spans came, \(converted.spans.count) converted and \(converted.problems.count) refused"
        )
        let encoded: [UInt8]
        let again: Jaeger_ApiV2_Batch
        do {
            encoded = try batch.serializedBytes()
            again = try Jaeger_ApiV2_Batch(serializedBytes: encoded)
        } catch {
            throw InvariantViolation(message: "a decoded jaeger Batch does not re-encode and decode: \(error)")
        }
        try require((try? again.serializedBytes() as [UInt8]) == encoded, "re-encoding a decoded jaeger Batch changes its bytes")
        let convertedAgain = JaegerConversion.spans(again, channel: channel)
        try require(same(converted.spans, convertedAgain.spans), "a jaeger Batch and its re-encoding convert to different spans")
        try require(converted.problems == convertedAgain.problems, "a jaeger Batch and its re-encoding have different problems")
    }
}

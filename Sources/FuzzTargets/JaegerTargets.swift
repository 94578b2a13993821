import Intake
import OTelBenchProtos
import SwiftProtobuf
import Telemetry

/// Jaeger spans as the Jaeger sinks take them: Thrift binary `jaeger.Batch` bodies (``JaegerThriftBatch``) and
/// gRPC `PostSpansRequest` messages (the gRPC receivers' deserializer), both converted by ``JaegerConversion``.
enum JaegerTargets {
    static func thrift(_ bytes: [UInt8]) throws(InvariantViolation) {
        let batch: Jaeger_ApiV2_Batch
        do {
            batch = try JaegerThriftBatch.decode(bytes)
        } catch {
            // "(at byte N of M)": every Thrift error names where in the body it is.
            try require(
                error.message.hasSuffix(" of \(bytes.count))"),
                "a Thrift error does not end with its position in the \(bytes.count)-byte body: \(error.message)"
            )
            let offset = error.message.split(separator: "(at byte ").last.flatMap { Int($0.prefix { $0.isNumber }) }
            try require(offset.map { $0 >= 0 && $0 <= bytes.count } == true, "a Thrift error's position is outside the body: \(error.message)")
            return
        }
        try convertAndRoundTrip(batch, channel: .jaegerThrift)
    }

    static func proto(_ bytes: [UInt8]) throws(InvariantViolation) {
        let request: Jaeger_ApiV2_PostSpansRequest
        do {
            request = try ReceiverDecoding.grpcMessage(
                Jaeger_ApiV2_PostSpansRequest.self,
                bytes,
                specName: "jaeger.api_v2.PostSpansRequest",
                maxBytes: OTLPProtobufTargets.maxBytes
            )
        } catch {
            try require(
                (try? Jaeger_ApiV2_PostSpansRequest(serializedBytes: bytes)) == nil,
                "the gRPC deserializer refuses what swift-protobuf decodes: \(error)"
            )
            return
        }
        try convertAndRoundTrip(request.batch, channel: .jaegerGRPC)
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

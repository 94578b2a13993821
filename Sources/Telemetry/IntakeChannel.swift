package import Scenario

/// Which door telemetry came in by: protocol and encoding (`otlp-grpc`, `otlp-http-json`, ...).
///
/// A struct rather than an enum so that each sink can add its own without breaking anybody.
package struct IntakeChannel: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    package var name: String

    package init(_ name: String) { self.name = name }

    package var description: String { name }

    package static func < (lhs: IntakeChannel, rhs: IntakeChannel) -> Bool { lhs.name < rhs.name }

    package init(from decoder: any Decoder) throws { name = try decoder.singleValueContainer().decode(String.self) }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }

    /// OTLP over gRPC.
    package static let otlpGRPC = IntakeChannel("otlp-grpc")
    /// OTLP over HTTP, binary protobuf bodies.
    package static let otlpHTTPProtobuf = IntakeChannel("otlp-http-protobuf")
    /// OTLP over HTTP, JSON bodies.
    package static let otlpHTTPJSON = IntakeChannel("otlp-http-json")
    /// A recording read back from a file.
    package static let recording = IntakeChannel("recording")
}

/// Requests and items counted for one channel and signal.
package struct IntakeCounts: Sendable, Hashable, Codable {
    /// Requests answered with success (possibly partial).
    package var requestsAccepted: Int = 0
    /// Requests refused whole (malformed, too large, wrong type, over the memory limit).
    package var requestsRejected: Int = 0
    /// Items (spans, data points, log records) kept.
    package var itemsAccepted: Int = 0
    /// Items reported back to the sender as rejected (partial success).
    package var itemsRejected: Int = 0
    /// Bytes of accepted request bodies after decompression.
    package var bytesAccepted: Int = 0
    /// Bytes of accepted requests as they came over the wire: the body as sent (compressed when it was), and for
    /// gRPC the length-prefixed message; headers and transport framing are not counted.
    package var wireBytesAccepted: Int = 0

    package init() {}
}

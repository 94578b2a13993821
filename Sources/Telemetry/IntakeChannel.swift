/// Which door telemetry came in by: protocol and encoding (`otlp-grpc`, `otlp-http-json`, ...).
///
/// A struct rather than an enum so that each sink can add its own without breaking anybody.
public struct IntakeChannel: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public var name: String

    public init(_ name: String) { self.name = name }

    public var description: String { name }

    public static func < (lhs: IntakeChannel, rhs: IntakeChannel) -> Bool { lhs.name < rhs.name }

    public init(from decoder: any Decoder) throws { name = try decoder.singleValueContainer().decode(String.self) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }

    /// OTLP over gRPC.
    public static let otlpGRPC = IntakeChannel("otlp-grpc")
    /// OTLP over HTTP, binary protobuf bodies.
    public static let otlpHTTPProtobuf = IntakeChannel("otlp-http-protobuf")
    /// OTLP over HTTP, JSON bodies.
    public static let otlpHTTPJSON = IntakeChannel("otlp-http-json")
    /// A recording read back from a file.
    public static let recording = IntakeChannel("recording")
}

/// The three OpenTelemetry signals.
public enum Signal: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    case traces
    case metrics
    case logs

    /// What one item of the signal is called: span, data point, log record.
    public var itemName: String {
        switch self {
        case .traces: "spans"
        case .metrics: "data points"
        case .logs: "log records"
        }
    }

    public static func < (lhs: Signal, rhs: Signal) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Requests and items counted for one channel and signal.
public struct IntakeCounts: Sendable, Hashable, Codable {
    /// Requests answered with success (possibly partial).
    public var requestsAccepted: Int = 0
    /// Requests refused whole (malformed, too large, wrong type, over the memory limit).
    public var requestsRejected: Int = 0
    /// Items (spans, data points, log records) kept.
    public var itemsAccepted: Int = 0
    /// Items reported back to the sender as rejected (partial success).
    public var itemsRejected: Int = 0
    /// Bytes of accepted request bodies after decompression.
    public var bytesAccepted: Int = 0

    public init() {}
}

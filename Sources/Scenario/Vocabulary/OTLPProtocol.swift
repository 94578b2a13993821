/// How OTLP travels from an exporter to the intake.
package enum OTLPProtocol: String, Sendable, Hashable, CaseIterable {
    /// OTLP/gRPC; the endpoint is `http://host:port`.
    case grpc
    /// OTLP/HTTP with protobuf bodies; the endpoint is `http://host:port`, and `/v1/traces`, `/v1/metrics`,
    /// `/v1/logs` are appended.
    case http
}

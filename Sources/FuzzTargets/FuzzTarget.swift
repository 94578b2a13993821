/// One input the program accepts, as a fuzz target: a name, what its bytes are, and an entry point that runs the
/// bytes through the receiver's or loader's own parser and checks invariants beyond "does not crash" (a decode,
/// re-encode and decode gives the same model; limits hold; errors name a position where the format has one).
///
/// libFuzzer calls ``run`` through `Fuzz/OTelBenchFuzz` (`scripts/fuzz.sh TARGET SECONDS`); the regression tests
/// (`Tests/FuzzRegressionTests`) call it on every committed corpus file.
///
/// ```swift
/// try FuzzTarget.named("promql")?.run(Array("rate(x[5m])".utf8))
/// ```
package struct FuzzTarget: Sendable {
    /// The target's name, as `scripts/fuzz.sh` and the corpus folders know it (`otlp-traces`).
    package let name: String
    /// What the bytes are.
    package let input: String
    /// Runs one input; a crash or a thrown ``InvariantViolation`` is a finding.
    package let run: @Sendable ([UInt8]) throws(InvariantViolation) -> Void

    /// Every target, one per input the program accepts.
    package static let all: [FuzzTarget] = [
        FuzzTarget(name: "otlp-traces", input: "protobuf ExportTraceServiceRequest", run: OTLPProtobufTargets.traces),
        FuzzTarget(name: "otlp-metrics", input: "protobuf ExportMetricsServiceRequest", run: OTLPProtobufTargets.metrics),
        FuzzTarget(name: "otlp-logs", input: "protobuf ExportLogsServiceRequest", run: OTLPProtobufTargets.logs),
        FuzzTarget(name: "otlp-json", input: "a signal byte (traces, metrics, logs), then an OTLP/JSON request", run: OTLPJSONTarget.run),
        FuzzTarget(name: "jaeger-thrift", input: "a Thrift binary jaeger.Batch (POST /api/traces)", run: JaegerTargets.thrift),
        FuzzTarget(name: "jaeger-proto", input: "protobuf jaeger.api_v2.PostSpansRequest (gRPC)", run: JaegerTargets.proto),
        FuzzTarget(name: "snappy", input: "a limit byte, then a snappy block", run: SnappyTarget.run),
        FuzzTarget(name: "remote-write", input: "protobuf prometheus.WriteRequest (after snappy)", run: RemoteWriteTarget.run),
        FuzzTarget(name: "exposition-text", input: "Prometheus text format 0.0.4", run: ExpositionTargets.text),
        FuzzTarget(name: "exposition-openmetrics", input: "OpenMetrics 1.0 text", run: ExpositionTargets.openMetrics),
        FuzzTarget(name: "promql", input: "a PromQL expression", run: PromQLTarget.run),
        FuzzTarget(name: "scenario-yaml", input: "a scenario file", run: ScenarioTarget.run),
        FuzzTarget(name: "rule-file", input: "a Prometheus rule file", run: RuleFileTarget.run),
        FuzzTarget(name: "elasticsearch-bulk", input: "an index byte, then an Elasticsearch _bulk body (NDJSON)", run: ElasticsearchBulkTarget.run),
        FuzzTarget(name: "http-body-inflation", input: "an encoding-and-limit byte, then a gzip or deflate body", run: InflationTargets.httpBody),
        FuzzTarget(name: "grpc-message-inflation", input: "two control bytes, then a gRPC request stream's bytes", run: InflationTargets.grpcStream),
    ]

    /// The target called `name`, if there is one.
    package static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// An invariant that an input broke: what the parser did, and what it should have done.
package struct InvariantViolation: Error, CustomStringConvertible {
    /// The broken invariant, with the values that broke it.
    package var message: String
    package var description: String { message }
}

/// Throws ``InvariantViolation`` with `message` unless `condition` holds.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) throws(InvariantViolation) {
    guard condition() else { throw InvariantViolation(message: message()) }
}

/// Whether two values are the same, NaNs included: `==` first, then the hash, which hashes a Double by its bits (NaN
/// is never `==` to itself; printing is no substitute, since two equal dictionaries may list their keys in
/// different orders).
func same<Value: Hashable>(_ lhs: Value, _ rhs: Value) -> Bool {
    lhs == rhs || lhs.hashValue == rhs.hashValue
}

extension [UInt8] {
    /// The number of lines of the bytes as text (1 for no newline).
    var lineCount: Int { reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 } }
}

import Foundation
import Intake
import Query
import Telemetry
import TestSupport
import Testing

/// The Jaeger query API under hostile traffic to it and to the receivers beside it: every request is answered.
@Suite(.serialized) struct JaegerQueryHardeningTests {
    static let traceID = TraceID(hex: "4bf92f3577b34da6a3ce929d0e0e4736")!

    static func storedTrace(_ store: TelemetryStore) {
        let span = Span(
            traceID: traceID,
            spanID: SpanID(hex: "00f067aa0ba902b7")!,
            name: "GET /checkout",
            kind: .server,
            startTimeUnixNano: 1_700_000_000_000_000_000,
            endTimeUnixNano: 1_700_000_000_250_000_000,
            resource: Resource(attributes: ["service.name": .string("checkout")]),
            channel: .otlpGRPC
        )
        store.store(Batch(spans: [span]), channel: .otlpGRPC, signal: .traces, rejectedItems: 0, reservedBytes: 0)
    }

    /// The cause of `GET /api/traces/{id}` going unanswered under fuzzing: a truncated gzip message on OTLP/gRPC
    /// made grpc-swift-nio-transport's inflate loop spin for good on one of the event loops that every server in
    /// the process shares, so every connection (or listener) on that loop stalled, the Jaeger query API's among
    /// them. Reproduced deterministically: after the broken message, six fresh connections in a row (new
    /// connections are spread over the event loops in turn, so some land on every loop) must each be answered.
    @Test func traceByIDIsAnsweredAfterABrokenGzipGRPCMessage() async throws {
        let compressed = try gzip(Array(repeating: UInt8(ascii: "x"), count: 4096) + Array("otelbench".utf8))
        let truncated = Array(compressed.prefix(compressed.count / 2))
        try await withSinks { sinks in
            Self.storedTrace(sinks.store)
            let grpc = try await Self.curl(
                [
                    "--http2-prior-knowledge", "-o", "/dev/null", "-D", "-", "-H", "content-type: application/grpc", "-H", "te: trailers",
                    "-H", "grpc-encoding: gzip", "--data-binary", "@-",
                    "http://127.0.0.1:\(sinks.otlpGRPCPort)/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                ],
                input: [1] + Self.bigEndian(UInt32(truncated.count)) + truncated
            )
            #expect(grpc.stdout.lowercased().contains("grpc-status: 13"), "\(grpc.output)")
            for attempt in 0..<6 {
                let answer = try await Self.curl(
                    ["-o", "-", "-w", "\n%{http_code}", "http://127.0.0.1:\(sinks.jaegerQueryPort)/api/traces/\(Self.traceID.hex)"]
                )
                #expect(answer.stdout.hasSuffix("\n200"), "connection \(attempt): \(answer.output)")
                #expect(answer.stdout.contains("\"operationName\":\"GET /checkout\""), "connection \(attempt)")
            }
        }
    }

    /// A duration past what Go's `time.ParseDuration` takes trapped converting to an unsigned integer, ending the
    /// process; now it is refused with 400 and a message, as Jaeger refuses it, and the API keeps serving.
    @Test(arguments: ["99999999999999999999h", "9223372037s", "3000000h"])
    func outOfRangeDurationIsRefused(_ duration: String) async throws {
        try await withSinks { sinks in
            Self.storedTrace(sinks.store)
            for parameter in ["minDuration", "maxDuration"] {
                let answer = try await sinks.query("/api/traces?service=checkout&\(parameter)=\(duration)")
                #expect(answer.status == 400, "\(answer.text)")
                #expect(answer.text.contains("'\(parameter)'"), "\(answer.text)")
            }
            let found = try await sinks.query("/api/traces?service=checkout&minDuration=1ms&maxDuration=2562047h")
            #expect(found.status == 200)
            #expect(try found.json()["total"] as? Int == 1)
        }
    }

    /// Runs curl (sending `input` on its standard input, if any), at most 10 s for an answer that should come at once.
    static func curl(_ arguments: [String], input: [UInt8]? = nil) async throws -> ProcessOutcome {
        try await withTemporaryDirectory { directory in
            var arguments = ["-sS", "--max-time", "10"] + arguments
            if let input {
                let file = directory.appendingPathComponent("body")
                try Data(input).write(to: file)
                arguments = arguments.map { $0 == "@-" ? "@\(file.path)" : $0 }
            }
            return try await runProcess(try curlExecutable(), arguments, timeout: .seconds(30))
        }
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
}

import Foundation
import TestSupport
import Testing

/// `otelbench receive` with the sink flags, run as the built binary: each sink listens where asked,
/// answers, and what it received is in the summary.
@Suite(.serialized) struct ReceiveSinkFlagsTests {
    static let flags = ["--jaeger-grpc", "--jaeger-thrift", "--jaeger-query", "--prometheus", "--exposition", "--elasticsearch"]

    @Test func sinkFlagsStartEverySinkAndTheSummaryCountsWhatTheyReceived() async throws {
        let binary = repositoryRoot.appendingPathComponent(".build/debug/otelbench").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestFailure("\(binary) is missing: run `swift build --build-tests` first")
        }
        var arguments = ["receive", "--otlp-grpc", "127.0.0.1:0", "--otlp-http", "127.0.0.1:0", "--quiet", "--duration", "60s"]
        for flag in Self.flags { arguments += [flag, "127.0.0.1:0"] }
        try await withChildProcess(binary, arguments) { child in
            let started = await eventually(timeout: .seconds(30)) { child.output.contains("Prometheus exposition of OTLP metrics on") || !child.isRunning }
            let output = child.output
            #expect(started && child.isRunning, "receive did not start: \(output)")
            func port(after prefix: String) throws -> Int {
                guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }),
                    let match = line.firstMatch(of: /127\.0\.0\.1:(\d+)/), let port = Int(match.1)
                else { throw TestFailure("no '\(prefix)' line with a port in: \(output)") }
                return port
            }
            let thrift = try port(after: "Jaeger Thrift listening on")
            let query = try port(after: "Jaeger query API on")
            let remoteWrite = try port(after: "Prometheus remote write listening on")
            let exposition = try port(after: "Prometheus exposition of OTLP metrics on")
            _ = try port(after: "Jaeger gRPC (PostSpans) listening on")
            let elasticsearch = try port(after: "Elasticsearch document API listening on")
            let sinks = RunningSinks(
                store: .init(),
                otlpGRPCPort: 0,
                otlpHTTPPort: 0,
                jaegerGRPCPort: 0,
                jaegerThriftPort: thrift,
                jaegerQueryPort: query,
                remoteWritePort: remoteWrite,
                expositionPort: exposition
            )
            #expect(try await sinks.send(port: thrift, "/api/traces", contentType: "application/x-thrift", body: SampleThriftBatch.bytes()).status == 202)
            #expect(try await sinks.query("/api/traces/0af7651916cd43dd8448eb211c80331c").status == 200)
            let write = try remoteWriteBody([remoteWriteSeries([("__name__", "cli_metric")], samples: [(1_000, 1)])])
            #expect(try await sinks.remoteWrite(write).status == 204)
            #expect(try await sinks.send(port: exposition, "/metrics", method: .GET).status == 200)
            #expect(
                try await sinks.send(port: elasticsearch, "/logs/_doc", contentType: "application/json", body: Array(#"{"message":"hi"}"#.utf8)).status == 201
            )

            await child.stop()
            let summary = child.output
            #expect(summary.contains("jaeger-thrift-http traces: requests 1 accepted, 0 rejected; items 2 accepted"), "\(summary)")
            #expect(summary.contains("prometheus-remote-write metrics: requests 1 accepted"), "\(summary)")
            #expect(summary.contains("elasticsearch logs: requests 1 accepted, 0 rejected; items 1 accepted"), "\(summary)")
        }
    }

    @Test func aBadSinkAddressIsAUsageError() async throws {
        let binary = repositoryRoot.appendingPathComponent(".build/debug/otelbench").path
        let outcome = try await runToCompletion(binary, ["receive", "--jaeger-query", "127.0.0.1:99999"], timeout: .seconds(30))
        #expect(outcome.status != 0)
        #expect(outcome.output.contains("'127.0.0.1:99999' is invalid for '--jaeger-query <host:port>'"), "\(outcome.output)")
    }

    @Test func aSinkThatCannotListenStopsReceiveWithTheFlagNamed() async throws {
        let binary = repositoryRoot.appendingPathComponent(".build/debug/otelbench").path
        let port = try freeLoopbackPort()
        let outcome = try await runToCompletion(
            binary,
            [
                "receive", "--otlp-grpc", "127.0.0.1:0", "--otlp-http", "127.0.0.1:0", "--quiet", "--jaeger-query", "127.0.0.1:\(port)", "--exposition",
                "127.0.0.1:\(port)",
            ],
            timeout: .seconds(30)
        )
        #expect(outcome.status != 0 && !outcome.timedOut)
        #expect(outcome.output.contains("cannot listen for --"), "\(outcome.output)")
        #expect(outcome.output.contains("port 0 picks a free one"), "\(outcome.output)")
    }
}

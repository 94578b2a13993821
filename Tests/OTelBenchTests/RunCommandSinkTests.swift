import Foundation
import Intake
import Scenario
import TestSupport
import Testing
import Workload

/// `otelbench run` with a scenario that names sinks, as the built binary: the shipped
/// `Scenarios/cf-core-sinks.yaml` on ports this test chose, while the real Python Jaeger exporters (gRPC
/// and Thrift) and a remote-write sender send during the run; the run's summary.json and recording.jsonl
/// must account for all of it beside the built-in services' OTLP.
@Suite(.serialized) struct RunCommandSinkTests {
    static let grpcTrace = "0af7651916cd43dd8448eb211c80319c"
    static let thriftTrace = "4bf92f3577b34da6a3ce929d0e0e4736"

    @Test func theScenariosSinksRunBesideTheServicesAndWhatTheyReceivedIsAccounted() async throws {
        let binary = repositoryRoot.appendingPathComponent(".build/debug/otelbench").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestFailure("\(binary) is missing: run `swift build --build-tests` first")
        }
        let python = try requirePeer(".venv-jaeger/bin/python")
        let exporter = repositoryRoot.appendingPathComponent("Tests/Interop/jaeger_export.py").path
        let scenario = repositoryRoot.appendingPathComponent("Scenarios/cf-core-sinks.yaml").path
        let (grpcPort, thriftPort, remoteWritePort) = (try freeLoopbackPort(), try freeLoopbackPort(), try freeLoopbackPort())
        let environment = [
            "OTELBENCH_JAEGER_GRPC": "127.0.0.1:\(grpcPort)", "OTELBENCH_JAEGER_THRIFT": "127.0.0.1:\(thriftPort)",
            "OTELBENCH_PROMETHEUS": "127.0.0.1:\(remoteWritePort)", "OTELBENCH_JAEGER_QUERY": "127.0.0.1:0",
            "OTELBENCH_EXPOSITION": "127.0.0.1:0", "OTELBENCH_ELASTICSEARCH": "127.0.0.1:0",
        ]
        try await withTemporaryDirectory { folder in
            let reports = folder.appendingPathComponent("reports")
            try await withChildProcess(binary, ["run", scenario, "--report-dir", reports.path], environment: environment) { run in
                let listening = await eventually(timeout: .seconds(60)) { run.output.contains("intake: ") || !run.isRunning }
                try #require(listening && run.isRunning, "run did not start its intake: \(run.output)")
                let intakeLine = run.output.split(separator: "\n").first { $0.hasPrefix("intake: ") }.map(String.init) ?? ""
                #expect(intakeLine.contains("Jaeger gRPC 127.0.0.1:\(grpcPort)"), "\(intakeLine)")
                #expect(intakeLine.contains("Jaeger Thrift http://127.0.0.1:\(thriftPort)/api/traces"), "\(intakeLine)")
                #expect(intakeLine.contains("Prometheus remote write http://127.0.0.1:\(remoteWritePort)/api/v1/write"), "\(intakeLine)")
                #expect(intakeLine.contains("Jaeger query http://127.0.0.1:") && intakeLine.contains("Elasticsearch http://127.0.0.1:"), "\(intakeLine)")
                #expect(!intakeLine.contains(":0/") && !intakeLine.contains(":0,"), "bound ports are printed, not port 0: \(intakeLine)")

                // The senders, all at once, while the workload runs.
                async let grpcExport = runToCompletion(
                    python,
                    [exporter, "--protocol", "grpc", "--endpoint", "127.0.0.1:\(grpcPort)", "--trace-id", Self.grpcTrace, "--service", "jaeger-grpc-sender"],
                    timeout: .seconds(60)
                )
                async let thriftExport = runToCompletion(
                    python,
                    [
                        exporter, "--protocol", "thrift", "--endpoint", "127.0.0.1:\(thriftPort)", "--trace-id", Self.thriftTrace, "--service",
                        "jaeger-thrift-sender",
                    ],
                    timeout: .seconds(60)
                )
                let sinks = RunningSinks(
                    store: .init(),
                    otlpGRPCPort: 0,
                    otlpHTTPPort: 0,
                    jaegerGRPCPort: grpcPort,
                    jaegerThriftPort: thriftPort,
                    jaegerQueryPort: 0,
                    remoteWritePort: remoteWritePort,
                    expositionPort: 0
                )
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                let write = try remoteWriteBody([
                    remoteWriteSeries([("__name__", "sender_queue_depth"), ("queue", "a")], samples: [(now - 2000, 1), (now - 1000, 2), (now, 3)]),
                    remoteWriteSeries([("__name__", "sender_queue_depth"), ("queue", "b")], samples: [(now - 2000, 4), (now - 1000, 5), (now, 6)]),
                ])
                let written = try await sinks.remoteWrite(write)
                #expect(written.status == 204, "\(written.text)")
                let (grpcOutcome, thriftOutcome) = try await (grpcExport, thriftExport)
                #expect(grpcOutcome.status == 0 && !grpcOutcome.timedOut, "gRPC exporter: \(grpcOutcome.output)")
                #expect(thriftOutcome.status == 0 && !thriftOutcome.timedOut, "Thrift exporter: \(thriftOutcome.output)")
                #expect(run.isRunning, "the run ended before the senders finished: lengthen the scenario's phase")

                let finished = await run.wait(timeout: .seconds(90))
                #expect(finished.status == 0 && !finished.timedOut, "run: \(finished.output)")
            }

            // summary.json: the sinks' channels beside the services' OTLP.
            let summary = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: reports.appendingPathComponent("summary.json"))) as? [String: Any]
            )
            let intake = try #require(summary["intake"] as? [String: Any])
            let channels = intake["channels"] as? [[String: Any]] ?? []
            func accepted(_ channel: String, _ signal: String) -> Int? {
                channels.first { $0["channel"] as? String == channel && $0["signal"] as? String == signal }?["itemsAccepted"] as? Int
            }
            #expect(accepted("jaeger-grpc", "traces") == 3, "\(channels)")
            #expect(accepted("jaeger-thrift-http", "traces") == 3, "\(channels)")
            #expect(accepted("prometheus-remote-write", "metrics") == 6, "\(channels)")
            #expect((accepted("otlp-grpc", "traces") ?? 0) > 0, "the built-in services exported too: \(channels)")
            let services = (intake["services"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(services.contains("jaeger-grpc-sender") && services.contains("jaeger-thrift-sender"), "\(services)")
            let rules = summary["rules"] as? [[String: Any]] ?? []
            let accounting = rules.first { $0["kind"] as? String == "accounting" }
            #expect(accounting?["verdict"] as? String == "pass", "\(accounting ?? [:])")

            // recording.jsonl: what the sinks received, as OTLP/JSON lines, so `check` can judge it again.
            let recording = try String(contentsOf: reports.appendingPathComponent("recording.jsonl"), encoding: .utf8)
            let lines = recording.split(separator: "\n")
            #expect(lines.contains { $0.contains(Self.grpcTrace) && $0.contains("jaeger-grpc-sender") })
            #expect(lines.contains { $0.contains(Self.thriftTrace) && $0.contains("jaeger-thrift-sender") })
            #expect(lines.contains { $0.hasPrefix(#"{"resourceMetrics""#) && $0.contains("sender_queue_depth") })
        }
    }
}

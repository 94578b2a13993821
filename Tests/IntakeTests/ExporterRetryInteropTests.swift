import Checks
import Foundation
import Intake
import Scenario
import Telemetry
import TestSupport
import Testing

/// The real OpenTelemetry Python SDK's OTLP span exporters (gRPC and HTTP, 1.45) against intake's scripted
/// refusals, judged by the `retry` rule from what intake saw. What each exporter does is pinned here:
///
/// - both retry 503/UNAVAILABLE with growing delays (1, 2, 4 s, ±20 % jitter) and deliver the batch;
/// - both honour the advertised delay: HTTP's `Retry-After`, gRPC's `RetryInfo` (read from the
///   `google.rpc.retryinfo-bin` trailer), waiting 3 s where their own backoff would wait about 1 s;
/// - neither retries 400 / INVALID_ARGUMENT;
/// - the gRPC exporter retries RESOURCE_EXHAUSTED without `RetryInfo`, which the specification says SHOULD be
///   treated as not retryable: the rule says so (`not_retried` fails for it).
@Suite(.serialized) struct ExporterRetryInteropTests {
    /// Batch 1: three 503s, then accepted. Batch 2: 429 asking for 3 s, then accepted. Batch 3: 400.
    /// Batch 4 (gRPC only): 429 without a delay (RESOURCE_EXHAUSTED without RetryInfo), then accepted if retried.
    static let faults = [
        IntakeFault(signal: .traces, sequence: [.serviceUnavailable, .serviceUnavailable, .serviceUnavailable, .ok]),
        IntakeFault(signal: .traces, sequence: [.tooManyRequests, .ok], retryAfter: .seconds(3)),
        IntakeFault(signal: .traces, sequence: [.badRequest]),
        IntakeFault(signal: .traces, sequence: [.tooManyRequests, .ok]),
    ]

    struct Outcome {
        var results: [RetryRule.Point: RuleResult]
        var exports: [String]
        var timeline: ExporterTimeline
    }

    func export(_ protocolName: String, batches: Int) async throws -> Outcome {
        let python = try testVenvPython()
        var outcome: Outcome?
        let box = OutcomeBox()
        try await withIntake(faults: FaultInjector(rules: Self.faults)) { intake in
            RetryCheck(rule: RetryRule()).attach(to: intake.store)
            let endpoint = protocolName == "grpc" ? "127.0.0.1:\(intake.grpcPort)" : intake.httpEndpoint
            let result = try await runProcess(
                python,
                [
                    repositoryRoot.appendingPathComponent("Tests/Interop/otlp_retry_export.py").path, "--protocol", protocolName,
                    "--endpoint", endpoint, "--batches", String(batches), "--timeout", "60",
                ],
                timeout: .seconds(180)
            )
            try #require(result.status == 0, "exporter script failed: \(result.stderr)")
            let timelines = intake.store.exports.timelines
            box.set(timelines, lines: result.stdout.split(separator: "\n").map(String.init))
        }
        let (timelines, lines) = box.get()
        let key = ExporterKey(
            service: "retry-python-\(protocolName)",
            instance: "interop",
            channel: protocolName == "grpc" ? .otlpGRPC : .otlpHTTPProtobuf,
            signal: .traces
        )
        let timeline = try #require(timelines[key], "exporters seen: \(timelines.keys)")
        var byPoint: [RetryRule.Point: RuleResult] = [:]
        for result in RetryJudge(rule: RetryRule()).judge(timelines) {
            if let point = RetryRule.Point(rawValue: String(result.name.split(separator: ": ").last ?? "")) { byPoint[point] = result }
        }
        outcome = Outcome(results: byPoint, exports: lines, timeline: timeline)
        return outcome!
    }

    @Test func pythonHTTPExporterKeepsTheSpecification() async throws {
        let outcome = try await export("http", batches: 3)
        #expect(outcome.exports == ["batch 1: SUCCESS", "batch 2: SUCCESS", "batch 3: FAILURE"])
        for point in RetryRule.Point.allCases {
            #expect(outcome.results[point]?.verdict == .pass, "\(point): \(outcome.results[point].map { "\($0.measured) \($0.evidence)" } ?? "none")")
        }
        #expect(outcome.timeline.attempts.map(\.answer.code) == ["503", "503", "503", "200", "429", "200", "400"])
        #expect(outcome.results[.backoff]?.measured == "2 of 2 backoff waits hold")
        #expect(outcome.results[.advertisedDelay]?.measured == "1 of 1 retries after an advertised delay hold")
    }

    @Test func pythonGRPCExporterRetriesResourceExhaustedWithoutRetryInfo() async throws {
        let outcome = try await export("grpc", batches: 4)
        #expect(outcome.exports == ["batch 1: SUCCESS", "batch 2: SUCCESS", "batch 3: FAILURE", "batch 4: SUCCESS"])
        #expect(
            outcome.timeline.attempts.map(\.answer.code) == [
                "UNAVAILABLE", "UNAVAILABLE", "UNAVAILABLE", "OK", "RESOURCE_EXHAUSTED", "OK", "INVALID_ARGUMENT", "RESOURCE_EXHAUSTED", "OK",
            ]
        )
        // RetryInfo was sent with the first RESOURCE_EXHAUSTED and honoured; the second carried none.
        #expect(outcome.timeline.attempts[4].answer.advertisedDelay == .seconds(3))
        #expect(outcome.timeline.attempts[7].answer.retryable == false)
        for point in RetryRule.Point.allCases where point != .notRetried {
            #expect(outcome.results[point]?.verdict == .pass, "\(point): \(outcome.results[point].map { "\($0.measured) \($0.evidence)" } ?? "none")")
        }
        let notRetried = try #require(outcome.results[.notRetried])
        #expect(notRetried.verdict == .fail)
        #expect(notRetried.measured == "1 of 2 non-retryable answers break it")
        #expect(notRetried.evidence.first?.contains("RESOURCE_EXHAUSTED not retryable") == true, "\(notRetried.evidence)")
    }
}

/// Carries what a test saw out of the intake's scope.
private final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var timelines: [ExporterKey: ExporterTimeline] = [:]
    private var lines: [String] = []

    func set(_ timelines: [ExporterKey: ExporterTimeline], lines: [String]) {
        lock.withLock {
            self.timelines = timelines
            self.lines = lines
        }
    }

    func get() -> ([ExporterKey: ExporterTimeline], [String]) { lock.withLock { (timelines, lines) } }
}

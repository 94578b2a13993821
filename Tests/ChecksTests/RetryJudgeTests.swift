import Checks
import Scenario
import Telemetry
import Testing

/// ``RetryJudge`` over timelines built by hand: one that keeps every point of the OTLP specification passes, each
/// that breaks one point fails that point (and says which batch), and a point with nothing to judge is `no_data`.
@Suite struct RetryJudgeTests {
    static let exporter = ExporterKey(service: "billing", channel: .otlpHTTPProtobuf, signal: .traces)

    static func at(_ seconds: Double, _ batch: UInt64, _ answer: ExportAnswer) -> ExportAttempt {
        ExportAttempt(at: .milliseconds(Int64(seconds * 1000)), batch: batch, answer: answer)
    }

    static let ok = ExportAnswer.accepted(code: "200")
    static let unavailable = ExportAnswer.http(status: 503, retryAfter: nil)
    static let badRequest = ExportAnswer.http(status: 400, retryAfter: nil)
    static func throttled(_ seconds: Int) -> ExportAnswer { .http(status: 429, retryAfter: .seconds(seconds)) }

    static func verdicts(_ attempts: [ExportAttempt], rule: RetryRule = RetryRule(), acceptedFirstTime: Int = 0) -> [RetryRule.Point: RuleResult] {
        let results = RetryJudge(rule: rule).judge([exporter: ExporterTimeline(attempts: attempts, acceptedFirstTime: acceptedFirstTime)])
        var byPoint: [RetryRule.Point: RuleResult] = [:]
        for result in results {
            let point = try! #require(RetryRule.Point(rawValue: String(result.name.split(separator: ": ").last!)))
            byPoint[point] = result
        }
        return byPoint
    }

    @Test func aConformingExporterPassesEveryPoint() {
        let results = Self.verdicts(
            [
                Self.at(0, 1, Self.unavailable), Self.at(1, 1, Self.unavailable), Self.at(3, 1, Self.unavailable), Self.at(7, 1, Self.ok),
                Self.at(10, 2, Self.throttled(2)), Self.at(12.5, 2, Self.ok),
                Self.at(20, 3, Self.badRequest),
            ],
            acceptedFirstTime: 5
        )
        #expect(results.count == RetryRule.Point.allCases.count)
        for (point, result) in results {
            #expect(result.verdict == .pass, "\(point): \(result.measured) \(result.evidence)")
            #expect(result.kind == .retry)
            #expect(result.name.hasPrefix("exporter retry: billing otlp-http-protobuf traces: "))
        }
        #expect(results[.backoff]?.measured == "2 of 2 backoff waits hold")
        #expect(results[.noDuplicates]?.measured == "7 of 7 accepted batches hold")
        #expect(results[.retried]?.evidence.contains { $0.contains("+1.000 s  batch 00000000  503 retryable") } == true)
    }

    /// Each case breaks one point; that point fails and names the batch.
    @Test(
        arguments: [
            (RetryRule.Point.retried, [at(0, 7, unavailable), at(1, 8, ok)], "batch 00000000, refused at +0.000 s with 503 retryable, was never sent again"),
            (.backoff, [at(0, 7, unavailable), at(1, 7, unavailable), at(2, 7, unavailable), at(3, 7, ok)], "not longer than the 1.000 s before it"),
            (.advertisedDelay, [at(0, 7, throttled(2)), at(1, 7, ok)], "retried 1.000 s after 429 retryable, asks to wait 2.000 s"),
            (.notRetried, [at(0, 7, badRequest), at(1, 7, badRequest)], "answered 400 not retryable at +0.000 s was sent again at +1.000 s"),
            (.notRetried, [at(0, 7, .partialSuccess(code: "200")), at(1, 7, ok)], "partial success (not retryable)"),
            (.notRetried, [at(0, 7, .grpc(code: 8, name: "RESOURCE_EXHAUSTED", retryInfo: nil)), at(1, 7, ok)], "RESOURCE_EXHAUSTED not retryable"),
            (.noDuplicates, [at(0, 7, unavailable), at(1, 7, ok), at(3, 7, ok)], "accepted at +1.000 s was stored again at +3.000 s"),
            (.delivered, [at(0, 7, unavailable), at(1, 7, unavailable), at(3, 7, badRequest)], "was never accepted"),
        ] as [(RetryRule.Point, [ExportAttempt], String)]
    )
    func breakingAPointFailsIt(_ point: RetryRule.Point, _ attempts: [ExportAttempt], _ evidence: String) throws {
        let result = try #require(Self.verdicts(attempts)[point])
        #expect(result.verdict == .fail, "\(result.measured)")
        #expect(result.evidence.first?.contains(evidence) == true, "\(result.evidence)")
    }

    @Test func jitteredBackoffPassesWithinTheTolerance() {
        let attempts = [Self.at(0, 7, Self.unavailable), Self.at(2, 7, Self.unavailable), Self.at(3.8, 7, Self.unavailable), Self.at(7, 7, Self.ok)]
        #expect(Self.verdicts(attempts)[.backoff]?.verdict == .fail)
        #expect(Self.verdicts(attempts, rule: RetryRule(backoffTolerance: 0.2))[.backoff]?.verdict == .pass)
        #expect(Self.verdicts(attempts, rule: RetryRule(backoffTolerance: 0.05))[.backoff]?.verdict == .fail)
    }

    /// No evidence is never a pass: points without a case to judge, exporters never refused, services never seen.
    @Test func nothingToJudgeIsNoData() throws {
        let onlyUnavailable = Self.verdicts([Self.at(0, 7, Self.unavailable), Self.at(1, 7, Self.ok)])
        #expect(onlyUnavailable[.advertisedDelay]?.verdict == .noData)
        #expect(onlyUnavailable[.notRetried]?.verdict == .noData)
        #expect(onlyUnavailable[.backoff]?.verdict == .noData)
        #expect(onlyUnavailable[.retried]?.verdict == .pass)

        let neverRefused = RetryJudge(rule: RetryRule()).judge([Self.exporter: ExporterTimeline(acceptedFirstTime: 40)])
        #expect(neverRefused.map(\.verdict) == [.noData])
        #expect(neverRefused.first?.measured == "no OTLP exporter was refused")
        #expect(RetryJudge(rule: RetryRule()).judge([:]).map(\.verdict) == [.noData])

        let absent = RetryJudge(rule: RetryRule(services: ["tasks"], points: [.retried]))
            .judge([Self.exporter: ExporterTimeline(attempts: [Self.at(0, 7, Self.unavailable), Self.at(1, 7, Self.ok)])])
        #expect(absent.map(\.verdict) == [.noData])
        #expect(absent.first?.name == "exporter retry: tasks")
    }

    @Test func onlyTheChosenPointsAndServicesAreJudged() {
        let other = ExporterKey(service: "tasks", channel: .otlpGRPC, signal: .metrics)
        let attempts = [Self.at(0, 7, Self.unavailable), Self.at(1, 7, Self.ok)]
        let results = RetryJudge(rule: RetryRule(services: ["tasks"], points: [.delivered, .retried]))
            .judge([Self.exporter: ExporterTimeline(attempts: attempts), other: ExporterTimeline(attempts: attempts)])
        #expect(results.map(\.name) == ["exporter retry: tasks otlp-grpc metrics: retried", "exporter retry: tasks otlp-grpc metrics: delivered"])
    }

    /// The specification's sorting of answers: which HTTP statuses and gRPC codes may be retried.
    @Test func answersAreSortedAsTheSpecificationSays() {
        #expect([429, 502, 503, 504].allSatisfy { ExportAnswer.http(status: $0, retryAfter: nil).retryable })
        #expect(![400, 401, 403, 404, 413, 500, 501].contains { ExportAnswer.http(status: $0, retryAfter: nil).retryable })
        #expect([1, 4, 10, 11, 14, 15].allSatisfy { ExportAnswer.grpc(code: $0, name: "", retryInfo: nil).retryable })
        #expect(![2, 3, 5, 6, 7, 8, 9, 12, 13, 16].contains { ExportAnswer.grpc(code: $0, name: "", retryInfo: nil).retryable })
        #expect(ExportAnswer.grpc(code: 8, name: "RESOURCE_EXHAUSTED", retryInfo: .seconds(1)).retryable)
    }
}

import Foundation
import GRPCCore
import Intake
import OTelBenchProtos
import Telemetry
import TestSupport
import Testing
import Workload

@Suite(.serialized) struct FaultInjectionTests {
    @Test func sequenceIsAnsweredInOrderOverHTTPThenRequestsAreAccepted() async throws {
        let faults = FaultInjector(rules: [.init(signal: .traces, sequence: [.partialSuccess, .tooManyRequests, .serviceUnavailable], retryAfter: .seconds(2))])
        var factory = OTLPPayloadFactory(seed: 21)
        let body: [UInt8] = try factory.traces(spanCount: 5).serializedBytes()
        try await withIntake(faults: faults) { intake in
            let partial = try await intake.send("/v1/traces", body: body)
            #expect(partial.status == 200)
            let response = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse(serializedBytes: partial.body)
            #expect(response.partialSuccess.rejectedSpans == 5)
            #expect(response.partialSuccess.errorMessage.contains("fault injection"))
            let throttled = try await intake.send("/v1/traces", body: body)
            #expect(throttled.status == 429)
            #expect(throttled.headers["retry-after"] == "2")
            let unavailable = try await intake.send("/v1/traces", body: body)
            #expect(unavailable.status == 503)
            #expect(try await intake.send("/v1/traces", body: body).status == 200)
            // Metrics are not covered by the rule.
            #expect(try await intake.send("/v1/metrics", body: []).status == 200)
            #expect(intake.store.spans.count == 5, "only the request after the sequence was stored")
            let counts = intake.store.counts[.otlpHTTPProtobuf]?[.traces]
            #expect(counts?.itemsRejected == 5)
            #expect(counts?.requestsRejected == 2)
        }
    }

    @Test func rateRefusesAboutThatFractionOverGRPC() async throws {
        let faults = FaultInjector(rules: [.init(rate: 0.3, respond: .serviceUnavailable)])
        var factory = OTLPPayloadFactory(seed: 22)
        let request = factory.logs(count: 1)
        try await withIntake(faults: faults) { intake in
            let refused = try await withGRPCClient(port: intake.grpcPort) { client in
                var refused = 0
                for _ in 0..<200 {
                    do {
                        _ = try await Opentelemetry_Proto_Collector_Logs_V1_LogsService.Client(wrapping: client).export(request)
                    } catch let error as RPCError {
                        #expect(error.code == .unavailable)
                        refused += 1
                    }
                }
                return refused
            }
            #expect((40...80).contains(refused), "\(refused) of 200 refused at rate 0.3")
            #expect(intake.store.logs.count == 200 - refused)
        }
    }

    @Test func addedLatencyDelaysTheAnswer() async throws {
        let faults = FaultInjector(rules: [.init(addedLatency: .milliseconds(300))])
        try await withIntake(faults: faults) { intake in
            let start = ContinuousClock.now
            let answer = try await intake.send("/v1/logs", body: [])
            #expect(answer.status == 200)
            #expect(ContinuousClock.now - start >= .milliseconds(300))
        }
    }
}

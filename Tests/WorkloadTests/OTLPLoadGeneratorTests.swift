import Scenario
import Telemetry
import TestSupport
import Testing
import Workload

@Suite(.serialized) struct OTLPLoadGeneratorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var signal: Signal
        var transport: OTLPProtocol
        var gzip: Bool
        var testDescription: String { "\(signal) over \(transport)\(gzip ? " gzip" : "")" }
    }

    static let cases: [Case] = Signal.allCases.flatMap { signal in
        [Case(signal: signal, transport: .grpc, gzip: false), Case(signal: signal, transport: .http, gzip: true)]
    }

    @Test(arguments: cases)
    func sentEqualsAcceptedEqualsStored(_ testCase: Case) async throws {
        try await withIntake { intake in
            let port = testCase.transport == .grpc ? intake.grpcPort : intake.httpPort
            let report = try await OTLPLoadGenerator(
                configuration: .init(
                    signal: testCase.signal,
                    endpoint: "127.0.0.1:\(port)",
                    transport: testCase.transport,
                    rate: 2000,
                    duration: .milliseconds(500),
                    workers: 2,
                    batchSize: 50,
                    gzip: testCase.gzip,
                    seriesCount: 30
                )
            ).run()
            #expect(report.requests > 0)
            #expect(report.sentItems == report.requests * 50)
            #expect(report.acceptedItems == report.sentItems, "\(report.text)")
            #expect(report.refusedItems == 0 && report.failedItems == 0)
            #expect(report.exportLatency.count == report.requests)
            let totals = intake.store.totals
            switch testCase.signal {
            case .traces: #expect(totals.spans == report.acceptedItems)
            case .metrics:
                #expect(totals.dataPoints == report.acceptedItems)
                #expect(totals.series == 30, "points cycle through --series distinct series")
            case .logs: #expect(totals.logRecords == report.acceptedItems)
            }
        }
    }

    /// Metric points are retained (traces would be evicted to make room), so a small memory limit fills and
    /// the intake refuses, retryably.
    @Test func refusalsAreCountedByStatus() async throws {
        try await withIntake(memoryLimit: 20_000) { intake in
            let report = try await OTLPLoadGenerator(
                configuration: .init(
                    signal: .metrics,
                    endpoint: "127.0.0.1:\(intake.httpPort)",
                    transport: .http,
                    rate: 0,
                    duration: .milliseconds(300),
                    workers: 1,
                    batchSize: 20
                )
            ).run()
            #expect(report.refusalsByStatus["HTTP 503"] ?? 0 > 0, "\(report.text)")
            #expect(report.acceptedItems == intake.store.totals.dataPoints)
            #expect(report.acceptedItems + report.refusedItems == report.sentItems)
        }
    }

    @Test func unansweredRequestsAreFailuresNotAcceptances() async throws {
        // Port 9 (discard) on loopback: nothing of ours listens there, so connections are refused.
        let report = try await OTLPLoadGenerator(
            configuration: .init(
                signal: .logs,
                endpoint: "127.0.0.1:9",
                transport: .http,
                rate: 100,
                duration: .milliseconds(200),
                batchSize: 5,
                requestTimeout: .milliseconds(300)
            )
        ).run()
        #expect(report.acceptedItems == 0)
        #expect(report.failedItems == report.sentItems)
        #expect(report.sentItems > 0)
    }

    @Test func openLoopRateIsKept() async throws {
        try await withIntake { intake in
            let report = try await OTLPLoadGenerator(
                configuration: .init(
                    signal: .logs,
                    endpoint: "127.0.0.1:\(intake.grpcPort)",
                    transport: .grpc,
                    rate: 1000,
                    duration: .seconds(1),
                    workers: 2,
                    batchSize: 10
                )
            ).run()
            // 1000 items/s in batches of 10 for 1 s: 100 requests, give or take the first and last slot.
            #expect((98...101).contains(report.requests), "\(report.text)")
        }
    }
}

import Foundation
import TestSupport
import Testing

@testable import Services

/// Seeded runs draw each operation's latencies and failures from a stream of its own.
@Suite struct RandomnessTests {
    let model = LatencyModel.logNormal(median: 0.1, p99: 0.9)

    func calls(_ randomness: Randomness, _ stream: String, _ count: Int) -> [Double] {
        (0..<count).map { _ in randomness.call(latency: model, errorRate: 0.5, stream: stream).latency }
    }

    /// The n-th call of an operation gets the same draw whatever other operations drew between.
    @Test func anOperationsDrawsDoNotDependOnOtherOperations() {
        let alone = Randomness(seed: 7)
        let interleaved = Randomness(seed: 7)
        var expected: [Double] = []
        var got: [Double] = []
        for index in 0..<50 {
            expected.append(alone.call(latency: model, errorRate: 0.3, stream: "migration.phase").latency)
            for _ in 0..<(index % 4) { _ = interleaved.call(latency: model, errorRate: 0.2, stream: "rollback.shim_restore") }
            _ = interleaved.unitInterval(stream: "drop_spans")
            got.append(interleaved.call(latency: model, errorRate: 0.3, stream: "migration.phase").latency)
        }
        #expect(got == expected)
        #expect(calls(Randomness(seed: 7), "rollback.shim_restore", 20) != calls(Randomness(seed: 7), "migration.phase", 20))
        #expect(calls(Randomness(seed: 8), "migration.phase", 20) != calls(Randomness(seed: 7), "migration.phase", 20))
    }

    @Test func errorRatesZeroAndOneAreNeverAndAlways() {
        let randomness = Randomness(seed: 7)
        #expect((0..<200).allSatisfy { _ in !randomness.call(latency: model, errorRate: 0, stream: "a").fails })
        #expect((0..<200).allSatisfy { _ in randomness.call(latency: model, errorRate: 1, stream: "a").fails })
        let unseeded = Randomness(seed: nil)
        let failures = (0..<2000).filter { _ in unseeded.call(latency: model, errorRate: 0.3, stream: "a").fails }.count
        #expect((400...800).contains(failures), "\(failures) of 2000 at 0.3")
    }

    /// The smoke scenario's taxonomy rules need a failed and a successful migration phase and rollback: with its
    /// seed, the migrations service's first four phase calls and first four restore calls hold both outcomes, so
    /// every smoke run (about a dozen phase runs at `--duration-scale 0.5`) sees both.
    @Test func theSmokeSeedFailsAndPassesEarly() throws {
        var configuration = ServicesConfiguration(taxonomy: try cfCoreTaxonomy())
        try configuration.apply(configurationFile: repositoryRoot.appendingPathComponent("Scenarios/services/cf-core-smoke.yaml").path)
        let seed = try #require(configuration.randomSeed) &+ UInt64(CFCoreService.migrations.portOffset)
        for operation in ["migration.phase", "rollback.shim_restore"] {
            let randomness = Randomness(seed: seed)
            let behaviour = configuration.behaviour(of: operation, service: .migrations)
            let outcomes = (0..<4).map { _ in randomness.call(latency: behaviour.latency, errorRate: behaviour.errorRate, stream: operation).fails }
            #expect(outcomes.contains(true) && outcomes.contains(false), "\(operation): \(outcomes)")
        }
    }
}

import Foundation
import Services
import Telemetry
import TestSupport
import Testing

/// Drives every metric of the taxonomy and checks what arrives against `Scenarios/taxonomy/cf-core.yaml`:
/// names, OTLP types, units, descriptions, label keys and values, and explicit bucket boundaries.
@Suite(.serialized) struct MetricsConformanceTests {
    /// Requests that make every one of the 14 metrics record at least once.
    static func driveEveryMetric(_ services: RunningServices) async throws {
        _ = try await services.send(.POST, .tasks, "/tasks", body: #"{"title":"Good title"}"#)
        _ = try await services.send(.POST, .tasks, "/tasks", body: #"{"title":"no"}"#)
        for path in ["/health/live", "/health/ready", "/health/cf_core/config"] {
            _ = try await services.send(.GET, .migrations, path)
        }
        _ = try await services.send(.POST, .migrations, "/migrations/phases/phase1/run", body: #"{"dry_run":true}"#)
        for phase in 2...8 {
            _ = try await services.send(.POST, .migrations, "/migrations/phases/phase\(phase)/run")
        }
        _ = try await services.send(.POST, .migrations, "/migrations/phases/phase2/rollback")
        // No snapshot of this phase: the rollback fails (corruption).
        _ = try await services.send(.POST, .migrations, "/migrations/phases/never_run/rollback")
    }

    @Test func everyTaxonomyMetricArrivesAsDefined() async throws {
        let taxonomy = try cfCoreTaxonomy()
        try await withIntake { intake in
            var configuration = try testConfiguration(intake: intake)
            // Half the phases fail, so phase_failure_total records too.
            configuration.operations["migration.phase"] = OperationBehaviour(latency: .logNormal(median: 120, p99: 900), errorRate: 0.5)
            try await withServices(configuration) { services in
                try await Self.driveEveryMetric(services)
                let names = Set(taxonomy.metrics.map(\.name))
                #expect(await eventually { Set(intake.store.series.map(\.name)).isSuperset(of: names) })
            }
            // After shutdown (final export), compare every series with the taxonomy.
            let series = intake.store.series
            #expect(Set(series.map(\.name)) == Set(taxonomy.metrics.map(\.name)))
            for item in series {
                let definition = try #require(taxonomy[item.name])
                #expect(item.unit == definition.unit, "\(item.name) unit")
                #expect(item.description == definition.description, "\(item.name) description")
                switch definition.type {
                case .histogram:
                    #expect(item.kind == .histogram(temporality: .cumulative), "\(item.name) kind \(item.kind)")
                    for point in item.points {
                        guard case .histogram(let histogram) = point else {
                            Issue.record("\(item.name) has a non-histogram point")
                            continue
                        }
                        #expect(histogram.explicitBounds == definition.buckets, "\(item.name) buckets")
                        #expect(histogram.bucketCounts.count == (definition.buckets?.count ?? 0) + 1)
                    }
                case .counter:
                    #expect(item.kind == .sum(isMonotonic: true, temporality: .cumulative), "\(item.name) kind \(item.kind)")
                case .gauge:
                    #expect(item.kind == .gauge, "\(item.name) kind \(item.kind)")
                }
                #expect(Set(item.key.attributes.keys) == Set(definition.labelKeys), "\(item.name) labels \(item.key.attributes.keys.sorted())")
                for label in definition.labels {
                    let value = try #require(item.key.attributes.string(label.key), "\(item.name).\(label.key) is not a string")
                    if let allowed = label.allowedValues {
                        #expect(allowed.contains(value), "\(item.name).\(label.key) = \(value) not in \(allowed)")
                    }
                }
                #expect(item.key.resource.serviceName.hasPrefix("cf_core.services."))
            }
            // Metrics come from the service that owns them.
            for item in series where item.name.hasPrefix("task_create") {
                #expect(item.key.resource.serviceName == "cf_core.services.tasks")
            }
            for item in series where item.name.hasPrefix("rollback") || item.name.hasPrefix("migration") {
                #expect(item.key.resource.serviceName == "cf_core.services.migrations")
            }
            let statuses = Set(intake.store.series(named: "task_create_total").compactMap { $0.key.attributes.string("status") })
            #expect(statuses == ["success", "error"])
        }
    }

    /// With a 60 s export interval nothing is exported during the test; everything arrives at shutdown.
    @Test func metricsAreExportedAtShutdown() async throws {
        try await withIntake { intake in
            var configuration = try testConfiguration(intake: intake)
            configuration.export.metricsExportInterval = .seconds(60)
            try await withServices(configuration) { services in
                _ = try await services.send(.POST, .tasks, "/tasks", body: #"{"title":"Counted at shutdown"}"#)
            }
            let totals = intake.store.series(named: "task_create_total")
            #expect(totals.count == 1)
            guard case .number(let point) = totals.first?.points.last else {
                Issue.record("task_create_total did not arrive at shutdown")
                return
            }
            #expect(point.value.doubleValue == 1)
        }
    }
}

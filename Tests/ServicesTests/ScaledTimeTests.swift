import Foundation
import Services
import Telemetry
import TestSupport
import Testing

/// Scaled time across services: simulated latencies are recorded in full, and the skew travels with calls so
/// that callee spans lie inside their callers' client spans.
@Suite(.serialized) struct ScaledTimeTests {
    @Test func calleeTimeIsInsideTheCallersSpans() async throws {
        try await withIntake { intake in
            var configuration = try testConfiguration(intake: intake)
            configuration.operations["tasks.create"] = OperationBehaviour(latency: .fixed(seconds: 30))
            configuration.operations["projects.create_with_tasks"] = OperationBehaviour(latency: .fixed(seconds: 10))
            try await withServices(configuration) { services in
                let driver = TestTraceParent.random()
                let answer = try await services.send(
                    .POST,
                    .projects,
                    "/projects/create_with_tasks",
                    body: #"{"name":"Slow","task_titles":["One task","Two task"]}"#,
                    headers: [("traceparent", driver.header)]
                )
                #expect(answer.status == 201)
                // projects: server, operation, insert, 2 × (client, update) = 7; tasks: 2 × (server, create, insert) = 6
                #expect(await eventually { intake.store.spans(inTrace: driver.traceID).count >= 13 })
                let spans = intake.store.spans(inTrace: driver.traceID)
                #expect(spans.count == 13)
                let byID = Dictionary(uniqueKeysWithValues: spans.map { ($0.spanID, $0) })
                for span in spans {
                    guard let parentID = span.parentSpanID, let parent = byID[parentID] else { continue }
                    #expect(span.startTimeUnixNano >= parent.startTimeUnixNano, "\(span.name) starts before \(parent.name)")
                    #expect(span.endTimeUnixNano <= parent.endTimeUnixNano, "\(span.name) ends after \(parent.name)")
                }
                let seconds = { (span: Telemetry.Span) in Double(span.durationNanos) / 1e9 }
                for create in spans.filter({ $0.name == "tasks.create" }) {
                    #expect(seconds(create) >= 30 && seconds(create) < 31, "tasks.create lasted \(seconds(create)) s")
                }
                for client in spans.filter({ $0.kind == .client }) { #expect(seconds(client) >= 30) }
                // 10 s of its own plus two 30 s task creations.
                let root = try #require(spans.first { $0.parentSpanID == driver.parentID })
                #expect(seconds(root) >= 70 && seconds(root) < 72, "the request lasted \(seconds(root)) s")
            }
            // task_create_duration_seconds records the simulated 30 s of each creation.
            let series = try #require(intake.store.series(named: "task_create_duration_seconds").first)
            guard case .histogram(let point) = series.points.last else {
                Issue.record("no histogram point")
                return
            }
            #expect(point.count == 2)
            let sum = try #require(point.sum)
            #expect(sum >= 60 && sum < 62)
        }
    }

    /// A simulated 180 s db_restore sleeps 180 ms (time scale 0.001) but is recorded as 180 s in the histogram
    /// and in the span's timestamps.
    @Test func rollbackRecordsTheSimulatedDuration() async throws {
        try await withIntake { intake in
            var configuration = try testConfiguration(intake: intake)
            configuration.operations["rollback.db_restore"] = OperationBehaviour(latency: .fixed(seconds: 180))
            configuration.operations["rollback.git_restore"] = OperationBehaviour(latency: .fixed(seconds: 5))
            configuration.operations["rollback.shim_restore"] = OperationBehaviour(latency: .fixed(seconds: 5))
            try await withServices(configuration) { services in
                _ = try await services.send(.POST, .migrations, "/migrations/phases/phase1/snapshot")
                let answer = try await services.send(.POST, .migrations, "/migrations/phases/phase1/rollback")
                #expect(try answer.json()["status"] as? String == "rolled_back")
                #expect(await eventually { intake.store.spans.contains { $0.name == "rollback.run" } })
                let span = try #require(intake.store.spans.first { $0.name == "rollback.db_restore" })
                let seconds = Double(span.durationNanos) / 1e9
                #expect(seconds >= 180 && seconds < 182, "span lasted \(seconds) s")
                // The enclosing span includes it: the rollback as a whole lasts at least 190 s.
                let whole = try #require(intake.store.spans.first { $0.name == "rollback.run" })
                #expect(Double(whole.durationNanos) / 1e9 >= 190)
                #expect(span.startTimeUnixNano >= whole.startTimeUnixNano && span.endTimeUnixNano <= whole.endTimeUnixNano)
            }
            let series = try #require(intake.store.series(named: "rollback_duration_seconds").first { $0.key.attributes.string("operation") == "db_restore" })
            guard case .histogram(let point) = series.points.last else {
                Issue.record("no histogram point")
                return
            }
            #expect(point.count == 1)
            let sum = try #require(point.sum)
            #expect(sum >= 180 && sum < 182)
            // 180 falls in (150, 250]: the seventh bucket.
            #expect(point.bucketCounts == [0, 0, 0, 0, 0, 0, 1, 0])
        }
    }
}

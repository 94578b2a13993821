import Foundation
import Services
import Telemetry
import TestSupport
import Testing

/// Each fault mode visibly changes what arrives, compared with the healthy services.
@Suite(.serialized) struct FaultModeTests {
    func configuration(_ intake: RunningIntake, _ faults: [CFCoreService: [String]]) throws -> ServicesConfiguration {
        var configuration = try testConfiguration(intake: intake)
        for (service, names) in faults {
            for name in names { try configuration.faults[service, default: .none].enable(name) }
        }
        return configuration
    }

    /// Projects calls tasks; whether the tasks' server spans join the caller's trace.
    func tasksJoinTheProjectTrace(faults: [CFCoreService: [String]]) async throws -> Bool {
        let joined = Captured(false)
        try await withIntake { intake in
            try await withServices(try configuration(intake, faults)) { services in
                let driver = TestTraceParent.random()
                let answer = try await services.send(
                    .POST,
                    .projects,
                    "/projects/create_with_tasks",
                    body: #"{"name":"Faulty","task_titles":["One task"]}"#,
                    headers: [("traceparent", driver.header)]
                )
                #expect(answer.status == 201)
                #expect(await eventually { intake.store.spans(ofService: "cf_core.services.tasks").contains { $0.kind == .server } })
                #expect(await eventually { intake.store.spans(inTrace: driver.traceID).contains { $0.kind == .client } })
                let taskServer = try #require(intake.store.spans(ofService: "cf_core.services.tasks").first { $0.kind == .server })
                joined.value = taskServer.traceID == driver.traceID
            }
        }
        return joined.value
    }

    @Test func dropTraceparentBreaksTheTrace() async throws {
        #expect(try await tasksJoinTheProjectTrace(faults: [:]))
        #expect(try await !tasksJoinTheProjectTrace(faults: [.projects: ["drop_traceparent"]]))
    }

    /// The server span's parent: the driver's span when healthy, an id that resolves nowhere with fresh_parent.
    @Test func freshParentDetachesTheServerSpan() async throws {
        for fresh in [false, true] {
            try await withIntake { intake in
                try await withServices(try configuration(intake, fresh ? [.tasks: ["fresh_parent"]] : [:])) { services in
                    let driver = TestTraceParent.random()
                    _ = try await services.send(.POST, .tasks, "/tasks", body: #"{"title":"Parented"}"#, headers: [("traceparent", driver.header)])
                    #expect(await eventually { intake.store.spans(inTrace: driver.traceID).contains { $0.kind == .server } })
                    let server = try #require(intake.store.spans(inTrace: driver.traceID).first { $0.kind == .server })
                    if fresh {
                        #expect(server.parentSpanID != driver.parentID)
                        #expect(server.parentSpanID != nil)
                    } else {
                        #expect(server.parentSpanID == driver.parentID)
                    }
                }
            }
        }
    }

    /// What a `POST /test` callee receives for one incoming header set, under the given faults.
    func callbackHeaders(faults: [CFCoreService: [String]], incoming: [(String, String)]) async throws -> [String: String] {
        let headers = Captured<[String: String]>([:])
        try await withIntake { intake in
            try await withServices(try configuration(intake, faults)) { services in
                let recorder = HeaderRecorder()
                try await recorder.run { callee in
                    let answer = try await services.send(.POST, .tasks, "/test", body: #"[{"url":"\#(callee)/cb","arguments":{}}]"#, headers: incoming)
                    #expect(answer.status == 200)
                    headers.value = try #require(recorder.requests.first).headers
                }
            }
        }
        return headers.value
    }

    @Test func forwardInvalidTraceparentLeaksTheInvalidHeader() async throws {
        let invalid = "00-00000000000000000000000000000000-00f067aa0ba902b7-01"
        let healthy = try await callbackHeaders(faults: [:], incoming: [("traceparent", invalid)])
        #expect(healthy["traceparent"] != invalid)
        let faulty = try await callbackHeaders(faults: [.tasks: ["forward_invalid_traceparent"]], incoming: [("traceparent", invalid)])
        #expect(faulty["traceparent"] == invalid)
    }

    @Test func dropTracestateLosesVendorState() async throws {
        let incoming = [("traceparent", TestTraceParent.random().header), ("tracestate", "vendor=kept")]
        #expect(tracestateMembers(try await callbackHeaders(faults: [:], incoming: incoming)["tracestate"]) == ["vendor=kept"])
        #expect(try await callbackHeaders(faults: [.tasks: ["drop_tracestate"]], incoming: incoming)["tracestate"] == nil)
        // drop_traceparent removes the traceparent alone.
        let dropped = try await callbackHeaders(faults: [.tasks: ["drop_traceparent"]], incoming: incoming)
        #expect(dropped["traceparent"] == nil)
    }

    @Test func ignoreSampledFlagExportsUnsampledTraces() async throws {
        try await withIntake { intake in
            try await withServices(try configuration(intake, [.tasks: ["ignore_sampled_flag"]])) { services in
                let unsampled = TestTraceParent.random(sampled: false)
                _ = try await services.send(.POST, .tasks, "/tasks", body: #"{"title":"Should not be traced"}"#, headers: [("traceparent", unsampled.header)])
                #expect(await eventually { !intake.store.spans(inTrace: unsampled.traceID).isEmpty })
            }
        }
    }

    @Test func highCardinalityLabelMakesASeriesPerTask() async throws {
        for faulty in [false, true] {
            try await withIntake { intake in
                try await withServices(try configuration(intake, faulty ? [.tasks: ["high_cardinality_label"]] : [:])) { services in
                    for index in 1...5 {
                        _ = try await services.send(.POST, .tasks, "/tasks", body: #"{"title":"Task number \#(index)"}"#)
                    }
                }
                let series = intake.store.series(named: "task_create_total")
                if faulty {
                    #expect(series.count == 5)
                    #expect(Set(series.compactMap { $0.key.attributes.string("task_id") }).count == 5)
                } else {
                    #expect(series.count == 1)
                    #expect(series.allSatisfy { $0.key.attributes["task_id"] == nil })
                }
            }
        }
    }

    @Test func wrongBucketsDifferFromTheTaxonomy() async throws {
        let taxonomy = try cfCoreTaxonomy()
        let expected = try #require(taxonomy["health_check_latency_milliseconds"]?.buckets)
        for faulty in [false, true] {
            try await withIntake { intake in
                try await withServices(try configuration(intake, faulty ? [.migrations: ["wrong_buckets"]] : [:])) { services in
                    _ = try await services.send(.GET, .migrations, "/health/live")
                }
                let series = try #require(intake.store.series(named: "health_check_latency_milliseconds").first)
                guard case .histogram(let point) = series.points.last else {
                    Issue.record("no histogram point")
                    return
                }
                #expect((point.explicitBounds == expected) == !faulty)
            }
        }
    }

    @Test func omitRequiredLabelDropsTheFirstLabel() async throws {
        for faulty in [false, true] {
            try await withIntake { intake in
                try await withServices(try configuration(intake, faulty ? [.migrations: ["omit_required_label"]] : [:])) { services in
                    _ = try await services.send(.GET, .migrations, "/health/live")
                }
                let series = try #require(intake.store.series(named: "health_check_latency_milliseconds").first)
                #expect(Set(series.key.attributes.keys) == (faulty ? ["check_type"] : ["endpoint", "check_type"]))
            }
        }
    }

    /// Histogram observations above `bound` as a fraction of all, over every series of `name`.
    func fractionAbove(_ bound: Double, in name: String, store: TelemetryStore) -> Double {
        var above: UInt64 = 0
        var total: UInt64 = 0
        for series in store.series(named: name) {
            guard case .histogram(let point) = series.points.last else { continue }
            total += point.count
            // Bucket i counts (bounds[i-1], bounds[i]]: it lies above `bound` when its lower edge is at or past it.
            for (index, count) in point.bucketCounts.enumerated() where index > 0 && point.explicitBounds[index - 1] >= bound {
                above += count
            }
        }
        return total == 0 ? 0 : Double(above) / Double(total)
    }

    /// 40 rollbacks: healthy ones stay inside 180 s at p99; with slow_rollbacks over 1 % exceed 250 s.
    @Test func slowRollbacksBreakTheRollbackSLO() async throws {
        for faulty in [false, true] {
            try await withIntake { intake in
                var configuration = try configuration(intake, faulty ? [.migrations: ["slow_rollbacks"]] : [:])
                configuration.timeScale = 0.000_01
                try await withServices(configuration) { services in
                    _ = try await services.send(.POST, .migrations, "/migrations/phases/phase1/snapshot")
                    for _ in 1...40 {
                        _ = try await services.send(.POST, .migrations, "/migrations/phases/phase1/rollback")
                    }
                }
                let slowShare = fractionAbove(250, in: "rollback_duration_seconds", store: intake.store)
                let overSLOShare = fractionAbove(150, in: "rollback_duration_seconds", store: intake.store)
                if faulty {
                    #expect(slowShare > 0.01, "share above 250 s: \(slowShare)")
                } else {
                    #expect(overSLOShare < 0.01, "share above 150 s: \(overSLOShare)")
                }
            }
        }
    }

    /// 2000 liveness checks: within the SLO (at most 0.1 % over 50 ms) when healthy; over 0.1 % with slow_liveness.
    /// Real work counts at wall speed, so a loaded machine may add a slow check or two to the healthy run.
    @Test func slowLivenessBreaksTheLivenessSLO() async throws {
        for faulty in [false, true] {
            try await withIntake { intake in
                try await withServices(try configuration(intake, faulty ? [.migrations: ["slow_liveness"]] : [:])) { services in
                    for _ in 1...2000 { _ = try await services.send(.GET, .migrations, "/health/live") }
                }
                let share = fractionAbove(50, in: "health_check_latency_milliseconds", store: intake.store)
                if faulty {
                    #expect(share > 0.001, "share above 50 ms: \(share)")
                } else {
                    #expect(share <= 0.001, "share above 50 ms: \(share)")
                }
            }
        }
    }

    @Test func dropSpansLeavesUnresolvedParents() async throws {
        for faulty in [false, true] {
            try await withIntake { intake in
                try await withServices(try configuration(intake, faulty ? [.tasks: ["drop_spans=0.5"]] : [:])) { services in
                    for index in 1...20 {
                        _ = try await services.send(.POST, .tasks, "/tasks", body: #"{"title":"Task \#(index)"}"#)
                    }
                }
                // Each request makes 3 spans: server, tasks.create, tasks.repository.insert.
                let spans = intake.store.spans(ofService: "cf_core.services.tasks")
                let ids = Set(spans.map(\.spanID))
                let unresolved = spans.filter { $0.parentSpanID.map { !ids.contains($0) } ?? false }
                if faulty {
                    #expect(spans.count < 60)
                    #expect(!unresolved.isEmpty)
                } else {
                    #expect(spans.count == 60)
                    #expect(unresolved.isEmpty)
                }
            }
        }
    }
}

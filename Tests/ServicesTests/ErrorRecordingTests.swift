import Foundation
import Services
import Telemetry
import TestSupport
import Testing

/// Errors arrive as span status and `exception` events, and injected error rates fail operations.
@Suite(.serialized) struct ErrorRecordingTests {
    /// The seed's TaskService.create: a short title is a 400 and an error `task.create` span with an exception.
    @Test func shortTitleIsAnErrorSpanWithAnException() async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let driver = TestTraceParent.random()
                let answer = try await services.send(.POST, .tasks, "/tasks", body: #"{"title":"ab"}"#, headers: [("traceparent", driver.header)])
                #expect(answer.status == 400)
                #expect(await eventually { intake.store.spans(inTrace: driver.traceID).count >= 2 })
                let spans = intake.store.spans(inTrace: driver.traceID)
                let create = try #require(spans.first { $0.name == "tasks.create" })
                #expect(create.status.code == .error)
                #expect(create.status.message == #"task title must be at least 3 characters (got "ab")"#)
                let exception = try #require(create.events.first { $0.name == "exception" })
                #expect(exception.attributes.string("exception.message") == #"task title must be at least 3 characters (got "ab")"#)
                #expect(create.attributes.string("task.title") == "ab")
                let server = try #require(spans.first { $0.kind == .server })
                #expect(server.attributes["http.response.status_code"] == .int(400))
                // A client error is the caller's fault: the server span itself stays unset.
                #expect(server.status.code == .unset)
            }
            let errors = intake.store.series(named: "task_create_total").filter { $0.key.attributes.string("status") == "error" }
            #expect(errors.count == 1)
        }
    }

    /// error_rate 1: every creation fails with a 500 that names the injection; server and operation spans are errors.
    @Test func injectedErrorRateFailsTheOperation() async throws {
        try await withIntake { intake in
            var configuration = try testConfiguration(intake: intake)
            configuration.operations["tasks.create"] = OperationBehaviour(latency: .none, errorRate: 1)
            try await withServices(configuration) { services in
                let driver = TestTraceParent.random()
                let answer = try await services.send(.POST, .tasks, "/tasks", body: #"{"title":"Will fail"}"#, headers: [("traceparent", driver.header)])
                #expect(answer.status == 500)
                #expect(answer.errorMessage == "tasks.create failed (injected: error_rate 1.0)")
                #expect(await eventually { intake.store.spans(inTrace: driver.traceID).count >= 2 })
                let spans = intake.store.spans(inTrace: driver.traceID)
                let server = try #require(spans.first { $0.kind == .server })
                #expect(server.status.code == .error)
                #expect(server.events.contains { $0.name == "exception" })
                // Required by the HTTP conventions on a server span that ended in a 5xx.
                #expect(server.attributes["error.type"] != nil)
                let create = try #require(spans.first { $0.name == "tasks.create" })
                #expect(create.status.code == .error)
                #expect(create.events.contains { $0.name == "exception" })
            }
        }
    }

    /// A callee's 5xx marks the caller's client span as an error.
    @Test func failingCalleeMarksTheClientSpan() async throws {
        try await withIntake { intake in
            var configuration = try testConfiguration(intake: intake)
            configuration.operations["tasks.create"] = OperationBehaviour(latency: .none, errorRate: 1)
            try await withServices(configuration) { services in
                let driver = TestTraceParent.random()
                let answer = try await services.send(
                    .POST,
                    .projects,
                    "/projects/create_with_tasks",
                    body: #"{"name":"Doomed","task_titles":["First"]}"#,
                    headers: [("traceparent", driver.header)]
                )
                #expect(answer.status == 502)
                #expect(answer.errorMessage == "task_titles[0]: the tasks service answered 500: tasks.create failed (injected: error_rate 1.0)")
                #expect(await eventually { intake.store.spans(inTrace: driver.traceID).contains { $0.kind == .client } })
                let client = try #require(intake.store.spans(inTrace: driver.traceID).first { $0.kind == .client })
                #expect(client.status.code == .error)
                #expect(client.attributes["http.response.status_code"] == .int(500))
            }
        }
    }
}

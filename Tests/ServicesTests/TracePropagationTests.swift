import Foundation
import Services
import Telemetry
import TestSupport
import Testing

/// The members of a `tracestate` list, without the optional whitespace W3C allows around its commas.
func tracestateMembers(_ header: String?) -> [String] {
    (header ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

/// W3C Trace Context propagation of the built-in services, checked on what arrives at our intake and at a
/// recording callee of `POST /test`.
@Suite(.serialized) struct TracePropagationTests {
    /// A sprint planned through sprints → projects → tasks makes one trace: the first server span's parent is the
    /// caller's span, every other parent resolves inside the trace, every server span below sprints hangs under a
    /// client span of its caller, and children lie within their parents' time.
    @Test func sprintPlanningIsOneTraceWithCorrectParentLinks() async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let project = try await services.send(
                    .POST,
                    .projects,
                    "/projects/create_with_tasks",
                    body: #"{"name":"Traced","task_titles":["Task one","Task two"]}"#
                )
                let projectID = try #require((try project.json()["project"] as? [String: Any])?["id"] as? String)

                let driver = TestTraceParent.random()
                let planned = try await services.send(
                    .POST,
                    .sprints,
                    "/sprints/plan",
                    body: #"{"name":"Sprint traced","project_id":"\#(projectID)"}"#,
                    headers: [("traceparent", driver.header)]
                )
                #expect(planned.status == 201)

                // sprints: server, sprints.plan, GET project, 2 × GET task, repository insert = 6
                // projects: server, projects.get, repository select = 3; tasks: 2 × (server, tasks.get, select) = 6
                let expected = 15
                #expect(await eventually { intake.store.spans(inTrace: driver.traceID).count >= expected })
                let spans = intake.store.spans(inTrace: driver.traceID)
                #expect(spans.count == expected)
                let byID = Dictionary(uniqueKeysWithValues: spans.map { ($0.spanID, $0) })

                let roots = spans.filter { $0.parentSpanID.map { byID[$0] == nil } ?? true }
                #expect(roots.count == 1)
                let root = try #require(roots.first)
                #expect(root.parentSpanID == driver.parentID)
                #expect(root.kind == .server)
                #expect(root.resource.serviceName == "cf_core.services.sprints")
                #expect(root.name == "POST /sprints/plan")

                for span in spans where span.spanID != root.spanID {
                    let parent = try #require(byID[span.parentSpanID!], "parent of \(span.name) does not resolve")
                    #expect(span.startTimeUnixNano >= parent.startTimeUnixNano, "\(span.name) starts before its parent \(parent.name)")
                    #expect(span.endTimeUnixNano <= parent.endTimeUnixNano, "\(span.name) ends after its parent \(parent.name)")
                    if span.kind == .server {
                        #expect(parent.kind == .client)
                        #expect(parent.resource.serviceName == "cf_core.services.sprints")
                    }
                }
                let services = Set(spans.map(\.resource.serviceName))
                #expect(services == ["cf_core.services.sprints", "cf_core.services.projects", "cf_core.services.tasks"])
                for span in spans {
                    #expect(span.resource.attributes.string("service.version") == "1.0.0")
                    #expect(span.resource.attributes.string("deployment.environment") == "bench")
                }
            }
        }
    }

    @Test func validTraceparentAndTracestateArePropagated() async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let recorder = HeaderRecorder()
                try await recorder.run { callee in
                    let driver = TestTraceParent.random()
                    let tracestate = "vendor1=abc,vendor2=xyz"
                    let answer = try await services.send(
                        .POST,
                        .tasks,
                        "/test",
                        body: #"[{"url":"\#(callee)/callback","arguments":[{"n":1}]}]"#,
                        headers: [("traceparent", driver.header), ("tracestate", tracestate)]
                    )
                    #expect(answer.status == 200)
                    let received = try #require(recorder.requests.first)
                    #expect(received.body == #"[{"n":1}]"#)
                    let traceparent = try #require(received.headers["traceparent"])
                    let parts = traceparent.split(separator: "-").map(String.init)
                    #expect(parts.count == 4)
                    #expect(parts[0] == "00")
                    #expect(parts[1] == driver.traceID.hex)
                    #expect(parts[2] != driver.parentID.hex)
                    #expect(parts[3] == "01")
                    // swift-otel re-joins the list members with ", ": W3C allows optional whitespace around the commas,
                    // so the list, not the bytes, must be unchanged.
                    #expect(tracestateMembers(received.headers["tracestate"]) == ["vendor1=abc", "vendor2=xyz"])

                    // The callee's parent is the service's client span, itself under the server span under the driver.
                    #expect(await eventually { intake.store.spans(inTrace: driver.traceID).count >= 2 })
                    let spans = intake.store.spans(inTrace: driver.traceID)
                    let client = try #require(spans.first { $0.spanID.hex == parts[2] })
                    #expect(client.kind == .client)
                    let server = try #require(spans.first { $0.spanID == client.parentSpanID })
                    #expect(server.kind == .server)
                    #expect(server.parentSpanID == driver.parentID)
                    for span in spans { #expect(tracestateMembers(span.traceState) == ["vendor1=abc", "vendor2=xyz"]) }
                }
            }
        }
    }

    @Test func missingTraceparentStartsANewTrace() async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let created = try await services.send(.POST, .tasks, "/tasks", body: #"{"title":"Untraced task"}"#)
                #expect(created.status == 201)
                #expect(await eventually { !intake.store.spans(ofService: "cf_core.services.tasks").filter { $0.kind == .server }.isEmpty })
                let server = try #require(intake.store.spans(ofService: "cf_core.services.tasks").first { $0.kind == .server })
                #expect(server.parentSpanID == nil)
                #expect(!server.traceID.isZero)
            }
        }
    }

    static let invalidTraceparents = [
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero parent id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff is forbidden
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",  // upper-case hex
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  // flags missing
        "garbage",
    ]

    /// An invalid `traceparent` is ignored: the service starts a fresh trace (neither crashing nor leaking the
    /// invalid value), and propagates its own valid context.
    @Test(arguments: invalidTraceparents)
    func invalidTraceparentStartsAFreshTrace(_ invalid: String) async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let recorder = HeaderRecorder()
                try await recorder.run { callee in
                    let answer = try await services.send(
                        .POST,
                        .tasks,
                        "/test",
                        body: #"[{"url":"\#(callee)/callback","arguments":{}}]"#,
                        headers: [("traceparent", invalid)]
                    )
                    #expect(answer.status == 200)
                    let forwarded = try #require(recorder.requests.first?.headers["traceparent"])
                    #expect(forwarded != invalid)
                    let parts = forwarded.split(separator: "-").map(String.init)
                    #expect(parts.count == 4)
                    let traceID = try #require(TraceID(hex: parts[1]))
                    #expect(!traceID.isZero)
                    #expect(!invalid.lowercased().contains(parts[1]))
                    #expect(await eventually { intake.store.spans(inTrace: traceID).count >= 2 })
                    let server = try #require(intake.store.spans(inTrace: traceID).first { $0.kind == .server })
                    #expect(server.parentSpanID == nil)
                }
            }
        }
    }

    /// Two traceparent fields cannot both be right: the service starts a fresh trace.
    @Test func duplicatedTraceparentStartsAFreshTrace() async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let recorder = HeaderRecorder()
                try await recorder.run { callee in
                    let first = TestTraceParent.random()
                    let second = TestTraceParent.random()
                    let answer = try await services.send(
                        .POST,
                        .tasks,
                        "/test",
                        body: #"[{"url":"\#(callee)/cb","arguments":{}}]"#,
                        headers: [("traceparent", first.header), ("traceparent", second.header)]
                    )
                    #expect(answer.status == 200)
                    let forwarded = try #require(recorder.requests.first?.headers["traceparent"])
                    #expect(!forwarded.contains(first.traceID.hex))
                    #expect(!forwarded.contains(second.traceID.hex))
                }
            }
        }
    }

    /// tracestate split over two fields is one list, kept in order.
    @Test func splitTracestateIsCombined() async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let recorder = HeaderRecorder()
                try await recorder.run { callee in
                    let answer = try await services.send(
                        .POST,
                        .tasks,
                        "/test",
                        body: #"[{"url":"\#(callee)/cb","arguments":{}}]"#,
                        headers: [("traceparent", TestTraceParent.random().header), ("tracestate", "foo=1"), ("tracestate", "bar=2")]
                    )
                    #expect(answer.status == 200)
                    #expect(tracestateMembers(recorder.requests.first?.headers["tracestate"]) == ["foo=1", "bar=2"])
                }
            }
        }
    }

    /// An unsampled request (flags 00) is not recorded: no span of its trace arrives, and the decision travels on.
    @Test func sampledFlagIsHonoured() async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let recorder = HeaderRecorder()
                try await recorder.run { callee in
                    let unsampled = TestTraceParent.random(sampled: false)
                    let answer = try await services.send(
                        .POST,
                        .tasks,
                        "/test",
                        body: #"[{"url":"\#(callee)/callback","arguments":{}}]"#,
                        headers: [("traceparent", unsampled.header)]
                    )
                    #expect(answer.status == 200)
                    let forwarded = try #require(recorder.requests.first?.headers["traceparent"])
                    #expect(forwarded.hasPrefix("00-\(unsampled.traceID.hex)-"))
                    #expect(forwarded.hasSuffix("-00"))

                    // A sampled marker request afterwards goes through the same exporter; once it has arrived, the
                    // unsampled trace would have arrived too.
                    let marker = TestTraceParent.random()
                    _ = try await services.send(.GET, .tasks, "/health/live", headers: [("traceparent", marker.header)])
                    #expect(await eventually { !intake.store.spans(inTrace: marker.traceID).isEmpty })
                    #expect(intake.store.spans(inTrace: unsampled.traceID).isEmpty)
                }
            }
        }
    }

    /// The same propagation holds when the services export over OTLP/HTTP instead of gRPC.
    @Test func exportOverOTLPHTTP() async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake, transport: .http)) { services in
                let driver = TestTraceParent.random()
                _ = try await services.send(.POST, .tasks, "/tasks", body: #"{"title":"Over HTTP"}"#, headers: [("traceparent", driver.header)])
                #expect(await eventually { intake.store.spans(inTrace: driver.traceID).count >= 3 })
                let spans = intake.store.spans(inTrace: driver.traceID)
                #expect(spans.allSatisfy { $0.channel == .otlpHTTPProtobuf })
                #expect(await eventually { !intake.store.series(named: "task_create_total").isEmpty })
            }
        }
    }
}

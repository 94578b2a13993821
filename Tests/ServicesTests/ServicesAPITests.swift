import Foundation
import Scenario
import Services
import TestSupport
import Testing

/// Each service's HTTP API, including bad input, against the family running in-process.
@Suite(.serialized) struct ServicesAPITests {
    @Test func tasksCRUD() async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let created = try await services.send(.POST, .tasks, "/tasks", body: #"{"title":"Write the report","priority":"high"}"#)
                #expect(created.status == 201)
                let task = try created.json()
                let id = try #require(task["id"] as? String)
                #expect(task["title"] as? String == "Write the report")
                #expect(task["status"] as? String == "todo")
                #expect(task["priority"] as? String == "high")

                let fetched = try await services.send(.GET, .tasks, "/tasks/\(id)")
                #expect(fetched.status == 200)
                #expect(try fetched.json()["id"] as? String == id)

                let updated = try await services.send(.PUT, .tasks, "/tasks/\(id)", body: #"{"status":"in_progress"}"#)
                #expect(updated.status == 200)
                #expect(try updated.json()["status"] as? String == "in_progress")

                let list = try await services.send(.GET, .tasks, "/tasks")
                #expect(list.status == 200)
                #expect(list.text.contains(id))

                let deleted = try await services.send(.DELETE, .tasks, "/tasks/\(id)")
                #expect(deleted.status == 204)
                let gone = try await services.send(.GET, .tasks, "/tasks/\(id)")
                #expect(gone.status == 404)
                #expect(gone.errorMessage == "no task with id \(id)")
            }
        }
    }

    struct BadRequest: Sendable, CustomTestStringConvertible {
        var method: String
        var path: String
        var body: String?
        var status: Int
        var message: String
        var testDescription: String { "\(method) \(path) \(body ?? "")" }
    }

    static let badTaskRequests: [BadRequest] = [
        .init(method: "POST", path: "/tasks", body: #"{"title":"ab"}"#, status: 400, message: #"task title must be at least 3 characters (got "ab")"#),
        .init(method: "POST", path: "/tasks", body: #"{"priority":"low"}"#, status: 400, message: #"missing field "title""#),
        .init(method: "POST", path: "/tasks", body: #"{"title": 42}"#, status: 400, message: #"field "title" must be a string"#),
        .init(method: "POST", path: "/tasks", body: #"{"title": "#, status: 400, message: "the body is not valid JSON"),
        .init(
            method: "POST",
            path: "/tasks",
            body: #"{"title":"Valid title","priority":"urgent"}"#,
            status: 400,
            message: "priority must be one of low, medium, high (got urgent)"
        ),
        .init(method: "GET", path: "/tasks/task-999", body: nil, status: 404, message: "no task with id task-999"),
        .init(method: "DELETE", path: "/tasks/task-999", body: nil, status: 404, message: "no task with id task-999"),
        .init(method: "PUT", path: "/tasks/task-999", body: #"{"status":"done"}"#, status: 404, message: "no task with id task-999"),
        .init(method: "GET", path: "/tasks?limit=0", body: nil, status: 400, message: "limit must be a positive integer (at most 1000 are answered)"),
        .init(method: "GET", path: "/tasks?limit=ten", body: nil, status: 400, message: "limit must be a positive integer (at most 1000 are answered)"),
    ]

    /// A service keeps its most recent records only, and lists page: a long run cannot make either grow.
    @Test func recentRecordsForgetTheOldestAndListInPages() {
        var records = RecentRecords<Int>(capacity: 3)
        for number in 1...5 { records.insert(number, id: "task-\(number)") }
        #expect(records.find("task-1") == nil && records.find("task-2") == nil)
        #expect(records.first(10) == [3, 4, 5])
        #expect(records.first(2) == [3, 4])
        #expect(records.first(10) { $0 % 2 == 1 } == [3, 5])
        records.replace(1, id: "task-1")
        #expect(records.find("task-1") == nil, "a forgotten record stays forgotten")
        #expect(records.remove("task-4") && !records.remove("task-4"))
        for number in 6...40 { records.insert(number, id: "task-\(number)") }
        #expect(records.first(10) == [38, 39, 40])
    }

    @Test(arguments: badTaskRequests)
    func tasksRejectBadInput(_ bad: BadRequest) async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let answer = try await services.send(.init(rawValue: bad.method), .tasks, bad.path, body: bad.body)
                #expect(answer.status == bad.status)
                #expect(answer.errorMessage == bad.message)
            }
        }
    }

    @Test func taskUpdateRejectsUnknownStatus() async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let created = try await services.send(.POST, .tasks, "/tasks", body: #"{"title":"Fix the build"}"#)
                let id = try #require(try created.json()["id"] as? String)
                let answer = try await services.send(.PUT, .tasks, "/tasks/\(id)", body: #"{"status":"finished"}"#)
                #expect(answer.status == 400)
                #expect(answer.errorMessage == "status must be one of todo, in_progress, done (got finished)")
            }
        }
    }

    @Test func projectsCRUDAndCreateWithTasks() async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let created = try await services.send(.POST, .projects, "/projects", body: #"{"name":"Migration"}"#)
                #expect(created.status == 201)
                let id = try #require(try created.json()["id"] as? String)
                let renamed = try await services.send(.PUT, .projects, "/projects/\(id)", body: #"{"name":"Migration v2"}"#)
                #expect(try renamed.json()["name"] as? String == "Migration v2")
                #expect(try await services.send(.GET, .projects, "/projects").text.contains(id))
                #expect(try await services.send(.DELETE, .projects, "/projects/\(id)").status == 204)
                let gone = try await services.send(.GET, .projects, "/projects/\(id)")
                #expect(gone.status == 404)
                #expect(gone.errorMessage == "no project with id \(id)")

                let withTasks = try await services.send(
                    .POST,
                    .projects,
                    "/projects/create_with_tasks",
                    body: #"{"name":"Launch","task_titles":["Plan it","Do it","Ship it"]}"#
                )
                #expect(withTasks.status == 201)
                let object = try withTasks.json()
                let project = try #require(object["project"] as? [String: Any])
                let taskIDs = try #require(project["task_ids"] as? [String])
                #expect(taskIDs.count == 3)
                // The tasks really exist in the tasks service, linked to the project.
                let projectID = try #require(project["id"] as? String)
                let listed = try await services.send(.GET, .tasks, "/tasks?project_id=\(projectID)")
                for taskID in taskIDs { #expect(listed.text.contains(taskID)) }

                let refused = try await services.send(
                    .POST,
                    .projects,
                    "/projects/create_with_tasks",
                    body: #"{"name":"Broken","task_titles":["Fine title","no"]}"#
                )
                #expect(refused.status == 400)
                #expect(refused.errorMessage == #"task_titles[1]: the tasks service refused it: task title must be at least 3 characters (got "no")"#)

                let missing = try await services.send(.POST, .projects, "/projects/create_with_tasks", body: #"{"name":"No tasks"}"#)
                #expect(missing.status == 400)
                #expect(missing.errorMessage == #"missing field "task_titles""#)
            }
        }
    }

    @Test func sprintLifecycle() async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let project = try await services.send(
                    .POST,
                    .projects,
                    "/projects/create_with_tasks",
                    body: #"{"name":"Sprint work","task_titles":["First task","Second task"]}"#
                )
                let projectID = try #require((try project.json()["project"] as? [String: Any])?["id"] as? String)
                let planned = try await services.send(.POST, .sprints, "/sprints/plan", body: #"{"name":"Sprint 1","project_id":"\#(projectID)"}"#)
                #expect(planned.status == 201)
                let sprint = try planned.json()
                let sprintID = try #require(sprint["id"] as? String)
                #expect(sprint["status"] as? String == "planned")
                #expect((sprint["task_ids"] as? [String])?.count == 2)

                let early = try await services.send(.POST, .sprints, "/sprints/\(sprintID)/complete")
                #expect(early.status == 409)
                #expect(early.errorMessage == "sprint \(sprintID) is planned; only an active sprint can complete")

                let started = try await services.send(.POST, .sprints, "/sprints/\(sprintID)/start")
                #expect(try started.json()["status"] as? String == "active")
                let taskIDs = try #require(sprint["task_ids"] as? [String])
                for taskID in taskIDs {
                    #expect(try await services.send(.GET, .tasks, "/tasks/\(taskID)").json()["status"] as? String == "in_progress")
                }
                let completed = try await services.send(.POST, .sprints, "/sprints/\(sprintID)/complete")
                #expect(try completed.json()["status"] as? String == "completed")
                for taskID in taskIDs {
                    #expect(try await services.send(.GET, .tasks, "/tasks/\(taskID)").json()["status"] as? String == "done")
                }

                let unknownProject = try await services.send(.POST, .sprints, "/sprints/plan", body: #"{"name":"Sprint 2","project_id":"project-404"}"#)
                #expect(unknownProject.status == 400)
                #expect(unknownProject.errorMessage == "unknown project project-404")
                let unknownTask = try await services.send(
                    .POST,
                    .sprints,
                    "/sprints/plan",
                    body: #"{"name":"Sprint 3","project_id":"\#(projectID)","task_ids":["task-404"]}"#
                )
                #expect(unknownTask.status == 400)
                #expect(unknownTask.errorMessage == "unknown task task-404")
                #expect(try await services.send(.GET, .sprints, "/sprints/sprint-404").status == 404)
            }
        }
    }

    @Test func migrationsRunRollbackSnapshot() async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let dryRun = try await services.send(.POST, .migrations, "/migrations/phases/phase1/run", body: #"{"dry_run":true}"#)
                #expect(dryRun.status == 200)
                let dry = try dryRun.json()
                #expect(dry["status"] as? String == "success")
                #expect(dry["dry_run"] as? Bool == true)

                let real = try await services.send(.POST, .migrations, "/migrations/phases/phase1/run")
                let state = try real.json()
                #expect(state["status"] as? String == "success")
                #expect(state["runs"] as? Int == 2)
                #expect(try #require(state["snapshot_bytes"] as? Int) > 0)
                let stateFile = services.family.workingDirectory.appendingPathComponent(".migration-state.json")
                #expect(FileManager.default.fileExists(atPath: stateFile.path))

                let rolledBack = try await services.send(.POST, .migrations, "/migrations/phases/phase1/rollback")
                #expect(try rolledBack.json()["status"] as? String == "rolled_back")

                // Without a snapshot, db_restore finds nothing to restore: the rollback fails as corruption.
                let noSnapshot = try await services.send(.POST, .migrations, "/migrations/phases/phase9/rollback")
                #expect(try noSnapshot.json()["status"] as? String == "failed")

                let snapshot = try await services.send(.POST, .migrations, "/migrations/phases/phase2/snapshot")
                #expect(try #require(try snapshot.json()["snapshot_bytes"] as? Double) > 0)

                let badPhase = try await services.send(.POST, .migrations, "/migrations/phases/Phase%201/run")
                #expect(badPhase.status == 400)
                #expect(badPhase.errorMessage?.hasPrefix("phase must be 1-32 characters of a-z, 0-9, _ and -") == true)
                let badBody = try await services.send(.POST, .migrations, "/migrations/phases/phase1/run", body: #"{"dry_run":"yes"}"#)
                #expect(badBody.status == 400)
                #expect(badBody.errorMessage == #"field "dry_run" must be true or false"#)
            }
        }
    }

    @Test(arguments: CFCoreService.allCases)
    func healthEndpoints(_ service: CFCoreService) async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let live = try await services.send(.GET, service, "/health/live")
                #expect(live.status == 200)
                #expect(try live.json()["service"] as? String == service.serviceName)
                #expect(try await services.send(.GET, service, "/health/ready").status == 200)
                let config = try await services.send(.GET, service, "/health/cf_core/config")
                #expect(try config.json()["time_scale"] as? Double == 0.001)
                #expect(try config.json()["otlp_endpoint"] as? String == intake.grpcEndpoint)
            }
        }
    }

    @Test func testCallbackRejectsBadBodies() async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let notArray = try await services.send(.POST, .tasks, "/test", body: #"{"url":"http://127.0.0.1:1/"}"#)
                #expect(notArray.status == 400)
                let relative = try await services.send(.POST, .tasks, "/test", body: #"[{"url":"/relative","arguments":[]}]"#)
                #expect(relative.status == 400)
                #expect(relative.errorMessage == "[0].url must be an absolute http(s) URL (got /relative)")
            }
        }
    }
}

/// The migrations database is real SQLite: snapshots are SQLite files, restores check them, damage is corruption.
@Suite(.serialized) struct MigrationDatabaseTests {
    @Test func snapshotsAreSQLiteFilesAndDamagedOnesAreCorruption() async throws {
        try await withIntake { intake in
            try await withServices(try testConfiguration(intake: intake)) { services in
                let snapshot = try await services.send(.POST, .migrations, "/migrations/phases/phase1/snapshot")
                let bytes = try #require(try snapshot.json()["snapshot_bytes"] as? Double)
                let file = services.family.workingDirectory.appendingPathComponent("snapshot-phase1.sqlite")
                let data = try Data(contentsOf: file)
                #expect(Double(data.count) == bytes)
                #expect(data.prefix(16) == Data("SQLite format 3\0".utf8))

                // A healthy snapshot restores; then damage it and the next rollback fails as corruption.
                #expect(try await services.send(.POST, .migrations, "/migrations/phases/phase1/rollback").json()["status"] as? String == "rolled_back")
                try Data(repeating: 0x5A, count: 4096).write(to: file)
                #expect(try await services.send(.POST, .migrations, "/migrations/phases/phase1/rollback").json()["status"] as? String == "failed")
            }
            let failures = intake.store.series(named: "rollback_failure_total")
            #expect(failures.map { $0.key.attributes.string("reason") } == ["corruption"])
            let sizes = intake.store.series(named: "db_snapshot_size_bytes")
            #expect(sizes.first?.key.attributes.string("db_type") == "sqlite")
            #expect(intake.store.spans.contains { $0.name == "phase_state.repository.restore" && $0.attributes.string("db.system.name") == "sqlite" })
        }
    }
}

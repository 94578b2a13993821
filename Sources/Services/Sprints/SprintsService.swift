import Foundation
import Hummingbird
import Synchronization
import Tracing

/// A sprint of the sprints service.
struct SprintRecord: Codable, Sendable, Hashable {
    var id: String
    var name: String
    var projectID: String
    var taskIDs: [String]
    var status: String

    enum CodingKeys: String, CodingKey {
        case id, name, status
        case projectID = "project_id"
        case taskIDs = "task_ids"
    }
}

/// Sprints in memory, keyed by id.
final class SprintRepository: Sendable {
    private let state = Mutex<(next: Int, sprints: [String: SprintRecord])>((1, [:]))

    func insert(name: String, projectID: String, taskIDs: [String]) -> SprintRecord {
        state.withLock { state in
            let sprint = SprintRecord(id: "sprint-\(state.next)", name: name, projectID: projectID, taskIDs: taskIDs, status: "planned")
            state.next += 1
            state.sprints[sprint.id] = sprint
            return sprint
        }
    }

    func find(_ id: String) -> SprintRecord? { state.withLock { $0.sprints[id] } }

    func all() -> [SprintRecord] {
        state.withLock { $0.sprints.values.sorted { $0.id.localizedStandardCompare($1.id) == .orderedAscending } }
    }

    func replace(_ sprint: SprintRecord) { state.withLock { $0.sprints[sprint.id] = sprint } }
}

/// `cf_core.services.sprints`: the sprint lifecycle, calling projects and tasks over HTTP.
///
/// - `POST /sprints/plan` `{"name", "project_id", "task_ids"?}` → 201 sprint (status `planned`): reads the project
///   from projects and each task from tasks; without `task_ids` the project's tasks are planned. An unknown
///   project or task → 400 naming it.
/// - `POST /sprints/{id}/start` → moves every task to `in_progress` (PUT on tasks), status `active`.
/// - `POST /sprints/{id}/complete` → moves every task to `done`, re-reads the project, status `completed`.
/// - `GET /sprints`, `GET /sprints/{id}`; unknown ids → 404; starting a sprint that is not planned, or completing
///   one that is not active → 409.
struct SprintsRoutes {
    let environment: ServiceEnvironment
    let repository = SprintRepository()

    struct PlanSprint: Decodable {
        var name: String
        var projectID: String
        var taskIDs: [String]?
        enum CodingKeys: String, CodingKey {
            case name
            case projectID = "project_id"
            case taskIDs = "task_ids"
        }
    }

    func add(to router: Router<BasicRequestContext>) {
        router.post("/sprints/plan") { request, _ in
            let input = try await JSONBody.decode(PlanSprint.self, from: request)
            guard input.name.trimmingCharacters(in: .whitespacesAndNewlines).count >= 3 else {
                throw HTTPError(.badRequest, message: "sprint name must be at least 3 characters (got \"\(input.name)\")")
            }
            return try await environment.operation("sprints.plan") { span in
                span.attributes["project.id"] = input.projectID
                let project = try await fetchProject(input.projectID)
                let taskIDs = input.taskIDs ?? project.taskIDs
                for taskID in taskIDs { _ = try await fetchTask(taskID) }
                let sprint = try await environment.repository("sprints", "insert") {
                    repository.insert(name: input.name, projectID: project.id, taskIDs: taskIDs)
                }
                span.attributes["sprint.id"] = sprint.id
                span.attributes["sprint.task_count"] = taskIDs.count
                return try JSONBody.response(sprint, status: .created)
            }
        }
        router.post("/sprints/{id}/start") { _, context in
            let id = try context.parameters.require("id")
            return try await environment.operation("sprints.start") { span in
                span.attributes["sprint.id"] = id
                var sprint = try await existing(id)
                guard sprint.status == "planned" else {
                    throw HTTPError(.conflict, message: "sprint \(id) is \(sprint.status); only a planned sprint can start")
                }
                for taskID in sprint.taskIDs { try await setTaskStatus(taskID, "in_progress") }
                sprint.status = "active"
                try await environment.repository("sprints", "update") { repository.replace(sprint) }
                return try JSONBody.response(sprint)
            }
        }
        router.post("/sprints/{id}/complete") { _, context in
            let id = try context.parameters.require("id")
            return try await environment.operation("sprints.complete") { span in
                span.attributes["sprint.id"] = id
                var sprint = try await existing(id)
                guard sprint.status == "active" else {
                    throw HTTPError(.conflict, message: "sprint \(id) is \(sprint.status); only an active sprint can complete")
                }
                for taskID in sprint.taskIDs { try await setTaskStatus(taskID, "done") }
                _ = try await fetchProject(sprint.projectID)
                sprint.status = "completed"
                try await environment.repository("sprints", "update") { repository.replace(sprint) }
                return try JSONBody.response(sprint)
            }
        }
        router.get("/sprints") { _, _ in
            try await environment.operation("sprints.get") { _ in
                try JSONBody.response(try await environment.repository("sprints", "select") { repository.all() })
            }
        }
        router.get("/sprints/{id}") { _, context in
            let id = try context.parameters.require("id")
            return try await environment.operation("sprints.get") { span in
                span.attributes["sprint.id"] = id
                return try JSONBody.response(try await existing(id))
            }
        }
    }

    func existing(_ id: String) async throws -> SprintRecord {
        guard let sprint = try await environment.repository("sprints", "select", { repository.find(id) }) else {
            throw HTTPError(.notFound, message: "no sprint with id \(id)")
        }
        return sprint
    }

    func fetchProject(_ id: String) async throws -> ProjectRecord {
        let url = try await environment.peers.baseURL(of: .projects) + "/projects/" + Self.pathEscaped(id)
        let answer = try await environment.client.send(.GET, url, json: nil, spanName: "GET /projects/{id}")
        switch answer.status {
        case 200: return try JSONBody.decodeAnswer(ProjectRecord.self, from: answer.body, peer: "the projects service")
        case 404: throw HTTPError(.badRequest, message: "unknown project \(id)")
        default: throw HTTPError(.badGateway, message: "the projects service answered \(answer.status): \(JSONBody.errorMessage(from: answer.body))")
        }
    }

    func fetchTask(_ id: String) async throws -> TaskRecord {
        let url = try await environment.peers.baseURL(of: .tasks) + "/tasks/" + Self.pathEscaped(id)
        let answer = try await environment.client.send(.GET, url, json: nil, spanName: "GET /tasks/{id}")
        switch answer.status {
        case 200: return try JSONBody.decodeAnswer(TaskRecord.self, from: answer.body, peer: "the tasks service")
        case 404: throw HTTPError(.badRequest, message: "unknown task \(id)")
        default: throw HTTPError(.badGateway, message: "the tasks service answered \(answer.status): \(JSONBody.errorMessage(from: answer.body))")
        }
    }

    func setTaskStatus(_ id: String, _ status: String) async throws {
        let url = try await environment.peers.baseURL(of: .tasks) + "/tasks/" + Self.pathEscaped(id)
        let answer = try await environment.client.send(.PUT, url, json: try JSONBody.bytes(["status": status]), spanName: "PUT /tasks/{id}")
        guard answer.status == 200 else {
            throw HTTPError(.badGateway, message: "the tasks service answered \(answer.status) for task \(id): \(JSONBody.errorMessage(from: answer.body))")
        }
    }

    static func pathEscaped(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? id
    }
}

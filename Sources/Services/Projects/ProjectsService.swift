import Foundation
import Hummingbird
import Synchronization
import Tracing

/// A project of the projects service.
struct ProjectRecord: Codable, Sendable, Hashable {
    var id: String
    var name: String
    var taskIDs: [String]

    enum CodingKeys: String, CodingKey {
        case id, name
        case taskIDs = "task_ids"
    }
}

/// Projects in memory, keyed by id: the most recent 10,000 (see ``RecentRecords``).
final class ProjectRepository: Sendable {
    private let state = Mutex<(next: Int, projects: RecentRecords<ProjectRecord>)>((1, RecentRecords(capacity: 10_000)))

    func insert(name: String) -> ProjectRecord {
        state.withLock { state in
            let project = ProjectRecord(id: "project-\(state.next)", name: name, taskIDs: [])
            state.next += 1
            state.projects.insert(project, id: project.id)
            return project
        }
    }

    func find(_ id: String) -> ProjectRecord? { state.withLock { $0.projects.find(id) } }

    /// The first `limit` projects, oldest first.
    func all(limit: Int) -> [ProjectRecord] { state.withLock { $0.projects.first(limit) } }

    func replace(_ project: ProjectRecord) { state.withLock { $0.projects.replace(project, id: project.id) } }

    func remove(_ id: String) -> Bool { state.withLock { $0.projects.remove(id) } }
}

/// `cf_core.services.projects`: project CRUD, and `create_with_tasks`, which calls the tasks service over HTTP
/// once per task with W3C context propagated.
///
/// - `POST /projects` `{"name"}` → 201; `GET /projects[?limit=]` (the first 100 by default, at most 1,000), `GET /projects/{id}`, `PUT /projects/{id}` `{"name"}`,
///   `DELETE /projects/{id}` (204); unknown ids → 404; a name under 3 characters → 400.
/// - `POST /projects/create_with_tasks` `{"name", "task_titles": [...]}` → 201 `{"project", "tasks"}`; a task the
///   tasks service refuses → 400 naming the task and the reason (the project stays, with the tasks made so far).
struct ProjectsRoutes {
    let environment: ServiceEnvironment
    let repository = ProjectRepository()

    struct CreateProject: Decodable { var name: String }

    struct CreateWithTasks: Decodable {
        var name: String
        var taskTitles: [String]
        enum CodingKeys: String, CodingKey {
            case name
            case taskTitles = "task_titles"
        }
    }

    struct CreatedWithTasks: Encodable {
        var project: ProjectRecord
        var tasks: [TaskRecord]
    }

    func add(to router: Router<BasicRequestContext>) {
        router.post("/projects") { request, _ in
            let input = try await JSONBody.decode(CreateProject.self, from: request)
            return try await environment.operation("projects.create") { span in
                let project = try await insert(name: input.name)
                span.attributes["project.id"] = project.id
                return try JSONBody.response(project, status: .created)
            }
        }
        router.get("/projects") { request, _ in
            try await environment.operation("projects.list") { _ in
                guard let limit = ListLimit.parse(request.uri.queryParameters.get("limit")) else {
                    throw HTTPError(.badRequest, message: "limit must be a positive integer (at most \(ListLimit.maximum) are answered)")
                }
                return try JSONBody.response(try await environment.repository("projects", "select") { repository.all(limit: limit) })
            }
        }
        router.get("/projects/{id}") { _, context in
            let id = try context.parameters.require("id")
            return try await environment.operation("projects.get") { span in
                span.attributes["project.id"] = id
                return try JSONBody.response(try await existing(id))
            }
        }
        router.put("/projects/{id}") { request, context in
            let id = try context.parameters.require("id")
            let input = try await JSONBody.decode(CreateProject.self, from: request)
            return try await environment.operation("projects.update") { span in
                span.attributes["project.id"] = id
                var project = try await existing(id)
                project.name = try validName(input.name)
                try await environment.repository("projects", "update") { repository.replace(project) }
                return try JSONBody.response(project)
            }
        }
        router.delete("/projects/{id}") { _, context in
            let id = try context.parameters.require("id")
            return try await environment.operation("projects.delete") { span in
                span.attributes["project.id"] = id
                guard try await environment.repository("projects", "delete", { repository.remove(id) }) else {
                    throw HTTPError(.notFound, message: "no project with id \(id)")
                }
                return Response(status: .noContent)
            }
        }
        router.post("/projects/create_with_tasks") { request, _ in
            let input = try await JSONBody.decode(CreateWithTasks.self, from: request)
            return try await environment.operation("projects.create_with_tasks") { span in
                span.attributes["project.name"] = input.name
                span.attributes["project.task_count"] = input.taskTitles.count
                var project = try await insert(name: input.name)
                span.attributes["project.id"] = project.id
                let tasksURL = try await environment.peers.baseURL(of: .tasks) + "/tasks"
                var tasks: [TaskRecord] = []
                for (index, title) in input.taskTitles.enumerated() {
                    let body = try JSONBody.bytes(["title": title, "project_id": project.id])
                    let answer = try await environment.client.send(.POST, tasksURL, json: body, spanName: "POST /tasks")
                    guard answer.status == 201 else {
                        let reason = JSONBody.errorMessage(from: answer.body)
                        if answer.status >= 400, answer.status < 500 {
                            throw HTTPError(.badRequest, message: "task_titles[\(index)]: the tasks service refused it: \(reason)")
                        }
                        throw HTTPError(.badGateway, message: "task_titles[\(index)]: the tasks service answered \(answer.status): \(reason)")
                    }
                    let task = try JSONBody.decodeAnswer(TaskRecord.self, from: answer.body, peer: "the tasks service")
                    tasks.append(task)
                    project.taskIDs.append(task.id)
                    try await environment.repository("projects", "update") { repository.replace(project) }
                }
                return try JSONBody.response(CreatedWithTasks(project: project, tasks: tasks), status: .created)
            }
        }
    }

    func insert(name: String) async throws -> ProjectRecord {
        let name = try validName(name)
        return try await environment.repository("projects", "insert") { repository.insert(name: name) }
    }

    func existing(_ id: String) async throws -> ProjectRecord {
        guard let project = try await environment.repository("projects", "select", { repository.find(id) }) else {
            throw HTTPError(.notFound, message: "no project with id \(id)")
        }
        return project
    }

    func validName(_ name: String) throws -> String {
        guard name.trimmingCharacters(in: .whitespacesAndNewlines).count >= 3 else {
            throw HTTPError(.badRequest, message: "project name must be at least 3 characters (got \"\(name)\")")
        }
        return name
    }
}

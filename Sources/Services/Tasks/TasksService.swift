import Foundation
import Hummingbird
import Synchronization
import Tracing

/// A task of the tasks service.
struct TaskRecord: Codable, Sendable, Hashable {
    var id: String
    var title: String
    var status: String
    var priority: String
    var projectID: String?

    enum CodingKeys: String, CodingKey {
        case id, title, status, priority
        case projectID = "project_id"
    }

    static let statuses = ["todo", "in_progress", "done"]
    static let priorities = ["low", "medium", "high"]
}

/// Tasks in memory, keyed by id: the most recent 10,000 (see ``RecentRecords``).
final class TaskRepository: Sendable {
    private let state = Mutex<(next: Int, tasks: RecentRecords<TaskRecord>)>((1, RecentRecords(capacity: 10_000)))

    func insert(title: String, priority: String, projectID: String?) -> TaskRecord {
        state.withLock { state in
            let task = TaskRecord(id: "task-\(state.next)", title: title, status: "todo", priority: priority, projectID: projectID)
            state.next += 1
            state.tasks.insert(task, id: task.id)
            return task
        }
    }

    func find(_ id: String) -> TaskRecord? { state.withLock { $0.tasks.find(id) } }

    /// The first `limit` tasks (of a project, if given), oldest first.
    func all(projectID: String?, limit: Int) -> [TaskRecord] {
        state.withLock { $0.tasks.first(limit) { projectID == nil || $0.projectID == projectID } }
    }

    func replace(_ task: TaskRecord) { state.withLock { $0.tasks.replace(task, id: task.id) } }

    func remove(_ id: String) -> Bool { state.withLock { $0.tasks.remove(id) } }
}

/// A validation failure of a task (title too short, unknown status): answered 400.
struct TaskValidationError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// `cf_core.services.tasks`: task CRUD, instrumented as the seed's `TaskService.create`.
///
/// - `POST /tasks` `{"title", "priority"?, "project_id"?}` → 201 task; title under 3 characters → 400 and an
///   error `task.create` span with an exception event; records `task_create_duration_seconds` and
///   `task_create_total` with `status` success or error.
/// - `GET /tasks[?project_id=][&limit=]` (the first 100 by default, at most 1,000), `GET /tasks/{id}`, `PUT /tasks/{id}` `{"title"?, "status"?, "priority"?}`,
///   `DELETE /tasks/{id}` (204); unknown ids → 404.
struct TasksRoutes {
    let environment: ServiceEnvironment
    let repository = TaskRepository()

    struct CreateTask: Decodable {
        var title: String
        var priority: String?
        var projectID: String?
        enum CodingKeys: String, CodingKey {
            case title, priority
            case projectID = "project_id"
        }
    }

    struct UpdateTask: Decodable {
        var title: String?
        var status: String?
        var priority: String?
    }

    func add(to router: Router<BasicRequestContext>) {
        router.post("/tasks") { request, _ in try await create(request) }
        router.get("/tasks") { request, _ in
            try await environment.operation("tasks.list") { _ in
                let projectID = request.uri.queryParameters.get("project_id")
                guard let limit = ListLimit.parse(request.uri.queryParameters.get("limit")) else {
                    throw HTTPError(.badRequest, message: "limit must be a positive integer (at most \(ListLimit.maximum) are answered)")
                }
                return try JSONBody.response(
                    try await environment.repository("tasks", "select") { repository.all(projectID: projectID, limit: limit) }
                )
            }
        }
        router.get("/tasks/{id}") { _, context in
            let id = try context.parameters.require("id")
            return try await environment.operation("tasks.get") { span in
                span.attributes["task.id"] = id
                return try JSONBody.response(try await existing(id))
            }
        }
        router.put("/tasks/{id}") { request, context in
            let id = try context.parameters.require("id")
            let update = try await JSONBody.decode(UpdateTask.self, from: request)
            return try await environment.operation("tasks.update") { span in
                span.attributes["task.id"] = id
                var task = try await existing(id)
                if let title = update.title { task.title = try validTitle(title) }
                if let status = update.status {
                    guard TaskRecord.statuses.contains(status) else {
                        throw HTTPError(.badRequest, message: "status must be one of \(TaskRecord.statuses.joined(separator: ", ")) (got \(status))")
                    }
                    task.status = status
                }
                if let priority = update.priority { task.priority = try validPriority(priority) }
                try await environment.repository("tasks", "update") { repository.replace(task) }
                span.attributes["task.status"] = task.status
                return try JSONBody.response(task)
            }
        }
        router.delete("/tasks/{id}") { _, context in
            let id = try context.parameters.require("id")
            return try await environment.operation("tasks.delete") { span in
                span.attributes["task.id"] = id
                guard try await environment.repository("tasks", "delete", { repository.remove(id) }) else {
                    throw HTTPError(.notFound, message: "no task with id \(id)")
                }
                return Response(status: .noContent)
            }
        }
    }

    func existing(_ id: String) async throws -> TaskRecord {
        guard let task = try await environment.repository("tasks", "select", { repository.find(id) }) else {
            throw HTTPError(.notFound, message: "no task with id \(id)")
        }
        return task
    }

    func validTitle(_ title: String) throws -> String {
        guard title.trimmingCharacters(in: .whitespacesAndNewlines).count >= 3 else {
            throw HTTPError(.badRequest, message: "task title must be at least 3 characters (got \"\(title)\")")
        }
        return title
    }

    func validPriority(_ priority: String) throws -> String {
        guard TaskRecord.priorities.contains(priority) else {
            throw HTTPError(.badRequest, message: "priority must be one of \(TaskRecord.priorities.joined(separator: ", ")) (got \(priority))")
        }
        return priority
    }

    /// The seed's `TaskService.create`: span `task.create` with title and priority, validation as an error span
    /// with an exception event, duration and count by status.
    func create(_ request: Request) async throws -> Response {
        let input = try await JSONBody.decode(CreateTask.self, from: request)
        let priority = try validPriority(input.priority ?? "medium")
        let timeline = RequestTimeline.current
        let start = timeline.now()
        var taskID = "none"
        do {
            let task = try await environment.operation("tasks.create") { span in
                span.attributes["task.title"] = input.title
                span.attributes["task.priority"] = priority
                guard input.title.trimmingCharacters(in: .whitespacesAndNewlines).count >= 3 else {
                    throw TaskValidationError(message: "task title must be at least 3 characters (got \"\(input.title)\")")
                }
                let task = try await environment.repository("tasks", "insert") {
                    repository.insert(title: input.title, priority: priority, projectID: input.projectID)
                }
                span.attributes["task.id"] = task.id
                span.attributes["task.status"] = task.status
                span.setStatus(SpanStatus(code: .ok))
                return task
            }
            taskID = task.id
            recordCreate(status: "success", taskID: taskID, seconds: timeline.now().seconds(since: start))
            return try JSONBody.response(task, status: .created)
        } catch let error as TaskValidationError {
            recordCreate(status: "error", taskID: taskID, seconds: timeline.now().seconds(since: start))
            throw HTTPError(.badRequest, message: error.message)
        } catch {
            recordCreate(status: "error", taskID: taskID, seconds: timeline.now().seconds(since: start))
            throw error
        }
    }

    private func recordCreate(status: String, taskID: String, seconds: Double) {
        let labels = ["status": status, TaxonomyInstruments.highCardinalityLabel: taskID]
        environment.instruments.record("task_create_duration_seconds", seconds, labels: labels)
        environment.instruments.record("task_create_total", 1, labels: labels)
    }
}

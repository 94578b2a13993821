import Foundation
import Hummingbird
import Synchronization
import Tracing

/// The state of one migration phase.
struct PhaseState: Codable, Sendable, Hashable {
    var phase: String
    /// `pending`, `success`, `failed`, `rolled_back`.
    var status: String
    var dryRun: Bool
    var runs: Int
    var rollbacks: Int
    var snapshotBytes: Int?
    var artifactsModified: [String: Int]

    enum CodingKeys: String, CodingKey {
        case phase, status, runs, rollbacks
        case dryRun = "dry_run"
        case snapshotBytes = "snapshot_bytes"
        case artifactsModified = "artifacts_modified"
    }
}

/// `cf_core.services.migrations`: migration phases, rollbacks and snapshots, recording the migration, rollback,
/// git, snapshot, state-file, artifact and coverage metrics of the taxonomy.
///
/// - `POST /migrations/phases/{phase}/run` `{"dry_run"?: false, "rollback_on_failure"?: true}`: snapshot, git
///   tag, the phase's work, then (unless dry run) artifacts, git commit and the state file; on failure an
///   automatic rollback (status `rolled_back` when it succeeds). Answers 200 with the phase state whether the
///   phase succeeded or failed (the outcome is data, not an HTTP error).
/// - `POST /migrations/phases/{phase}/rollback`: `git_restore` (git checkout + revert), `db_restore` (restores the
///   phase's row from its snapshot after SQLite's integrity check; a missing or damaged snapshot is `corruption`),
///   `shim_restore`.
/// - `POST /migrations/phases/{phase}/snapshot`: a database snapshot (`VACUUM INTO`, a real SQLite file);
///   `db_snapshot_size_bytes` is its size.
/// - `GET /migrations/phases/{phase}`, `GET /migrations/phases`.
///
/// A phase name is 1–32 of `a-z 0-9 _ -` (else 400).
struct MigrationsRoutes {
    let environment: ServiceEnvironment
    /// Phase states (SQLite, in the working directory).
    let database: MigrationDatabase
    let workingDirectory: URL
    /// The `db_type` label of snapshots.
    let databaseType: String

    struct RunPhase: Decodable {
        var dryRun: Bool?
        var rollbackOnFailure: Bool?
        enum CodingKeys: String, CodingKey {
            case dryRun = "dry_run"
            case rollbackOnFailure = "rollback_on_failure"
        }
    }

    /// Why a migration step failed: the `error_type` label.
    struct PhaseFailure: Error, CustomStringConvertible {
        var errorType: String
        var message: String
        var description: String { message }
    }

    /// Why a rollback step failed: the `reason` label.
    struct RollbackFailure: Error, CustomStringConvertible {
        var reason: String
        var message: String
        var description: String { message }
    }

    func add(to router: Router<BasicRequestContext>) {
        router.get("/migrations/phases") { _, _ in
            try JSONBody.response(try await select("all") { try await database.all() })
        }
        router.get("/migrations/phases/{phase}") { _, context in
            let phase = try validPhase(try context.parameters.require("phase"))
            return try JSONBody.response(try await state(phase))
        }
        router.post("/migrations/phases/{phase}/run") { request, context in
            let phase = try validPhase(try context.parameters.require("phase"))
            let input = try await optionalBody(RunPhase.self, request) ?? RunPhase()
            return try JSONBody.response(try await run(phase: phase, dryRun: input.dryRun ?? false, rollbackOnFailure: input.rollbackOnFailure ?? true))
        }
        router.post("/migrations/phases/{phase}/rollback") { _, context in
            let phase = try validPhase(try context.parameters.require("phase"))
            _ = try await rollback(phase: phase)
            return try JSONBody.response(try await state(phase))
        }
        router.post("/migrations/phases/{phase}/snapshot") { _, context in
            let phase = try validPhase(try context.parameters.require("phase"))
            let bytes = try await snapshot(phase: phase)
            return try JSONBody.response(["phase": JSONValue.string(phase), "snapshot_bytes": .number(Double(bytes))])
        }
    }

    /// Database work in a repository span.
    func select<T>(_ action: String, _ body: () async throws -> T) async throws -> T {
        try await environment.repository("phase_state", action, system: "sqlite", body)
    }

    func state(_ phase: String) async throws -> PhaseState {
        try await select("select") { try await database.state(phase) }
    }

    func update(_ phase: String, _ change: @Sendable (inout PhaseState) -> Void) async throws {
        _ = try await select("upsert") { try await database.update(phase, change) }
    }

    func optionalBody<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T? {
        if let length = request.headers[.contentLength], length == "0" { return nil }
        if request.headers[.contentLength] == nil, request.headers[.transferEncoding] == nil { return nil }
        return try await JSONBody.decode(type, from: request)
    }

    func validPhase(_ phase: String) throws -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_-")
        guard (1...32).contains(phase.count), phase.allSatisfy(allowed.contains) else {
            throw HTTPError(.badRequest, message: "phase must be 1-32 characters of a-z, 0-9, _ and - (got \"\(phase)\")")
        }
        return phase
    }

    // MARK: Run

    func run(phase: String, dryRun: Bool, rollbackOnFailure: Bool) async throws -> PhaseState {
        let timeline = RequestTimeline.current
        let start = timeline.now()
        var status = "success"
        do {
            try await environment.telemetry.withSpan("migration.run") { span in
                span.attributes["migration.phase"] = phase
                span.attributes["migration.dry_run"] = dryRun
                _ = try await snapshot(phase: phase)
                try await gitOperation("tag", phase: phase)
                try await environment.telemetry.withSpan("migration.phase") { work in
                    work.attributes["migration.phase"] = phase
                    let workStart = timeline.now()
                    do {
                        try await environment.telemetry.perform("migration.phase", configuration: environment.configuration)
                    } catch let failure as ServiceFailure {
                        throw PhaseFailure(errorType: "validation_failed", message: "phase \(phase) failed validation: \(failure.message)")
                    }
                    let seconds = timeline.now().seconds(since: workStart)
                    if seconds > Self.phaseTimeoutSeconds {
                        throw PhaseFailure(
                            errorType: "timeout",
                            message: "phase \(phase) took \(Int(seconds)) s, over the \(Int(Self.phaseTimeoutSeconds)) s limit"
                        )
                    }
                }
                if !dryRun {
                    let artifacts = modifyArtifacts(phase: phase)
                    try await update(phase) { $0.artifactsModified = artifacts }
                    try await gitOperation("commit", phase: phase)
                }
                recordCoverage(phase: phase)
                try await update(phase) {
                    $0.status = "success"
                    $0.dryRun = dryRun
                    $0.runs += 1
                }
                if !dryRun { try await writeStateFile(phase: phase) }
            }
            environment.instruments.record("phase_success_total", 1, labels: ["phase": phase])
        } catch let failure as PhaseFailure {
            environment.instruments.record("phase_failure_total", 1, labels: ["phase": phase, "error_type": failure.errorType])
            status = "failed"
            if rollbackOnFailure, !dryRun, (try? await rollback(phase: phase)) == true {
                status = "rolled_back"
            }
            let finalStatus = status
            try await update(phase) {
                $0.status = finalStatus
                $0.dryRun = dryRun
                $0.runs += 1
            }
        }
        environment.instruments.record(
            "migration_duration_seconds",
            timeline.now().seconds(since: start),
            labels: ["phase": phase, "status": status, "dry_run": dryRun ? "true" : "false"]
        )
        return try await state(phase)
    }

    /// A phase whose work takes longer than this (simulated) fails with `error_type` `timeout`.
    static let phaseTimeoutSeconds: Double = 3600

    /// One git operation (`tag`, `commit`, `checkout`, `revert`) with its duration.
    func gitOperation(_ operation: String, phase: String) async throws {
        let timeline = RequestTimeline.current
        let start = timeline.now()
        defer {
            environment.instruments.record("git_operation_duration_seconds", timeline.now().seconds(since: start), labels: ["operation": operation])
        }
        do {
            try await environment.operation("git.\(operation)") { span in
                span.attributes["git.operation"] = operation
                span.attributes["migration.phase"] = phase
            }
        } catch let failure as ServiceFailure {
            throw PhaseFailure(errorType: "git_error", message: "git \(operation) failed: \(failure.message)")
        }
    }

    /// The files a real phase run modifies, counted by type.
    func modifyArtifacts(phase: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for fileType in ["py", "yaml", "json", "md"] {
            let count = 1 + Int(environment.telemetry.randomness.unitInterval(stream: "artifacts_modified") * 12)
            counts[fileType] = count
            environment.instruments.record("artifacts_modified_total", Double(count), labels: ["phase": phase, "file_type": fileType])
        }
        return counts
    }

    /// Test coverage after a phase, per suite (simulated: 95 to 100 %).
    func recordCoverage(phase: String) {
        for suite in ["unit", "integration", "system"] {
            let coverage = 95 + environment.telemetry.randomness.unitInterval(stream: "test_coverage") * 5
            environment.instruments.record("test_coverage_percentage", coverage, labels: ["phase": phase, "test_suite": suite])
        }
    }

    /// Writes `.migration-state.json` (really, with fsync) and records how long the write took.
    func writeStateFile(phase: String) async throws {
        try await environment.telemetry.withSpan("migration.state_file.write") { span in
            let timeline = RequestTimeline.current
            let start = timeline.now()
            let url = workingDirectory.appendingPathComponent(".migration-state.json")
            span.attributes["file.path"] = url.path
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(try await database.all())
            try Self.writeDurably(data, to: url)
            environment.instruments.record(
                "state_file_write_latency_milliseconds",
                timeline.now().seconds(since: start) * 1000,
                labels: ["phase": phase]
            )
        }
    }

    static func writeDurably(_ data: Data, to url: URL) throws {
        let temporary = url.appendingPathExtension("tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data) else {
            throw ServiceFailure(message: "cannot write \(temporary.path); check that the working directory is writable")
        }
        let handle = try FileHandle(forWritingTo: temporary)
        try handle.synchronize()
        try handle.close()
        // rename(2) replaces the old file atomically, whether or not it exists.
        guard rename(temporary.path, url.path) == 0 else {
            throw ServiceFailure(message: "cannot move \(temporary.path) to \(url.path) (errno \(errno))")
        }
    }

    // MARK: Snapshot

    func snapshotURL(_ phase: String) -> URL { workingDirectory.appendingPathComponent("snapshot-\(phase).sqlite") }

    /// Takes a database snapshot (`VACUUM INTO` a file of its own) and records its size.
    func snapshot(phase: String) async throws -> Int {
        do {
            return try await environment.operation("db.snapshot") { span in
                span.attributes["migration.phase"] = phase
                span.attributes["db.system.name"] = "sqlite"
                span.attributes["db.query.text"] = "VACUUM INTO ?"
                let bytes: Int
                do {
                    bytes = try await database.snapshot(to: snapshotURL(phase).path)
                } catch {
                    throw ServiceFailure(message: "VACUUM INTO \(snapshotURL(phase).path) failed: \(error)")
                }
                span.attributes["db.snapshot.size"] = bytes
                environment.instruments.record("db_snapshot_size_bytes", Double(bytes), labels: ["phase": phase, "db_type": databaseType])
                try await update(phase) { $0.snapshotBytes = bytes }
                return bytes
            }
        } catch let failure as ServiceFailure {
            throw PhaseFailure(errorType: "db_error", message: "snapshot of \(phase) failed: \(failure.message)")
        }
    }

    // MARK: Rollback

    /// Rolls `phase` back through git_restore, db_restore and shim_restore; returns whether it succeeded.
    @discardableResult
    func rollback(phase: String) async throws -> Bool {
        do {
            try await environment.telemetry.withSpan("rollback.run") { span in
                span.attributes["migration.phase"] = phase
                try await rollbackOperation("git_restore", phase: phase, failureReason: "git_failed") {
                    do {
                        try await gitOperation("checkout", phase: phase)
                        try await gitOperation("revert", phase: phase)
                    } catch let failure as PhaseFailure {
                        throw RollbackFailure(reason: "git_failed", message: failure.message)
                    }
                }
                try await rollbackOperation("db_restore", phase: phase, failureReason: "db_failed") {
                    do {
                        try await select("restore") { try await database.restore(phase, from: snapshotURL(phase).path) }
                    } catch let corruption as MigrationDatabase.SnapshotCorruption {
                        throw RollbackFailure(
                            reason: "corruption",
                            message: "\(corruption.message); take a snapshot with POST /migrations/phases/\(phase)/snapshot"
                        )
                    }
                }
                try await rollbackOperation("shim_restore", phase: phase, failureReason: "shim_failed") {}
            }
        } catch let failure as RollbackFailure {
            environment.instruments.record("rollback_failure_total", 1, labels: ["phase": phase, "reason": failure.reason])
            try await update(phase) {
                $0.status = "failed"
                $0.rollbacks += 1
            }
            return false
        }
        environment.instruments.record("rollback_success_total", 1, labels: ["phase": phase])
        try await update(phase) {
            $0.status = "rolled_back"
            $0.rollbacks += 1
        }
        try await writeStateFile(phase: phase)
        return true
    }

    /// One rollback operation: its span, simulated latency, error rate and `rollback_duration_seconds`.
    func rollbackOperation(_ operation: String, phase: String, failureReason: String, _ body: () async throws -> Void) async throws {
        let timeline = RequestTimeline.current
        let start = timeline.now()
        defer {
            environment.instruments.record(
                "rollback_duration_seconds",
                timeline.now().seconds(since: start),
                labels: ["phase": phase, "operation": operation]
            )
        }
        do {
            try await environment.operation("rollback.\(operation)") { span in
                span.attributes["migration.phase"] = phase
                span.attributes["rollback.operation"] = operation
                try await body()
            }
        } catch let failure as ServiceFailure {
            throw RollbackFailure(reason: failureReason, message: "\(operation) of \(phase) failed: \(failure.message)")
        }
    }
}

import Foundation
import Logging
import SQLiteNIO

/// The migrations service's database: phase states in an SQLite file; snapshots are real SQLite copies made with
/// `VACUUM INTO`, restored row by row from the attached snapshot.
///
/// An actor, so that read-modify-write updates of a phase never interleave.
actor MigrationDatabase {
    /// The database file.
    let path: String
    private let logger: Logger
    private var connection: SQLiteConnection?
    /// The first open, awaited by every caller that arrives while it runs: actor methods interleave at `await`,
    /// and two callers each opening a connection would leak one (sqlite-nio traps on an unclosed connection).
    private var opening: Task<SQLiteConnection, any Error>?

    /// What went wrong with a snapshot when restoring: the rollback's `corruption` reason.
    struct SnapshotCorruption: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    /// The open connection, opened and migrated on first use.
    private func open() async throws -> SQLiteConnection {
        if let connection { return connection }
        if let opening { return try await opening.value }
        let (path, logger) = (self.path, self.logger)
        let task = Task {
            let opened = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            _ = try await opened.query(
                "CREATE TABLE IF NOT EXISTS phase_state (phase TEXT PRIMARY KEY NOT NULL, state TEXT NOT NULL)"
            )
            return opened
        }
        opening = task
        defer { opening = nil }
        let opened = try await task.value
        connection = opened
        return opened
    }

    /// Closes the connection (at shutdown).
    func close() async {
        if let connection { try? await connection.close() }
        connection = nil
    }

    /// The state of `phase` (pending when it never ran).
    func state(_ phase: String) async throws -> PhaseState {
        let rows = try await open().query("SELECT state FROM phase_state WHERE phase = ?", [.text(phase)])
        guard let text = rows.first?.column("state")?.string else { return PhaseState.pending(phase) }
        return try JSONDecoder().decode(PhaseState.self, from: Data(text.utf8))
    }

    /// Changes the state of `phase` and stores it.
    func update(_ phase: String, _ change: (inout PhaseState) -> Void) async throws -> PhaseState {
        var state = try await self.state(phase)
        change(&state)
        let text = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        _ = try await open().query(
            "INSERT INTO phase_state (phase, state) VALUES (?, ?) ON CONFLICT(phase) DO UPDATE SET state = excluded.state",
            [.text(phase), .text(text)]
        )
        return state
    }

    /// Every phase's state, by name.
    func all() async throws -> [PhaseState] {
        let rows = try await open().query("SELECT state FROM phase_state ORDER BY phase")
        return try rows.compactMap { row in
            guard let text = row.column("state")?.string else { return nil }
            return try JSONDecoder().decode(PhaseState.self, from: Data(text.utf8))
        }
    }

    /// Writes a consistent copy of the whole database to `snapshotPath` (replacing an older one) and returns its
    /// size in bytes.
    func snapshot(to snapshotPath: String) async throws -> Int {
        let connection = try await open()
        if FileManager.default.fileExists(atPath: snapshotPath) { try FileManager.default.removeItem(atPath: snapshotPath) }
        _ = try await connection.query("VACUUM INTO ?", [.text(snapshotPath)])
        let attributes = try FileManager.default.attributesOfItem(atPath: snapshotPath)
        return (attributes[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Restores `phase`'s row from the snapshot at `snapshotPath`, after SQLite's integrity check of the snapshot.
    ///
    /// - Throws: ``SnapshotCorruption`` when the snapshot is missing, not an SQLite database, or fails the check.
    func restore(_ phase: String, from snapshotPath: String) async throws {
        guard FileManager.default.fileExists(atPath: snapshotPath) else {
            throw SnapshotCorruption(message: "no snapshot at \(snapshotPath)")
        }
        let connection = try await open()
        do {
            _ = try await connection.query("ATTACH DATABASE ? AS snapshot", [.text(snapshotPath)])
        } catch {
            throw SnapshotCorruption(message: "the snapshot at \(snapshotPath) cannot be opened: \(error)")
        }
        do {
            let check = try await connection.query("PRAGMA snapshot.integrity_check")
            guard check.first?.columns.first?.data.string == "ok" else {
                throw SnapshotCorruption(message: "the snapshot at \(snapshotPath) fails SQLite's integrity check")
            }
            _ = try await connection.query("DELETE FROM main.phase_state WHERE phase = ?", [.text(phase)])
            _ = try await connection.query(
                "INSERT INTO main.phase_state SELECT phase, state FROM snapshot.phase_state WHERE phase = ?",
                [.text(phase)]
            )
        } catch let corruption as SnapshotCorruption {
            _ = try? await connection.query("DETACH DATABASE snapshot")
            throw corruption
        } catch {
            _ = try? await connection.query("DETACH DATABASE snapshot")
            throw SnapshotCorruption(message: "the snapshot at \(snapshotPath) is unreadable: \(error)")
        }
        _ = try await connection.query("DETACH DATABASE snapshot")
    }
}

extension PhaseState {
    /// The state of a phase that never ran.
    static func pending(_ phase: String) -> PhaseState {
        PhaseState(phase: phase, status: "pending", dryRun: false, runs: 0, rollbacks: 0, artifactsModified: [:])
    }
}

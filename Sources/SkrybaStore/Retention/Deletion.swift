import Foundation
import GRDB
import SkrybaSystem

/// Where a deletion can be cut short (tests simulate a power cut there; fsck finishes the rest).
enum DeletionPhase: Sendable {
    /// Phase 1 committed: the row says "being deleted", the file is still there.
    case intentRecorded
    /// Phase 2 done: the file is unlinked and its directory fsync'ed, the row not yet marked deleted.
    case fileRemoved
}

/// Thrown by the test hook in place of a power cut.
struct SimulatedPowerLoss: Error {}

/// One recording (or secured copy) gone, as a deletion receipt lists it.
public struct DeletedItem: Equatable, Sendable, Codable {
    /// "R000012", or "secured copy 3 of R000012".
    public var subject: String
    public var recording: RecordingID
    /// "retention 30 days", "capacity", "erasure: <reason>", "lapsed: …", "destroyed: …".
    public var rule: String
    /// The retention deadline it had, if any.
    public var deadlineUTC: Date?
    public var deletedUTC: Date
    /// SHA-256 (hex) of the file deleted, as the catalog recorded it.
    public var fileSHA256: String?
    /// Bytes the file occupied (0 when there was none).
    public var bytesFreed: Int64
}

/// Crash-safe deletion of one recording (docs/retention.md, "Crash-safe deletion"):
/// 1. one transaction re-checks the row (not held, not already deleted, still due) and records the
///    intent — `deletion_started_utc`, `deletion_rule` — with a `recording-deletion-started` entry;
/// 2. the sealed file is unlinked and its directory fsync'ed;
/// 3. one transaction marks the row deleted (`deleted_utc`), erases its personal data (caller
///    number, dialled digits, corrected values) and appends `recording-deleted`.
/// A cut after 1 or 2 is finished by `finish` from fsck or the next retention run.
enum Deletion {
    /// Phase 1. `admit` sees the row and its active hold references inside the write transaction
    /// and returns the deletion rule, nil to skip the row quietly, or throws to refuse; nil when skipped.
    static func begin(_ id: RecordingID, actor: String, at now: Date, catalog: Catalog,
                      admit: (RecordingRow, [String]) throws -> String?) throws -> RecordingRow? {
        try catalog.connection.write("beginning the deletion of recording \(id)") { database in
            var row = try Catalog.fetch(id, in: database)
            let holds = try Catalog.activeHoldReferences(of: id, in: database)
            guard let rule = try admit(row, holds) else { return nil }
            let time = UTCTimestamp.string(from: now)
            try database.execute(sql: """
                UPDATE recordings SET deletion_started_utc = ?, deletion_rule = ?, updated_utc = ?
                WHERE id = ? AND deletion_started_utc IS NULL
                """, arguments: [time, rule, time, id.rawValue])
            var details = ["rule": rule]
            details["deadline_utc"] = row.retentionDeadlineUTC.map(UTCTimestamp.string(from:))
            details["file"] = row.filePath
            try AuditLog.append(.recordingDeletionStarted, subject: id.description, details: details, actor: actor, at: now, in: database)
            row.deletionStartedUTC = UTCTimestamp.date(from: time)
            row.deletionRule = rule
            return row
        }
    }

    /// Phases 2 and 3 for a row whose deletion has begun (also after a crash: the file may be
    /// present or already gone). `interruptAfter` is the power-cut hook for tests.
    static func finish(_ row: RecordingRow, dataDirectory: String, actor: String, at now: Date, catalog: Catalog,
                       interruptAfter: DeletionPhase? = nil) throws -> DeletedItem {
        let id = row.id
        guard let rule = row.deletionRule else {
            throw RetentionError.invalid("recording \(id): its deletion has not begun; nothing was deleted")
        }
        if interruptAfter == .intentRecorded { throw SimulatedPowerLoss() }
        var freed: Int64 = 0
        if let relative = row.filePath {
            freed = try removeDurably("\(dataDirectory)/\(relative)")
            try pruneEmptyDayDirectories(of: relative, dataDirectory: dataDirectory, at: now)
        }
        if interruptAfter == .fileRemoved { throw SimulatedPowerLoss() }
        let time = UTCTimestamp.string(from: now)
        try catalog.connection.write("marking recording \(id) deleted") { database in
            try database.execute(sql: """
                UPDATE recordings SET deleted_utc = ?, caller_number = NULL, dialed_digits = NULL, hold_refs = NULL, updated_utc = ?
                WHERE id = ? AND deleted_utc IS NULL
                """, arguments: [time, time, id.rawValue])
            try database.execute(sql: """
                UPDATE corrections SET previous_value = NULL, new_value = NULL, salt = NULL, erased_utc = ?
                WHERE recording = ? AND erased_utc IS NULL
                """, arguments: [time, id.rawValue])
            var details = ["rule": rule, "bytes_freed": String(freed)]
            details["deadline_utc"] = row.retentionDeadlineUTC.map(UTCTimestamp.string(from:))
            details["deletion_started_utc"] = row.deletionStartedUTC.map(UTCTimestamp.string(from:))
            details["file"] = row.filePath
            details["file_size"] = row.fileSize.map { String($0) }
            details["file_sha256"] = row.fileSHA256
            try AuditLog.append(.recordingDeleted, subject: id.description, details: details, actor: actor, at: now, in: database)
        }
        return DeletedItem(subject: id.description, recording: id, rule: rule, deadlineUTC: row.retentionDeadlineUTC,
                           deletedUTC: UTCTimestamp.date(from: time) ?? now, fileSHA256: row.fileSHA256, bytesFreed: freed)
    }

    /// The whole deletion of one recording; nil when `admit` skipped it.
    static func delete(_ id: RecordingID, dataDirectory: String, actor: String, at now: Date, catalog: Catalog,
                       interruptAfter: DeletionPhase? = nil,
                       admit: (RecordingRow, [String]) throws -> String?) throws -> DeletedItem? {
        guard let row = try begin(id, actor: actor, at: now, catalog: catalog, admit: admit) else { return nil }
        return try finish(row, dataDirectory: dataDirectory, actor: actor, at: now, catalog: catalog, interruptAfter: interruptAfter)
    }

    /// Rows whose deletion began but did not finish (a crash between the phases).
    static func unfinished(_ catalog: Catalog) throws -> [RecordingRow] {
        try catalog.connection.read("listing unfinished deletions") { database in
            try Catalog.rows(where: "deletion_started_utc IS NOT NULL AND deleted_utc IS NULL", [], in: database)
        }
    }

    /// unlink(2), then fsync the directory so the removal survives a power cut. A file already gone
    /// is fine (a crash after the unlink). Returns the bytes the file had.
    @discardableResult
    static func removeDurably(_ path: String) throws -> Int64 {
        var status = stat()
        var size: Int64 = 0
        if lstat(path, &status) == 0 {
            size = Int64(status.st_size)
            if unlink(path) != 0, errno != ENOENT {
                throw RetentionError.file(FileError(operation: "unlink", path: path, errno: errno))
            }
        }
        let directory = (path as NSString).deletingLastPathComponent
        if Directory.exists(directory) {
            do { try Directory.sync(directory) } catch { throw RetentionError.file(error) }
        }
        return size
    }

    /// Removes `recordings/YYYY/MM/DD` (and its month and year) once empty, for days before
    /// yesterday (UTC) only: the daemon may be creating today's directory for a new call.
    static func pruneEmptyDayDirectories(of relative: String, dataDirectory: String, at now: Date) throws {
        let components = relative.split(separator: "/").map(String.init)
        guard components.count == 5, components[0] == DataLayout.recordingsDirectory else { return }
        let day = components[1...3].joined(separator: "-")
        let yesterday = UTCTimestamp.string(from: now.addingTimeInterval(-86_400)).prefix(10)
        guard day < yesterday else { return }
        var directory = "\(dataDirectory)/\(components[0...3].joined(separator: "/"))"
        for _ in 0..<3 {
            guard rmdir(directory) == 0 else { return }  // not empty (ENOTEMPTY) or gone: stop there
            let parent = (directory as NSString).deletingLastPathComponent
            do { try Directory.sync(parent) } catch { throw RetentionError.file(error) }
            directory = parent
        }
    }
}

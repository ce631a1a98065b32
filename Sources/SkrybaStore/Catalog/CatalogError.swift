
import SkrybaSystem

/// Everything the catalog and the audit log refuse or fail at, in words a technician can act on.
public enum CatalogError: Error, Equatable, Sendable, CustomStringConvertible {
    /// SQLite failed while the catalog was doing `action`.
    case database(path: String, action: String, SQLiteFailure)
    case schemaTooNew(path: String, version: Int64, supported: Int64)
    case notWAL(path: String, journalMode: String)
    case noSuchRecording(RecordingID)
    /// Only a recording still being recorded can change; `refused` says what was asked.
    case alreadyFinished(RecordingID, status: RecordingStatus, refused: String)
    case fileAlreadySet(RecordingID, existing: String, requested: String)
    case invalidFilePath(RecordingID, path: String, reason: String)
    /// A value that breaks a rule of the catalog (the reason says which).
    case invalid(RecordingID?, reason: String)
    /// A stored value this firmware cannot read (a newer firmware's value, or tampering).
    case unreadableRow(table: String, key: String, column: String, value: String)
    case emptyAuditLog
    /// A file operation on the catalog's own files failed.
    case file(FileError)

    public var description: String {
        switch self {
        case .database(let path, let action, let error):
            "catalog \(path): \(action): \(error)"
        case .schemaTooNew(let path, let version, let supported):
            "catalog \(path) has schema version \(version), newer than this firmware's \(supported); refusing to open it (was the firmware downgraded?)"
        case .notWAL(let path, let mode):
            "catalog \(path): SQLite would not switch to WAL journaling (journal mode is '\(mode)'); is the data directory on a filesystem without shared memory?"
        case .noSuchRecording(let id):
            "no recording \(id) in the catalog"
        case .alreadyFinished(let id, let status, let refused):
            "recording \(id) is already \(status.rawValue); refusing to \(refused)"
        case .fileAlreadySet(let id, let existing, let requested):
            "recording \(id) already has file \(existing); refusing to change it to \(requested)"
        case .invalidFilePath(let id, let path, let reason):
            "recording \(id): file path '\(path)' \(reason)"
        case .invalid(let id, let reason):
            id.map { "recording \($0): \(reason)" } ?? reason
        case .unreadableRow(let table, let key, let column, let value):
            "\(table) \(key): column \(column) holds '\(value)', which this firmware cannot read"
        case .emptyAuditLog:
            "the audit log is empty: there is nothing to checkpoint"
        case .file(let error):
            "catalog: \(error)"
        }
    }
}

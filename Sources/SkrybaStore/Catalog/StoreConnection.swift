import Foundation
import SkrybaSQLite

/// The one SQLite connection the catalog and the audit log share, behind a lock: the connection is
/// opened NOMUTEX, and line workers finish recordings from several threads. Other processes
/// (console, IT tools) have their own connections; SQLite's file locks and the busy timeout order
/// them, and every write runs in BEGIN IMMEDIATE.
final class StoreConnection: @unchecked Sendable {
    let database: SQLiteDatabase
    private let lock = NSLock()

    var path: String { database.path }

    init(_ database: SQLiteDatabase) { self.database = database }

    /// Runs `body` alone on the connection; an SQLite failure becomes `CatalogError.database` naming `action`.
    func read<T>(_ action: @autoclosure () -> String, _ body: (SQLiteDatabase) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        do {
            return try body(database)
        } catch let error as SQLiteError {
            throw CatalogError.database(path: database.path, action: action(), error)
        }
    }

    /// Runs at the end of every write transaction, before it commits (the audit log's automatic
    /// checkpoints, `AuditLog.signCheckpoints`). Guarded by `lock`, like the database.
    private var beforeCommit: ((SQLiteDatabase) throws -> Void)?

    func setBeforeCommit(_ hook: @escaping (SQLiteDatabase) throws -> Void) {
        lock.withLock { beforeCommit = hook }
    }

    /// Like `read`, inside one IMMEDIATE transaction: all of `body` commits, or none of it.
    func write<T>(_ action: @autoclosure () -> String, _ body: (SQLiteDatabase) throws -> T) throws -> T {
        try read(action()) { database in
            try database.transaction(.immediate) {
                let result = try body(database)
                try beforeCommit?(database)
                return result
            }
        }
    }
}

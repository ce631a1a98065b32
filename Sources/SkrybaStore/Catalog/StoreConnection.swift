import Foundation
import GRDB

/// The one SQLite connection the catalog and the audit log share: a GRDB `DatabaseQueue`, which
/// serialises every access (line workers and the storage service finish recordings from several
/// threads). Other processes (console, IT tools) have their own connections; SQLite's file locks
/// and the busy timeout order them, and every write runs in BEGIN IMMEDIATE.
///
/// Writing a query (docs/storage.md, "Writing to the catalog"):
///
///     try connection.write("holding recording \(id)") { db in
///         try db.execute(sql: "UPDATE recordings SET hold_refs = ? WHERE id = ?", arguments: [refs, id.rawValue])
///         try AuditLog.append(.holdAdded, subject: id.description, details: [:], actor: actor, at: now, in: db)
///     }
final class StoreConnection: @unchecked Sendable {
    let queue: DatabaseQueue
    let path: String
    private let lock = NSLock()

    init(_ queue: DatabaseQueue, path: String) {
        self.queue = queue
        self.path = path
    }

    /// Runs `body` in a read-only snapshot (a deferred transaction, so reads across tables agree);
    /// an SQLite failure becomes `CatalogError.database` naming `action`.
    func read<T>(_ action: @autoclosure () -> String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.read(body)
        } catch let error as DatabaseError {
            throw CatalogError.database(path: path, action: action(), SQLiteFailure(error))
        }
    }

    /// Runs at the end of every write transaction, before it commits (the audit log's automatic
    /// checkpoints, `AuditLog.signCheckpoints`). Guarded by `lock`.
    private var beforeCommit: ((Database) throws -> Void)?

    func setBeforeCommit(_ hook: @escaping (Database) throws -> Void) {
        lock.withLock { beforeCommit = hook }
    }

    /// Like `read`, inside one IMMEDIATE transaction: all of `body` commits, or none of it.
    func write<T>(_ action: @autoclosure () -> String, _ body: (Database) throws -> T) throws -> T {
        let hook = lock.withLock { beforeCommit }
        do {
            return try queue.writeWithoutTransaction { db in
                var result: Result<T, any Error>?
                try db.inTransaction(.immediate) {
                    let value = try body(db)
                    try hook?(db)
                    result = .success(value)
                    return .commit
                }
                // inTransaction returned without throwing, so body ran and set the result.
                return try (result ?? .failure(CatalogError.invalid(nil, reason: "\(action()): the transaction did not run"))).get()
            }
        } catch let error as DatabaseError {
            throw CatalogError.database(path: path, action: action(), SQLiteFailure(error))
        }
    }
}

/// What SQLite said when a statement failed, kept as words: the message, the extended result code
/// and the statement (GRDB's `DatabaseError`, reduced to what a technician's sentence needs).
public struct SQLiteFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public let sql: String?

    init(_ error: DatabaseError) {
        code = error.extendedResultCode.rawValue
        message = error.message ?? "SQLite error \(error.extendedResultCode.rawValue)"
        sql = error.sql
    }

    public var description: String { "SQLite failed: \(message) (code \(code))" }
}

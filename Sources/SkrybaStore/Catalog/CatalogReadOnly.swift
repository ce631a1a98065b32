import Foundation
import GRDB

/// A catalog opened only to read: what IT-side tools (`skryba-tools verify-receipts`) do with the
/// copy a data-protection officer was handed. GRDB opens it read-only (`SQLITE_OPEN_READONLY`), so nothing is
/// created, migrated or written; a missing, empty or foreign file is refused with a sentence instead
/// of being reported as an intact, empty log.
public final class ReadOnlyCatalog: Sendable {
    public let path: String
    public let audit: AuditLog

    public init(path: String) throws(ReadOnlyCatalogError) {
        var status = stat()
        guard stat(path, &status) == 0 else { throw .missing(path: path) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw .notAFile(path: path) }
        guard status.st_size > 0 else { throw .empty(path: path) }
        var configuration = Configuration()
        configuration.readonly = true
        let queue: DatabaseQueue
        do { queue = try DatabaseQueue(path: path, configuration: configuration) } catch { throw .unreadable(path: path, Self.words(error)) }
        let connection = StoreConnection(queue, path: path)
        do {
            let (version, tables) = try queue.read { db in
                (try Schema.userVersion(db),
                 try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('audit_log', 'recordings')"))
            }
            guard tables.count == 2, version >= 1 else { throw ReadOnlyCatalogError.notACatalog(path: path) }
            guard version <= Schema.currentVersion else {
                throw ReadOnlyCatalogError.schemaTooNew(path: path, version: version, supported: Schema.currentVersion)
            }
        } catch let error as ReadOnlyCatalogError {
            throw error
        } catch {
            // "file is not a database" and the like.
            throw .unreadable(path: path, Self.words(error))
        }
        self.path = path
        audit = AuditLog(connection: connection, actor: "read-only")
    }

    /// SQLite's own sentence ("file is not a database"), not a dump of GRDB's error value.
    private static func words(_ error: any Error) -> String {
        (error as? DatabaseError).map { SQLiteFailure($0).description } ?? "\(error)"
    }
}

public enum ReadOnlyCatalogError: Error, Equatable, CustomStringConvertible {
    case missing(path: String)
    case notAFile(path: String)
    case empty(path: String)
    case notACatalog(path: String)
    case schemaTooNew(path: String, version: Int64, supported: Int64)
    case unreadable(path: String, String)

    public var description: String {
        switch self {
        case .missing(let path): "\(path): no such file; give the copy of the appliance's catalog.sqlite (and its -wal file beside it)"
        case .notAFile(let path): "\(path): not a file; give the copy of the appliance's catalog.sqlite"
        case .empty(let path): "\(path): the file is empty, so it is not a catalog (was the copy interrupted?)"
        case .notACatalog(let path): "\(path): an SQLite file, but not a Skryba catalog (it has no recordings and audit log)"
        case .schemaTooNew(let path, let version, let supported):
            "\(path): catalog schema version \(version) is newer than this tool's \(supported); use the skryba-tools of the appliance's firmware"
        case .unreadable(let path, let why): "\(path): cannot be read as a catalog: \(why)"
        }
    }
}

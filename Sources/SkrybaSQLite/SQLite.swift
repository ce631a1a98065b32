import CSQLite

/// A failed SQLite call: the function, SQLite's extended result code and its message.
public struct SQLiteError: Error, Equatable, CustomStringConvertible {
    public let function: String
    public let code: Int32
    public let message: String
    public let sql: String?

    public var description: String {
        "SQLite \(function) failed: \(message) (code \(code))" + (sql.map { " in: \($0)" } ?? "")
    }
}

/// Tells SQLite to copy bound text/blobs (SQLITE_TRANSIENT is a macro Swift cannot import).
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection. Owns the `sqlite3*` and closes it on deinit.
public final class SQLiteDatabase {
    public let path: String
    let handle: OpaquePointer

    public init(path: String, readOnly: Bool = false) throws(SQLiteError) {
        var db: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let status = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard status == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(status))
            sqlite3_close_v2(db)
            throw SQLiteError(function: "sqlite3_open_v2", code: status, message: "\(message) (\(path))", sql: nil)
        }
        sqlite3_extended_result_codes(db, 1)
        self.path = path
        self.handle = db
    }

    deinit { sqlite3_close_v2(handle) }

    func error(_ function: String, _ code: Int32, sql: String?) -> SQLiteError {
        SQLiteError(function: function, code: code, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws(SQLiteError) {
        let status = sqlite3_exec(handle, sql, nil, nil, nil)
        guard status == SQLITE_OK else { throw error("sqlite3_exec", status, sql: sql) }
    }

    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard status == SQLITE_OK, let statement else { throw error("sqlite3_prepare_v2", status, sql: sql) }
        return SQLiteStatement(database: self, handle: statement, sql: sql)
    }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    public var changes: Int { Int(sqlite3_changes(handle)) }
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    public enum TransactionKind: String, Sendable {
        /// Takes a read snapshot at the first read: for consistent reads across tables.
        case deferred = "DEFERRED"
        /// Takes the write lock at BEGIN, so two processes that read-then-write (the audit chain's
        /// head) queue on the busy timeout instead of both reading the same head.
        case immediate = "IMMEDIATE"
    }

    /// Runs `body` between BEGIN and COMMIT; any error rolls everything back and is rethrown.
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        try execute("BEGIN \(kind.rawValue)")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            // A failed COMMIT may already have rolled back (I/O errors do); a second ROLLBACK would fail.
            if isInTransaction { try? execute("ROLLBACK") }
            throw error
        }
    }

    /// `PRAGMA user_version`: the integer SQLite keeps in the file header for the application's schema version.
    public func userVersion() throws(SQLiteError) -> Int64 {
        guard case .integer(let version) = try prepare("PRAGMA user_version").rows().first?.first else { return 0 }
        return version
    }

    public func setUserVersion(_ version: Int64) throws(SQLiteError) {
        try execute("PRAGMA user_version = \(version)")
    }

    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }
}

/// A bound value.
public enum SQLiteValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A prepared statement. Owns the `sqlite3_stmt*`.
public final class SQLiteStatement {
    let database: SQLiteDatabase
    let handle: OpaquePointer
    public let sql: String

    init(database: SQLiteDatabase, handle: OpaquePointer, sql: String) {
        self.database = database
        self.handle = handle
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// Binds `values` to parameters 1...n (after resetting the statement).
    public func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32 = switch value {
            case .null: sqlite3_bind_null(handle, index)
            case .integer(let number): sqlite3_bind_int64(handle, index, number)
            case .real(let number): sqlite3_bind_double(handle, index, number)
            case .text(let text): sqlite3_bind_text(handle, index, text, -1, transient)
            case .blob(let bytes): bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), transient) }
            }
            guard status == SQLITE_OK else { throw database.error("sqlite3_bind", status, sql: sql) }
        }
    }

    /// Steps once; true while a row is available.
    public func step() throws(SQLiteError) -> Bool {
        let status = sqlite3_step(handle)
        switch status {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw database.error("sqlite3_step", status, sql: sql)
        }
    }

    /// Binds, runs to completion and returns every row.
    public func rows(_ values: [SQLiteValue] = []) throws(SQLiteError) -> [[SQLiteValue]] {
        try bind(values)
        var rows: [[SQLiteValue]] = []
        while try step() { rows.append((0..<sqlite3_column_count(handle)).map(column)) }
        return rows
    }

    /// Binds and runs a statement that returns no rows.
    public func run(_ values: [SQLiteValue] = []) throws(SQLiteError) {
        try bind(values)
        while try step() {}
    }

    func column(_ index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: .integer(sqlite3_column_int64(handle, index))
        case SQLITE_FLOAT: .real(sqlite3_column_double(handle, index))
        case SQLITE_TEXT: .text(String(cString: sqlite3_column_text(handle, index)))
        case SQLITE_BLOB:
            .blob(Array(UnsafeRawBufferPointer(start: sqlite3_column_blob(handle, index), count: Int(sqlite3_column_bytes(handle, index)))))
        default: .null
        }
    }
}

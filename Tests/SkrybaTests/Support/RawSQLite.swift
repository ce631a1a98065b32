import Foundation
import GRDB

/// A plain connection to an SQLite file, as the sqlite3 shell has it: no catalog rules, foreign keys
/// off (SQLite's default). For tests that look at what is stored, build old-format files, or tamper.
struct RawSQLite {
    let queue: DatabaseQueue

    init(path: String) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        queue = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// One or more statements, outside any transaction (like the shell).
    func execute(_ sql: String, _ arguments: StatementArguments = []) throws {
        try queue.writeWithoutTransaction { try $0.execute(sql: sql, arguments: arguments) }
    }

    func rows(_ sql: String, _ arguments: StatementArguments = []) throws -> [[DatabaseValue]] {
        try queue.writeWithoutTransaction { db in try Row.fetchAll(db, sql: sql, arguments: arguments).map { Array($0.databaseValues) } }
    }

    func userVersion() throws -> Int64 { try queue.read { try Int64.fetchOne($0, sql: "PRAGMA user_version") ?? 0 } }

    func setUserVersion(_ version: Int64) throws { try execute("PRAGMA user_version = \(version)") }
}

/// Stored values as the tests spell them.
extension DatabaseValue {
    static func text(_ text: String) -> DatabaseValue { text.databaseValue }
    static func integer(_ number: Int64) -> DatabaseValue { number.databaseValue }
    static func blob(_ bytes: [UInt8]) -> DatabaseValue { Data(bytes).databaseValue }
}

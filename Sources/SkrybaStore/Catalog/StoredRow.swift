import Foundation
import GRDB

/// A GRDB row read by column name, strictly: a value that is not what the schema promises (newer
/// firmware, or someone editing the file by hand) is refused with a sentence naming the table, the
/// row and the column (`CatalogError.unreadableRow`), where GRDB's own decoding would convert it
/// (text to blob, real to integer) or trap.
struct StoredRow {
    let row: Row
    let table: String
    /// How the row is named in errors: "R000012", "entry 7", …; "row" until its key is read.
    var key = "row"

    init(_ row: Row, table: String) {
        self.row = row
        self.table = table
    }

    private func unreadable(_ column: String, _ value: DatabaseValue) -> CatalogError {
        let shown = switch value.storage {
        case .null: "NULL"
        case .int64(let number): String(number)
        case .double(let number): String(number)
        case .string(let text): text
        case .blob(let bytes): "x'" + bytes.hex + "'"
        }
        return .unreadableRow(table: table, key: key, column: column, value: shown)
    }

    private func value(_ column: String) -> DatabaseValue { row[column] ?? .null }

    func optionalInteger(_ column: String) throws -> Int64? {
        switch value(column).storage {
        case .null: nil
        case .int64(let number): number
        default: throw unreadable(column, value(column))
        }
    }

    func integer(_ column: String) throws -> Int64 {
        guard let number = try optionalInteger(column) else { throw unreadable(column, .null) }
        return number
    }

    func optionalText(_ column: String) throws -> String? {
        switch value(column).storage {
        case .null: nil
        case .string(let text): text
        default: throw unreadable(column, value(column))
        }
    }

    func text(_ column: String) throws -> String {
        guard let text = try optionalText(column) else { throw unreadable(column, .null) }
        return text
    }

    func optionalBlob(_ column: String) throws -> Data? {
        switch value(column).storage {
        case .null: nil
        case .blob(let bytes): bytes
        default: throw unreadable(column, value(column))
        }
    }

    func blob(_ column: String) throws -> Data {
        guard let bytes = try optionalBlob(column) else { throw unreadable(column, .null) }
        return bytes
    }

    func optionalEnum<Value: RawRepresentable<String>>(_ column: String, as _: Value.Type = Value.self) throws -> Value? {
        guard let text = try optionalText(column) else { return nil }
        guard let value = Value(rawValue: text) else { throw unreadable(column, text.databaseValue) }
        return value
    }

    func enumValue<Value: RawRepresentable<String>>(_ column: String, as type: Value.Type = Value.self) throws -> Value {
        guard let value = try optionalEnum(column, as: type) else { throw unreadable(column, .null) }
        return value
    }

    func optionalDate(_ column: String) throws -> Date? {
        guard let text = try optionalText(column) else { return nil }
        guard let date = UTCTimestamp.date(from: text) else { throw unreadable(column, text.databaseValue) }
        return date
    }

    func date(_ column: String) throws -> Date {
        guard let date = try optionalDate(column) else { throw unreadable(column, .null) }
        return date
    }

    /// A JSON value stored as text (`recipients`, `hold_refs`, `gaps`).
    func optionalJSON<Value: Decodable>(_ column: String, as _: Value.Type = Value.self) throws -> Value? {
        guard let text = try optionalText(column) else { return nil }
        guard let value = try? JSONDecoder().decode(Value.self, from: Data(text.utf8)) else { throw unreadable(column, text.databaseValue) }
        return value
    }
}

extension Sequence where Element == UInt8 {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

import Foundation
import SkrybaSQLite

/// Reads a result row column by column, in SELECT order, naming the table, row and column when a
/// value is not what the schema promises (newer firmware, or someone editing the file by hand).
struct RowReader {
    let table: String
    var key = "row"
    private let row: [SQLiteValue]
    private var index = 0
    private var column = ""

    init(table: String, row: [SQLiteValue]) {
        self.table = table
        self.row = row
    }

    private mutating func next(_ name: String) -> SQLiteValue {
        column = name
        defer { index += 1 }
        return row[index]
    }

    private func unreadable(_ value: SQLiteValue) -> CatalogError {
        let shown = switch value {
        case .null: "NULL"
        case .integer(let number): String(number)
        case .real(let number): String(number)
        case .text(let text): text
        case .blob(let bytes): "x'" + bytes.hex + "'"
        }
        return .unreadableRow(table: table, key: key, column: column, value: shown)
    }

    mutating func optionalInteger(_ name: String) throws -> Int64? {
        switch next(name) {
        case .null: nil
        case .integer(let number): number
        case let other: throw unreadable(other)
        }
    }

    mutating func integer(_ name: String) throws -> Int64 {
        guard let number = try optionalInteger(name) else { throw unreadable(.null) }
        return number
    }

    mutating func optionalText(_ name: String) throws -> String? {
        switch next(name) {
        case .null: nil
        case .text(let text): text
        case let other: throw unreadable(other)
        }
    }

    mutating func text(_ name: String) throws -> String {
        guard let text = try optionalText(name) else { throw unreadable(.null) }
        return text
    }

    mutating func blob(_ name: String) throws -> Data {
        guard case .blob(let bytes) = next(name) else { throw unreadable(row[index - 1]) }
        return Data(bytes)
    }

    mutating func optionalBlob(_ name: String) throws -> Data? {
        switch next(name) {
        case .null: nil
        case .blob(let bytes): Data(bytes)
        case let other: throw unreadable(other)
        }
    }

    mutating func optionalEnum<Value: RawRepresentable<String>>(_ name: String, as _: Value.Type = Value.self) throws -> Value? {
        guard let text = try optionalText(name) else { return nil }
        guard let value = Value(rawValue: text) else { throw unreadable(.text(text)) }
        return value
    }

    mutating func enumValue<Value: RawRepresentable<String>>(_ name: String, as type: Value.Type = Value.self) throws -> Value {
        guard let value = try optionalEnum(name, as: type) else { throw unreadable(.null) }
        return value
    }

    mutating func optionalDate(_ name: String) throws -> Date? {
        guard let text = try optionalText(name) else { return nil }
        guard let date = UTCTimestamp.date(from: text) else { throw unreadable(.text(text)) }
        return date
    }

    mutating func date(_ name: String) throws -> Date {
        guard let date = try optionalDate(name) else { throw unreadable(.null) }
        return date
    }

    mutating func optionalStringArray(_ name: String) throws -> [String]? {
        guard let text = try optionalText(name) else { return nil }
        guard let array = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else { throw unreadable(.text(text)) }
        return array
    }

    mutating func gaps(_ name: String) throws -> [RecordingGap] {
        guard let text = try optionalText(name) else { return [] }
        guard let gaps = try? JSONDecoder().decode([RecordingGap].self, from: Data(text.utf8)) else { throw unreadable(.text(text)) }
        return gaps
    }
}

extension Sequence where Element == UInt8 {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

import Foundation
import SkrybaPipeline
import SkrybaSystem
import GRDB
import SkrybaStore
import Testing

/// Everything under Tests/SkrybaTests/Store (catalog, audit log, device key): `swift test --filter Store`.
@Suite enum StoreTests {}

/// Fixed times: every stored timestamp in these tests is exact.
enum StoreTime {
    /// 2025-03-14T09:26:53.589Z
    static let t0 = Date(timeIntervalSince1970: 1_741_944_413.589)
    static func at(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_741_944_413.589 + seconds) }
}

/// Two recipients in age's own format (the first is the age spec's example).
let testRecipients = [
    "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
    "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg",
]

/// A data directory with a catalog and a device key, as `skrybad` makes on first start.
struct StoreFixture {
    let directory: String
    let catalog: Catalog
    let key: DeviceKey
    var catalogPath: String { "\(directory)/catalog.sqlite" }

    init(_ name: String) throws {
        directory = try makeTemporaryDirectory(prefix: "skryba-store-\(name)")
        catalog = try Catalog(dataDirectory: directory)
        key = try DeviceKey.loadOrCreate(dataDirectory: directory, audit: catalog.audit, at: StoreTime.t0)
    }

    /// Entries 1…9: the key (1), settings (2–5), a checkpoint (6), a console login and two more settings (7–9).
    static func withCheckpointedLog(_ name: String) throws -> StoreFixture {
        let fixture = try StoreFixture(name)
        let audit = fixture.catalog.audit
        for (offset, value) in ["30", "31", "32", "33"].enumerated() {
            try audit.append(.configChanged, details: ["setting": "retention_days", "value": value], actor: "console:technician",
                             at: StoreTime.at(Double(offset + 1)))
        }
        try audit.checkpoint(signer: fixture.key, at: StoreTime.at(10))
        try audit.append(.consoleLogin, actor: "console:technician", at: StoreTime.at(20))
        try audit.append(.configChanged, details: ["setting": "retention_days", "value": "34"], at: StoreTime.at(21))
        try audit.append(.configChanged, details: ["setting": "retention_days", "value": "35"], at: StoreTime.at(22))
        return fixture
    }
}

/// Root on the appliance: its own connection to catalog.sqlite, the append-only triggers dropped
/// first, free to edit any row and to recompute hashes as the documented format allows.
struct Attacker {
    let database: RawSQLite

    init(_ path: String) throws {
        database = try RawSQLite(path: path)
        try database.execute("""
            DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;
            DROP TRIGGER audit_checkpoints_no_update; DROP TRIGGER audit_checkpoints_no_delete
            """)
    }

    func sql(_ statement: String, _ values: [DatabaseValue] = []) throws {
        try database.execute(statement, StatementArguments(values))
    }

    /// Swaps the contents of two entries (everything but seq), hashes and all.
    func swapEntries(_ first: Int64, _ second: Int64) throws {
        let columns = "time_utc, kind, subject, actor, details, prev_hash, hash"
        let read = "SELECT \(columns) FROM audit_log WHERE seq = ?"
        let (a, b) = (try database.rows(read, [first])[0], try database.rows(read, [second])[0])
        let write = "UPDATE audit_log SET (\(columns)) = (?, ?, ?, ?, ?, ?, ?) WHERE seq = ?"
        try sql(write, b + [.integer(first)])
        try sql(write, a + [.integer(second)])
    }

    /// Recomputes hash and prev_hash of entries `seq…through`, so that stretch of chain is consistent again.
    func rechain(from seq: Int64, through last: Int64 = .max) throws {
        let rows = try database.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, time_utc, kind, subject, actor, details FROM audit_log WHERE seq BETWEEN ? AND ? ORDER BY seq",
                             arguments: [seq, last])
        }
        let previous = try database.queue.read { db in try Data.fetchOne(db, sql: "SELECT hash FROM audit_log WHERE seq = ?", arguments: [seq - 1]) }
        var prevHash = previous ?? Data(count: 32)
        for row in rows {
            let seq: Int64 = row["seq"], time: String = row["time_utc"], kind: String = row["kind"]
            let subject: String? = row["subject"], actor: String = row["actor"], details: String = row["details"]
            let hash = AuditEntry.hash(prevHash: prevHash, seq: seq, timeUTC: time, kind: kind, subject: subject, actor: actor, details: details)
            try sql("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", [prevHash.databaseValue, hash.databaseValue, .integer(seq)])
            prevHash = hash
        }
    }
}

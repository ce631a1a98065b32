import Foundation
import GRDB
import SkrybaSystem
import Testing
@testable import SkrybaStore

extension StoreTests {
    /// Tests/SkrybaTests/Fixtures/catalog-v5.sqlite was written by the catalog code before GRDB
    /// (the hand-written SQLite wrapper, schema `user_version` 5, no `grdb_migrations`), by the
    /// test helper `makeCatalogFixture` of commit "store: a catalog fixture written by the current
    /// code": nine recordings in every status (one with two gaps, one erased, one restricted, one
    /// corrected, one still recording), a released and an active hold, a secured copy, a retention
    /// schedule and a signed checkpoint. The firmware must carry such a catalog forward in place.
    @Suite struct CatalogFixture {
        static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/catalog-v5.sqlite").path
        static let tables = ["recordings", "audit_log", "audit_checkpoints", "holds", "hold_members", "secured_copies", "corrections",
                             "sqlite_sequence"]

        /// A private copy: the committed file is never opened for writing.
        static func copy(_ name: String) throws -> String {
            let directory = try makeTemporaryDirectory(prefix: "skryba-fixture-\(name)")
            let path = "\(directory)/catalog.sqlite"
            try FileManager.default.copyItem(atPath: fixture, toPath: path)
            return path
        }

        /// Each table's columns, in order.
        static func columns(_ database: RawSQLite) throws -> [String: [String]] {
            var columns: [String: [String]] = [:]
            for table in tables {
                columns[table] = try database.rows("SELECT name FROM pragma_table_info('\(table)') ORDER BY cid").compactMap {
                    if case .string(let name) = $0.first?.storage { name } else { nil }
                }
            }
            return columns
        }

        /// The values of `columns` (the fixture's own: later migrations add columns, never change these).
        static func contents(_ database: RawSQLite, columns: [String: [String]]) throws -> [String: [[DatabaseValue]]] {
            var contents: [String: [[DatabaseValue]]] = [:]
            // By the first columns: hold_members has no rowid.
            for table in tables {
                let list = (columns[table] ?? ["*"]).joined(separator: ", ")
                contents[table] = try database.rows("SELECT \(list) FROM \(table) ORDER BY 1, 2")
            }
            return contents
        }

        static func schema(_ database: RawSQLite) throws -> [[DatabaseValue]] {
            try database.rows("SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
        }

        @Test func aCatalogWrittenBeforeGRDBIsMigratedInPlaceWithEveryRow() throws {
            let path = try Self.copy("migrate")
            let before: [String: [[DatabaseValue]]]
            let fixtureColumns: [String: [String]]
            do {
                let raw = try RawSQLite(path: path)
                #expect(try raw.userVersion() == 5)
                #expect(try raw.rows("SELECT name FROM sqlite_schema WHERE name = 'grdb_migrations'") == [], "made before GRDB")
                fixtureColumns = try Self.columns(raw)
                before = try Self.contents(raw, columns: fixtureColumns)
            }
            #expect(before["recordings"]?.count == 9 && before["holds"]?.count == 3 && before["secured_copies"]?.count == 1
                    && before["corrections"]?.count == 1 && before["audit_checkpoints"]?.isEmpty == false)

            let catalog = try Catalog(path: path)
            // Every stored value is still there, byte for byte.
            let raw = try RawSQLite(path: path)
            #expect(try Self.contents(raw, columns: fixtureColumns) == before)
            // Columns added after v5 start empty: nothing is invented for old rows.
            #expect(try raw.rows("SELECT count(*) FROM recordings WHERE line_number IS NOT NULL") == [[0.databaseValue]])
            #expect(try raw.userVersion() == Catalog.schemaVersion)
            #expect(try raw.rows("SELECT identifier FROM grdb_migrations ORDER BY identifier")
                == Schema.migrations.map { [.text($0.identifier)] })

            // And it reads back through the catalog with the values the old code wrote.
            let rows = try catalog.recordings()
            #expect(rows.map(\.id.rawValue) == Array(1...9))
            #expect(rows.map(\.status) == [.complete, .complete, .interrupted, .discarded, .failed, .recording, .complete, .complete, .complete])
            let first = rows[0]
            #expect(first.gaps == [RecordingGap(startFrame: 107_200, frames: 2560, recordingStartFrame: 8000, rate: 8000),
                                   RecordingGap(startFrame: 256_160, frames: 1280, recordingStartFrame: 8000, rate: 8000)])
            #expect(first.announcement == Announcement(id: "intro-pl-v2", sha256: String(repeating: "ab", count: 32), completed: true))
            #expect(first.callerNumber == "+48748800100" && first.dialedDigits == "12" && first.consent == .given)
            #expect(first.holdRefs == ["SO-2026/14"] && first.durationMs == 60_000 && first.fileSize == 61_234)
            #expect(rows[1].clockUntrusted && rows[1].direction == .outgoing && rows[1].holdRefs == ["secured-copy 1"])
            #expect(rows[2].holdRefs == ["SO-2026/14"])
            #expect(rows[4].failureReason == "creating the file failed: No space left on device (errno 28)" && rows[4].callerNumber == nil)
            #expect(rows[5].recipients.count == 2 && rows[5].endFrame == nil)
            #expect(rows[6].isDeleted && rows[6].callerNumber == nil && rows[6].deletionRule?.hasPrefix("erasure") == true)
            #expect(rows[7].isRestricted)
            #expect(rows[8].callerNumber == "+48500700701")
            #expect(rows.allSatisfy { $0.status == .discarded || $0.status == .failed || $0.retentionRule != nil || $0.isDeleted })
            #expect(try catalog.holds(includeReleased: true).map { "\($0.caseReference) \($0.releasedUTC == nil ? "active" : "released")" }
                == ["SO-2026/14 active", "SKARGA-7 released", "secured-copy 1 active"])

            let verification = try catalog.audit.verify()
            #expect(verification.isIntact, "\(verification.summary)")
            #expect(verification.entryCount == before["audit_log"]?.count)
            #expect(verification.checkpointCount == before["audit_checkpoints"]?.count)

            // The migrated catalog works on: a new recording takes the next id, its entry chains on.
            let id = try catalog.insert(NewRecording(line: 1, direction: .incoming, startUTC: StoreTime.t0, startFrame: 0,
                                                     recipients: [testRecipients[0]]), at: StoreTime.t0)
            #expect(id.rawValue == 10)
            #expect(try catalog.audit.verify().isIntact)
        }

        @Test func aMigratedCatalogHasTheSchemaOfANewOne() throws {
            let migrated = try Self.copy("schema")
            _ = try Catalog(path: migrated)
            let directory = try makeTemporaryDirectory(prefix: "skryba-fixture-new")
            _ = try Catalog(dataDirectory: directory)
            let fresh = try Self.schema(RawSQLite(path: "\(directory)/catalog.sqlite"))
            #expect(try Self.schema(RawSQLite(path: migrated)) == fresh)
            #expect(fresh.contains { $0[1] == .text("grdb_migrations") })
            // Opening again applies nothing.
            _ = try Catalog(path: migrated)
            #expect(try RawSQLite(path: migrated).rows("SELECT count(*) FROM grdb_migrations") == [[.integer(Int64(Schema.migrations.count))]])
        }
    }
}

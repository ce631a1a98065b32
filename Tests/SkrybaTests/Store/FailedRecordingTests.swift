import Foundation
import Testing
import GRDB
import SkrybaSystem
@testable import SkrybaStore

/// Schema version 4: the `failed` status and its reason, migrated onto a catalog version 2 made
/// with rows, holds and an AUTOINCREMENT counter that must all survive the table's rebuild.
@Suite struct FailedRecordingTests {
    static let recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

    @Test func aVersion2CatalogMigratesKeepingRowsHoldsAndIDs() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-migrate-3")
        let path = "\(directory)/catalog.sqlite"
        do {
            let old = try RawSQLite(path: path)
            try old.execute("PRAGMA journal_mode = WAL")
            for migration in Schema.migrations where migration.version <= 2 { try old.execute(migration.sql) }
            try old.setUserVersion(2)
            try old.execute("""
                INSERT INTO recordings (line, direction, start_utc, start_frame, status, caller_number, recipients, created_utc, updated_utc)
                VALUES (1, 'incoming', '2026-11-30T10:00:00.000Z', 0, 'complete', '221234567', '[]', '2026-11-30T10:00:00.000Z', '2026-11-30T10:00:00.000Z'),
                       (2, 'outgoing', '2026-11-30T11:00:00.000Z', 0, 'recording', NULL, '[]', '2026-11-30T11:00:00.000Z', '2026-11-30T11:00:00.000Z');
                DELETE FROM recordings WHERE id = 2;
                INSERT INTO holds (case_ref, kind, reason, created_utc, created_by) VALUES ('I C 1/26', 'legal', 'evidence', '2026-11-30T12:00:00.000Z', 'dpo');
                INSERT INTO hold_members (hold, recording, added_utc) VALUES (1, 1, '2026-11-30T12:00:00.000Z');
                """)
        }
        let catalog = try Catalog(path: path)
        let rows = try catalog.recordings()
        #expect(rows.map(\.id) == [RecordingID(rawValue: 1)] && rows.first?.callerNumber == "221234567" && rows.first?.status == .complete)
        #expect(try catalog.holds().map(\.recordings) == [[RecordingID(rawValue: 1)]])
        let id = try catalog.insert(NewRecording(line: 3, direction: .incoming, startUTC: Date(), startFrame: 0, recipients: [Self.recipient],
                                                 callerNumber: "600700800"), at: Date())
        #expect(id.rawValue == 3, "the AUTOINCREMENT counter survived: id 2 is never reused")
        try catalog.finish(id, status: .failed, endFrame: nil, durationMs: nil, fileSize: nil, fileSHA256: nil,
                           reason: "its file could not be created: EMFILE", at: Date())
        let failed = try #require(try catalog.recording(id))
        #expect(failed.status == .failed && failed.failureReason == "its file could not be created: EMFILE" && failed.callerNumber == nil)
        #expect(try catalog.audit.entries().last?.kind == "recording-failed")

        try catalog.connection.read("test") { db in
            #expect(try Bool.fetchOne(db, sql: "PRAGMA foreign_keys") == true)
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
            let dependents = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_schema WHERE tbl_name = 'recordings' AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY name
                """)
            #expect(dependents == ["recordings_by_caller_number", "recordings_by_start", "recordings_by_status", "recordings_deletion_is_final", "recordings_to_delete",
                                   "recordings_unscheduled"])
        }
        // Still only the statuses the catalog knows.
        #expect(throws: CatalogError.self) {
            try catalog.connection.write("test") { try $0.execute(sql: "UPDATE recordings SET status = 'lost' WHERE id = 1") }
        }
    }

    @Test func aFailedRecordingNeedsItsReasonAndHasNoFile() throws {
        let catalog = try Catalog(dataDirectory: try makeTemporaryDirectory(prefix: "skryba-failed"))
        let id = try catalog.insert(NewRecording(line: 1, direction: .outgoing, startUTC: Date(), startFrame: 0, recipients: [Self.recipient]), at: Date())
        let refusal = CatalogError.invalid(id, reason: "a failed recording has no file (so no size or SHA-256) and needs the reason it failed")
        #expect(throws: refusal) {
            try catalog.finish(id, status: .failed, endFrame: nil, durationMs: nil, fileSize: nil, fileSHA256: nil, reason: nil, at: Date())
        }
        #expect(throws: refusal) {
            try catalog.finish(id, status: .failed, endFrame: nil, durationMs: nil, fileSize: 10, fileSHA256: nil, reason: "EIO", at: Date())
        }
        #expect(try catalog.recording(id)?.status == .recording)
    }
}

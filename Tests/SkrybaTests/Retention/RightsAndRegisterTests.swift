import Foundation
import GRDB
import SkrybaSystem
import Testing
@testable import SkrybaStore

extension RetentionTests {
    /// Data-subject rights (restriction, rectification, erasure), the secured-copies register, and
    /// the migration of a version-1 catalog.
    @Suite struct RightsAndRegisterTests {
        @Test func aRestrictedRecordingIsKeptButNotExported() throws {
            let fixture = try RetentionFixture("restrict")
            let first = try fixture.record(start: utc("2026-01-05T09:15:00.000Z"))
            let second = try fixture.record(start: utc("2026-01-05T09:25:00.000Z"))
            try fixture.rights.restrict(first, reason: "art. 18(1)(a): accuracy contested, request of 2026-01-06", by: "console:dpo",
                                        at: utc("2026-01-06T10:00:00.000Z"))
            #expect(try fixture.catalog.exportableRecordings().map(\.id) == [second])
            #expect(try fixture.catalog.recordings(includeDeleted: false, includeRestricted: true).map(\.id) == [first, second])
            #expect(utcText(try fixture.catalog.recording(first)?.restrictedUTC) == "2026-01-06T10:00:00.000Z")
            #expect(throws: RetentionError.invalid("recording R000001 is already restricted (since 2026-01-06T10:00:00.000Z); nothing was restricted")) {
                try fixture.rights.restrict(first, reason: "again", by: "console:dpo", at: utc("2026-01-06T11:00:00.000Z"))
            }
            try fixture.rights.unrestrict(first, reason: "accuracy confirmed", by: "console:dpo", at: utc("2026-01-07T10:00:00.000Z"))
            #expect(try fixture.catalog.exportableRecordings().map(\.id) == [first, second])
            let entries = try fixture.catalog.audit.entries().suffix(2)
            #expect(entries.map(\.kind) == ["recording-restricted", "recording-unrestricted"])
            #expect(entries.last?.details == #"{"reason":"accuracy confirmed","restricted_since_utc":"2026-01-06T10:00:00.000Z"}"#)
            // Restriction does not stop retention (a hold does that).
            let report = try fixture.engine(RetentionPolicy(default: .days(30))).run(at: utc("2026-02-05T00:00:00.000Z"))
            #expect(report.deleted.map(\.recording) == [first, second])
        }

        @Test func aCorrectionKeepsThePreviousValueUntilTheRecordingGoesAndNeverInTheLog() throws {
            let fixture = try RetentionFixture("correct")
            let id = try fixture.record(start: utc("2026-01-05T09:15:00.000Z"), callerNumber: "+48748800100")
            let correction = try fixture.rights.correct(id, callerNumber: "+48601234567",
                                                        reason: "caller ID showed the switchboard; request of 2026-01-06",
                                                        by: "console:dpo", at: utc("2026-01-06T10:00:00.000Z"))
            #expect(try fixture.catalog.recording(id)?.callerNumber == "+48601234567")
            #expect(correction.previousValue == "+48748800100")
            let entry = try #require(try fixture.entries(kind: .recordingCorrected).last)
            #expect(entry.subject == "R000001")
            #expect(correction.matches(entry), "the log commits to the value kept in corrections")
            #expect(entry.decodedDetails?["previous_hmac_sha256"] == Correction.commitment("+48748800100", salt: try #require(correction.salt)))
            #expect(try fixture.rights.corrections(of: id) == [correction])
            // Someone edits the kept previous value: it no longer matches the log.
            var edited = correction
            edited.previousValue = "+48748800999"
            #expect(!edited.matches(entry))

            #expect(throws: RetentionError.invalid("recording R000001 already has that caller number; nothing was corrected")) {
                try fixture.rights.correct(id, callerNumber: "+48601234567", reason: "again", by: "console:dpo", at: utc("2026-01-06T11:00:00.000Z"))
            }

            // Retention ends it: the row, the correction and the log hold no number any more.
            _ = try fixture.engine(RetentionPolicy(default: .days(30))).run(at: utc("2026-02-05T00:00:00.000Z"))
            #expect(try rawPersonalData(fixture.catalog, id) == [nil, nil])
            let erased = try #require(try fixture.rights.corrections(of: id).first)
            #expect(erased.previousValue == nil && erased.newValue == nil && erased.salt == nil)
            #expect(utcText(erased.erasedUTC) == "2026-02-05T00:00:00.000Z")
            #expect(!erased.matches(entry))
            let log = try fixture.wholeAuditText()
            #expect(!log.contains("748800100") && !log.contains("601234567"), "no caller number ever reaches the audit log")
        }

        @Test func theRegisterListsEveryFieldAndExportsCSV() throws {
            let fixture = try RetentionFixture("register")
            let id = try fixture.record(line: 1, start: utc("2026-01-05T09:15:00.000Z"), records: 3, callerNumber: "+48601234567")
            let copy = try fixture.copies.secure(id, calledNumber: "+48748800100 (MOPS, line 1)", madeBy: "Jan Kowalski, ASI",
                                                 requestReceived: utc("2026-01-09T08:00:00.000Z"), at: utc("2026-01-09T09:00:00.000Z"))
            let row = try #require(try fixture.catalog.recording(id))
            #expect(copy == SecuredCopy(
                sequence: 1, recording: id, caseReference: "secured-copy 1", periodFromUTC: utc("2026-01-05T09:15:00.000Z"),
                periodToUTC: utc("2026-01-05T09:15:03.000Z"), callerNumber: "+48601234567", calledNumber: "+48748800100 (MOPS, line 1)",
                requestReceivedUTC: utc("2026-01-09T08:00:00.000Z"), requestedUTC: utc("2026-01-09T09:00:00.000Z"), overrideReason: nil,
                madeBy: "Jan Kowalski, ASI", madeUTC: utc("2026-01-09T09:00:00.000Z"), filePath: "secured/1-R000001.skryba",
                fileSize: row.fileSize, fileSHA256: row.fileSHA256, expiresUTC: utc("2026-05-09T08:00:00.000Z")))
            // Byte for byte, private to the appliance.
            let copyPath = "\(fixture.directory)/secured/1-R000001.skryba"
            #expect(try Data(contentsOf: URL(fileURLWithPath: copyPath)) == Data(contentsOf: URL(fileURLWithPath: try fixture.path(id))))
            #expect((try FileManager.default.attributesOfItem(atPath: copyPath)[.posixPermissions] as? NSNumber)?.intValue == 0o600)

            try fixture.copies.recordRelease(sequence: 1, note: "handed to KMP Wałbrzych, protocol 12/2026", by: "console:dpo",
                                             at: utc("2026-02-02T10:00:00.000Z"))
            let secured = try #require(try fixture.entries(kind: .copySecured).last)
            #expect(secured.details == """
                {"called_number":"+48748800100 (MOPS, line 1)","case_ref":"secured-copy 1","expires_utc":"2026-05-09T08:00:00.000Z",\
                "file":"secured/1-R000001.skryba","file_sha256":"\(row.fileSHA256!)","file_size":"\(row.fileSize!)",\
                "made_by":"Jan Kowalski, ASI","matches_recording":"true","request_received_utc":"2026-01-09T08:00:00.000Z","sequence":"1"}
                """)
            #expect(try fixture.copies.registerCSV() == """
                sequence,recording,period_from_utc,period_to_utc,caller_number,called_number,request_received_utc,made_utc,made_by,\
                signature,expires_utc,renewed_utc,released_utc,release_note,destroyed_utc,destruction_note,late_request_override,copy_file,copy_sha256
                1,R000001,2026-01-05T09:15:00.000Z,2026-01-05T09:15:03.000Z,'+48601234567,"'+48748800100 (MOPS, line 1)",\
                2026-01-09T08:00:00.000Z,2026-01-09T09:00:00.000Z,"Jan Kowalski, ASI",,2026-05-09T08:00:00.000Z,,\
                2026-02-02T10:00:00.000Z,"handed to KMP Wałbrzych, protocol 12/2026",,,,secured/1-R000001.skryba,\(row.fileSHA256!)

                """)
            #expect(SecuredCopies.csvCell("note\r\nsecond line") == "\"note\r\nsecond line\"")
            #expect(SecuredCopies.csvCell(#"=HYPERLINK("x")"#) == #""'=HYPERLINK(""x"")""#)
            #expect(!(try fixture.wholeAuditText()).contains("601234567"))
            let destroyed = try fixture.copies.destroy(sequence: 1, note: "proceedings closed", by: "console:dpo", at: utc("2026-03-01T10:00:00.000Z"))
            #expect(destroyed.rule == "destroyed: proceedings closed")
            let receipt = try #require(try fixture.entries(kind: .deletionReceipt).last)
            #expect(DeletionReceipt.verify(entry: receipt, publicKey: fixture.key.publicKey))
            #expect(DeletionReceipt(entry: receipt)?.items.map(\.subject) == ["secured copy 1 of R000001"])
            #expect(try fixture.copies.register().first?.callerNumber == nil)
            #expect(!FileManager.default.fileExists(atPath: copyPath))
            #expect(throws: RetentionError.copyDestroyed(1, at: utc("2026-03-01T10:00:00.000Z"))) {
                try fixture.copies.recordRelease(sequence: 1, note: "again", at: utc("2026-03-02T10:00:00.000Z"))
            }
        }

        @Test func aVersionOneCatalogMigratesWithItsRowsIntact() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-retention-migrate")
            let path = "\(directory)/catalog.sqlite"
            do {
                let database = try RawSQLite(path: path)
                try database.execute(Schema.migrations[0].sql)
                try database.setUserVersion(1)
                try database.execute("""
                    INSERT INTO recordings (line, direction, start_utc, start_frame, status, caller_number, recipients, created_utc, updated_utc,
                        retention_deadline_utc)
                    VALUES (1, 'incoming', '2025-03-14T09:26:53.589Z', 0, 'interrupted', '+48914245000', '["age1x"]',
                        '2025-03-14T09:26:53.589Z', '2025-03-14T09:26:53.589Z', '2025-04-13T09:26:53.589Z')
                    """)
            }
            let catalog = try Catalog(path: path)
            #expect(try RawSQLite(path: path).userVersion() == Catalog.schemaVersion)
            let row = try #require(try catalog.recording(RecordingID(rawValue: 1)))
            #expect(row.callerNumber == "+48914245000")
            #expect(row.retentionRule == nil && row.deletionStartedUTC == nil && row.deletedUTC == nil && row.restrictedUTC == nil)
            #expect(!row.clockUntrusted, "rows from before migration 3 count as dated on a trusted clock")
            // A deletion cannot be undone, even by hand.
            let raw = try RawSQLite(path: path)
            try raw.execute("UPDATE recordings SET deletion_started_utc = '2025-04-13T10:00:00.000Z', deletion_rule = 'capacity', deleted_utc = '2025-04-13T10:00:00.000Z', caller_number = NULL")
            #expect(throws: DatabaseError.self) { try raw.execute("UPDATE recordings SET deleted_utc = NULL") }
            #expect(throws: DatabaseError.self) { try raw.execute("UPDATE recordings SET caller_number = '+48914245000'") }
        }
    }
}

import Foundation
import Testing
import SkrybaPipeline
import SkrybaSystem
import GRDB
@testable import SkrybaStore

extension StoreTests {
    /// The catalog on real SQLite files: exact rows, exact audit entries, refused transitions, migrations.
    @Suite struct CatalogTests {
        static let announcement = Announcement(id: "szczecin-2017-v2", sha256: String(repeating: "ab", count: 32))
        static let incoming = NewRecording(
            line: 2, direction: .incoming, startUTC: StoreTime.t0, startFrame: 480_000, recipients: testRecipients,
            callerNumber: "+48914245000", announcement: announcement,
            retentionDeadlineUTC: Date(timeIntervalSince1970: 1_757_496_413.589))
        static let sealedSHA256 = String(repeating: "0123456789abcdef", count: 4)

        @Test func aCallFromStartToCompleteIsOneRowAndTwoAuditEntries() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-catalog")
            let catalog = try Catalog(dataDirectory: directory)
            let id = try catalog.insert(Self.incoming, at: StoreTime.at(0.02))
            #expect(id == RecordingID(rawValue: 1))
            #expect(id.description == "R000001")
            let path = DataLayout.recordingPath(id, startUTC: Self.incoming.startUTC)
            #expect(path == "recordings/2025/03/14/R000001.skryba")
            try catalog.setFile(id, relativePath: path, at: StoreTime.at(0.03))
            try catalog.finish(id, status: .complete, endFrame: 1_440_000, durationMs: 60_000, fileSize: 98_304,
                               fileSHA256: Self.sealedSHA256, reason: nil, consent: .given, announcementCompleted: true,
                               at: StoreTime.at(60.5))

            var expectedAnnouncement = Self.announcement
            expectedAnnouncement.completed = true
            let expected = RecordingRow(
                id: id, line: 2, direction: .incoming, startUTC: StoreTime.t0, startFrame: 480_000, endFrame: 1_440_000,
                durationMs: 60_000, status: .complete, callerNumber: "+48914245000", announcement: expectedAnnouncement,
                consent: .given, filePath: path, fileSize: 98_304, fileSHA256: Self.sealedSHA256,
                retentionDeadlineUTC: Date(timeIntervalSince1970: 1_757_496_413.589), recipients: testRecipients,
                createdUTC: StoreTime.at(0.02), updatedUTC: StoreTime.at(60.5))
            #expect(try catalog.recording(id) == expected)
            #expect(try catalog.recordings() == [expected])
            #expect(try catalog.recordings(status: .complete) == [expected])
            #expect(try catalog.recordings(status: .recording) == [])
            #expect(try catalog.recording(RecordingID(rawValue: 2)) == nil)

            // What a DPO sees with the sqlite3 shell: the stored text, not Swift's view of it.
            let raw = try RawSQLite(path: catalog.path).rows("""
                SELECT start_utc, direction, status, announcement_completed, consent, recipients, hold_refs,
                       retention_deadline_utc, created_utc, updated_utc FROM recordings
                """)
            #expect(raw == [[.text("2025-03-14T09:26:53.589Z"), .text("incoming"), .text("complete"), .integer(1), .text("given"),
                             .text(#"["\#(testRecipients[0])","\#(testRecipients[1])"]"#), .null, .text("2025-09-10T09:26:53.589Z"),
                             .text("2025-03-14T09:26:53.609Z"), .text("2025-03-14T09:27:54.089Z")]])

            let entries = try catalog.audit.entries()
            #expect(entries.map(\.seq) == [1, 2])
            #expect(entries.map(\.kind) == ["recording-started", "recording-finished"])
            #expect(entries.map(\.subject) == ["R000001", "R000001"])
            #expect(entries.map(\.actor) == ["skrybad", "skrybad"])
            #expect(entries.map(\.timeUTC) == ["2025-03-14T09:26:53.609Z", "2025-03-14T09:27:54.089Z"])
            #expect(entries[0].details == """
                {"announcement_id":"szczecin-2017-v2","announcement_sha256":"\(Self.announcement.sha256)","direction":"incoming",\
                "line":"2","recipients":"\(testRecipients.joined(separator: ","))","retention_deadline_utc":"2025-09-10T09:26:53.589Z",\
                "start_frame":"480000","start_utc":"2025-03-14T09:26:53.589Z"}
                """)
            #expect(entries[1].details == """
                {"announcement_completed":"true","consent":"given","duration_ms":"60000","end_frame":"1440000",\
                "file":"recordings/2025/03/14/R000001.skryba","file_sha256":"\(Self.sealedSHA256)","file_size":"98304",\
                "status":"complete"}
                """)
            // No caller number in the log: it is never erased, the number must be when the recording goes.
            #expect(!entries.contains { $0.details.contains("+48914245000") })
            #expect(entries[1].prevHash == entries[0].hash)
        }

        @Test func finishingTwiceIsRefusedAndLeavesRowAndLogAsTheyWere() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-catalog-twice")
            let catalog = try Catalog(dataDirectory: directory)
            var ids: [RecordingID] = []
            for _ in 1...12 { ids.append(try catalog.insert(Self.incoming, at: StoreTime.t0)) }
            let id = ids[11]
            try catalog.setFile(id, relativePath: "recordings/2025/03/14/R000012.skryba", at: StoreTime.t0)
            try catalog.finish(id, status: .complete, endFrame: 480_160, durationMs: 20, fileSize: 400, fileSHA256: Self.sealedSHA256,
                               reason: nil, at: StoreTime.at(1))
            let before = (try catalog.recording(id), try catalog.audit.entries())

            let error = #expect(throws: CatalogError.self) {
                try catalog.finish(id, status: .interrupted, endFrame: nil, durationMs: nil, fileSize: nil, fileSHA256: nil,
                                   reason: "power lost", at: StoreTime.at(2))
            }
            #expect(error?.description == "recording R000012 is already complete; refusing to mark it interrupted")
            #expect(throws: CatalogError.alreadyFinished(id, status: .complete, refused: "set its file")) {
                try catalog.setFile(id, relativePath: "elsewhere.skryba", at: StoreTime.at(2))
            }
            #expect(try catalog.recording(id) == before.0)
            #expect(try catalog.audit.entries() == before.1)
        }

        @Test func inconsistentRequestsAreRefusedNamingTheRecording() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-catalog-refusals")
            let catalog = try Catalog(dataDirectory: directory)
            let id = try catalog.insert(NewRecording(line: 1, direction: .line, startUTC: StoreTime.t0, startFrame: 8000,
                                                     recipients: [testRecipients[0]]), at: StoreTime.t0)
            func message(_ body: () throws -> Void) -> String? {
                (#expect(throws: CatalogError.self, performing: body))?.description
            }
            func finish(_ status: RecordingStatus, endFrame: UInt64? = 16000, durationMs: Int64? = 1000, fileSize: Int64? = 10,
                        sha: String? = Self.sealedSHA256, announcementCompleted: Bool? = nil) throws {
                try catalog.finish(id, status: status, endFrame: endFrame, durationMs: durationMs, fileSize: fileSize, fileSHA256: sha,
                                   reason: nil, announcementCompleted: announcementCompleted, at: StoreTime.at(1))
            }
            #expect(message { try finish(.recording) } == "recording R000001: cannot be finished as 'recording'; a finished recording is complete, interrupted or discarded")
            #expect(message { try finish(.complete) } == "recording R000001: a complete recording needs its file")
            #expect(message { try finish(.complete, durationMs: nil, fileSize: nil, sha: nil) }
                == "recording R000001: a complete recording needs its duration, file, file size, file SHA-256")
            #expect(message { try finish(.complete, sha: "ABC") } == "recording R000001: file SHA-256 'ABC' is not 64 lowercase hex digits")
            #expect(message { try finish(.interrupted, endFrame: 4000) } == "recording R000001: end frame 4000 is before its start frame 8000")
            #expect(message { try finish(.discarded) }
                == "recording R000001: a discarded recording's audio is destroyed; it has no file size or SHA-256 to keep")
            #expect(message { try finish(.interrupted, announcementCompleted: true) }
                == "recording R000001: no announcement was played, so it cannot have been completed or not")
            #expect(message { try catalog.setFile(id, relativePath: "/data/R1.skryba", at: StoreTime.t0) }
                == "recording R000001: file path '/data/R1.skryba' must be relative to the data directory")
            #expect(message { try catalog.setFile(id, relativePath: "recordings/../../etc/passwd", at: StoreTime.t0) }
                == "recording R000001: file path 'recordings/../../etc/passwd' must not contain empty, '.' or '..' components")
            try catalog.setFile(id, relativePath: "recordings/a.skryba", at: StoreTime.t0)
            try catalog.setFile(id, relativePath: "recordings/a.skryba", at: StoreTime.t0)  // the same again is harmless
            #expect(message { try catalog.setFile(id, relativePath: "recordings/b.skryba", at: StoreTime.t0) }
                == "recording R000001 already has file recordings/a.skryba; refusing to change it to recordings/b.skryba")
            #expect(message { try finish(.complete, durationMs: nil) } == "recording R000001: a complete recording needs its duration")
            #expect(message { try catalog.setFile(RecordingID(rawValue: 99), relativePath: "x.skryba", at: StoreTime.t0) }
                == "no recording R000099 in the catalog")
            #expect(message { _ = try catalog.insert(NewRecording(line: 1, direction: .line, startUTC: StoreTime.t0, startFrame: 0, recipients: []), at: StoreTime.t0) }
                == "a recording needs at least one age recipient (no key, no recording)")
            #expect(message { _ = try catalog.insert(NewRecording(line: 1, direction: .line, startUTC: StoreTime.t0, startFrame: 0, recipients: ["ssh-ed25519 AAAA"]), at: StoreTime.t0) }
                == "recipient 'ssh-ed25519 AAAA' is not an age X25519 recipient (age1…)")
            // The schema's own CHECKs stand behind the Swift checks.
            let line0 = message { _ = try catalog.insert(NewRecording(line: 0, direction: .line, startUTC: StoreTime.t0, startFrame: 0, recipients: testRecipients), at: StoreTime.t0) }
            #expect(line0?.hasPrefix("catalog \(catalog.path): recording the start of a call on line 0: SQLite failed: CHECK constraint failed: line >= 1") == true)
            #expect(try catalog.recordings().map(\.status) == [.recording])
            #expect(try catalog.audit.entries().count == 1)
        }

        @Test func aDiscardedCallKeepsNoPersonalData() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-catalog-discard")
            let catalog = try Catalog(dataDirectory: directory)
            var outgoing = Self.incoming
            outgoing.direction = .outgoing
            outgoing.dialedDigits = "0914245000"
            let id = try catalog.insert(Self.incoming, at: StoreTime.t0)
            let other = try catalog.insert(outgoing, at: StoreTime.t0)
            try catalog.setFile(id, relativePath: "recordings/2025/03/14/R000001.skryba", at: StoreTime.t0)
            try catalog.finish(id, status: .discarded, endFrame: 560_000, durationMs: 5000, fileSize: nil, fileSHA256: nil,
                               reason: "caller hung up during the announcement", consent: .hungUp, announcementCompleted: false,
                               at: StoreTime.at(5))
            try catalog.finish(other, status: .discarded, endFrame: nil, durationMs: nil, fileSize: nil, fileSHA256: nil,
                               reason: "caller pressed 9 to object", consent: .objected, at: StoreTime.at(6))
            let rows = try catalog.recordings(status: .discarded)
            #expect(rows.map(\.callerNumber) == [nil, nil])
            #expect(rows.map(\.dialedDigits) == [nil, nil])
            #expect(rows.map(\.consent) == [.hungUp, .objected])
            #expect(rows[0].filePath == "recordings/2025/03/14/R000001.skryba")  // kept: fsck checks the file is really gone
            let entries = try catalog.audit.entries()
            #expect(entries.map(\.kind) == ["recording-started", "recording-started", "recording-discarded", "recording-discarded"])
            #expect(entries[2].details == """
                {"announcement_completed":"false","consent":"hung-up","duration_ms":"5000","end_frame":"560000",\
                "file":"recordings/2025/03/14/R000001.skryba","reason":"caller hung up during the announcement","status":"discarded"}
                """)
            #expect(entries[3].decodedDetails == ["consent": "objected", "reason": "caller pressed 9 to object", "status": "discarded"])
        }

        /// The state change and its audit entry are one transaction: if the entry cannot be written,
        /// the change does not happen either.
        @Test func aStateChangeWhoseAuditEntryFailsDoesNotHappen() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-catalog-atomic")
            let catalog = try Catalog(dataDirectory: directory)
            let id = try catalog.insert(Self.incoming, at: StoreTime.t0)
            try RawSQLite(path: catalog.path).execute("""
                CREATE TRIGGER audit_refuses BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit disk full'); END
                """)
            let finishError = #expect(throws: CatalogError.self) {
                try catalog.finish(id, status: .interrupted, endFrame: nil, durationMs: nil, fileSize: nil, fileSHA256: nil,
                                   reason: "test", at: StoreTime.at(1))
            }
            #expect(finishError?.description.hasPrefix("catalog \(catalog.path): finishing recording R000001 as interrupted: SQLite failed: audit disk full") == true)
            #expect(throws: CatalogError.self) { _ = try catalog.insert(Self.incoming, at: StoreTime.at(2)) }
            #expect(try catalog.recordings().map(\.status) == [.recording])
            #expect(try catalog.audit.entries().count == 1)
        }

        @Test func aVersionZeroDatabaseMigratesOnceAndReopeningChangesNothing() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-catalog-migrate")
            let path = "\(directory)/catalog.sqlite"
            do {
                let empty = try RawSQLite(path: path)
                try empty.execute("CREATE TABLE notes (text TEXT)")  // a v0 file someone already made
                #expect(try empty.userVersion() == 0)
            }
            do {
                let catalog = try Catalog(path: path)
                _ = try catalog.insert(Self.incoming, at: StoreTime.t0)
            }
            let expectedSchema: [[DatabaseValue]] = [
                ["audit_checkpoints", "table"], ["audit_checkpoints_no_delete", "trigger"], ["audit_checkpoints_no_update", "trigger"],
                ["audit_log", "table"], ["audit_log_no_delete", "trigger"], ["audit_log_no_update", "trigger"],
                ["corrections", "table"], ["corrections_by_recording", "index"], ["exports", "table"], ["grdb_migrations", "table"],
                ["hold_members", "table"], ["hold_members_by_recording", "index"], ["holds", "table"], ["listenings", "table"],
                ["notes", "table"], ["recordings", "table"], ["recordings_by_caller_number", "index"],
                ["recordings_by_start", "index"], ["recordings_by_status", "index"],
                ["recordings_deletion_is_final", "trigger"], ["recordings_to_delete", "index"], ["recordings_unscheduled", "index"],
                ["request_recordings", "table"], ["requests", "table"], ["requests_decision_is_final", "trigger"],
                ["secured_copies", "table"],
            ].map { $0.map(DatabaseValue.text) }
            let schemaQuery = "SELECT name, type FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
            let raw = try RawSQLite(path: path)
            #expect(try raw.rows(schemaQuery) == expectedSchema)
            #expect(try raw.userVersion() == Catalog.schemaVersion)
            #expect(Catalog.schemaVersion == 6)

            for _ in 0..<2 {
                let reopened = try Catalog(path: path)
                #expect(try reopened.recordings().count == 1)
                #expect(try reopened.audit.entries().count == 1)
            }
            #expect(try raw.rows(schemaQuery) == expectedSchema)
            #expect(try raw.userVersion() == 6)
        }

        /// What SQLite says reaches the technician as a sentence naming the catalog and the step.
        @Test func aFileThatIsNotADatabaseIsRefusedInWords() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-catalog-garbage")
            let path = "\(directory)/catalog.sqlite"
            try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: CatalogError.self) { try Catalog(path: path) }
            #expect(error?.description == "catalog \(path): opening: SQLite failed: file is not a database (code 26)")
        }

        @Test func aCatalogFromNewerFirmwareIsNotOpened() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-catalog-newer")
            let path = "\(directory)/catalog.sqlite"
            try RawSQLite(path: path).setUserVersion(7)
            #expect(throws: CatalogError.schemaTooNew(path: path, version: 7, supported: 6)) { try Catalog(path: path) }
            #expect(CatalogError.schemaTooNew(path: path, version: 7, supported: 6).description
                == "catalog \(path) has schema version 7, newer than this firmware's 6; refusing to open it (was the firmware downgraded?)")
        }

        @Test func theConnectionIsDurableAndEnforcesForeignKeys() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-catalog-pragmas")
            let catalog = try Catalog(dataDirectory: directory)
            let pragmas = try catalog.connection.read("test") { db in
                try ["journal_mode", "synchronous", "foreign_keys", "busy_timeout"].map { try DatabaseValue.fetchOne(db, sql: "PRAGMA \($0)") }
            }
            #expect(pragmas == [.text("wal"), .integer(2), .integer(1), .integer(5000)])  // synchronous 2: FULL
            // WAL is a property of the file: any other connection sees it too.
            #expect(try RawSQLite(path: catalog.path).rows("PRAGMA journal_mode") == [[.text("wal")]])
        }

        @Test func aRowThisFirmwareCannotReadIsNamed() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-catalog-unreadable")
            let catalog = try Catalog(dataDirectory: directory)
            let id = try catalog.insert(Self.incoming, at: StoreTime.t0)
            try RawSQLite(path: catalog.path).execute("UPDATE recordings SET start_utc = '14.03.2025 09:26' WHERE id = 1")
            #expect(throws: CatalogError.unreadableRow(table: "recordings", key: "R000001", column: "start_utc", value: "14.03.2025 09:26")) {
                try catalog.recording(id)
            }
            #expect(CatalogError.unreadableRow(table: "recordings", key: "R000001", column: "start_utc", value: "14.03.2025 09:26").description
                == "recordings R000001: column start_utc holds '14.03.2025 09:26', which this firmware cannot read")
        }

        @Test func recordingIDsReadLikeTheirFileNames() throws {
            #expect(RecordingID(rawValue: 123).description == "R000123")
            #expect(RecordingID(rawValue: 1_234_567).description == "R1234567")
            #expect(RecordingID("R000123") == RecordingID(rawValue: 123))
            #expect(RecordingID("R12") == RecordingID(rawValue: 12))
            #expect(RecordingID("R+12") == nil)
            #expect(RecordingID("000123") == nil)
            #expect(RecordingID("R000000") == nil)
            #expect(String(decoding: try JSONEncoder().encode(RecordingID(rawValue: 7)), as: UTF8.self) == "7")
        }

        @Test func timestampsAreMillisecondISO8601InUTC() {
            #expect(UTCTimestamp.string(from: StoreTime.t0) == "2025-03-14T09:26:53.589Z")
            #expect(UTCTimestamp.string(from: Date(timeIntervalSince1970: 0.0004)) == "1970-01-01T00:00:00.000Z")
            #expect(UTCTimestamp.string(from: Date(timeIntervalSince1970: 951_782_399.9996)) == "2000-02-29T00:00:00.000Z")
            #expect(UTCTimestamp.string(from: Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
            #expect(UTCTimestamp.date(from: "2025-03-14T09:26:53.589Z") == StoreTime.t0)
            #expect(UTCTimestamp.date(from: "2024-02-29T23:59:59.999Z").map(UTCTimestamp.string(from:)) == "2024-02-29T23:59:59.999Z")
            for bad in ["2025-02-29T00:00:00.000Z", "2025-03-14T09:26:53.589", "2025-03-14 09:26:53.589Z", "2025-03-14T24:00:00.000Z",
                        "2025-03-14T09:26:53Z", "2025-13-01T00:00:00.000Z", "２025-03-14T09:26:53.589Z"] {
                #expect(UTCTimestamp.date(from: bad) == nil, "\(bad)")
            }
        }
    }
}

import Foundation
import SkrybaSystem
import Testing
@testable import SkrybaStore

extension RetentionTests {
    /// Power loss in the middle of a deletion run: after `skryba fsck` (Fsck.run) the catalog and
    /// the files agree, the deletion is finished and audited, and nothing else was touched.
    @Suite struct InterruptedDeletionTests {
        @Test(arguments: [DeletionPhase.intentRecorded, .fileRemoved])
        func fsckFinishesADeletionCutShort(phase: DeletionPhase) throws {
            let fixture = try RetentionFixture("powerloss")
            let expired = try fixture.record(start: utc("2026-01-05T09:15:00.000Z"), callerNumber: "+48748800123")
            let alsoExpired = try fixture.record(start: utc("2026-01-05T10:15:00.000Z"))
            let fresh = try fixture.record(start: utc("2026-02-01T09:15:00.000Z"))
            let freshBytes = try Data(contentsOf: URL(fileURLWithPath: try fixture.path(fresh)))
            let engine = fixture.engine(RetentionPolicy(default: .days(30)))

            // The power goes after the first phase (or the second) of the first deletion.
            #expect(throws: SimulatedPowerLoss.self) {
                _ = try engine.run(bytesNeeded: 0, at: utc("2026-02-10T00:00:00.000Z"), interruptAfter: phase)
            }
            let cut = try #require(try fixture.catalog.recording(expired))
            #expect(utcText(cut.deletionStartedUTC) == "2026-02-10T00:00:00.000Z")
            #expect(cut.deletionRule == "retention 30 days")
            #expect(cut.deletedUTC == nil)
            #expect(try fixture.fileExists(expired) == (phase == .intentRecorded))
            #expect(try fixture.catalog.recording(alsoExpired)?.deletionStartedUTC == nil)

            // After the reboot: a new process, recovery first.
            let catalog = try Catalog(dataDirectory: fixture.directory, actor: "skryba fsck")
            let report = try Fsck.run(dataDirectory: fixture.directory, catalog: catalog, signer: fixture.key, at: utc("2026-02-10T00:05:00.000Z"))
            let file = try #require(cut.filePath)
            #expect(report.findings == [FsckFinding(
                kind: .finishedDeletion, subject: "R000001",
                message: "deletion (retention 30 days) begun at 2026-02-10T00:00:00.000Z was cut short; "
                    + (phase == .intentRecorded ? "removed \(file)" : "\(file) was already gone") + "; marked deleted")])
            let row = try #require(try catalog.recording(expired))
            #expect(utcText(row.deletedUTC) == "2026-02-10T00:05:00.000Z")
            #expect(try rawPersonalData(catalog, expired) == [nil, nil])
            #expect(!(try fixture.fileExists(expired)))
            #expect(try fixture.fileExists(alsoExpired), "recovery finishes what was begun, nothing more")
            #expect(try Data(contentsOf: URL(fileURLWithPath: try fixture.path(fresh))) == freshBytes)

            // Audited: intent, deletion, the finding and a signed receipt, in that order.
            let kinds = try catalog.audit.entries().suffix(4).map(\.kind)
            #expect(kinds == ["recording-deletion-started", "recording-deleted", "deletion-receipt", "fsck-finding"])
            let receipt = try #require(try fixture.entries(kind: .deletionReceipt).last)
            #expect(DeletionReceipt.verify(entry: receipt, publicKey: fixture.key.publicKey))
            #expect(DeletionReceipt(entry: receipt)?.items.map(\.subject) == ["R000001"])
            #expect(try catalog.audit.verify().isIntact)

            // A second recovery finds nothing; the next run deletes the other expired recording.
            #expect(try Fsck.run(dataDirectory: fixture.directory, catalog: catalog, at: utc("2026-02-10T00:06:00.000Z")).findings == [])
            let next = try fixture.engine(RetentionPolicy(default: .days(30))).run(at: utc("2026-02-10T01:00:00.000Z"))
            #expect(next.deleted.map(\.recording) == [alsoExpired])
        }

        @Test func theNextRunFinishesADeletionCutShortToo() throws {
            let fixture = try RetentionFixture("powerloss-run")
            let expired = try fixture.record(start: utc("2026-01-05T09:15:00.000Z"))
            let engine = fixture.engine(RetentionPolicy(default: .days(30)))
            #expect(throws: SimulatedPowerLoss.self) {
                _ = try engine.run(bytesNeeded: 0, at: utc("2026-02-10T00:00:00.000Z"), interruptAfter: .intentRecorded)
            }
            // A hold cannot catch a recording whose deletion has begun.
            #expect(throws: RetentionError.recordingBeingDeleted(expired, rule: "retention 30 days", nothingDone: "nothing was held")) {
                try fixture.catalog.addHold(caseReference: "II K 2/26", reason: "too late", recordings: [expired],
                                            at: utc("2026-02-10T00:01:00.000Z"))
            }
            let report = try engine.run(at: utc("2026-02-10T01:00:00.000Z"))
            #expect(report.deleted.map(\.recording) == [expired])
            #expect(utcText(report.deleted.first?.deletedUTC) == "2026-02-10T01:00:00.000Z")
            #expect(!(try fixture.fileExists(expired)))
            #expect(try fixture.catalog.recording(expired)?.deletedUTC != nil)
        }

        @Test func aFileRestoredForADeletedRowIsRemovedAgainAndAnInterruptedCopyIsRemade() throws {
            let fixture = try RetentionFixture("powerloss-files")
            let gone = try fixture.record(start: utc("2026-01-05T09:15:00.000Z"))
            let kept = try fixture.record(start: utc("2026-02-01T09:15:00.000Z"))
            let bytes = try Data(contentsOf: URL(fileURLWithPath: try fixture.path(gone)))
            _ = try fixture.engine(RetentionPolicy(default: .days(30))).run(at: utc("2026-02-10T00:00:00.000Z"))
            // Someone restores an old backup of the recordings directory.
            try Directory.create((try fixture.path(gone) as NSString).deletingLastPathComponent)
            try bytes.write(to: URL(fileURLWithPath: try fixture.path(gone)))

            // A secured copy whose copying was cut short: registered, hold in place, no file yet.
            let copy = try fixture.catalog.connection.write("test") { database -> SecuredCopy in
                try Catalog.hold([kept], reference: "secured-copy 1", kind: .securedCopy, reason: "secured copy 1", extra: [:],
                                 actor: "Jan Kowalski", at: utc("2026-02-10T08:00:00.000Z"), in: database)
                try database.execute(sql: """
                    INSERT INTO secured_copies (seq, recording, hold, period_from_utc, period_to_utc, called_number,
                        request_received_utc, requested_utc, made_by, file_path)
                    VALUES (1, 2, (SELECT id FROM holds WHERE case_ref = 'secured-copy 1'), '2026-02-01T09:15:00.000Z',
                        '2026-02-01T09:15:03.000Z', '74 880 01 00', '2026-02-10T08:00:00.000Z', '2026-02-10T08:00:00.000Z',
                        'Jan Kowalski', 'secured/1-R000002.skryba')
                    """)
                return try SecuredCopies.copies(where: "seq = 1", [], in: database)[0]
            }
            #expect(copy.madeUTC == nil)

            let report = try Fsck.run(dataDirectory: fixture.directory, catalog: fixture.catalog, at: utc("2026-02-10T09:00:00.000Z"))
            #expect(report.findings.map(\.kind) == [.deletedFileRemoved, .finishedSecuredCopy])
            #expect(report.findings.map(\.subject) == ["R000001", "secured copy 1"])
            #expect(!(try fixture.fileExists(gone)))
            let made = try #require(try fixture.copies.copy(sequence: 1))
            #expect(utcText(made.madeUTC) == "2026-02-10T09:00:00.000Z")
            #expect(made.fileSHA256 == (try fixture.catalog.recording(kept)?.fileSHA256))
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(fixture.directory)/secured/1-R000002.skryba"))
                == Data(contentsOf: URL(fileURLWithPath: try fixture.path(kept))))
            #expect(try Fsck.run(dataDirectory: fixture.directory, catalog: fixture.catalog, at: utc("2026-02-10T09:01:00.000Z")).findings == [])
        }
    }
}

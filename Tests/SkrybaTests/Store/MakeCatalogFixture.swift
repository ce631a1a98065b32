import Foundation
import SkrybaSeal
import SkrybaSQLite
import SkrybaSystem
import Testing
@testable import SkrybaStore

/// Writes Tests/SkrybaTests/Fixtures/catalog-v5.sqlite with the catalog code of the commit it is
/// run on (the hand-written SQLite wrapper, schema v5). Run once, by hand:
/// `SKRYBA_MAKE_CATALOG_FIXTURE=1 swift test --skip-build --filter makeCatalogFixture`.
@Test(.enabled(if: ProcessInfo.processInfo.environment["SKRYBA_MAKE_CATALOG_FIXTURE"] != nil))
func makeCatalogFixture() throws {
    let fixture = try RetentionFixture("make-fixture")
    let catalog = fixture.catalog
    let recipient = RetentionFixture.identity.recipient.description
    let day = utc("2026-02-02T08:00:00.000Z")
    func at(_ seconds: Double) -> Date { day.addingTimeInterval(seconds) }

    // R1: complete, announcement heard, consent given, two gaps.
    let r1 = try catalog.insert(NewRecording(line: 1, direction: .incoming, startUTC: at(0), startFrame: 8000,
                                             recipients: [recipient], callerNumber: "+48748800100",
                                             announcement: Announcement(id: "intro-pl-v2", sha256: String(repeating: "ab", count: 32)),
                                             consent: .given), at: at(0))
    try catalog.setFile(r1, relativePath: DataLayout.recordingPath(r1, startUTC: at(0)), at: at(0.5))
    let gaps = [RecordingGap(startFrame: 8000 + 99_200, frames: 2560, recordingStartFrame: 8000, rate: 8000),
                RecordingGap(startFrame: 8000 + 248_160, frames: 1280, recordingStartFrame: 8000, rate: 8000)]
    try catalog.finish(r1, status: .complete, endFrame: 8000 + 480_000, durationMs: 60_000, fileSize: 61_234,
                       fileSHA256: String(repeating: "1f", count: 32), reason: nil, consent: .given, announcementCompleted: true,
                       dialedDigits: "12", gaps: gaps, at: at(61))
    // R2..R4, R7, R8: complete sealed recordings with real files (R2 outgoing, clock untrusted).
    let r2 = try fixture.record(line: 2, direction: .outgoing, start: at(100), callerNumber: nil, clockUntrusted: true)
    // R3: interrupted.
    let r3 = try catalog.insert(NewRecording(line: 3, direction: .incoming, startUTC: at(200), startFrame: 1_600_000,
                                             recipients: [recipient], callerNumber: "+48221234567", consent: .notAsked), at: at(200))
    try catalog.setFile(r3, relativePath: DataLayout.recordingPath(r3, startUTC: at(200)), at: at(200))
    try catalog.finish(r3, status: .interrupted, endFrame: 1_680_000, durationMs: 10_000, fileSize: 9000,
                       fileSHA256: String(repeating: "3c", count: 32), reason: "daemon stopped", at: at(211))
    // R4: discarded (hung up during the announcement).
    _ = try catalog.recordDiscardedCall(NewRecording(line: 1, direction: .incoming, startUTC: at(300), startFrame: 2_400_000,
                                                     recipients: [recipient], callerNumber: "+48601000000",
                                                     announcement: Announcement(id: "intro-pl-v2", sha256: String(repeating: "ab", count: 32), completed: false),
                                                     consent: .hungUp),
                                        endFrame: 2_440_000, durationMs: 5000, reason: "caller hung up during the announcement", at: at(305))
    // R5: failed (its file could not be made).
    let r5 = try catalog.insert(NewRecording(line: 4, direction: .incoming, startUTC: at(400), startFrame: 3_200_000,
                                             recipients: [recipient], callerNumber: "+48600111222"), at: at(400))
    try catalog.finish(r5, status: .failed, endFrame: nil, durationMs: nil, fileSize: nil, fileSHA256: nil,
                       reason: "creating the file failed: No space left on device (errno 28)", at: at(401))
    // R6: still recording (the daemon was killed).
    let r6 = try catalog.insert(NewRecording(line: 2, direction: .incoming, startUTC: at(500), startFrame: 4_000_000,
                                             recipients: [recipient, testRecipients[1]], callerNumber: "+48600333444",
                                             consent: .given), at: at(500))
    try catalog.setFile(r6, relativePath: DataLayout.recordingPath(r6, startUTC: at(500)), at: at(500))
    let r7 = try fixture.record(line: 1, start: at(600), callerNumber: "+48500500500")
    let r8 = try fixture.record(line: 3, start: at(700), callerNumber: "+48500600600")
    let r9 = try fixture.record(line: 4, start: at(800), callerNumber: "+48500700700")

    // Retention schedule, holds (one active, one released), a secured copy, rights.
    _ = try catalog.applyRetentionPolicy(RetentionPolicy(default: .days(30), overrides: [RetentionOverride(line: 2, period: .months(3))]),
                                         by: "console:technician", at: at(900))
    try catalog.addHold(caseReference: "SO-2026/14", reason: "court order of 2026-02-01", recordings: [r1, r3], by: "console:dpo", at: at(910))
    try catalog.addHold(caseReference: "SKARGA-7", reason: "complaint", line: 3, from: at(650), to: at(760), by: "console:dpo", at: at(920))
    _ = try catalog.releaseHold(caseReference: "SKARGA-7", reason: "complaint withdrawn", by: "console:dpo", at: at(930))
    let copy = try fixture.copies.secure(r2, calledNumber: "+48748800000", madeBy: "console:dpo", requestReceived: at(940), at: at(950))
    _ = try fixture.copies.renew(sequence: copy.sequence, by: "console:dpo", at: at(960))
    _ = try fixture.rights.erase(r7, reason: "art. 17 request 2026/3", by: "console:dpo", at: at(970))
    try fixture.rights.restrict(r8, reason: "art. 18 request 2026/4", by: "console:dpo", at: at(980))
    _ = try fixture.rights.correct(r9, callerNumber: "+48500700701", reason: "art. 16 request 2026/5", by: "console:dpo", at: at(990))
    _ = try catalog.audit.checkpoint(signer: fixture.key, at: at(1000))
    try catalog.audit.append(.consoleLogin, actor: "console:technician", at: at(1010))
    #expect(try catalog.audit.verify().isIntact)

    let target = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/catalog-v5.sqlite").path
    // One self-contained file: fold the WAL into the database file, then copy it as it is on flash.
    try SQLiteDatabase(path: fixture.directory + "/catalog.sqlite").execute("PRAGMA wal_checkpoint(TRUNCATE)")
    try? FileManager.default.removeItem(atPath: target)
    try FileManager.default.copyItem(atPath: fixture.directory + "/catalog.sqlite", toPath: target)
    _ = r6
}

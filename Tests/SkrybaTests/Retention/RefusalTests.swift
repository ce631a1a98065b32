import Foundation
import Testing
@testable import SkrybaStore

extension RetentionTests {
    /// What is refused, in exactly these words, and that a refusal changes nothing.
    @Suite struct RefusalTests {
        /// `body` must throw `expected`, whose description is `message`; the audit log must not grow.
        func refused(_ fixture: RetentionFixture, _ expected: RetentionError, _ message: String,
                     sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) throws {
            let entries = try fixture.catalog.audit.entries().count
            #expect(throws: expected, sourceLocation: sourceLocation) { try body() }
            #expect(expected.description == message, sourceLocation: sourceLocation)
            #expect(try fixture.catalog.audit.entries().count == entries, "a refusal writes nothing", sourceLocation: sourceLocation)
        }

        @Test func holdsOnNothingAreRefused() throws {
            let fixture = try RetentionFixture("refuse-holds")
            let id = try fixture.record(line: 2, start: utc("2026-01-05T08:30:00.000Z"))
            let now = utc("2026-01-06T10:00:00.000Z")
            try refused(fixture, .noSuchRecording(RecordingID(rawValue: 99), nothingDone: "nothing was held"),
                        "recording R000099 does not exist; nothing was held") {
                try fixture.catalog.addHold(caseReference: "II K 1/26", reason: "evidence", recordings: [id, RecordingID(rawValue: 99)], at: now)
            }
            #expect(try fixture.catalog.holds(includeReleased: true) == [], "all or nothing: R000001 was not held either")
            try refused(fixture, .holdMatchesNothing(line: 3, from: utc("2026-01-05T08:00:00.000Z"), to: utc("2026-01-05T09:00:00.000Z")),
                        "no recording on line 3 between 2026-01-05T08:00:00.000Z and 2026-01-05T09:00:00.000Z (UTC); nothing was held") {
                try fixture.catalog.addHold(caseReference: "II K 1/26", reason: "evidence", line: 3, from: utc("2026-01-05T08:00:00.000Z"),
                                            to: utc("2026-01-05T09:00:00.000Z"), at: now)
            }
            try refused(fixture, .noSuchHold("II K 404/26"), "no hold 'II K 404/26'; nothing was released") {
                try fixture.catalog.releaseHold(caseReference: "II K 404/26", reason: "done", at: now)
            }

            // By line and period: the 3-second call that started at 08:30:00 overlaps 08:30:02–09:00.
            let hold = try fixture.catalog.addHold(caseReference: "II K 1/26", reason: "evidence", line: 2,
                                                   from: utc("2026-01-05T08:30:02.000Z"), to: utc("2026-01-05T09:00:00.000Z"),
                                                   by: "console:dpo", at: now)
            #expect(hold.recordings == [id])
            #expect(hold.kind == .legal)
            let added = try #require(try fixture.entries(kind: .holdAdded).last)
            #expect(added.subject == "R000001")
            #expect(added.actor == "console:dpo")
            #expect(added.details == #"{"case_ref":"II K 1/26","from_utc":"2026-01-05T08:30:02.000Z","kind":"legal","line":"2","reason":"evidence","to_utc":"2026-01-05T09:00:00.000Z"}"#)
            try fixture.catalog.releaseHold(caseReference: "II K 1/26", reason: "proceedings discontinued", at: now)
            try refused(fixture, .holdReleased("II K 1/26", at: now),
                        "hold 'II K 1/26' was released on 2026-01-06T10:00:00.000Z; a case reference is not reused, choose another one") {
                try fixture.catalog.addHold(caseReference: "II K 1/26", reason: "again", recordings: [id], at: now)
            }
        }

        @Test func anErasureOfAHeldRecordingNamesTheHolds() throws {
            let fixture = try RetentionFixture("refuse-erase")
            let id = try fixture.record(start: utc("2026-01-05T08:30:00.000Z"))
            let now = utc("2026-01-08T10:00:00.000Z")
            try fixture.catalog.addHold(caseReference: "II K 12/26", reason: "evidence", recordings: [id], at: now)
            try fixture.copies.secure(id, calledNumber: "74 880 01 00", madeBy: "Jan Kowalski", at: now)
            try refused(fixture, .held(id, caseReferences: ["II K 12/26", "secured-copy 1"], refused: "erasing", nothingDone: "nothing was erased"),
                        "recording R000001 is held (II K 12/26, secured-copy 1); release the hold before erasing it; nothing was erased") {
                try fixture.rights.erase(id, reason: "art. 17 request of 2026-01-07", by: "console:dpo", at: now)
            }
            #expect(try fixture.fileExists(id))
            #expect(try fixture.catalog.recording(id)?.deletionStartedUTC == nil)
            try refused(fixture, .holdOfSecuredCopy("secured-copy 1", sequence: 1),
                        "hold 'secured-copy 1' keeps secured copy 1; it ends when the copy is destroyed or lapses, not on its own") {
                try fixture.catalog.releaseHold(caseReference: "secured-copy 1", reason: "no longer needed", at: now)
            }
            try refused(fixture, .noSuchRecording(RecordingID(rawValue: 7), nothingDone: "nothing was erased"),
                        "recording R000007 does not exist; nothing was erased") {
                try fixture.rights.erase(RecordingID(rawValue: 7), reason: "art. 17", by: "console:dpo", at: now)
            }

            // Released and destroyed, the erasure goes through.
            try fixture.catalog.releaseHold(caseReference: "II K 12/26", reason: "judgment final", at: now)
            try fixture.copies.destroy(sequence: 1, note: "the requester withdrew the request", by: "console:dpo", at: now)
            let erasure = try fixture.rights.erase(id, reason: "art. 17 request of 2026-01-07", by: "console:dpo", at: now)
            #expect(erasure.deleted.rule == "erasure: art. 17 request of 2026-01-07")
            #expect(DeletionReceipt.verify(entry: erasure.receipt, publicKey: fixture.key.publicKey))
            #expect(!(try fixture.fileExists(id)))
            try refused(fixture, .recordingDeleted(id, at: now, rule: "erasure: art. 17 request of 2026-01-07", nothingDone: "nothing was held"),
                        "recording R000001 was deleted on 2026-01-08T10:00:00.000Z (erasure: art. 17 request of 2026-01-07); nothing was held") {
                try fixture.catalog.addHold(caseReference: "II K 13/26", reason: "evidence", recordings: [id], at: now)
            }
        }

        @Test func aLateRequestToSecureACopyIsRefusedUnlessOverridden() throws {
            let fixture = try RetentionFixture("refuse-late")
            // 11:00 in Warsaw on 2 January: the request window ends at midnight after 16 January.
            let id = try fixture.record(start: utc("2026-01-02T10:00:00.000Z"))
            let late = utc("2026-01-16T23:00:00.000Z")
            try refused(fixture, .lateCopyRequest(id, callStart: utc("2026-01-02T10:00:00.000Z"), lastDay: "2026-01-16", received: late),
                        "recording R000001 (call of 2026-01-02 11:00 CET): a request to secure it had to be made within 14 days, "
                            + "by the end of 2026-01-16, but this one was received on 2026-01-17 00:00 CET; nothing was secured "
                            + "(to secure it anyway, give an override reason, which is logged)") {
                try fixture.copies.secure(id, calledNumber: "74 880 01 00", madeBy: "Jan Kowalski", requestReceived: late,
                                          at: utc("2026-01-19T09:00:00.000Z"))
            }
            #expect(try fixture.copies.register() == [])

            // Received on time (a minute before midnight), entered later: accepted.
            let onTime = try fixture.copies.secure(id, calledNumber: "74 880 01 00", madeBy: "Jan Kowalski",
                                                   requestReceived: utc("2026-01-16T22:59:00.000Z"), at: utc("2026-01-19T09:00:00.000Z"))
            #expect(onTime.sequence == 1)
            #expect(onTime.overrideReason == nil)

            // Late, with an override: accepted, and the override is in the register and the log.
            let overridden = try fixture.copies.secure(id, calledNumber: "74 880 01 00", madeBy: "Jan Kowalski", requestReceived: late,
                                                       overrideReason: "police request KMP/123/26, director's decision",
                                                       at: utc("2026-01-19T09:30:00.000Z"))
            #expect(overridden.sequence == 2)
            #expect(overridden.overrideReason == "police request KMP/123/26, director's decision")
            let secured = try #require(try fixture.entries(kind: .copySecured).last)
            #expect(secured.decodedDetails?["late_request_override"] == "police request KMP/123/26, director's decision")
            #expect(try fixture.catalog.recording(id)?.holdRefs == ["secured-copy 1", "secured-copy 2"])
        }
    }
}

import Foundation
import Testing
@testable import SkrybaStore

extension RetentionTests {
    /// A simulated clock drives months of retention in seconds: each policy deletes exactly when it
    /// should, held and secured recordings survive, a released hold lets its recording go.
    @Suite struct ScheduleTests {
        /// Runs the engine every `step` from `from` to `to`; returns when each recording disappeared.
        func drive(_ engine: RetentionEngine, from: Date, to: Date, step: TimeInterval,
                   each: (Date, RetentionReport) throws -> Void = { _, _ in }) throws -> [RecordingID: Date] {
            var deletedAt: [RecordingID: Date] = [:]
            var now = from
            while now <= to {
                let report = try engine.run(at: now)
                #expect(report.failures == [])
                for item in report.deleted { deletedAt[item.recording] = now }
                try each(now, report)
                now = now.addingTimeInterval(step)
            }
            return deletedAt
        }

        @Test func thirtyDaysOneMonthSixAndTwelveMonthsDeleteOnTheirDay() throws {
            let fixture = try RetentionFixture("schedule")
            // Wałbrzych 30 days by default; Łobez's 1 month on line 2, Szczecin's 6 months for
            // incoming calls on line 4, Piaseczno's 12 months on line 3.
            let policy = RetentionPolicy(default: .days(30), overrides: [
                RetentionOverride(line: 2, period: .months(1)),
                RetentionOverride(line: 3, period: .months(12)),
                RetentionOverride(line: 4, direction: .incoming, period: .months(6)),
            ])
            let start = utc("2026-01-31T10:00:00.000Z")
            let thirty = try fixture.record(line: 1, start: start)
            let month = try fixture.record(line: 2, start: start)
            let year = try fixture.record(line: 3, start: start)
            let halfYear = try fixture.record(line: 4, direction: .incoming, start: utc("2026-03-15T10:00:00.000Z"))
            let outgoing = try fixture.record(line: 4, direction: .outgoing, start: utc("2026-03-15T10:00:00.000Z"))
            let engine = fixture.engine(policy)

            // Every hour for thirteen months.
            let deletedAt = try drive(engine, from: utc("2026-01-31T11:00:00.000Z"), to: utc("2027-03-01T00:00:00.000Z"), step: 3600)
            #expect(utcText(deletedAt[month]) == "2026-02-28T10:00:00.000Z")
            #expect(utcText(deletedAt[thirty]) == "2026-03-02T10:00:00.000Z")
            #expect(utcText(deletedAt[outgoing]) == "2026-04-14T09:00:00.000Z")  // 30 days, over the DST change
            #expect(utcText(deletedAt[halfYear]) == "2026-09-15T09:00:00.000Z")
            #expect(utcText(deletedAt[year]) == "2027-01-31T10:00:00.000Z")

            let rows = try fixture.catalog.recordings()
            #expect(rows.map(\.deletionRule) == ["retention 30 days", "retention 1 month", "retention 12 months", "retention 6 months",
                                                 "retention 30 days"])
            #expect(rows.map { utcText($0.retentionDeadlineUTC) } == ["2026-03-02T10:00:00.000Z", "2026-02-28T10:00:00.000Z",
                                                                     "2027-01-31T10:00:00.000Z", "2026-09-15T09:00:00.000Z",
                                                                     "2026-04-14T09:00:00.000Z"])
            for row in rows {
                #expect(row.deletedUTC != nil)
                #expect(row.callerNumber == nil, "a deleted row keeps no caller number")
                #expect(row.filePath != nil, "the row keeps where the file was")
                #expect(!FileManager.default.fileExists(atPath: "\(fixture.directory)/\(row.filePath!)"))
            }
            // Deleted day directories are pruned.
            #expect(!FileManager.default.fileExists(atPath: "\(fixture.directory)/recordings/2026"))
            // One receipt per run that deleted something, each verifiable with the device key.
            let receipts = try fixture.entries(kind: .deletionReceipt)
            #expect(receipts.count == 5)
            #expect(receipts.allSatisfy { DeletionReceipt.verify(entry: $0, publicKey: fixture.key.publicKey) })
            #expect(try fixture.catalog.audit.verify().isIntact)
        }

        @Test func theDeadlineIsAnInstantNotADay() throws {
            let fixture = try RetentionFixture("instant")
            let id = try fixture.record(start: utc("2026-01-31T10:00:00.000Z"))
            let engine = fixture.engine(RetentionPolicy(default: .months(1)))
            #expect(try engine.run(at: utc("2026-02-28T09:59:59.999Z")).deleted == [])
            #expect(try fixture.fileExists(id))
            let report = try engine.run(at: utc("2026-02-28T10:00:00.000Z"))
            #expect(report.deleted.map(\.recording) == [id])
            #expect(report.deleted.map(\.rule) == ["retention 1 month"])
            #expect(!(try fixture.fileExists(id)))
        }

        @Test func heldAndSecuredRecordingsSurviveAndAReleasedHoldLetsGo() throws {
            let fixture = try RetentionFixture("holds")
            let start = utc("2026-01-05T09:15:00.000Z")
            let plain = try fixture.record(line: 1, start: start)
            let held = try fixture.record(line: 1, start: start.addingTimeInterval(600))
            let secured = try fixture.record(line: 2, start: start.addingTimeInterval(1200))
            let engine = fixture.engine(RetentionPolicy(default: .days(30)))

            try fixture.catalog.addHold(caseReference: "II K 12/26", reason: "Sąd Rejonowy w Wałbrzychu, request of 2026-01-20",
                                        recordings: [held], by: "console:dpo", at: utc("2026-01-20T12:00:00.000Z"))
            let copy = try fixture.copies.secure(secured, calledNumber: "74 880 01 00", madeBy: "Jan Kowalski (ASI)",
                                                 requestReceived: utc("2026-01-12T08:00:00.000Z"), at: utc("2026-01-12T09:00:00.000Z"))
            #expect(copy.sequence == 1)
            // 10:00 CET + 4 months = 10:00 CEST.
            #expect(utcText(copy.expiresUTC) == "2026-05-12T08:00:00.000Z")

            var deletedAt = try drive(engine, from: utc("2026-01-06T00:00:00.000Z"), to: utc("2026-03-01T00:00:00.000Z"), step: 3600)
            #expect(deletedAt.keys.sorted() == [plain])
            #expect(utcText(deletedAt[plain]) == "2026-02-04T10:00:00.000Z")  // deadline 09:15, the hourly run after it
            #expect(try fixture.fileExists(held))
            #expect(try fixture.fileExists(secured))
            #expect(try fixture.catalog.recording(held)?.holdRefs == ["II K 12/26"])
            #expect(try fixture.catalog.recording(secured)?.holdRefs == ["secured-copy 1"])

            // The proceedings end: released, past its deadline, it goes at the next run.
            let released = try fixture.catalog.releaseHold(caseReference: "II K 12/26", reason: "judgment final 2026-02-27",
                                                           by: "console:dpo", at: utc("2026-03-01T08:30:00.000Z"))
            #expect(released.recordings == [held])
            #expect(try fixture.catalog.recording(held)?.holdRefs == [])
            let afterRelease = try engine.run(at: utc("2026-03-01T09:00:00.000Z"))
            #expect(afterRelease.deleted.map(\.recording) == [held])
            #expect(afterRelease.deleted.map(\.rule) == ["retention 30 days"])

            // The secured copy lapses 4 months after it was made; its recording goes in the same run.
            deletedAt = try drive(engine, from: utc("2026-03-01T10:00:00.000Z"), to: utc("2026-06-01T00:00:00.000Z"), step: 3600) { now, report in
                if !report.lapsedCopies.isEmpty {
                    #expect(utcText(now) == "2026-05-12T08:00:00.000Z")
                    #expect(report.lapsedCopies.map(\.subject) == ["secured copy 1 of \(secured)"])
                    #expect(report.deleted.map(\.recording) == [secured])
                    let entry = try #require(report.receipt)
                    let receipt = try #require(DeletionReceipt(entry: entry))
                    #expect(receipt.items.map(\.subject) == ["secured copy 1 of \(secured)", "\(secured)"])
                }
            }
            #expect(utcText(deletedAt[secured]) == "2026-05-12T08:00:00.000Z")
            let register = try fixture.copies.register()
            #expect(register.map(\.destructionNote) == ["lapsed: kept 4 months without renewal (until 2026-05-12T08:00:00.000Z)"])
            #expect(utcText(register[0].destroyedUTC) == "2026-05-12T08:00:00.000Z")
            #expect(register[0].callerNumber == nil, "the register forgets the caller's number with the copy")
            #expect(!FileManager.default.fileExists(atPath: "\(fixture.directory)/\(copy.filePath)"))
            #expect(try fixture.catalog.holds() == [])
            #expect(try fixture.catalog.holds(includeReleased: true).map(\.caseReference) == ["II K 12/26", "secured-copy 1"])
            #expect(try fixture.catalog.audit.verify().isIntact)
        }

        @Test func aRenewedCopyIsKeptFourMonthsFromTheRenewal() throws {
            let fixture = try RetentionFixture("renew")
            let id = try fixture.record(start: utc("2026-01-05T09:15:00.000Z"))
            let engine = fixture.engine(RetentionPolicy(default: .days(30)))
            try fixture.copies.secure(id, calledNumber: "74 880 01 00", madeBy: "Jan Kowalski", at: utc("2026-01-10T09:00:00.000Z"))
            let renewed = try fixture.copies.renew(sequence: 1, by: "console:dpo", at: utc("2026-04-20T09:00:00.000Z"))
            #expect(utcText(renewed.expiresUTC) == "2026-08-20T09:00:00.000Z")  // both CEST: same UTC hour
            #expect(try engine.run(at: utc("2026-05-10T09:00:00.000Z")).lapsedCopies == [])
            #expect(try engine.run(at: utc("2026-08-20T08:59:59.999Z")).deleted == [])
            let lapse = try engine.run(at: utc("2026-08-20T09:00:00.000Z"))
            #expect(lapse.lapsedCopies.count == 1)
            #expect(lapse.deleted.map(\.recording) == [id])
            #expect(throws: RetentionError.copyDestroyed(1, at: utc("2026-08-20T09:00:00.000Z"))) {
                try fixture.copies.renew(sequence: 1, at: utc("2026-08-21T09:00:00.000Z"))
            }
        }

        @Test func aShorterPolicyReschedulesEveryRowAndSaysHowManyAreDue() throws {
            let fixture = try RetentionFixture("apply")
            let old = try fixture.record(start: utc("2026-01-05T09:15:00.000Z"))
            let recent = try fixture.record(start: utc("2026-03-01T09:15:00.000Z"))
            let heldOld = try fixture.record(start: utc("2026-01-06T09:15:00.000Z"))
            try fixture.catalog.addHold(caseReference: "PR 1 Ds 5/26", reason: "Prokuratura Rejonowa", recordings: [heldOld],
                                        at: utc("2026-03-01T10:00:00.000Z"))
            #expect(try fixture.catalog.scheduleRetention(policy: RetentionPolicy(default: .months(12)), at: utc("2026-03-01T10:00:00.000Z"))
                == [old, recent, heldOld])
            let change = try fixture.catalog.applyRetentionPolicy(RetentionPolicy(default: .days(30)), by: "console:technician",
                                                                  at: utc("2026-03-10T10:00:00.000Z"))
            #expect(change == RetentionPolicyChange(rescheduled: 3, earlier: 3, dueNow: 1))
            #expect(try fixture.catalog.recordings().map { utcText($0.retentionDeadlineUTC) }
                == ["2026-02-04T09:15:00.000Z", "2026-03-31T08:15:00.000Z", "2026-02-05T09:15:00.000Z"])
            let entry = try #require(try fixture.entries(kind: .retentionPolicyApplied).last)
            #expect(entry.details == #"{"due_now":"1","earlier":"3","policy":"default 30 days","rescheduled":"3"}"#)
            #expect(entry.actor == "console:technician")
            let report = try fixture.engine(RetentionPolicy(default: .days(30))).run(at: utc("2026-03-10T10:00:00.000Z"))
            #expect(report.deleted.map(\.recording) == [old])
            #expect(report.scheduled == [])
        }
    }
}

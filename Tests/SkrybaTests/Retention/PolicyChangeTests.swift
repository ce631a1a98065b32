import Foundation
import SkrybaSystem
import Testing
@testable import SkrybaStore

extension RetentionTests {
    /// Issue 8 item 7: a changed retention policy reaches the recordings already stored, says what
    /// it will delete before it takes effect, and is audited (docs/retention.md, "Changing the policy").
    @Suite struct PolicyChangeTests {
        static let capacity = CapacityRule(minimumFreePercent: 10)

        @Test func fromCapacityToThirtyDaysTheOldRowsGetDeadlinesAndTheDueOnesGo() throws {
            let fixture = try RetentionFixture("capacity-to-30d")
            let old = try fixture.record(start: utc("2026-01-05T09:15:00.000Z"))
            let held = try fixture.record(start: utc("2026-01-06T09:15:00.000Z"))
            let recent = try fixture.record(start: utc("2026-02-20T09:15:00.000Z"))
            try fixture.catalog.addHold(caseReference: "II K 3/26", reason: "evidence", recordings: [held], at: utc("2026-01-07T10:00:00.000Z"))
            let before = try fixture.engine(RetentionPolicy(default: .untilCapacity, capacity: Self.capacity)).run(at: utc("2026-02-21T10:00:00.000Z"))
            #expect(before.deleted == [] && before.scheduled == [old, held, recent])
            #expect(try fixture.catalog.recordings().allSatisfy { $0.retentionDeadlineUTC == nil && $0.retentionRule == "as long as capacity allows" })

            // The technician previews the new file's policy, then restarts the daemon with it.
            let newPolicy = RetentionPolicy(default: .days(30), capacity: Self.capacity)
            let preview = try fixture.catalog.retentionPreview(newPolicy, at: utc("2026-03-01T10:00:00.000Z"))
            #expect(preview.changes.count == 3 && preview.earlier == 3)
            #expect(preview.dueNow.map(\.row.id) == [old])
            #expect(preview.dueNow.first?.newRule == "retention 30 days")
            #expect(utcText(preview.dueNow.first?.newDeadlineUTC) == "2026-02-04T09:15:00.000Z")
            #expect(try fixture.entries(kind: .retentionPolicyChanged).isEmpty, "a preview changes nothing")

            let after = try fixture.engine(newPolicy).run(at: utc("2026-03-01T10:00:00.000Z"))
            #expect(after.deleted.map(\.recording) == [old])
            #expect(after.deleted.first?.rule == "retention 30 days")
            #expect(after.policyChange?.changes.count == 3)
            #expect(try fixture.catalog.recordings().map { utcText($0.retentionDeadlineUTC) }
                    == ["2026-02-04T09:15:00.000Z", "2026-02-05T09:15:00.000Z", "2026-03-22T09:15:00.000Z"])
            let entries = try fixture.entries(kind: .retentionPolicyChanged)
            #expect(entries.map(\.details) == [#"{"due_now":"1","due_recordings":"R000001","earlier":"3","#
                + #""new_policy":"default 30 days; capacity: keep 10% free","old_policy":"default as long as capacity allows; "#
                + #"capacity: keep 10% free","rescheduled":"3"}"#])
            // The held one goes when released; the next run with the same policy changes nothing more.
            try fixture.catalog.releaseHold(caseReference: "II K 3/26", reason: "closed", at: utc("2026-03-02T10:00:00.000Z"))
            let next = try fixture.engine(newPolicy).run(at: utc("2026-03-02T11:00:00.000Z"))
            #expect(next.deleted.map(\.recording) == [held] && next.policyChange == nil)
            #expect(try fixture.entries(kind: .retentionPolicyChanged).count == 1)
            #expect(try fixture.catalog.audit.verify().coveredThrough == (try fixture.catalog.audit.lastEntry()?.seq), "each run ends signed")
        }

        @Test func fromTwelveMonthsToOneTheDeadlinesFollow() throws {
            let fixture = try RetentionFixture("12m-to-1m")
            let january = try fixture.record(start: utc("2026-01-05T09:15:00.000Z"))
            let february = try fixture.record(start: utc("2026-02-20T09:15:00.000Z"))
            _ = try fixture.engine(RetentionPolicy(default: .months(12))).run(at: utc("2026-02-21T10:00:00.000Z"))
            #expect(try fixture.catalog.recordings().map { utcText($0.retentionDeadlineUTC) }
                    == ["2027-01-05T09:15:00.000Z", "2027-02-20T09:15:00.000Z"])
            let report = try fixture.engine(RetentionPolicy(default: .months(1))).run(at: utc("2026-03-01T10:00:00.000Z"))
            #expect(report.deleted.map(\.recording) == [january])
            #expect(report.deleted.first?.rule == "retention 1 month")
            #expect(utcText(try fixture.catalog.recording(february)?.retentionDeadlineUTC) == "2026-03-20T09:15:00.000Z")
            let entry = try #require(try fixture.entries(kind: .retentionPolicyChanged).first)
            #expect(entry.decodedDetails?["old_policy"] == "default 12 months")
            #expect(entry.decodedDetails?["new_policy"] == "default 1 month")
            #expect(entry.decodedDetails?["due_recordings"] == january.description)
        }

        /// `skryba retention preview --config NEW` on the real command line.
        @Test func thePreviewCommandPrintsTheCountAndTheTable() throws {
            let fixture = try RetentionFixture("preview-cli")
            _ = try fixture.record(start: utc("2026-01-05T09:15:00.000Z"))
            _ = try fixture.record(line: 2, start: utc("2026-01-06T09:15:00.000Z"))
            _ = try fixture.engine(RetentionPolicy(default: .months(12))).run(at: utc("2026-01-07T10:00:00.000Z"))
            let config = try fixture.writeConfiguration("new.toml", retention: #"period = "30d""#, lineTwo: #"retention = "12m""#)
            let result = try Tool.run(Tool.product("skryba"), ["retention", "preview", "--config", config])
            #expect(result.status == 0, "\(result.output)")
            let lines = result.output.split(separator: "\n").map(String.init)
            #expect(lines == [
                "policy of \(config): default 30 days; line 2 12 months; capacity: keep 10% free",
                "1 recording(s) would get a new deadline (1 earlier); 1 would be deleted at the next retention run",
                "id\tline\tdirection\tstart\tnow kept by\tnew rule\tnew deadline",
                "R000001\t1\tincoming\t2026-01-05 10:15:00 CET\tretention 12 months\tretention 30 days\t2026-02-04 10:15:00 CET",
            ])
            #expect(try fixture.entries(kind: .retentionPolicyChanged).isEmpty)
            #expect(try fixture.catalog.recording(RecordingID(rawValue: 1))?.retentionRule == "retention 12 months")
        }
    }
}

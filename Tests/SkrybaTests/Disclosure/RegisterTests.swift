import Foundation
import GRDB
import SkrybaPipeline
import Testing
@testable import SkrybaStore

extension DisclosureTests {
    /// The register of requests (issue 11 items 1 and 2): references, opinions, decisions, notices, search.
    @Suite struct RegisterTests {
        @Test func aCallersRequestIsRegisteredOpinedAndGrantedWithEverythingAudited() throws {
            let fixture = try DisclosureFixture("grant")
            let id = try fixture.record(start: DisclosureTime.call, callerNumber: "601234567")
            let reference = try fixture.callerRequest([id])
            #expect(reference == "RQ-2026-0001")
            let granted = try fixture.register.decide(reference, grant: true, by: "Burmistrz", reason: "art. 15 RODO",
                                                      at: utc("2026-03-04T08:00:00.000Z"))
            #expect(granted.decision == .granted)
            #expect(granted.decidedBy == "Burmistrz")
            #expect(granted.notice == nil)
            #expect(granted.opinions.map(\.role) == [.dpo, .head])
            #expect(try fixture.entries(kind: .requestRegistered).map(\.subject) == [reference])
            #expect(try fixture.entries(kind: .requestOpinion).count == 2)
            #expect(try fixture.entries(kind: .requestLinked).first?.decodedDetails?["recordings"] == id.description)
            #expect(try fixture.entries(kind: .requestDecided).first?.decodedDetails?["decision"] == "granted")
            // The requester's personal data stays in the register, never in the audit log (which is never erased).
            let audit = try fixture.catalog.audit.entries().map(\.details).joined()
            // (The number as digits and as written: a bare "601" also occurs in the hex of random file hashes.)
            #expect(!audit.contains("Kowalski") && !audit.contains("Długa") && !audit.contains("601234567") && !audit.contains("601 234 567"))
            // A decision is final.
            #expect(throws: RequestError.refused("request \(reference) was already granted by Burmistrz on 2026-03-04 09:00 CET; a decision cannot be changed")) {
                try fixture.register.decide(reference, grant: false, by: "x", reason: "y", at: utc("2026-03-05T08:00:00.000Z"))
            }
            let second = try fixture.callerRequest([id])
            #expect(second == "RQ-2026-0002")
        }

        @Test func aCallersRequestForACallWithoutAnIdentifiedNumberCannotBeGranted() throws {
            let fixture = try DisclosureFixture("unidentified")
            let id = try fixture.record(start: DisclosureTime.call, callerNumber: nil)
            let reference = try fixture.callerRequest([id])
            #expect(throws: RequestError.refused("cannot grant \(reference): recording \(id) has no identified caller number; a caller's request can only be granted for recordings whose caller number was identified (Szczecin §4.7, Halinów §2.7) — refuse it with this reason")) {
                try fixture.register.decide(reference, grant: true, by: "Burmistrz", reason: "ok", at: utc("2026-03-04T08:00:00.000Z"))
            }
            #expect(try fixture.register.request(reference).decision == nil)
            #expect(try fixture.entries(kind: .requestDecided).isEmpty)
            // Someone else's number: refused too.
            let other = try fixture.record(start: DisclosureTime.call.addingTimeInterval(60), callerNumber: "+48 700 000 000")
            let stranger = try fixture.callerRequest([other])
            #expect(throws: RequestError.refused("cannot grant \(stranger): recording \(other) was made from another number than the requester's (+48 601 234 567); a caller may only hear their own calls")) {
                try fixture.register.decide(stranger, grant: true, by: "Burmistrz", reason: "ok", at: utc("2026-03-04T08:00:00.000Z"))
            }
        }

        @Test func aRefusalWritesTheNoticeToTheRequester() throws {
            let fixture = try DisclosureFixture("refuse")
            let id = try fixture.record(start: DisclosureTime.call, callerNumber: nil)
            let reference = try fixture.callerRequest([id])
            let refused = try fixture.register.decide(reference, grant: false, by: "Sekretarz Gminy",
                                                      reason: "numer dzwoniącego nie został zidentyfikowany", at: utc("2026-03-04T08:00:00.000Z"))
            #expect(refused.notice == """
                NOTICE OF REFUSAL — request RQ-2026-0001

                To: Jan Kowalski
                    ul. Długa 1, 70-001 Szczecin

                Your request of 2026-03-03 10:00 CET to listen to the recording of a telephone call made on 2 marca 2026 ok. 10:15 from +48 601 234 567 is refused.

                Reason: numer dzwoniącego nie został zidentyfikowany
                Data protection officer's opinion (IOD Anna Nowak, 2026-03-03 11:00 CET): Brak przeciwwskazań
                Head of department's opinion (Kierownik WSO, 2026-03-03 12:00 CET): Zgoda

                Decided by Sekretarz Gminy on 2026-03-04 09:00 CET.

                """)
            #expect(try fixture.entries(kind: .requestDecided).first?.decodedDetails?["notice"] == "written")
            #expect(throws: RequestError.refused("request \(reference) was already refused; its recordings cannot change after the decision")) {
                try fixture.register.link(reference, recordings: [id], by: "x", at: utc("2026-03-05T08:00:00.000Z"))
            }
        }

        @Test func anAuthoritysRequestNeedsItsBasisApproverAndCase() throws {
            let fixture = try DisclosureFixture("authority")
            var new = NewRequest(kind: .authority, receivedUTC: utc("2026-03-03T09:00:00.000Z"))
            new.authority = .police
            #expect(throws: RequestError.invalid("an authority's request needs --legal-basis, --approver, --case")) {
                try fixture.register.register(new, by: "kancelaria", at: utc("2026-03-03T09:00:00.000Z"))
            }
            (new.legalBasis, new.approver, new.caseReference) = ("art. 20 ust. 1 ustawy o Policji", .deputy, "RSD-123/26")
            let request = try fixture.register.register(new, by: "kancelaria", at: utc("2026-03-03T09:00:00.000Z"))
            let entry = try #require(try fixture.entries(kind: .requestRegistered).first?.decodedDetails)
            #expect(entry["authority"] == "police" && entry["approver"] == "deputy" && entry["case_reference"] == "RSD-123/26")
            // An authority's request without an identified caller is decided by the approver, no caller rule.
            let id = try fixture.record(start: DisclosureTime.call, callerNumber: nil)
            _ = try fixture.register.link(request.reference, recordings: [id], by: "IOD", at: utc("2026-03-03T10:00:00.000Z"))
            #expect(try fixture.register.decide(request.reference, grant: true, by: "Zastępca Burmistrza", reason: "postanowienie",
                                                at: utc("2026-03-03T11:00:00.000Z")).decision == .granted)
        }

        @Test func recordingsAreFoundByNumberLineAndApproximateWarsawTime() throws {
            let fixture = try DisclosureFixture("search")
            let wanted = try fixture.record(line: 1, start: DisclosureTime.call, callerNumber: "601234567")
            let later = try fixture.record(line: 1, start: DisclosureTime.call.addingTimeInterval(3600), callerNumber: "601234567")
            let otherLine = try fixture.record(line: 2, start: DisclosureTime.call, callerNumber: "601234567", lineNumber: "+48914245001")
            let outgoing = try fixture.record(line: 1, direction: .outgoing, start: DisclosureTime.call, callerNumber: nil, dialedDigits: "601234567")
            var search = RecordingSearch()
            search.callerNumber = "+48 601-234-567"
            // "10:15" on 2 March 2026 in Warsaw (UTC+1) is 09:15 UTC.
            search.around = try CommandLineDate.parse("2026-03-02 10:15")
            #expect(try fixture.register.search(search).map(\.recording.id) == [wanted, otherLine])
            search.line = 1
            #expect(try fixture.register.search(search).map(\.recording.id) == [wanted])
            search = RecordingSearch()
            search.calledNumber = "601234567"
            #expect(try fixture.register.search(search).map(\.recording.id) == [outgoing])
            search = RecordingSearch()
            search.calledNumber = "914245001"
            #expect(try fixture.register.search(search).map(\.recording.id) == [otherLine])
            let candidate = try #require(try fixture.register.search(search).first)
            #expect(candidate.callingNumber == "601234567" && candidate.calledNumber == "+48914245001")
            search = RecordingSearch()
            search.callerNumber = "601234567"
            #expect(try fixture.register.search(search).map(\.recording.id) == [wanted, later, otherLine])
        }

        @Test func schemaSixAddsTheLineNumberAndTheRegisterToAnOlderCatalog() throws {
            let fixture = try DisclosureFixture("schema")
            #expect(Catalog.schemaVersion == 6)
            let columns = try fixture.catalog.connection.read("test") { database in
                try String.fetchAll(database, sql: "SELECT name FROM pragma_table_info('recordings')")
            }
            #expect(columns.contains("line_number") && columns.contains("caller_number"))
            // A discarded call keeps no number, even if CallStore reports one.
            let discarded = try fixture.catalog.recordDiscardedCall(
                NewRecording(line: 1, direction: .incoming, startUTC: DisclosureTime.call, startFrame: 0, recipients: [fixture.recipient.description]),
                endFrame: 10, durationMs: 1, reason: "hung up", at: DisclosureTime.call)
            try fixture.catalog.recordNumbers(discarded, callerNumber: "601234567", lineNumber: "+48914245000")
            #expect(try fixture.catalog.recording(discarded)?.callerNumber == nil)
            #expect(try fixture.register.lineNumber(of: discarded) == nil)
        }
    }
}


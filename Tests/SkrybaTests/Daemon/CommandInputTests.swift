import Foundation
import Testing
import SkrybaPipeline
import SkrybaStore

/// What a person types into `skryba` (issue 8, item 14): impossible dates, copy requests dated
/// before the call or in the future, actors and reasons that could forge lines, rights actions
/// without an actor, corrected numbers that are not numbers. Each is refused naming the field.
@Suite struct CommandInputTests {
    @Test func datesAreParsedStrictlyOrRefusedWithTheReason() throws {
        #expect(try CommandLineDate.parse("2026-11-22T10:00:00Z") == utc("2026-11-22T10:00:00.000Z"))
        #expect(try CommandLineDate.parse("2026-11-22T11:30+01:00") == utc("2026-11-22T10:30:00.000Z"))
        #expect(try CommandLineDate.parse("2026-11-22 10:00") == utc("2026-11-22T09:00:00.000Z"), "Warsaw winter time")
        #expect(try CommandLineDate.parse("2026-07-01") == utc("2026-06-30T22:00:00.000Z"), "Warsaw summer time")
        #expect(try CommandLineDate.parse("2026-02-28 23:59:59") == utc("2026-02-28T22:59:59.000Z"))
        for (text, reason) in [
            ("2026-11-31", "'2026-11-31': 2026-11 has no day 31 (it has 30 days)"),
            ("2026-02-29 10:00", "'2026-02-29 10:00': 2026-02 has no day 29 (it has 28 days)"),
            ("2026-11-22 10:99", "'2026-11-22 10:99': the minute 99 is outside 0...59"),
            ("2026-11-22 25:00", "'2026-11-22 25:00': the hour 25 is outside 0...23"),
            ("2026-11-22T10:00:61Z", "'2026-11-22T10:00:61Z': the second 61 is outside 0...59"),
            ("2026-13-01", "'2026-13-01': there is no month 13"),
            ("1970-01-01", "'1970-01-01': the year 1970 is outside 2000...2099"),
            ("2026-03-29 02:30", "'2026-03-29 02:30': that time does not exist in Warsaw (the clocks skip it when summer time begins)"),
            ("2026-11-22 10", "'2026-11-22 10' is not a date (2026-11-22T10:00:00Z, or 2026-11-22 10:00 in Warsaw time)"),
            ("22.11.2026", "'22.11.2026' is not a date (2026-11-22T10:00:00Z, or 2026-11-22 10:00 in Warsaw time)"),
        ] {
            #expect(throws: CommandLineDate.Problem(description: reason)) { try CommandLineDate.parse(text) }
        }
    }

    struct Appliance {
        let fixture: RetentionFixture
        func skryba(_ arguments: [String]) throws -> ToolResult {
            try Tool.run(Tool.product("skryba"), arguments + ["--data-dir", fixture.directory])
        }
    }

    func appliance(_ name: String) throws -> (Appliance, incoming: RecordingID, outgoing: RecordingID) {
        let fixture = try RetentionFixture(name)
        let now = Date()
        let incoming = try fixture.record(start: now.addingTimeInterval(-3600))
        let outgoing = try fixture.record(direction: .outgoing, start: now.addingTimeInterval(-1800), callerNumber: nil)
        return (Appliance(fixture: fixture), incoming, outgoing)
    }

    @Test func impossibleDatesAndCopyRequestsOutsideTheCallAreRefusedNamingTheOption() throws {
        let (app, incoming, _) = try appliance("dates")
        let hold = ["hold", "add", "--line", "1", "--case", "II K 1/26", "--reason", "evidence"]
        let day = try app.skryba(hold + ["--from", "2026-11-31 10:00", "--to", "2026-12-02 10:00"])
        #expect(day.status != 0 && day.output.contains("--from: '2026-11-31 10:00': 2026-11 has no day 31 (it has 30 days)"), "\(day.output)")
        let hour = try app.skryba(hold + ["--from", "2026-11-30 10:00", "--to", "2026-12-01 25:00"])
        #expect(hour.status != 0 && hour.output.contains("--to: '2026-12-01 25:00': the hour 25 is outside 0...23"), "\(hour.output)")

        let copy = ["copies", "add", "--recording", incoming.description, "--called-number", "22 100 20 30", "--made-by", "Anna Nowak"]
        let before = try app.skryba(copy + ["--requested", "2020-01-01 10:00"])
        #expect(before.status != 0 && before.output.contains("cannot come before the call it asks for"), "\(before.output)")
        let future = try app.skryba(copy + ["--requested", "2099-01-01T00:00:00Z"])
        #expect(future.status != 0 && future.output.contains("after now"), "\(future.output)")
        let old = try app.skryba(copy + ["--requested", "1999-12-31 10:00"])
        #expect(old.status != 0 && old.output.contains("--requested: '1999-12-31 10:00': the year 1999 is outside 2000...2099"), "\(old.output)")
        #expect(try app.fixture.copies.register().isEmpty, "nothing was secured")
    }

    @Test func actorsAndReasonsAreOneLineOfPrintableText() throws {
        let (app, incoming, _) = try appliance("text")
        let hold = ["hold", "add", "--recording", incoming.description, "--case", "II K 1/26"]
        for (arguments, message) in [
            (hold + ["--reason", "evidence", "--by", ""], "--by must not be empty"),
            (hold + ["--reason", "evidence", "--by", "Jan\n42\tforged"], "--by must be one line of printable text: it contains a newline (U+000A)"),
            (hold + ["--reason", "evidence\twith a tab"], "--reason must be one line of printable text: it contains a tab (U+0009)"),
            (hold + ["--reason", "\u{1B}[2Jcleared"], "--reason must be one line of printable text: it contains an escape character (U+001B)"),
            (["recordings", "restrict", incoming.description, "--by", "DPO", "--reason", "request\r\n7"],
             "--reason must be one line of printable text: it contains a carriage return (U+000D)"),
            (["copies", "add", "--recording", incoming.description, "--called-number", "22\n100", "--made-by", "Anna"],
             "--called-number must be one line of printable text: it contains a newline (U+000A)"),
        ] {
            let result = try app.skryba(arguments)
            #expect(result.status != 0 && result.output.contains(message), "\(arguments): \(result.output)")
        }
        #expect(try app.fixture.catalog.holds(includeReleased: true).isEmpty)
        #expect(try app.fixture.catalog.recording(incoming)?.restrictedUTC == nil)
        // The library refuses it too (the console will call it directly).
        #expect(throws: RetentionError.invalid("the reason must be one line of printable text: it contains a newline (U+000A), which could forge lines or terminal output; nothing was restricted")) {
            try app.fixture.rights.restrict(incoming, reason: "a\nb", by: "DPO", at: Date())
        }
    }

    @Test func rightsActionsRequireWhoActs() throws {
        let (app, incoming, _) = try appliance("by")
        for action in [["erase", incoming.description], ["restrict", incoming.description],
                       ["correct", incoming.description, "--caller-number", "+48601234567"]] {
            let result = try app.skryba(["recordings"] + action + ["--reason", "request 7/2026"])
            #expect(result.status != 0 && result.output.contains("Missing expected argument '--by <by>'"), "\(action): \(result.output)")
        }
        #expect(try app.fixture.catalog.recording(incoming)?.isDeleted == false)
        let restricted = try app.skryba(["recordings", "restrict", incoming.description, "--reason", "request 7/2026", "--by", "DPO Jan Kowalski"])
        #expect(restricted.status == 0, "\(restricted.output)")
        #expect(try app.fixture.entries(kind: .recordingRestricted).last?.actor == "DPO Jan Kowalski")
    }

    @Test func aCorrectedNumberIsANumberAndOnlyIncomingCallsHaveOne() throws {
        let (app, incoming, outgoing) = try appliance("correct")
        let correct = ["recordings", "correct", "--reason", "request 7/2026", "--by", "DPO"]
        for bad in ["12ab", "+", "12", "+4860123456789012", "601 234 567"] {
            let result = try app.skryba(correct + [incoming.description, "--caller-number", bad])
            #expect(result.status != 0 && result.output.contains("--caller-number: "), "\(bad): \(result.output)")
        }
        let outgoingCall = try app.skryba(correct + [outgoing.description, "--caller-number", "+48601234567"])
        #expect(outgoingCall.status != 0 && outgoingCall.output.contains("is an outgoing call: it has no caller number"), "\(outgoingCall.output)")
        let corrected = try app.skryba(correct + [incoming.description, "--caller-number", "+48601234567"])
        #expect(corrected.status == 0, "\(corrected.output)")
        #expect(try app.fixture.catalog.recording(incoming)?.callerNumber == "+48601234567")
        #expect(!(try app.fixture.wholeAuditText()).contains("601234567"), "the audit log keeps only an HMAC of the number")
        let help = try Tool.run(Tool.product("skryba"), ["recordings", "correct", "--help"])
        let helpText = help.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(helpText.contains("The audit log keeps only an HMAC of each number"), "\(help.output)")
        #expect(!help.output.contains("the previous value stays in the audit log"))
    }

    /// Values stored before input was checked (or by another path) must not forge lines when printed.
    @Test func holdAndAuditListsEscapeStoredControlCharacters() throws {
        let (app, incoming, _) = try appliance("escape")
        try app.fixture.catalog.addHold(caseReference: "II K 9/26", reason: "evidence\n99\t2026-01-01\tforged line\u{1B}[31m", recordings: [incoming],
                                        by: "Jan\u{1B}]0;title\u{07}", at: Date())
        let holds = try app.skryba(["hold", "list"])
        #expect(holds.status == 0)
        let holdLines = holds.output.split(separator: "\n")
        #expect(holdLines.count == 2, "a header and one hold: \(holds.output)")
        #expect(holdLines.first?.split(separator: " ") == ["case", "kind", "state", "recordings", "reason"], "\(holds.output)")
        #expect(holdLines.last?.hasPrefix("II K 9/26  ") == true, "\(holds.output)")
        #expect(holds.output.contains("evidence\\n99\\t2026-01-01\\tforged line\\u{1B}[31m"), "\(holds.output)")
        let audit = try app.skryba(["audit", "list"])
        let auditLines = audit.output.split(separator: "\n")
        #expect(auditLines.count == (try app.fixture.catalog.audit.entries().count) + 1, "a header and one line per entry: \(audit.output)")
        #expect(auditLines.first?.split(separator: " ") == ["seq", "time", "kind", "subject", "by", "details"], "\(audit.output)")
        #expect(!audit.output.contains("\u{1B}") && audit.output.contains("Jan\\u{1B}]0;title\\u{7}"), "\(audit.output)")
    }
}

import Foundation
import SkrybaStore
import Testing

/// Changes from the console: checked with the file's rules, written atomically with the
/// technician's comments kept byte for byte, audited with the Linux login, confirmed when they
/// would delete recordings.
@Suite struct ConsoleChangeTests {
    static let prompt = "skryba> "

    @Test func aChangeIsWrittenWithTheCommentsKeptAndAudited() throws {
        let fixture = try ConsoleFixture("change")
        let console = try fixture.console()
        try console.expect(Self.prompt)

        console.type("set retention 6m\r")
        let output = try console.expect(Self.prompt)
        #expect(output.contains("retention.period: 30d → 6m. Saved and audited."), "\(output)")
        #expect(output.contains("skrybad is not running (no socket at \(fixture.socketPath)); it applies the change when it starts."))
        let afterRetention = fixture.originalText.replacingOccurrences(
            of: "period = \"30d\"                        # the office's regulation",
            with: "period = \"6m\"                        # the office's regulation")
        #expect(afterRetention != fixture.originalText)
        #expect(fixture.text == afterRetention)

        console.type("line 1 name \"Biuro podawcze\"\r")
        #expect(try console.expect(Self.prompt).contains("lines[1].name: Sekretariat → Biuro podawcze. Saved and audited."))
        let afterName = afterRetention.replacingOccurrences(of: "name = \"Sekretariat\"", with: "name = \"Biuro podawcze\"")
        #expect(fixture.text == afterName)

        console.type("line 1 consent opt-out-key 9\r")
        #expect(try console.expect(Self.prompt).contains("lines[1].consent: continue → opt-out-key 9. Saved and audited."))
        let afterConsent = afterName.replacingOccurrences(of: "consent = \"continue\"", with: "consent = \"opt-out-key\"")

        // A missing key goes after the last key of its table: the template's information_clause.
        let lastKey = "information_clause = \"…\"              # the callers' information clause, or where it is published (R14)\n"
        #expect(afterConsent.contains(lastKey))
        let afterOptOut = afterConsent.replacingOccurrences(of: lastKey, with: lastKey + "opt_out_key = \"9\"\n")
        #expect(fixture.text == afterOptOut, "\(fixture.text)")

        let other = "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg"
        console.type("recipients add \(other)\r")
        #expect(try console.expect(Self.prompt).contains("recipients: 1 → + \(other). Saved and audited."))
        #expect(fixture.text.contains("recipients = [\n  \"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\",\n  \"\(other)\",\n]\nflush_interval_ms"))

        // The audit log names the Linux login; the log command shows it.
        let entries = try fixture.catalog().audit.entries().filter { $0.kind == AuditKind.configChanged.rawValue }
        #expect(entries.map(\.subject) == ["retention.period", "lines[1].name", "lines[1].consent", "recipients"])
        #expect(entries.allSatisfy { $0.actor == "console:jan.kowalski" })
        #expect(entries.first?.decodedDetails == ["key": "retention.period", "from": "30d", "to": "6m", "file": fixture.configPath])
        console.type("log 4\r")
        let log = try console.expect(Self.prompt)
        #expect(log.contains("config-changed  retention.period  console:jan.kowalski  file=\(fixture.configPath) from=30d key=retention.period to=6m"), "\(log)")

        // The language changes at once.
        console.type("set language pl\r")
        #expect(try console.expect(Self.prompt).contains("language: en → pl. Zapisano i odnotowano w dzienniku."))
        console.type("bogus\r")
        #expect(try console.expect(Self.prompt).contains("Nieznane polecenie „bogus”."))
        console.type("exit\r")
        #expect(console.waitForExit() == 0)
    }

    @Test func aRetentionChangeThatWouldDeleteRecordingsSaysHowManyAndAsks() throws {
        let fixture = try ConsoleFixture("retention")
        let recordings = try RetentionFixture(catalog: try fixture.catalog(), directory: fixture.dataDirectory)
        let tenDaysAgo = Date().addingTimeInterval(-10 * 86400)
        try recordings.record(start: tenDaysAgo)
        try recordings.record(start: tenDaysAgo.addingTimeInterval(60))
        try recordings.record(start: Date().addingTimeInterval(-3600))
        let console = try fixture.console()
        try console.expect(Self.prompt)

        console.type("set retention 7d\r")
        try console.expect("2 recording(s) would be deleted at the next retention run. Change it? [yes/no] ")
        console.type("no\r")
        #expect(try console.expect(Self.prompt).contains("Nothing changed."))
        #expect(fixture.text == fixture.originalText)

        console.type("set retention 7d\r")
        try console.expect("2 recording(s) would be deleted at the next retention run. Change it? [yes/no] ")
        console.type("yes\r")
        #expect(try console.expect(Self.prompt).contains("retention.period: 30d → 7d. Saved and audited."))
        #expect(fixture.text.contains("period = \"7d\""))

        // Longer keeps everything: no question.
        console.type("set retention capacity\r")
        #expect(try console.expect(Self.prompt).contains("retention.period: 7d → capacity. Saved and audited."))
        console.type("exit\r")
        #expect(console.waitForExit() == 0)
    }

    @Test func scriptedFromAPipeItAnswersWithoutPrompts() throws {
        let fixture = try ConsoleFixture("pipe")
        let (status, text) = try fixture.scripted("lines\nset retention 12m\n")
        #expect(status == 0)
        #expect(!text.contains("skryba> "))
        #expect(text.contains("Lines:\n  1  Sekretariat  incoming  continue  unknown\n"), "\(text)")
        #expect(text.contains("retention.period: 30d → 12m. Saved and audited."))
    }
}

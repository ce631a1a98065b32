import Foundation
import SkrybaConfig
import SkrybaStore
import Testing

/// From an empty box (issue 10, item 5): no configuration file, the console offers the first setup,
/// which ends in a configuration `skryba config check` accepts, written from the commented template.
@Suite struct FirstSetupTests {
    static let prompt = "skryba> "
    static let recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

    @Test func fromNoConfigurationTheSetupWritesAConfigurationThatChecks() throws {
        let fixture = try ConsoleFixture("setup", configured: false)
        let profiles = "\(fixture.directory)/profiles"
        try FileManager.default.createDirectory(atPath: profiles, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(Repository.root)/board/rpi4/gpio.toml", toPath: "\(profiles)/gpio-rpi4.toml")
        let console = try fixture.console(["--template", Repository.template, "--gpio-profiles", profiles, "--data-dir", fixture.dataDirectory])
        try console.expect("This appliance is not configured: \(fixture.configPath) does not exist, so nothing is recorded. Type setup to configure it.")
        try console.expect(Self.prompt)
        console.type("status\r")
        #expect(try console.expect(Self.prompt).contains("Configuration: none (\(fixture.configPath) does not exist; type setup)"))
        console.type("set retention 6m\r")
        #expect(try console.expect(Self.prompt).contains("This appliance is not configured"))

        console.type("setup\r")
        try console.expect("Language of the console (pl, en) [en]: ")
        console.type("\r")
        try console.expect("Board GPIO profiles: rpi4.")
        try console.expect("Board [rpi4]: ")
        console.type("\r")
        try console.expect("How many lines are tapped (1 to 8) [1]: ")
        console.type("9\r")
        try console.expect("'9' is not one of the answers this question takes; try again.")
        console.type("2\r")
        try console.expect("Name of line 1 [Line 1]: ")
        console.type("Sekretariat\r")
        try console.expect("Name of line 2 [Line 2]: ")
        console.type("Biuro podawcze\r")
        try console.expect("Which calls to record (incoming, outgoing, both) [incoming]: ")
        console.type("both\r")
        try console.expect("relative to /etc/skryba): ")
        console.type("zapowiedz.wav\r")
        try console.expect("Recipient 1: ")
        console.type("\r")
        try console.expect("At least one recipient is needed: without one nothing is recorded.")
        try console.expect("Recipient 1: ")
        console.type("age1nope\r")
        try console.expect("Not a recipient: ")
        try console.expect("Recipient 1: ")
        console.type("\(Self.recipient)\r")
        try console.expect("Recipient 2: ")
        console.type("\r")
        try console.expect("Retention (30d, 6m, capacity) [30d]: ")
        console.type("6m\r")
        let done = try console.expect(Self.prompt)
        #expect(done.contains("Wrote \(fixture.configPath) with 2 line(s); it is checked and audited."), "\(done)")
        #expect(done.contains("skrybad is not running (no socket at \(fixture.socketPath)); it applies the change when it starts."))

        // What the console now shows, and what config check says of the file.
        console.type("lines\r")
        #expect(try console.expect(Self.prompt).contains("  1  Sekretariat     incoming, outgoing  continue  unknown\r\n  2  Biuro podawcze  incoming, outgoing  continue  unknown"))
        console.type("exit\r")
        #expect(console.waitForExit() == 0)

        let check = try Tool.run(Tool.product("skryba"), ["config", "check", fixture.configPath])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("\(fixture.configPath): the configuration can be used."))
        #expect(check.output.contains("2     Biuro podawcze  incoming,outgoing  \(fixture.directory)/zapowiedz.wav  continue"), "\(check.output)")
        #expect(check.output.contains("recipients: 1; retention: 6m; language: en; data_dir: \(fixture.dataDirectory)"))

        // Written from the template: its comments are there, the example line is not, the pins are the board's.
        let text = fixture.text
        #expect(text.hasPrefix("# /etc/skryba/skryba.toml: the appliance's configuration (every key: docs/configuration.md)."))
        #expect(text.contains("# The office's public age keys (age-keygen -y KEY.txt on IT's workstation)."))
        #expect(text.contains("# One [[lines]] table per tapped line."))
        #expect(text.contains("period = \"6m\"                        # the office's regulation"))
        #expect(text.contains("ring = { chip = \"pinctrl-bcm2711\", line = 22, active_low = true, bias = \"disabled\" }"))
        #expect(!text.contains("announcement_id = \"zapowiedź 2026-01\""))
        let audit = try fixture.catalog().audit.entries().filter { $0.kind == AuditKind.configChanged.rawValue }
        #expect(audit.map(\.subject) == ["setup"] && audit.first?.actor == "console:jan.kowalski")
    }

    @Test func configCheckListsEveryProblemWithoutTheUsage() throws {
        let fixture = try ConsoleFixture("check")
        let broken = fixture.originalText.replacingOccurrences(of: "language = \"en\"", with: "language = \"de\"")
            .replacingOccurrences(of: "period = \"30d\"", with: "period = \"30 days\"")
        try broken.write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        let check = try Tool.run(Tool.product("skryba"), ["config", "check", fixture.configPath])
        #expect(check.status == 2)
        #expect(!check.output.contains("Usage:"))
        let languageLine = broken.components(separatedBy: "\n").firstIndex { $0.hasPrefix("language") }! + 1
        let periodLine = broken.components(separatedBy: "\n").firstIndex { $0.hasPrefix("period") }! + 1
        #expect(check.output == """
            skryba: \(fixture.configPath) cannot be used (2 problems):
            \(fixture.configPath):\(languageLine): language: "de" is not a language of the appliance ("pl" Polish or "en" English)
            \(fixture.configPath):\(periodLine): retention.period: "30 days" is not a retention period ("30d" days, "6m" calendar months, or "capacity")

            """)
        let missing = try Tool.run(Tool.product("skryba"), ["config", "check", "\(fixture.directory)/none.toml"])
        #expect(missing.status == 2)
        #expect(missing.output.hasPrefix("skryba: \(fixture.directory)/none.toml cannot be used (1 problem):\n"))
    }
}

import Foundation
import SkrybaStore
import Testing

/// `skryba console` driven through a real pseudo-terminal, as a technician at picocom would use it
/// (issue 10, items 4 and 5). skrybad is not running here: every answer that needs it says so,
/// and the configuration and the catalog are still read and changed.
@Suite struct ConsoleTerminalTests {
    static let prompt = "skryba> "
    static let afterOutput = "\nskryba> "

    @Test func startedDirectlyItAnswersEveryCommand() throws {
        let fixture = try ConsoleFixture("commands")
        let key = try DeviceKey.loadOrCreate(dataDirectory: fixture.dataDirectory, audit: fixture.catalog().audit, at: Date())
        let console = try fixture.console()
        try console.expect("Skryba console 0.1.0, logged in as jan.kowalski. Type help for the commands, help COMMAND or COMMAND ? for one.")
        try console.expect(Self.prompt)

        console.type("help\r")
        let help = try console.expect(Self.prompt)
        for command in ["status", "lines", "line", "set", "announcement", "levels", "alarms", "log", "recipients", "time", "setup", "reboot", "help", "exit"] {
            #expect(help.contains("\n  \(command) "), "help lists \(command): \(help)")
        }

        console.type("status\r")
        let status = try console.expect(Self.prompt)
        #expect(status.contains("Configuration: \(fixture.configPath) (recorder urzad-1)"), "\(status)")
        #expect(status.contains("skrybad is not running (no socket at \(fixture.socketPath))."), "\(status)")
        #expect(status.contains("  1  Sekretariat  unknown  -"), "\(status)")
        #expect(status.contains("Calls in progress: unknown"))
        #expect(status.contains("Storage: ") && status.contains(" free, days left unknown"), "\(status)")
        #expect(status.contains("Clock: 20"))
        #expect(status.contains("Alarms: unknown"))
        #expect(status.contains("Device key fingerprint: \(key.fingerprint)"), "\(status)")
        #expect(status.contains("Version: 0.1.0"))

        console.type("lines\r")
        #expect(try console.expect(Self.prompt).contains("Lines:\r\n  1  Sekretariat  incoming  continue  unknown"))

        console.type("line 1\r")
        let line = try console.expect(Self.prompt)
        #expect(line.contains("Line 1: Sekretariat"))
        #expect(line.contains("announcement: \(fixture.directory)/zapowiedz.wav (zapowiedź 2026-01)"), "\(line)")
        #expect(line.contains("ring: pinctrl-bcm2711 line 17; hook: pinctrl-bcm2711 line 27"))

        console.type("recipients\r")
        #expect(try console.expect(Self.prompt).contains("Recordings are sealed to 1 recipient(s):\r\n  1  age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"))

        console.type("time\r")
        let time = try console.expect(Self.prompt)
        #expect(time.contains("Local time: 20") && (time.contains(" CET\r\n") || time.contains(" CEST\r\n")), "\(time)")
        #expect(time.contains("UTC:        20") && time.contains("Z\r\n"))

        for command in ["levels", "alarms"] {
            console.type("\(command)\r")
            #expect(try console.expect(Self.prompt).contains("skrybad is not running (no socket at \(fixture.socketPath))."))
        }
        console.type("announcement test 1\r")
        // Offline the console plays it itself; this machine has no "hw:CARD=Tap", and the answer says so.
        #expect(try console.expect(Self.prompt).contains("The announcement was not played: "))

        console.type("log\r")
        let log = try console.expect(Self.prompt)
        #expect(log.contains("device-key-created  -  test  fingerprint=\(key.fingerprint)"), "\(log)")

        console.type("set ?\r")
        #expect(try console.expect(Self.prompt).contains("set retention 6m         keep them 6 calendar months (1m to 120m)"))
        console.type("? line\r")
        #expect(try console.expect(Self.prompt).contains("line 1 consent opt-out-key 9    pressing 9 objects (0-9, *, #, A-D)"))

        console.type("reboot\r")
        try console.expect("Restart the appliance now? Calls in progress are finished and saved first. [yes/no] ")
        console.type("no\r")
        try console.expect("Not restarted.")
        try console.expect(Self.prompt)

        console.type("exit\r")
        #expect(console.waitForExit() == 0)
    }

    @Test func badCommandsAndBadValuesAreAnsweredClearly() throws {
        let fixture = try ConsoleFixture("mistakes")
        let console = try fixture.console()
        try console.expect(Self.prompt)
        let answers: [(String, String)] = [
            ("bogus", "Unknown command 'bogus'. The commands are: status, lines, line, set, announcement, levels, alarms, log, recipients, time, setup, reboot, help, exit. Type help for what each does."),
            ("set retention 45x", "'45x' is not a retention period; give days like 30d (1d to 3650d), calendar months like 6m (1m to 120m), or capacity."),
            ("set retention", "Usage: set retention VALUE (30d, 6m or capacity), or set language pl|en."),
            ("set colour red", "There is no setting 'colour'; set takes retention or language."),
            ("set language de", "'de' is not a language of the console; give pl (Polish) or en (English)."),
            ("line 7", "There is no line 7; the configured lines are 1."),
            ("line one", "'one' is not a line number; give the number the lines command shows (e.g. line 1)."),
            ("line 1 colour blue", "A line has no setting 'colour'; give name, record, announcement or consent."),
            ("line 1 record sideways", "'sideways' is not a call direction; give incoming, outgoing or both."),
            ("line 1 consent opt-out-key", "Usage: line N consent continue, or line N consent opt-out-key KEY (KEY one of 0-9, *, #, A-D)."),
            ("recipients add age1nope", "Not a recipient: "),
            ("recipients remove 5", "'5' is not one of the 1 recipient(s); give its number from recipients or the whole age1… key."),
            ("log 0", "Usage: log, or log N with N from 1 to 500."),
            ("announcement play 1", "Usage: announcement test N (N: the line's number)."),
            ("help frobnicate", "Unknown command 'frobnicate'."),
        ]
        for (command, answer) in answers {
            console.type(command + "\r")
            let output = try console.expect(Self.prompt)
            #expect(output.contains(answer), "\(command) → \(output)")
        }
        // A value the file's own rules refuse: the validator's sentence, and the file untouched.
        console.type("line 1 consent opt-out-key X\r")
        let refused = try console.expect(Self.prompt)
        #expect(refused.contains("Not changed: the configuration would have these problems:\r\n\(fixture.configPath):"), "\(refused)")
        #expect(refused.contains("lines[1].opt_out_key: \"X\" is not a telephone key (one of 0-9, *, #, A-D)"), "\(refused)")
        console.type("recipients remove 1\r")
        #expect(try console.expect(Self.prompt).contains("recipients: empty: the appliance refuses to record without a recipient"))
        console.type("line 1 announcement missing.wav\r")
        #expect(try console.expect(Self.prompt).contains("lines[1].announcement: "))
        #expect(fixture.text == fixture.originalText)
        console.type("exit\r")
        #expect(console.waitForExit() == 0)
    }

    @Test func lineEditingHistoryAndKeysThatMustNotEscape() throws {
        let fixture = try ConsoleFixture("editing")
        let console = try fixture.console()
        // A redraw also writes the prompt (after CR); a new line's prompt comes after a newline.
        try console.expect(Self.afterOutput)

        // Tab completes the command word.
        console.type("tim" + Key.tab)
        try console.expect("time ")
        console.type(Key.enter)
        #expect(try console.expect(Self.afterOutput).contains("Local time: "))

        // Insert in the middle of the line: "lnes", three to the left, "i".
        console.type("lnes" + Key.left + Key.left + Key.left + "i" + Key.enter)
        #expect(try console.expect(Self.afterOutput).contains("Lines:\r\n  1  Sekretariat"))

        // Backspace as DEL and as ^H; Home and End.
        console.type("helpx" + Key.backspaceDEL + " lines" + Key.backspaceBS + "s" + Key.enter)
        #expect(try console.expect(Self.afterOutput).contains("lines\r\n  the configured lines"))
        console.type("ines" + Key.home + "l" + Key.end + Key.enter)
        #expect(try console.expect(Self.afterOutput).contains("Lines:"))

        // ^U erases what was typed, ^W the last word.
        console.type("garbage" + Key.ctrlU + "time" + Key.enter)
        let afterKill = try console.expect(Self.afterOutput)
        #expect(afterKill.contains("Local time: ") && !afterKill.contains("Unknown command"), "\(afterKill)")
        console.type("line 1 junk" + Key.ctrlW + Key.enter)
        #expect(try console.expect(Self.afterOutput).contains("Line 1: Sekretariat"))

        // History: up recalls older lines, down newer ones.
        console.type(Key.up + Key.enter)
        #expect(try console.expect(Self.afterOutput).contains("Line 1: Sekretariat"))
        console.type(Key.up + Key.up + Key.up + Key.down + Key.enter)
        #expect(try console.expect(Self.afterOutput).contains("Local time: "))

        // ^C abandons the line; ^Z and ^\ do nothing: the console is still there.
        console.type("status" + Key.ctrlC)
        try console.expect("^C")
        try console.expect(Self.afterOutput)
        console.type(Key.ctrlZ + Key.ctrlBackslash + "lines" + Key.enter)
        #expect(try console.expect(Self.afterOutput).contains("Lines:"))
        #expect(console.process.isRunning)

        // ^D on an empty line logs out.
        console.type(Key.ctrlD)
        #expect(console.waitForExit() == 0)
    }
}

import Foundation
import SkrybaConfig
import SkrybaCore
import SkrybaPipeline
import SkrybaSeal
import SkrybaStore
import SkrybaSystem
#if canImport(Glibc)
import Glibc
#endif

/// Where the console finds what it works on (`skryba console` options).
public struct ConsoleOptions: Sendable {
    public var configPath = "/etc/skryba/skryba.toml"
    public var controlSocket = ControlSocketLink.defaultPath
    /// The commented template the first setup starts from.
    public var templatePath = "/usr/share/skryba/skryba.toml.example"
    /// Board GPIO profiles (`gpio-<board>.toml`, from board/<board>/gpio.toml).
    public var gpioProfilesDirectory = "/usr/share/skryba"
    /// The data directory the first setup writes (nil: the template's, /var/lib/skryba).
    public var setupDataDirectory: String?
    /// The language until a configuration names one (default Polish).
    public var language: SkrybaConfiguration.Language = .polish
    /// What `reboot` runs once confirmed.
    public var rebootCommand = ["systemctl", "reboot"]
    /// The Linux login of the technician (audited with every change).
    public var user = ConsoleUser.current()

    public init() {}
}

/// Who is at the console: the Linux login (PAM authenticated it), never a name typed here.
public enum ConsoleUser {
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let sudo = environment["SUDO_USER"], !sudo.isEmpty { return sudo }
        if let login = getlogin().map({ String(cString: $0) }), !login.isEmpty { return login }
        if let name = environment["LOGNAME"] ?? environment["USER"], !name.isEmpty { return name }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(getuid())"
    }
}

/// `skryba console`: the technician's login shell on the serial getty. Reads commands, answers in
/// the configured language, never runs a system shell; ^C abandons a line, ^Z and ^\ do nothing.
public final class Console {
    let terminal: Terminal
    let link: any ApplianceLink
    let options: ConsoleOptions
    var t: any ConsoleStrings
    var actor: String { "console:\(options.user)" }

    public init(terminal: Terminal, link: any ApplianceLink, options: ConsoleOptions) {
        self.terminal = terminal
        self.link = link
        self.options = options
        t = Strings.for(options.language)
        if case .valid(_, let configuration) = loadConfiguration() { t = Strings.for(configuration.language) }
    }

    /// Runs until `exit` or the end of input; returns the exit status.
    public func run() -> Int32 {
        // The terminal is raw, so these keys arrive as bytes; a signal sent some other way must not end the console either.
        signal(SIGINT, SIG_IGN)
        signal(SIGQUIT, SIG_IGN)
        signal(SIGTSTP, SIG_IGN)
        terminal.enterRawMode()
        defer { terminal.restore() }
        say(t.banner(SkrybaVersion.current, options.user))
        switch loadConfiguration() {
        case .missing: say(t.notConfiguredNotice(options.configPath))
        case .invalid(let problems): say(t.configurationHasProblems(options.configPath) + "\n" + problems)
        case .valid(_, let configuration): auditLogin(configuration)
        }
        while let line = terminal.readLine(prompt: "skryba> ", complete: { [self] in completions(for: $0) }) {
            let words = Self.split(line)
            guard let first = words.first else { continue }
            if execute(first.lowercased(), Array(words.dropFirst())) == .exit { break }
        }
        return 0
    }

    enum Flow { case next, exit }

    /// `console-login` in the audit log, when there is a catalog to write it to (logging in never creates one).
    func auditLogin(_ configuration: SkrybaConfiguration) {
        guard FileManager.default.fileExists(atPath: "\(configuration.dataDirectory)/\(DataLayout.catalog)") else { return }
        _ = try? Catalog(dataDirectory: configuration.dataDirectory, actor: actor).audit.append(.consoleLogin, details: ["terminal": terminal.isInteractive ? "tty" : "pipe"],
                                                                                                 actor: actor, at: Date())
    }

    // MARK: - Commands

    struct Command: Sendable {
        let name: String
        let usage: String
        let summary: @Sendable (any ConsoleStrings) -> String
        let details: @Sendable (any ConsoleStrings) -> String
        /// Words that may follow the command (Tab completion).
        let words: [String]
    }

    static let commands: [Command] = [
        Command(name: "status", usage: "status", summary: { $0.helpStatus }, details: { $0.helpStatusDetails }, words: []),
        Command(name: "lines", usage: "lines", summary: { $0.helpLines }, details: { $0.helpLinesDetails }, words: []),
        Command(name: "line", usage: "line N [name TEXT | record incoming,outgoing | announcement FILE | consent continue | consent opt-out-key KEY]",
                summary: { $0.helpLine }, details: { $0.helpLineDetails }, words: ["name", "record", "announcement", "consent", "continue", "opt-out-key", "incoming", "outgoing"]),
        Command(name: "set", usage: "set retention VALUE | set language pl|en", summary: { $0.helpSet }, details: { $0.helpSetDetails },
                words: ["retention", "language", "capacity", "pl", "en"]),
        Command(name: "announcement", usage: "announcement test N", summary: { $0.helpAnnouncement }, details: { $0.helpAnnouncementDetails }, words: ["test"]),
        Command(name: "levels", usage: "levels", summary: { $0.helpLevels }, details: { $0.helpLevelsDetails }, words: []),
        Command(name: "alarms", usage: "alarms", summary: { $0.helpAlarms }, details: { $0.helpAlarmsDetails }, words: []),
        Command(name: "log", usage: "log [N]", summary: { $0.helpLog }, details: { $0.helpLogDetails }, words: []),
        Command(name: "recipients", usage: "recipients [add age1… | remove age1…|N]", summary: { $0.helpRecipients }, details: { $0.helpRecipientsDetails },
                words: ["add", "remove"]),
        Command(name: "time", usage: "time", summary: { $0.helpTime }, details: { $0.helpTimeDetails }, words: []),
        Command(name: "setup", usage: "setup", summary: { $0.helpSetup }, details: { $0.helpSetupDetails }, words: []),
        Command(name: "reboot", usage: "reboot", summary: { $0.helpReboot }, details: { $0.helpRebootDetails }, words: []),
        Command(name: "help", usage: "help [COMMAND]", summary: { $0.helpHelp }, details: { $0.helpHelpDetails }, words: []),
        Command(name: "exit", usage: "exit", summary: { $0.helpExit }, details: { $0.helpExitDetails }, words: []),
    ]

    static func command(_ name: String) -> Command? { commands.first { $0.name == name } ?? (name == "quit" ? command("exit") : nil) }

    func execute(_ name: String, _ arguments: [String]) -> Flow {
        if name == "?" { return help(arguments.first) }
        guard let command = Self.command(name) else {
            say(t.unknownCommand(name, Self.commands.map(\.name).joined(separator: ", ")))
            return .next
        }
        if arguments == ["?"] || arguments == ["help"] && command.name != "help" { return help(command.name) }
        switch command.name {
        case "status": status()
        case "lines": lines()
        case "line": line(arguments)
        case "set": set(arguments)
        case "announcement": announcement(arguments)
        case "levels": levels()
        case "alarms": alarms()
        case "log": log(arguments)
        case "recipients": recipients(arguments)
        case "time": time()
        case "setup": FirstSetup(console: self).run()
        case "reboot": reboot()
        case "help": return help(arguments.first)
        case "exit": return .exit
        default: break
        }
        return .next
    }

    func help(_ topic: String?) -> Flow {
        if let topic {
            guard let command = Self.command(topic.lowercased()) else {
                say(t.unknownCommand(topic, Self.commands.map(\.name).joined(separator: ", ")))
                return .next
            }
            say("\(command.usage)\n  \(command.summary(t))\n\n\(command.details(t))")
            return .next
        }
        let width = Self.commands.map(\.name.count).max() ?? 0
        var text = t.helpIntro + "\n"
        for command in Self.commands { text += "  " + command.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + command.summary(t) + "\n" }
        say(text + t.helpOutro)
        return .next
    }

    /// Candidates for the word being typed: command names first, then the command's own words.
    func completions(for before: String) -> [String] {
        let words = before.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        let partial = words.last ?? ""
        if words.count <= 1 { return (Self.commands.map(\.name) + ["?"]).filter { $0.hasPrefix(partial.lowercased()) } }
        guard let command = Self.command(words[0].lowercased()) else { return [] }
        var candidates = command.words
        if command.name == "help" { candidates = Self.commands.map(\.name) }
        return candidates.filter { $0.hasPrefix(partial) }
    }

    // MARK: - Output

    func say(_ text: String) {
        terminal.write(text.hasSuffix("\n") ? text : text + "\n")
    }

    func alarmText(_ text: String) -> String { terminal.colour ? "\u{1B}[1;31m\(text)\u{1B}[0m" : text }

    /// Yes/no, in the console's language; anything but yes is no (and the end of input is no).
    func confirm(_ question: String) -> Bool {
        guard let answer = terminal.readLine(prompt: question + " [\(t.yes)/\(t.no)] ", history: false) else { return false }
        let normal = answer.trimmingCharacters(in: .whitespaces).lowercased()
        return normal == t.yes || normal == "yes" || normal == "y" || normal == String(t.yes.prefix(1))
    }

    func ask(_ question: String, default value: String? = nil) -> String? {
        let prompt = value.map { "\(question) [\($0)]: " } ?? "\(question): "
        guard let answer = terminal.readLine(prompt: prompt, history: false) else { return nil }
        let trimmed = answer.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? (value ?? "") : trimmed
    }

    /// Words separated by spaces; "double quotes" keep spaces in one word.
    static func split(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        var started = false
        for character in line {
            if character == "\"" {
                quoted.toggle()
                started = true
            } else if character == " " || character == "\t", !quoted {
                if started { words.append(current) }
                current = ""
                started = false
            } else {
                current.append(character)
                started = true
            }
        }
        if started { words.append(current) }
        return words
    }

    // MARK: - The configuration

    enum Loaded {
        case missing
        case invalid(String)
        case valid(text: String, SkrybaConfiguration)
    }

    func loadConfiguration() -> Loaded {
        guard FileManager.default.fileExists(atPath: options.configPath) else { return .missing }
        guard let data = FileManager.default.contents(atPath: options.configPath), let text = String(data: data, encoding: .utf8) else {
            return .invalid(t.cannotReadFile(options.configPath))
        }
        do { return .valid(text: text, try ConfigurationLoader.parse(text, path: options.configPath)) } catch {
            return .invalid(error.description)
        }
    }

    /// The configuration, or nil after saying why there is none to work on.
    func configurationOrExplain() -> (text: String, configuration: SkrybaConfiguration)? {
        switch loadConfiguration() {
        case .missing:
            say(t.notConfiguredNotice(options.configPath))
            return nil
        case .invalid(let problems):
            say(t.configurationHasProblems(options.configPath) + "\n" + problems)
            return nil
        case .valid(let text, let configuration):
            return (text, configuration)
        }
    }

    /// What one change is, for the technician and the audit log.
    struct Change {
        var key: String
        var from: String
        var to: String
    }

    /// Edits the configuration: the edit is made on the file's text, validated with the file's own
    /// rules, confirmed when it would delete recordings, written atomically, audited, then applied.
    @discardableResult
    func change(_ change: Change, retention: Bool = false, edit: (inout TOMLEditor) throws(TOMLEditError) -> Void) -> Bool {
        guard let (text, current) = configurationOrExplain() else { return false }
        let edited: String
        do {
            var editor = try TOMLEditor(text)
            try edit(&editor)
            edited = editor.text
        } catch let error as TOMLEditError {
            say(t.changeRefused(error.description))
            return false
        } catch {
            say(t.changeRefused("\(error)"))
            return false
        }
        let updated: SkrybaConfiguration
        do { updated = try ConfigurationLoader.parse(edited, path: options.configPath) } catch {
            say(t.changeInvalid + "\n" + error.description)
            return false
        }
        if updated == current, edited == text {
            say(t.unchanged(change.key, change.to))
            return true
        }
        // skrybad audits a change itself on `reload` (the login from SO_PEERCRED) and, when it was
        // stopped, at its start (a file unlike the last audited one): the console opens the catalog,
        // which is skryba's alone on the image, only to preview retention or to audit with the login.
        var openError = ""
        lazy var catalog: Catalog? = {
            do { return try Catalog(dataDirectory: updated.dataDirectory, actor: actor) } catch {
                openError = "\(error)"
                return nil
            }
        }()
        if retention {
            // A running skrybad previews it (on the image only it may open the catalog); stopped, the
            // console reads the catalog itself when it may.
            let due: Int
            do {
                due = try link.retentionPreview(period: updated.retention.period.description).dueNow
            } catch LinkError.refused(let why) {
                say(t.cannotPreview(why))
                return false
            } catch {
                guard let catalog else {
                    say(t.cannotPreview(openError))
                    return false
                }
                do { due = try catalog.retentionPreview(RetentionSetup.policy(updated.retention), at: Date()).dueNow.count } catch {
                    say(t.cannotPreview("\(error)"))
                    return false
                }
            }
            if due > 0 {
                guard confirm(t.retentionWouldDelete(due)) else {
                    say(t.nothingChanged)
                    return false
                }
            }
        }
        do { try ConfigFile.writeAtomically(edited, to: options.configPath) } catch {
            say(t.cannotWrite(options.configPath, "\(error)"))
            return false
        }
        if updated.language != current.language { t = Strings.for(updated.language) }
        applyAndAudit(subject: change.key, details: ["key": change.key, "from": change.from, "to": change.to, "file": options.configPath],
                      done: t.changed(change.key, change.from, change.to), doneAuditedAtStart: t.changedAuditedAtStart(change.key, change.from, change.to),
                      catalog: catalog)
        return true
    }

    /// After the file is written: skrybad re-reads it and audits it with the login; when it does not
    /// answer, the console audits it itself if it may open the catalog, or says skrybad will at its start.
    func applyAndAudit(subject: String, details: [String: String], done: String, doneAuditedAtStart: String, catalog: @autoclosure () -> Catalog?) {
        switch reload() {
        case .success(let reload):
            say(done)
            say(t.applied(reload.applied, reload.needsRestart))
        case .failure(let refusal):
            if let catalog = catalog() {
                do {
                    try catalog.audit.append(.configChanged, subject: subject, details: details, actor: actor, at: Date())
                    say(done)
                } catch {
                    say(alarmText(t.auditFailed("\(error)")))
                }
            } else {
                say(doneAuditedAtStart)
            }
            say(notApplied(refusal))
        }
    }

    /// Asks skrybad to re-read the file, which it audits.
    func reload() -> Result<ReloadResult, LinkError> {
        do { return .success(try link.reload()) } catch { return .failure(error) }
    }

    /// Why a change is not in force yet, for the technician.
    func notApplied(_ refusal: LinkError) -> String {
        switch refusal {
        case .notRunning(let why): t.appliesAtStart(why)
        case .refused(let why): alarmText(t.notApplied(why))
        }
    }
}

/// The configuration file, replaced atomically: a temporary file beside it, fsync, rename over it,
/// fsync the directory. A power cut leaves the old file or the new one, never half of either.
public enum ConfigFile {
    public static func writeAtomically(_ text: String, to path: String) throws(FileError) {
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        var permissions: UInt32 = 0o640
        var status = stat()
        if stat(path, &status) == 0 { permissions = UInt32(status.st_mode & 0o7777) }
        let temporary = "\(directory)/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
        let file = try FileDescriptor.open(temporary, .truncate(permissions: permissions))
        do throws(FileError) {
            try file.writeAll(Array(text.utf8), path: temporary)
            try file.sync(path: temporary)
            try file.close(path: temporary)
            try Directory.rename(temporary, to: path, directory: directory)
        } catch {
            _ = try? file.close(path: temporary)
            unlink(temporary)
            throw error
        }
    }
}

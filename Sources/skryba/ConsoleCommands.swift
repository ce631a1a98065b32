import ArgumentParser
import Foundation
import SkrybaConfig
import SkrybaConsole

struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The technician's console on the serial line: status, lines, retention, recipients, first setup (docs/console.md).",
        discussion: """
            The login shell of the technician's account on the serial getty (115200 8N1; picocom, minicom or screen). Login and password stay with Linux; the console offers no system shell. With standard input not a terminal it reads one command per line, so it can be scripted.
            """)

    @Option(help: "The configuration file.") var config: String = "/etc/skryba/skryba.toml"
    @Option(help: "skrybad's control socket.") var controlSocket: String = ControlSocketLink.defaultPath
    @Option(help: "The commented template the first setup starts from.") var template: String = "/usr/share/skryba/skryba.toml.example"
    @Option(help: "Where the board GPIO profiles (gpio-<board>.toml) are.") var gpioProfiles: String = "/usr/share/skryba"
    @Option(help: "The language until the configuration names one: pl or en.") var language: String = "pl"
    @Option(name: .customLong("data-dir"), help: "The data_dir the first setup writes (default: the template's, /var/lib/skryba).") var dataDir: String?

    func validate() throws {
        guard SkrybaConfiguration.Language(rawValue: language) != nil else { throw ValidationError("--language is pl or en, not '\(language)'") }
    }

    func run() throws {
        var options = ConsoleOptions()
        options.configPath = config
        options.controlSocket = controlSocket
        options.templatePath = template
        options.gpioProfilesDirectory = gpioProfiles
        options.setupDataDirectory = dataDir
        options.language = SkrybaConfiguration.Language(rawValue: language) ?? .polish
        let console = Console(terminal: Terminal(), link: ControlSocketLink(path: controlSocket), options: options)
        let status = console.run()
        if status != 0 { throw ExitCode(status) }
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "The configuration file.",
                                                    subcommands: [ConfigCheckCommand.self])
}

struct ConfigCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a configuration file offline, with the rules skrybad applies; exit status 0 when it can be used, 2 when not.",
        discussion: """
            Every problem is listed (file:line: key: what is wrong). Announcement files are checked where the file names them, so check it beside its WAV files. Not checked here: that the audio interface and the GPIO chips exist and that keep_free fits the data filesystem (skrybad checks them when it starts on the appliance). To hear the configuration at work before going on site, see docs/console.md ("Trying a configuration before the visit").
            """)

    @Argument(help: "The configuration file.") var file: String

    func run() throws {
        let configuration: SkrybaConfiguration
        do { configuration = try ConfigurationLoader.load(path: file) } catch {
            let count = error.problems.count
            throw CommandFailure("\(file) cannot be used (\(count) problem\(count == 1 ? "" : "s")):\n\(error)", code: .configuration)
        }
        print("\(file): the configuration can be used.")
        printTable(["line", "name", "records", "announcement", "consent"], configuration.lines.map { line in
            let consent = switch line.consent {
            case .continueMeansConsent: "continue"
            case .optOutKey(let key): "opt-out-key \(key)"
            }
            return [String(line.id), line.name, line.record.map(\.rawValue).sorted().joined(separator: ","), line.announcement ?? "-", consent]
        })
        print("recipients: \(configuration.recipients.count); retention: \(configuration.retention.period); language: \(configuration.language.rawValue); data_dir: \(configuration.dataDirectory)")
    }
}

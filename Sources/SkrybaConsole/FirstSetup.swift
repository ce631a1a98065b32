import Foundation
import SkrybaConfig
import SkrybaCore
import SkrybaSeal
import SkrybaStore

/// `setup`: from an empty box to a valid configuration. Asks for the lines (how many, their names,
/// the board's GPIO profile for ring and hook), which calls to record, the announcement, the
/// recipients and the retention; writes them into the commented template (so the file keeps its
/// explanations); validates the result with the file's own rules before anything is written.
struct FirstSetup {
    let console: Console
    var t: any ConsoleStrings { console.t }

    /// A board profile: `gpio-<board>.toml`, the `[[lines]]` ring/hook pairs of board/<board>/gpio.toml.
    struct Profile {
        var name: String
        var pins: [(ring: TOMLTable, hook: TOMLTable)]
    }

    func run() {
        let options = console.options
        if FileManager.default.fileExists(atPath: options.configPath) {
            guard console.confirm(t.setupReplaces(options.configPath)) else { return console.say(t.nothingChanged) }
        }
        guard let data = FileManager.default.contents(atPath: options.templatePath), let template = String(data: data, encoding: .utf8) else {
            return console.say(t.cannotReadFile(options.templatePath))
        }
        console.say(t.setupIntro)

        // Language first: everything after it is asked in it.
        guard let languageAnswer = ask(t.askLanguage, default: console.t.code, valid: { SkrybaConfiguration.Language(rawValue: $0.lowercased()) }) else { return }
        console.t = Strings.for(languageAnswer)

        let profiles = Self.profiles(in: options.gpioProfilesDirectory)
        var profile: Profile?
        if !profiles.isEmpty {
            let names = profiles.map(\.name)
            console.say(t.profilesAvailable(names.joined(separator: ", ")))
            guard let chosen = ask(t.askBoard, default: names[0], valid: { answer in profiles.first { $0.name == answer } }) else { return }
            profile = chosen
        } else {
            console.say(t.noProfiles(options.gpioProfilesDirectory))
        }
        let most = profile.map { $0.pins.count } ?? 64
        guard let count = ask(t.askLineCount(most), default: "1", valid: { Int($0).flatMap { (1...most).contains($0) ? $0 : nil } }) else { return }
        var names: [String] = []
        for id in 1...count {
            guard let name = ask(t.askLineName(id), default: t.defaultLineName(id), valid: { $0.isEmpty ? nil : $0 }) else { return }
            names.append(name)
        }
        guard let directions = ask(t.askDirections, default: "incoming", valid: Self.directions) else { return }
        var announcement: String?
        if directions.contains(.incoming) {
            guard let file = ask(t.askAnnouncement, default: nil, valid: { $0.isEmpty ? nil : $0 }) else { return }
            announcement = file
        }
        var recipients: [AgeRecipient] = []
        console.say(t.recipientsIntro)
        while true {
            guard let answer = console.ask(t.askRecipient(recipients.count + 1)) else { return }
            if answer.isEmpty {
                if recipients.isEmpty { console.say(t.recipientRequired); continue }
                break
            }
            do {
                let recipient = try AgeRecipient(parsing: answer)
                if !recipients.contains(recipient) { recipients.append(recipient) }
            } catch {
                console.say(t.notARecipient(error.description))
            }
        }
        guard let retention = ask(t.askRetention, default: "30d", valid: { RetentionConfiguration.Period.parse($0) }) else { return }

        let text: String
        do {
            text = try Self.configuration(from: template, dataDirectory: options.setupDataDirectory, language: languageAnswer, profile: profile, names: names, directions: directions,
                                          announcement: announcement, recipients: recipients, retention: retention)
        } catch {
            return console.say(t.changeRefused("\(error)"))
        }
        let configuration: SkrybaConfiguration
        do { configuration = try ConfigurationLoader.parse(text, path: options.configPath) } catch {
            return console.say(t.setupInvalid + "\n" + error.description)
        }
        do {
            if FileManager.default.fileExists(atPath: options.configPath) {
                let previous = options.configPath + ".previous"
                if let old = FileManager.default.contents(atPath: options.configPath) {
                    try ConfigFile.writeAtomically(String(decoding: old, as: UTF8.self), to: previous)
                }
            }
            try ConfigFile.writeAtomically(text, to: options.configPath)
        } catch {
            return console.say(t.cannotWrite(options.configPath, "\(error)"))
        }
        // On the image the technician may not open the catalog: skrybad audits the new file.
        console.applyAndAudit(subject: "setup", details: ["key": "setup", "file": options.configPath, "lines": String(count)],
                              done: t.setupDone(options.configPath, count), doneAuditedAtStart: t.setupDoneAuditedAtStart(options.configPath, count),
                              catalog: try? Catalog(dataDirectory: configuration.dataDirectory, actor: console.actor))
    }

    /// Asks until the answer is valid (or the input ends: nil).
    func ask<Value>(_ question: String, default value: String?, valid: (String) -> Value?) -> Value? {
        while true {
            guard let answer = console.ask(question, default: value) else { return nil }
            if let parsed = valid(answer) { return parsed }
            console.say(t.answerNotUnderstood(answer))
        }
    }

    static func directions(_ answer: String) -> [CallDirection]? {
        switch answer.lowercased() {
        case "incoming": [.incoming]
        case "outgoing": [.outgoing]
        case "both", "incoming,outgoing", "incoming outgoing": [.incoming, .outgoing]
        default: nil
        }
    }

    static func profiles(in directory: String) -> [Profile] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("gpio-") && $0.hasSuffix(".toml") }.sorted()
        return files.compactMap { file in
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(file)"),
                  let root = try? TOMLParser.parse(String(decoding: data, as: UTF8.self)) else { return nil }
            let pins = (root["lines"]?.array ?? []).compactMap { element -> (ring: TOMLTable, hook: TOMLTable)? in
                guard let table = element.table, let ring = table["ring"]?.table, let hook = table["hook"]?.table else { return nil }
                return (ring, hook)
            }
            return Profile(name: String(file.dropFirst(5).dropLast(5)), pins: pins)
        }
    }

    /// The template with the answers in it: top-level values replaced where they stand, the
    /// template's example line replaced by the office's lines.
    static func configuration(from template: String, dataDirectory: String?, language: SkrybaConfiguration.Language, profile: Profile?, names: [String],
                              directions: [CallDirection], announcement: String?, recipients: [AgeRecipient],
                              retention: RetentionConfiguration.Period) throws -> String {
        var editor = try TOMLEditor(template)
        let example = editor.value(at: [.key("lines"), .element(0)])?.table
        try editor.set([.key("language")], to: TOMLFormat.quoted(language.rawValue))
        if let dataDirectory { try editor.set([.key("data_dir")], to: TOMLFormat.quoted(dataDirectory)) }
        try editor.set([.key("recipients")], to: Console.recipientsLiteral(recipients.map(\.description)))
        try editor.set([.key("retention"), .key("period")], to: TOMLFormat.quoted(retention.description))
        let channels = editor.value(at: [.key("audio"), .key("channels")])?.integer ?? 0
        if channels < names.count { try editor.set([.key("audio"), .key("channels")], to: String(names.count)) }
        try editor.removeArrayOfTables("lines")
        var block = ""
        for (index, name) in names.enumerated() {
            block += "[[lines]]\nid = \(index + 1)\nname = \(TOMLFormat.quoted(name))\ncapture_channel = \(index)\n"
            if let profile, index < profile.pins.count {
                block += "ring = \(inline(profile.pins[index].ring))\nhook = \(inline(profile.pins[index].hook))\n"
            }
            block += "record = [" + directions.map { TOMLFormat.quoted($0.rawValue) }.joined(separator: ", ") + "]\n"
            if let announcement { block += "announcement = \(TOMLFormat.quoted(announcement))\nconsent = \"continue\"\n" }
            for key in ["purpose", "legal_basis"] {
                if let value = example?[key]?.string { block += "\(key) = \(TOMLFormat.quoted(value))\n" }
            }
            if index < names.count - 1 { block += "\n" }
        }
        try editor.append(block)
        return editor.text
    }

    /// `{ chip = "…", line = 17, active_low = true, bias = "disabled" }` from a parsed pin table.
    static func inline(_ table: TOMLTable) -> String {
        "{ " + table.entries.map { "\(TOMLFormat.key($0.key)) = \($0.value.literal)" }.joined(separator: ", ") + " }"
    }
}

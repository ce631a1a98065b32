import Foundation
import SkrybaALSA
import SkrybaConfig
import SkrybaCore
import SkrybaPipeline
import SkrybaSeal
import SkrybaStore
import SkrybaSystem
#if canImport(Glibc)
import Glibc
#endif

extension Console {
    // MARK: status, lines, line N

    func status() {
        var out = t.statusTitle(SkrybaVersion.current) + "\n"
        let loaded = loadConfiguration()
        var configuration: SkrybaConfiguration?
        switch loaded {
        case .missing: out += t.notConfiguredShort(options.configPath) + "\n"
        case .invalid: out += t.configurationHasProblems(options.configPath) + "\n"
        case .valid(_, let valid):
            configuration = valid
            out += t.configurationLine(options.configPath, valid.recorderID) + "\n"
        }
        let snapshot: StatusSnapshot?
        do {
            snapshot = try link.status()
            out += t.daemonRunning + "\n"
        } catch {
            snapshot = nil
            out += t.daemonNotRunning(error.description) + "\n"
        }

        out += t.linesHeading + "\n"
        if let snapshot, !snapshot.lines.isEmpty {
            out += lineTable(snapshot.lines.map { line in
                let call = line.call.map { t.callInProgress(t.direction($0.direction), Int($0.seconds.rounded(.down))) } ?? ""
                return [String(line.id), line.name, t.lineState(line.state), level(line.levelDBFS), call]
            })
            out += t.callsInProgress(snapshot.callsInProgress) + "\n"
        } else if let configuration {
            out += lineTable(configuration.lines.map { [String($0.id), $0.name, t.stateUnknown, "-", ""] })
            out += t.callsUnknown + "\n"
        } else {
            out += "  " + t.noLines + "\n"
        }

        if let storage = snapshot?.storage {
            out += t.storage(ByteText.show(storage.totalBytes - storage.freeBytes), ByteText.show(storage.freeBytes),
                             storage.daysLeft.map { t.daysLeft($0) } ?? t.daysLeftUnknown) + "\n"
        } else if let configuration, let usage = try? StatvfsSpace().usage(of: configuration.dataDirectory) {
            out += t.storage(ByteText.show(usage.totalBytes - usage.availableBytes), ByteText.show(usage.availableBytes), t.daysLeftUnknown) + "\n"
        } else {
            out += t.storageUnknown + "\n"
        }
        let trust = KernelClockStatus().trust(at: Date())
        out += t.clock(localTime(Date()), snapshot?.clock.synchronised ?? trust.isTrusted ? t.synchronised : t.notSynchronised) + "\n"
        if let snapshot {
            out += snapshot.alarms.isEmpty ? t.noAlarms + "\n" : alarmText(t.activeAlarms(snapshot.alarms.count)) + "\n"
            for alarm in snapshot.alarms { out += "  " + alarmLine(alarm) + "\n" }
        } else {
            out += t.alarmsUnknown + "\n"
        }
        out += t.fingerprint(snapshot?.deviceKeyFingerprint ?? deviceKeyFingerprint(configuration)) + "\n"
        out += t.version(snapshot?.version ?? SkrybaVersion.current)
        say(out)
    }

    func deviceKeyFingerprint(_ configuration: SkrybaConfiguration?) -> String {
        let directory = configuration?.dataDirectory ?? SkrybaConfiguration.defaultDataDirectory
        do { return try DeviceKey.load(path: "\(directory)/\(DataLayout.deviceKey)").fingerprint } catch { return t.unknownBecause(error.description) }
    }

    func lineTable(_ rows: [[String]]) -> String {
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            "  " + row.indices.map { $0 == row.count - 1 ? row[$0] : row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }.joined()
    }

    func level(_ dbfs: Double?) -> String { dbfs.map { String(format: "%.0f dBFS", $0) } ?? "-" }

    func lines() {
        guard let (_, configuration) = configurationOrExplain() else { return }
        let states = (try? link.status())?.lines
        var rows: [[String]] = []
        for line in configuration.lines {
            let directions = CallDirection.allCases.filter(line.record.contains).map { t.direction($0.rawValue) }.joined(separator: ", ")
            rows.append([String(line.id), line.name, directions, t.consent(line.consent), states?.first { $0.id == line.id }.map { t.lineState($0.state) } ?? t.stateUnknown])
        }
        say(t.linesHeading + "\n" + lineTable(rows))
    }

    func line(_ arguments: [String]) {
        guard let first = arguments.first else { return say(t.lineUsage) }
        guard let id = Int(first) else { return say(t.notALineNumber(first)) }
        guard let (_, configuration) = configurationOrExplain() else { return }
        guard let index = configuration.lines.firstIndex(where: { $0.id == id }) else {
            return say(t.noSuchLine(id, configuration.lines.map { String($0.id) }.joined(separator: ", ")))
        }
        let line = configuration.lines[index]
        let rest = Array(arguments.dropFirst())
        guard let field = rest.first?.lowercased() else { return say(describe(line)) }
        let values = Array(rest.dropFirst())
        let path: (String) -> [TOMLPathStep] = { [.key("lines"), .element(index), .key($0)] }
        switch field {
        case "name":
            let name = values.joined(separator: " ")
            guard !name.isEmpty else { return say(t.lineUsage) }
            change(Change(key: "lines[\(id)].name", from: line.name, to: name)) { (editor: inout TOMLEditor) throws(TOMLEditError) in
                try editor.set(path("name"), to: TOMLFormat.quoted(name))
            }
        case "record":
            let words = values.joined(separator: ",").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            var directions: [CallDirection] = []
            for word in words where !word.isEmpty {
                let direction = word == "both" ? nil : CallDirection(rawValue: word)
                if word == "both" { directions = CallDirection.allCases; continue }
                guard let direction else { return say(t.notADirection(word)) }
                if !directions.contains(direction) { directions.append(direction) }
            }
            guard !directions.isEmpty else { return say(t.notADirection("")) }
            let literal = "[" + directions.map { TOMLFormat.quoted($0.rawValue) }.joined(separator: ", ") + "]"
            let before = CallDirection.allCases.filter(line.record.contains).map(\.rawValue).joined(separator: ",")
            change(Change(key: "lines[\(id)].record", from: before, to: directions.map(\.rawValue).joined(separator: ","))) { (editor: inout TOMLEditor) throws(TOMLEditError) in
                try editor.set(path("record"), to: literal)
            }
        case "announcement":
            guard values.count == 1 else { return say(t.lineUsage) }
            change(Change(key: "lines[\(id)].announcement", from: line.announcement ?? "-", to: values[0])) { (editor: inout TOMLEditor) throws(TOMLEditError) in
                try editor.set(path("announcement"), to: TOMLFormat.quoted(values[0]))
                // The label kept with each recording names the new file, not the old one.
                try editor.remove(path("announcement_id"))
            }
        case "consent":
            switch values.first?.lowercased() {
            case "continue":
                change(Change(key: "lines[\(id)].consent", from: t.consent(line.consent), to: "continue")) { (editor: inout TOMLEditor) throws(TOMLEditError) in
                    try editor.set(path("consent"), to: "\"continue\"")
                }
            case "opt-out-key":
                guard values.count == 2 else { return say(t.consentUsage) }
                change(Change(key: "lines[\(id)].consent", from: t.consent(line.consent), to: "opt-out-key \(values[1])")) { (editor: inout TOMLEditor) throws(TOMLEditError) in
                    try editor.set(path("consent"), to: "\"opt-out-key\"")
                    try editor.set(path("opt_out_key"), to: TOMLFormat.quoted(values[1]))
                }
            default:
                say(t.consentUsage)
            }
        default:
            say(t.unknownLineField(field))
        }
    }

    func describe(_ line: LineConfiguration) -> String {
        var out = t.lineTitle(line.id, line.name) + "\n"
        out += "  " + t.channels(line.captureChannel, line.playbackChannel) + "\n"
        out += "  " + t.records(CallDirection.allCases.filter(line.record.contains).map { t.direction($0.rawValue) }.joined(separator: ", ")) + "\n"
        out += "  " + t.announcementLine(line.announcement.map { "\($0) (\(line.announcementID ?? "-"))" } ?? t.none) + "\n"
        out += "  " + t.consentLine(t.consent(line.consent)) + "\n"
        if let ring = line.ring, let hook = line.hook { out += "  " + t.pins("\(ring)", "\(hook)") + "\n" }
        return out
    }

    // MARK: set

    func set(_ arguments: [String]) {
        guard arguments.count == 2 else { return say(t.setUsage) }
        switch arguments[0].lowercased() {
        case "retention":
            guard let period = RetentionConfiguration.Period.parse(arguments[1]) else { return say(t.notARetention(arguments[1])) }
            guard let (_, configuration) = configurationOrExplain() else { return }
            change(Change(key: "retention.period", from: configuration.retention.period.description, to: period.description), retention: true) {
                (editor: inout TOMLEditor) throws(TOMLEditError) in
                try editor.set([.key("retention"), .key("period")], to: TOMLFormat.quoted(period.description))
            }
        case "language":
            guard let language = SkrybaConfiguration.Language(rawValue: arguments[1].lowercased()) else { return say(t.notALanguage(arguments[1])) }
            guard let (_, configuration) = configurationOrExplain() else { return }
            change(Change(key: "language", from: configuration.language.rawValue, to: language.rawValue)) { (editor: inout TOMLEditor) throws(TOMLEditError) in
                try editor.set([.key("language")], to: TOMLFormat.quoted(language.rawValue))
            }
        default:
            say(t.unknownSetting(arguments[0]))
        }
    }

    // MARK: recipients

    func recipients(_ arguments: [String]) {
        guard let (_, configuration) = configurationOrExplain() else { return }
        let current = configuration.recipients.map(\.description)
        guard let action = arguments.first?.lowercased() else {
            var out = t.recipientsHeading(current.count) + "\n"
            for (index, recipient) in current.enumerated() { out += "  \(index + 1)  \(recipient)\n" }
            return say(out)
        }
        guard arguments.count == 2 else { return say(t.recipientsUsage) }
        var updated = current
        switch action {
        case "add":
            let recipient: AgeRecipient
            do { recipient = try AgeRecipient(parsing: arguments[1]) } catch { return say(t.notARecipient(error.description)) }
            guard !current.contains(recipient.description) else { return say(t.recipientAlreadyThere) }
            updated.append(recipient.description)
            change(Change(key: "recipients", from: "\(current.count)", to: "+ \(recipient)")) { (editor: inout TOMLEditor) throws(TOMLEditError) in
                try editor.set([.key("recipients")], to: Self.recipientsLiteral(updated))
            }
        case "remove":
            let target: String
            if let number = Int(arguments[1]) {
                guard current.indices.contains(number - 1) else { return say(t.noSuchRecipient(arguments[1], current.count)) }
                target = current[number - 1]
            } else {
                guard current.contains(arguments[1]) else { return say(t.noSuchRecipient(arguments[1], current.count)) }
                target = arguments[1]
            }
            updated.removeAll { $0 == target }
            change(Change(key: "recipients", from: "\(current.count)", to: "- \(target)")) { (editor: inout TOMLEditor) throws(TOMLEditError) in
                try editor.set([.key("recipients")], to: Self.recipientsLiteral(updated))
            }
        default:
            say(t.recipientsUsage)
        }
    }

    static func recipientsLiteral(_ recipients: [String]) -> String {
        recipients.isEmpty ? "[]" : "[\n" + recipients.map { "  \(TOMLFormat.quoted($0)),\n" }.joined() + "]"
    }

    // MARK: announcement test, levels, alarms

    func announcement(_ arguments: [String]) {
        guard arguments.count == 2, arguments[0].lowercased() == "test" else { return say(t.announcementUsage) }
        guard let id = Int(arguments[1]) else { return say(t.notALineNumber(arguments[1])) }
        guard let (_, configuration) = configurationOrExplain() else { return }
        guard let line = configuration.line(id: id) else {
            return say(t.noSuchLine(id, configuration.lines.map { String($0.id) }.joined(separator: ", ")))
        }
        guard let announcement = line.announcement else { return say(t.noAnnouncement(id)) }
        // A running skrybad holds the playback device: it plays the test itself, on an idle line only,
        // and audits it. Stopped, the console plays it through ALSA.
        if (try? link.status()) != nil {
            do {
                let test = try link.testAnnouncement(line: id)
                return say(t.playedByDaemon(id, test.announcementID, test.seconds, test.channel))
            } catch {
                return say(alarmText(t.notPlayed(error.description)))
            }
        }
        do {
            let wav = try WAVFile.read(path: announcement)
            let audio = configuration.audio
            let pcm = try PCM(name: audio.playback, stream: .playback,
                              parameters: PCMParameters(rate: audio.rate, channels: audio.playbackChannels, periodFrames: audio.periodFrames))
            let player = AnnouncementPlayer(pcm: pcm, lines: [id])
            try player.start()
            player.play(AnnouncementPlayer.Clip(id: line.announcementID ?? "", sha256: "", samples: wav.samples), line: id, channel: line.playbackChannel, from: 0)
            player.finish(at: UInt64(wav.samples.count))
            if let failure = player.failure { return say(alarmText(t.notPlayed(failure))) }
            say(t.playedHere(announcement, Double(wav.samples.count) / Double(audio.rate), audio.playback, line.playbackChannel))
        } catch {
            say(alarmText(t.notPlayed("\(error)")))
        }
    }

    func levels() {
        guard terminal.isInteractive else {
            levelsOnce()
            return
        }
        say(t.levelsHint)
        repeat {
            guard levelsOnce() else { return }
        } while !terminal.keyPressed(within: 500)
    }

    /// One reading of every line's meter; false when there is nothing to read.
    @discardableResult
    func levelsOnce() -> Bool {
        let levels: [LevelSnapshot]
        do { levels = try link.levels() } catch {
            say(t.daemonNotRunning(error.description))
            return false
        }
        say(levels.map { level in
            "  \(level.line)  \(level.name.padding(toLength: 16, withPad: " ", startingAt: 0)) [\(Self.meter(level.levelDBFS))] \(self.level(level.levelDBFS))"
        }.joined(separator: "\n"))
        return true
    }

    /// 20 characters from -60 dBFS to 0.
    static func meter(_ dbfs: Double?) -> String {
        let filled = dbfs.map { max(0, min(20, Int((($0 + 60) / 3).rounded(.down)))) } ?? 0
        return String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled)
    }

    func alarms() {
        let list: AlarmList
        do { list = try link.alarms() } catch { return say(t.daemonNotRunning(error.description)) }
        var out = list.active.isEmpty ? t.noAlarms + "\n" : alarmText(t.activeAlarms(list.active.count)) + "\n"
        for alarm in list.active { out += "  " + alarmLine(alarm) + "\n" }
        if !list.history.isEmpty {
            out += t.alarmHistory + "\n"
            for alarm in list.history.suffix(20) { out += "  " + alarmLine(alarm) + "\n" }
        }
        say(out)
    }

    func alarmLine(_ alarm: AlarmSnapshot) -> String {
        // Line 0: an alarm of the appliance, not of one line.
        let whereText = alarm.line > 0 ? t.onLine(alarm.line) : ""
        let cleared = alarm.clearedUTC.map { ", " + t.cleared(localTime(Self.parseUTC($0))) } ?? ""
        return "\(alarm.kind)\(whereText): \(alarm.message) (\(t.raised(localTime(Self.parseUTC(alarm.raisedUTC))))\(cleared))"
    }

    // MARK: log, time, reboot

    func log(_ arguments: [String]) {
        var count = 20
        if let first = arguments.first {
            guard let number = Int(first), (1...500).contains(number) else { return say(t.logUsage) }
            count = number
        }
        // A running skrybad reads it for the console (on the image only it may open the catalog).
        let entries: [TechnicianLogEntry]
        do {
            entries = try link.log(last: count)
        } catch LinkError.refused(let why) {
            return say(t.cannotReadLog("skrybad", why))
        } catch {
            let directory: String
            switch loadConfiguration() {
            case .valid(_, let configuration): directory = configuration.dataDirectory
            default: directory = SkrybaConfiguration.defaultDataDirectory
            }
            do {
                guard FileManager.default.fileExists(atPath: "\(directory)/\(DataLayout.catalog)") else { return say(t.noCatalog(directory)) }
                entries = try Catalog(dataDirectory: directory, actor: actor).audit.technicianView(last: count)
            } catch {
                return say(t.cannotReadLog(directory, "\(error)"))
            }
        }
        let rows = entries.map { entry -> String in
            let details = entry.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return [String(entry.seq), localTime(UTCTimestamp.date(from: entry.timeUTC)), entry.kind, entry.subject ?? "-", entry.actor, details]
                .map(FreeText.printable).joined(separator: "  ")
        }
        say(t.logHeading(entries.count) + "\n" + rows.joined(separator: "\n"))
    }

    func time() {
        let now = Date()
        let trust = KernelClockStatus().trust(at: now)
        say(t.timeReport(localTime(now), UTCTimestamp.string(from: now), trust.isTrusted ? t.synchronised : t.notSynchronised, trust.reason))
    }

    func reboot() {
        guard confirm(t.rebootQuestion) else { return say(t.notRebooted) }
        say(t.rebooting)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = options.rebootCommand
        do {
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus != 0 { say(alarmText(t.rebootFailed("exit status \(process.terminationStatus)"))) }
        } catch {
            say(alarmText(t.rebootFailed("\(error)")))
        }
    }

    // MARK: Dates

    /// "2026-12-02 03:04:05 CET": Warsaw time with its zone (the offices' clock, WarsawTime).
    func localTime(_ date: Date?) -> String {
        date.map(WarsawTime.second) ?? "-"
    }

    static func parseUTC(_ text: String) -> Date? {
        UTCTimestamp.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}

/// "1.5 GiB", "600 MiB": sizes as a technician reads them.
enum ByteText {
    static func show(_ bytes: Int64) -> String {
        for (unit, scale) in [("TiB", 0x1p40), ("GiB", 0x1p30), ("MiB", 0x1p20), ("KiB", 0x1p10)] where Double(bytes) >= scale {
            return String(format: "%.1f", Double(bytes) / scale) + " " + unit
        }
        return "\(bytes) B"
    }
}

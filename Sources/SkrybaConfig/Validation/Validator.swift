import SkrybaCore
import SkrybaOpus
import SkrybaSeal

/// One table of the file being validated.
struct Section {
    let table: TOMLTable
    /// Key path of the table (`audio`, `lines[2]`, `lines[2].ring`; empty for the top level).
    let path: String
    /// How messages name it: "[audio]", "[[lines]]", "the ring table", "the top level".
    let title: String
    let known: [String]

    var line: Int { table.position.line }
    func keyPath(_ key: String) -> String { path.isEmpty ? TOMLFormat.key(key) : "\(path).\(TOMLFormat.key(key))" }
    var missing: String { "required key missing from \(title)" }
}

/// Turns the TOML tree into a `SkrybaConfiguration`, collecting every problem on the way.
struct Validator {
    let file: String
    let baseDirectory: String
    let hostName: String
    private(set) var problems: [ConfigProblem] = []
    private var wavProblems: [String: String?] = [:]

    init(file: String, baseDirectory: String, hostName: String) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.hostName = hostName
    }

    /// Problems beyond `ConfigurationLoader.maximumProblems` are counted, not kept: a hostile file
    /// of a million mistakes gets its answer as fast as a file with a few.
    private(set) var unreported = 0

    mutating func report(_ line: Int?, _ key: String, _ message: String) {
        guard problems.count < ConfigurationLoader.maximumProblems else { return unreported += 1 }
        problems.append(ConfigProblem(file: file, line: line, key: key, message: message))
    }

    var isFull: Bool { problems.count >= ConfigurationLoader.maximumProblems }

    // MARK: - The whole file

    mutating func configuration(from root: TOMLTable) -> SkrybaConfiguration? {
        let top = Section(table: root, path: "", title: "the top level", known: Schema.root)
        unknownKeys(top)

        let dataDirectory = path(top, "data_dir")?.path ?? SkrybaConfiguration.defaultDataDirectory
        let recipients = recipients(top)

        var recorderID = hostName
        if let (id, value) = string(top, "recorder_id") {
            let allowed = id.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-_".unicodeScalars.contains($0)) }
            if (1...64).contains(id.count), allowed {
                recorderID = id
            } else {
                report(value.line, "recorder_id", "\(value.literal) is not a usable recorder id (1 to 64 letters, digits, '.', '_' or '-')")
            }
        }

        var flushIntervalMs = SkrybaConfiguration.defaultFlushIntervalMs
        if let (ms, value) = integer(top, "flush_interval_ms") {
            if Schema.flushRange.contains(ms), ms % 20 == 0 {
                flushIntervalMs = ms
            } else {
                report(value.line, "flush_interval_ms", "\(ms) must be a multiple of 20 between 20 and 5000 (milliseconds of audio per sealed record)")
            }
        }

        var language = SkrybaConfiguration.Language.polish
        if let (code, value) = string(top, "language") {
            if let known = SkrybaConfiguration.Language(rawValue: code) { language = known } else {
                report(value.line, "language", "\(value.literal) is not a language of the appliance (\"pl\" Polish or \"en\" English)")
            }
        }

        let (audio, facts) = audio(top)
        let opus = opus(top)
        let (gpio, backend) = gpio(top)
        let lines = lines(top, audio: facts, backend: backend)
        let retention = retention(top, lines: lines ?? [])
        let office = office(top)

        guard let recipients, let audio, let opus, let gpio, let lines, let retention else { return nil }
        var configuration = SkrybaConfiguration(path: file, dataDirectory: dataDirectory, recipients: recipients, recorderID: recorderID,
                                                audio: audio, opus: opus, flushIntervalMs: flushIntervalMs, gpio: gpio, lines: lines)
        configuration.retention = retention
        configuration.language = language
        configuration.office = office
        return configuration
    }

    // MARK: - [office]

    /// The office named on the case-file documents and the monthly report (docs/configuration.md).
    private mutating func office(_ top: Section) -> OfficeConfiguration? {
        guard top.table["office"] != nil, let s = table(top, "office", title: "[office]", known: Schema.office) else { return nil }
        let address = stringArray(s, "address")?.0.map(\.0) ?? []
        return OfficeConfiguration(name: nonEmptyString(s, "name", required: s.missing + " (the office's name, as on its letters)")?.0 ?? "",
                                   address: address, town: nonEmptyString(s, "town")?.0,
                                   dataProtectionOfficer: nonEmptyString(s, "data_protection_officer")?.0)
    }

    // MARK: - [retention]

    private mutating func retentionPeriod(_ s: Section, _ key: String) -> RetentionConfiguration.Period? {
        guard let (text, value) = string(s, key) else { return nil }
        guard let period = RetentionConfiguration.Period.parse(text) else {
            report(value.line, s.keyPath(key), "\(value.literal) is not a retention period (\"30d\" days, \"6m\" calendar months, or \"capacity\")")
            return nil
        }
        return period
    }

    private mutating func retention(_ top: Section, lines: [LineConfiguration]) -> RetentionConfiguration? {
        var retention = RetentionConfiguration()
        let before = problems.count
        if top.table["retention"] != nil, let s = table(top, "retention", title: "[retention]", known: Schema.retention) {
            if let period = retentionPeriod(s, "period") { retention.period = period }
            for direction in CallDirection.allCases {
                if let period = retentionPeriod(s, direction.rawValue) { retention.perDirection[direction] = period }
            }
            if let (text, value) = string(s, "keep_free") {
                switch RetentionConfiguration.KeepFree.parse(text) {
                case .percent(let percent):
                    retention.keepFreePercent = percent
                case .bytes(let bytes):
                    retention.keepFreePercent = nil
                    retention.keepFreeBytes = bytes
                case .refused(let reason):
                    report(value.line, s.keyPath("keep_free"), "\(value.literal) \(reason)")
                }
            }
            if let (minutes, value) = integer(s, "check_every_minutes") {
                if (1...1440).contains(minutes) { retention.checkEveryMinutes = minutes } else {
                    report(value.line, s.keyPath("check_every_minutes"), "\(minutes) must be between 1 and 1440")
                }
            }
        }
        for (index, value) in (top.table["lines"]?.array ?? []).enumerated() {
            guard let table = value.table, index < lines.count else { continue }
            let s = Section(table: table, path: "lines[\(index + 1)]", title: "[[lines]]", known: Schema.line)
            let id = lines[index].id
            if let period = retentionPeriod(s, "retention") { retention.perLine[LineRetentionKey(line: id, direction: nil)] = period }
            for direction in CallDirection.allCases {
                if let period = retentionPeriod(s, "retention_\(direction.rawValue)") {
                    retention.perLine[LineRetentionKey(line: id, direction: direction)] = period
                }
            }
        }
        return problems.count == before ? retention : nil
    }

    private mutating func recipients(_ top: Section) -> [AgeRecipient]? {
        let refusal = "the appliance refuses to record without a recipient (add the organisation's age1… public key, as age-keygen prints it)"
        guard let value = top.table["recipients"] else {
            report(1, "recipients", "required key missing: \(refusal)")
            return nil
        }
        guard let array = value.array, !value.isArrayOfTables else {
            wrongType(top, "recipients", value, expected: "an array of age1… strings")
            return nil
        }
        guard !array.isEmpty else {
            report(value.line, "recipients", "empty: \(refusal)")
            return nil
        }
        var recipients: [AgeRecipient] = []
        var seen: [AgeRecipient: Int] = [:]
        let before = problems.count
        for (index, element) in array.enumerated() {
            let key = "recipients[\(index + 1)]"
            guard let text = element.string else {
                report(element.line, key, "expected a string (an age1… recipient), found \(element.typeDescription)")
                continue
            }
            do {
                let recipient = try AgeRecipient(parsing: text)
                if let first = seen[recipient] {
                    report(element.line, key, "the same recipient as recipients[\(first)]")
                } else {
                    seen[recipient] = index + 1
                    recipients.append(recipient)
                }
            } catch {
                report(element.line, key, error.description)
            }
        }
        return problems.count == before ? recipients : nil
    }

    // MARK: - [audio]

    struct AudioFacts {
        var rate: Int?
        var channels: Int?
        var channelsLine: Int?
        var playbackChannels: Int?
    }

    private mutating func audio(_ top: Section) -> (AudioConfiguration?, AudioFacts) {
        var facts = AudioFacts()
        guard let s = table(top, "audio", title: "[audio]", known: Schema.audio,
                            required: "required table [audio] is missing (it names the audio interface: capture, channels)") else {
            return (nil, facts)
        }
        let before = problems.count
        let capture = nonEmptyString(s, "capture", required: s.missing + " (the ALSA capture PCM, e.g. \"hw:CARD=Tap\")")
        let playback = nonEmptyString(s, "playback")

        var rate: Int? = AudioConfiguration.defaultRate
        if s.table["rate"] != nil {
            rate = nil
            if let (value, node) = integer(s, "rate") {
                if Schema.supportedRates.contains(value) { rate = value } else {
                    report(node.line, s.keyPath("rate"), "\(value) is not supported (8000 or 16000)")
                }
            }
        }
        facts.rate = rate

        let channels = integer(s, "channels", required: s.missing + " (how many channels the capture device delivers)")
        let channelRange = "must be between \(Schema.channelRange.lowerBound) and \(Schema.channelRange.upperBound)"
        if let (value, node) = channels {
            if Schema.channelRange.contains(value) {
                facts.channels = value
                facts.channelsLine = node.line
            } else {
                report(node.line, s.keyPath("channels"), "\(value) \(channelRange) (interleaved capture channels)")
            }
        }
        facts.playbackChannels = facts.channels
        if let (value, node) = integer(s, "playback_channels") {
            if Schema.channelRange.contains(value) { facts.playbackChannels = value } else {
                facts.playbackChannels = nil
                report(node.line, s.keyPath("playback_channels"), "\(value) \(channelRange) (interleaved playback channels)")
            }
        }
        var periodMs = AudioConfiguration.defaultPeriodMs
        if let (value, node) = integer(s, "period_ms") {
            if Schema.periodChoices.contains(value) { periodMs = value } else {
                report(node.line, s.keyPath("period_ms"),
                       "\(value) is not supported (5, 10, 20, 40, 60, 80 or 100: a divisor or a multiple of the 20 ms Opus frame)")
            }
        }
        guard problems.count == before, let capture, let rate, let channels = facts.channels, let playbackChannels = facts.playbackChannels else {
            return (nil, facts)
        }
        return (AudioConfiguration(capture: capture.0, playback: playback?.0, rate: rate, channels: channels,
                                   playbackChannels: playbackChannels, periodMs: periodMs), facts)
    }

    // MARK: - [opus]

    private mutating func opus(_ top: Section) -> OpusSettings? {
        var settings = OpusSettings()
        guard top.table["opus"] != nil else { return settings }
        guard let s = table(top, "opus", title: "[opus]", known: Schema.opus) else { return nil }
        let before = problems.count
        if let (value, node) = integer(s, "bitrate") {
            settings.bitrate = value
            for problem in OpusSettings(bitrate: value).problems { report(node.line, s.keyPath("bitrate"), problem) }
        }
        if let (value, node) = integer(s, "complexity") {
            settings.complexity = value
            for problem in OpusSettings(complexity: value).problems { report(node.line, s.keyPath("complexity"), problem) }
        }
        return problems.count == before ? settings : nil
    }

    // MARK: - [gpio]

    enum BackendKind { case gpiod, replay }

    private mutating func gpio(_ top: Section) -> (GPIOConfiguration?, BackendKind?) {
        guard top.table["gpio"] != nil else { return (GPIOConfiguration(), .gpiod) }
        guard let s = table(top, "gpio", title: "[gpio]", known: Schema.gpio) else { return (nil, nil) }
        let before = problems.count
        var backend: BackendKind? = .gpiod
        var backendLine = s.line
        if let (name, node) = string(s, "backend") {
            backendLine = node.line
            switch name {
            case "gpiod": backend = .gpiod
            case "replay": backend = .replay
            default:
                backend = nil
                report(node.line, s.keyPath("backend"), "\(node.literal) is not a GPIO backend (\"gpiod\" or \"replay\")")
            }
        }
        let replay = path(s, "replay")
        var debounceMs = GPIOConfiguration.defaultDebounceMs
        if let (value, node) = integer(s, "debounce_ms") {
            if Schema.debounceRange.contains(value) { debounceMs = value } else {
                report(node.line, s.keyPath("debounce_ms"), "\(value) is outside 0...1000 (milliseconds)")
            }
        }
        var configuration: GPIOConfiguration?
        switch backend {
        case .gpiod:
            configuration = GPIOConfiguration(backend: .gpiod, debounceMs: debounceMs)
        case .replay:
            if let replay {
                if let problem = WAVHeaderCheck.readableFileProblem(path: replay.path) {
                    report(replay.value.line, s.keyPath("replay"), problem)
                }
                configuration = GPIOConfiguration(backend: .replay(path: replay.path), debounceMs: debounceMs)
            } else if s.table["replay"] == nil {
                report(backendLine, s.keyPath("replay"), "required with backend = \"replay\" (the file of recorded ring and hook edges)")
            }
        case nil:
            break
        }
        return (problems.count == before ? configuration : nil, backend)
    }

    // MARK: - [[lines]]

    /// What earlier lines already use, to find what two lines share.
    struct Claims {
        var ids: [Int: (path: String, line: Int)] = [:]
        var captureChannels: [Int: (path: String, line: Int)] = [:]
        var playbackChannels: [Int: (path: String, line: Int)] = [:]
        var pins: [String: (path: String, line: Int)] = [:]
    }

    private mutating func lines(_ top: Section, audio: AudioFacts, backend: BackendKind?) -> [LineConfiguration]? {
        guard let value = top.table["lines"] else {
            report(1, "lines", "no [[lines]] table: configure at least one line")
            return nil
        }
        guard let array = value.array else {
            if value.table != nil, value.table?.style != .inline {
                report(value.line, "lines", "expected [[lines]] (double brackets, one table per line), found [lines]")
            } else {
                wrongType(top, "lines", value, expected: "[[lines]] tables")
            }
            return nil
        }
        guard !array.isEmpty else {
            report(value.line, "lines", "no lines configured: add a [[lines]] table for each tapped line")
            return nil
        }
        guard array.count <= Schema.maximumLines else {
            // Each line would be reported on its own; one message says what is wrong.
            report(value.line, "lines", "\(array.count) [[lines]] tables: the appliance records at most \(Schema.maximumLines) lines")
            return nil
        }
        let before = problems.count
        var claims = Claims()
        var lines: [LineConfiguration] = []
        for (index, element) in array.enumerated() {
            let path = "lines[\(index + 1)]"
            guard let table = element.table else {
                report(element.line, path, "expected a table describing a line, found \(element.typeDescription)")
                continue
            }
            let section = Section(table: table, path: path, title: "[[lines]]", known: Schema.line)
            if let line = line(section, audio: audio, backend: backend, claims: &claims) { lines.append(line) }
        }
        if let channels = audio.channels, let channelsLine = audio.channelsLine, array.count > channels {
            report(channelsLine, "audio.channels", "\(channels) \(channels == 1 ? "channel" : "channels") but \(array.count) lines are configured "
                + "(each line needs its own capture channel)")
        }
        return problems.count == before ? lines : nil
    }

    private mutating func line(_ s: Section, audio: AudioFacts, backend: BackendKind?, claims: inout Claims) -> LineConfiguration? {
        let before = problems.count
        unknownKeys(s)

        let id = integer(s, "id", required: s.missing + " (the line's number: 1, 2, …)")
        if let (value, node) = id {
            if !Schema.lineIDRange.contains(value) {
                report(node.line, s.keyPath("id"), "\(value) is not a line id (\(Schema.lineIDRange.lowerBound)...\(Schema.lineIDRange.upperBound))")
            } else if let earlier = claims.ids[value] {
                report(node.line, s.keyPath("id"), "\(value) is already the id of \(earlier.path) (line \(earlier.line))")
            } else {
                claims.ids[value] = (s.path, node.line)
            }
        }
        let name = nonEmptyString(s, "name", required: s.missing + " (what the office calls the line)")

        // Channels.
        let capture = integer(s, "capture_channel", required: s.missing + " (the zero-based capture channel of this line)")
        if let (channel, node) = capture {
            if channel < 0 || audio.channels.map({ channel >= $0 }) == true {
                report(node.line, s.keyPath("capture_channel"), "\(channel) is out of range\(Self.channelRange(audio.channels, side: "capture"))")
            } else if let earlier = claims.captureChannels[channel] {
                report(node.line, s.keyPath("capture_channel"), "channel \(channel) is already used by \(earlier.path) (line \(earlier.line))")
            } else {
                claims.captureChannels[channel] = (s.path, node.line)
            }
        }
        var playbackChannel: Int?
        let playback = integer(s, "playback_channel")
        if let (channel, _) = playback { playbackChannel = channel } else if let (channel, _) = capture { playbackChannel = channel }
        if let channel = playbackChannel, let node = playback?.1 ?? capture?.1 {
            let defaulted = playback == nil
            if channel < 0 || audio.playbackChannels.map({ channel >= $0 }) == true {
                if defaulted {
                    report(node.line, s.keyPath("playback_channel"), "defaults to capture_channel \(channel), which is out of range"
                        + "\(Self.channelRange(audio.playbackChannels, side: "playback")); set playback_channel")
                } else {
                    report(node.line, s.keyPath("playback_channel"), "\(channel) is out of range\(Self.channelRange(audio.playbackChannels, side: "playback"))")
                }
            } else if let earlier = claims.playbackChannels[channel] {
                report(node.line, s.keyPath("playback_channel"), "channel \(channel) is already used by \(earlier.path) (line \(earlier.line))"
                    + (defaulted ? "; playback_channel defaults to capture_channel, set it" : ""))
            } else {
                claims.playbackChannels[channel] = (s.path, node.line)
            }
        }

        // Ring and hook.
        let ring = pin(s, "ring", backend: backend, claims: &claims)
        let hook = pin(s, "hook", backend: backend, claims: &claims)

        // Directions.
        var record: Set<CallDirection>?
        if let (values, _) = stringArray(s, "record", required: s.missing + " (write record = [\"incoming\"] or [\"incoming\", \"outgoing\"])") {
            var directions = Set<CallDirection>()
            let recordBefore = problems.count
            for (value, node) in values {
                guard let direction = CallDirection(rawValue: value) else {
                    report(node.line, s.keyPath("record"), "\(node.literal) is not a call direction (\"incoming\" or \"outgoing\")")
                    continue
                }
                if !directions.insert(direction).inserted { report(node.line, s.keyPath("record"), "\(node.literal) is listed twice") }
            }
            if values.isEmpty, let node = s.table["record"] {
                report(node.line, s.keyPath("record"), "empty: list \"incoming\", \"outgoing\" or both (to stop recording a line, remove its [[lines]] table)")
            }
            if problems.count == recordBefore { record = directions }
        }
        let incoming = record.map { $0.contains(.incoming) }
        let outgoing = record.map { $0.contains(.outgoing) }

        // Incoming: the announcement and consent. Keys that only matter in another mode (an
        // announcement on a line that records no incoming calls, opt_out_key with consent =
        // "continue") are checked for form and otherwise ignored, so a mode can be switched by
        // changing one value.
        var announcement: String?
        var announcementID: String?
        if let (path, node) = path(s, "announcement"), incoming != false {
            if let problem = wavProblem(path: path, rate: audio.rate) { report(node.line, s.keyPath("announcement"), problem) }
            announcement = path
            announcementID = PathResolution.fileName(path)
        } else if incoming == true, s.table["announcement"] == nil {
            report(s.line, s.keyPath("announcement"),
                   "required when incoming calls are recorded: the WAV file that tells callers the call is recorded")
        }
        if let (label, _) = nonEmptyString(s, "announcement_id"), announcement != nil { announcementID = label }

        var consent = LineConfiguration.Consent.continueMeansConsent
        var optOutKeyMode = false
        var consentLine = s.line
        if let (text, node) = string(s, "consent") {
            consentLine = node.line
            switch text {
            case "continue": break
            case "opt-out-key": optOutKeyMode = true
            default: report(node.line, s.keyPath("consent"), "\(node.literal) is not a consent mode (\"continue\" or \"opt-out-key\")")
            }
        }
        var key: Character?
        if let (text, node) = string(s, "opt_out_key") {
            if text.count == 1, let character = text.first, Schema.telephoneKeys.contains(character) {
                key = character
            } else {
                report(node.line, s.keyPath("opt_out_key"), "\(node.literal) is not a telephone key (one of 0-9, *, #, A-D)")
            }
        }
        if optOutKeyMode {
            if let key {
                consent = .optOutKey(key)
            } else if s.table["opt_out_key"] == nil {
                report(consentLine, s.keyPath("opt_out_key"), "required with consent = \"opt-out-key\" (the key a caller presses to object, e.g. \"9\")")
            }
        }
        var optOutWindowMs = LineConfiguration.defaultOptOutWindowMs
        if let (ms, node) = integer(s, "opt_out_window_ms") {
            if Schema.optOutWindowRange.contains(ms) { optOutWindowMs = ms } else {
                report(node.line, s.keyPath("opt_out_window_ms"), "\(ms) is outside 0...60000 (milliseconds after the announcement ends)")
            }
        }

        // Outgoing: the optional notice (ignored on a line that records no outgoing calls).
        var outgoingNotice: String?
        if let (path, node) = path(s, "outgoing_notice"), outgoing != false {
            if let problem = wavProblem(path: path, rate: audio.rate) { report(node.line, s.keyPath("outgoing_notice"), problem) }
            outgoingNotice = path
        }

        // The record of processing.
        let purpose = nonEmptyString(s, "purpose")
        let legalBasis = nonEmptyString(s, "legal_basis")
        let informationClause = nonEmptyString(s, "information_clause")

        guard problems.count == before, let id, let name, let capture, let playbackChannel, let record,
              case .valid(let ringPin) = ring, case .valid(let hookPin) = hook else { return nil }
        return LineConfiguration(id: id.0, name: name.0, captureChannel: capture.0, playbackChannel: playbackChannel, ring: ringPin,
                                 hook: hookPin, record: record, announcement: announcement, announcementID: announcementID, consent: consent,
                                 optOutWindowMs: optOutWindowMs, outgoingNotice: outgoingNotice, purpose: purpose?.0, legalBasis: legalBasis?.0,
                                 informationClause: informationClause?.0)
    }

    private static func channelRange(_ channels: Int?, side: String) -> String {
        guard let channels else { return "" }
        return channels == 1 ? " (the \(side) device has 1 channel: 0)" : " (the \(side) device has \(channels) channels: 0...\(channels - 1))"
    }

    enum PinOutcome {
        case valid(GPIOPin?)
        case invalid
    }

    private mutating func pin(_ line: Section, _ key: String, backend: BackendKind?, claims: inout Claims) -> PinOutcome {
        guard let value = line.table[key] else {
            if backend == .gpiod {
                report(line.line, line.keyPath(key), "required with [gpio] backend = \"gpiod\" (for example \(key) = { chip = \"gpiochip0\", line = \(key == "ring" ? 17 : 27) })")
                return .invalid
            }
            return .valid(nil)
        }
        guard let table = value.table else {
            wrongType(line, key, value, expected: "a table such as { chip = \"gpiochip0\", line = 17 }")
            return .invalid
        }
        let s = Section(table: table, path: line.keyPath(key), title: "the \(key) table", known: Schema.pin)
        let before = problems.count
        unknownKeys(s)
        let chip = nonEmptyString(s, "chip", required: s.missing + " (the GPIO chip, e.g. \"gpiochip0\")")
        let offset = integer(s, "line", required: s.missing + " (the line's offset on the chip, as gpioinfo shows it)")
        if let (number, node) = offset, !Schema.gpioOffsetRange.contains(number) {
            report(node.line, s.keyPath("line"), "\(number) is not a GPIO line offset (\(Schema.gpioOffsetRange.lowerBound)...\(Schema.gpioOffsetRange.upperBound))")
        }
        let activeLow = boolean(s, "active_low")
        var bias = GPIOPin.Bias.asIs
        if let (text, node) = string(s, "bias") {
            if let known = GPIOPin.Bias(rawValue: text) { bias = known } else {
                report(node.line, s.keyPath("bias"), "\(node.literal) is not a bias (\"as-is\", \"disabled\", \"pull-up\" or \"pull-down\")")
            }
        }
        guard problems.count == before, let chip, let offset else { return .invalid }
        let pin = GPIOPin(chip: chip.0, line: offset.0, activeLow: activeLow?.0 ?? false, bias: bias)
        let identity = "\(pin.chip)\u{0}\(pin.line)"
        if let earlier = claims.pins[identity] {
            report(value.line, s.path, "\(pin) is already used by \(earlier.path) (line \(earlier.line))")
            return .invalid
        }
        claims.pins[identity] = (s.path, value.line)
        return .valid(pin)
    }

    private mutating func wavProblem(path: String, rate: Int?) -> String? {
        let cacheKey = "\(rate ?? 0):\(path)"
        if let known = wavProblems[cacheKey] { return known }
        let problem = WAVHeaderCheck.problem(path: path, rate: rate)
        wavProblems[cacheKey] = problem
        return problem
    }

    // MARK: - Typed access

    /// The table at `key`, or nil (reported when required or of the wrong type).
    private mutating func table(_ parent: Section, _ key: String, title: String, known: [String], required: String? = nil) -> Section? {
        guard let value = parent.table[key] else {
            if let required { report(parent.line, parent.keyPath(key), required) }
            return nil
        }
        guard let table = value.table else {
            if value.isArrayOfTables {
                report(value.line, parent.keyPath(key), "expected one \(title) table, found [[\(key)]]: write \(title) once")
            } else {
                wrongType(parent, key, value, expected: "a table (\(title))")
            }
            return nil
        }
        let section = Section(table: table, path: parent.keyPath(key), title: title, known: known)
        unknownKeys(section)
        return section
    }

    private mutating func value(_ s: Section, _ key: String, required: String?) -> TOMLValue? {
        if let value = s.table[key] { return value }
        if let required { report(s.line, s.keyPath(key), required) }
        return nil
    }

    private mutating func string(_ s: Section, _ key: String, required: String? = nil) -> (String, TOMLValue)? {
        guard let value = value(s, key, required: required) else { return nil }
        guard let text = value.string else {
            wrongType(s, key, value, expected: "a string")
            return nil
        }
        return (text, value)
    }

    private mutating func nonEmptyString(_ s: Section, _ key: String, required: String? = nil) -> (String, TOMLValue)? {
        guard let (text, value) = string(s, key, required: required) else { return nil }
        guard !text.allSatisfy(\.isWhitespace) else {
            report(value.line, s.keyPath(key), "must not be empty")
            return nil
        }
        return (text, value)
    }

    /// A path, resolved against the configuration file's directory.
    private mutating func path(_ s: Section, _ key: String, required: String? = nil) -> (path: String, value: TOMLValue)? {
        guard let (text, value) = nonEmptyString(s, key, required: required) else { return nil }
        return (PathResolution.resolve(text, against: baseDirectory), value)
    }

    private mutating func integer(_ s: Section, _ key: String, required: String? = nil) -> (Int, TOMLValue)? {
        guard let value = value(s, key, required: required) else { return nil }
        guard let number = value.integer else {
            wrongType(s, key, value, expected: "an integer")
            return nil
        }
        return (number, value)
    }

    private mutating func boolean(_ s: Section, _ key: String) -> (Bool, TOMLValue)? {
        guard let value = s.table[key] else { return nil }
        guard let flag = value.boolean else {
            wrongType(s, key, value, expected: "true or false")
            return nil
        }
        return (flag, value)
    }

    private mutating func stringArray(_ s: Section, _ key: String, required: String? = nil) -> ([(String, TOMLValue)], TOMLValue)? {
        guard let value = value(s, key, required: required) else { return nil }
        guard let array = value.array, !value.isArrayOfTables else {
            wrongType(s, key, value, expected: "an array of strings")
            return nil
        }
        var strings: [(String, TOMLValue)] = []
        var ok = true
        for element in array {
            if let text = element.string { strings.append((text, element)) } else {
                ok = false
                report(element.line, s.keyPath(key), "expected strings in the array, found \(element.typeDescription) (\(element.literal))")
            }
        }
        return ok ? (strings, value) : nil
    }

    private mutating func wrongType(_ s: Section, _ key: String, _ value: TOMLValue, expected: String) {
        var message = "expected \(expected), found \(value.typeDescription)"
        switch value.kind {
        case .string(let text) where expected == "an integer" && Int(text) != nil:
            message += " (remove the quotes)"
        case .string(let text) where expected == "true or false" && (text == "true" || text == "false"):
            message += " (remove the quotes)"
        case .string where expected.hasPrefix("an array"):
            message += " (write [\(value.literal)])"
        default:
            break
        }
        if expected == "a string", value.integer != nil || value.float != nil || value.boolean != nil {
            message += " (put it in quotes: \(TOMLFormat.quoted(value.literal)))"
        }
        report(value.line, s.keyPath(key), message)
    }

    private mutating func unknownKeys(_ s: Section) {
        for entry in s.table.entries where !s.known.contains(entry.key) {
            guard !isFull else {
                unreported += 1
                continue
            }
            let isTable = entry.value.table.map { $0.style != .inline } ?? false || entry.value.isArrayOfTables
            let brackets = entry.value.isArrayOfTables ? ("[[", "]]") : ("[", "]")
            let fullPath = s.keyPath(entry.key)
            var message = isTable ? "unknown table \(brackets.0)\(fullPath)\(brackets.1)"
                : s.path.isEmpty ? "unknown key at the top level" : "unknown key in \(s.title)"
            if let home = Schema.home[entry.key], !isTable {
                message += " (\(TOMLFormat.key(entry.key)) belongs \(home))"
            } else if let guess = Schema.suggestion(for: entry.key, among: s.known) {
                let guessPath = s.keyPath(guess)
                message += isTable ? " (did you mean \(brackets.0)\(guessPath)\(brackets.1)?)" : " (did you mean '\(guess)'?)"
            }
            report(entry.keyPosition.line, fullPath, message)
        }
    }
}

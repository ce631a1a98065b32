import Foundation
import SkrybaCore
import SkrybaOpus
import SkrybaSeal

/// The appliance's configuration, validated: every value here is usable as it stands.
/// Read it with `ConfigurationLoader`; every key is described in docs/configuration.md.
public struct SkrybaConfiguration: Equatable, Sendable {
    /// The file it was read from, as given to the loader.
    public var path: String
    /// `data_dir`: catalog, keys and recordings (absolute).
    public var dataDirectory: String
    /// `recipients`: the organisation's age X25519 recipients; never empty (fail closed).
    public var recipients: [AgeRecipient]
    /// `recorder_id`: names this appliance in recordings and exports (default: the host name).
    public var recorderID: String
    public var audio: AudioConfiguration
    /// `[opus]`: bitrate and complexity.
    public var opus: OpusSettings
    /// `flush_interval_ms`: a sealed record is written and fsync'ed at least this often (audio time).
    public var flushIntervalMs: Int
    public var gpio: GPIOConfiguration
    /// `[retention]` and the lines' `retention*` keys.
    public var retention: RetentionConfiguration = RetentionConfiguration()
    /// `[[lines]]`, in file order.
    public var lines: [LineConfiguration]
    /// `language`: what the console and the CLI speak (default Polish, for these offices).
    public var language: Language = .polish

    public enum Language: String, Equatable, Sendable, CaseIterable {
        case polish = "pl", english = "en"
    }
    /// `[office]`: the data controller named on documents and reports; nil when the file has none.
    public var office: OfficeConfiguration?

    public init(path: String, dataDirectory: String, recipients: [AgeRecipient], recorderID: String, audio: AudioConfiguration,
                opus: OpusSettings = OpusSettings(), flushIntervalMs: Int = SkrybaConfiguration.defaultFlushIntervalMs,
                gpio: GPIOConfiguration = GPIOConfiguration(), lines: [LineConfiguration]) {
        self.path = path
        self.dataDirectory = dataDirectory
        self.recipients = recipients
        self.recorderID = recorderID
        self.audio = audio
        self.opus = opus
        self.flushIntervalMs = flushIntervalMs
        self.gpio = gpio
        self.lines = lines
    }

    public static let defaultDataDirectory = "/var/lib/skryba"
    public static let defaultFlushIntervalMs = 1000

    /// 20 ms Opus packets per flush interval (`RecorderConfiguration.packetsPerPage`).
    public var packetsPerFlush: Int { flushIntervalMs / 20 }

    /// The capture layout: line `i` (file order) on `lines[i].captureChannel`.
    public func lineLayout() throws(LineLayoutError) -> LineLayout {
        try LineLayout(rate: audio.rate, channels: audio.channels, captureChannels: lines.map(\.captureChannel))
    }

    /// The line with this `id`.
    public func line(id: Int) -> LineConfiguration? { lines.first { $0.id == id } }
}

/// `[audio]`: the USB audio interface, by ALSA PCM name.
public struct AudioConfiguration: Equatable, Sendable {
    /// `capture`: ALSA PCM name of the tap's capture side (`hw:CARD=Tap`, a name from asound.conf).
    public var capture: String
    /// `playback`: ALSA PCM name announcements are played into (default: `capture`).
    public var playback: String
    /// `rate`: 8000 or 16000 Hz, for capture, playback and every WAV file.
    public var rate: Int
    /// `channels`: interleaved capture channels the device delivers.
    public var channels: Int
    /// `playback_channels`: interleaved playback channels (default: `channels`).
    public var playbackChannels: Int
    /// `period_ms`: capture period (default 20).
    public var periodMs: Int

    public static let defaultRate = 8000
    public static let defaultPeriodMs = 20

    public init(capture: String, playback: String? = nil, rate: Int = AudioConfiguration.defaultRate, channels: Int,
                playbackChannels: Int? = nil, periodMs: Int = AudioConfiguration.defaultPeriodMs) {
        self.capture = capture
        self.playback = playback ?? capture
        self.rate = rate
        self.channels = channels
        self.playbackChannels = playbackChannels ?? channels
        self.periodMs = periodMs
    }

    /// Frames in one capture period.
    public var periodFrames: Int { rate * periodMs / 1000 }
}

/// `[gpio]`: where ring and hook come from.
public struct GPIOConfiguration: Equatable, Sendable {
    public enum Backend: Equatable, Sendable {
        /// libgpiod on the board; every line needs `ring` and `hook`.
        case gpiod
        /// Edges read from a file (`FRAME\tLINE\tSIGNAL\tLEVEL`), for simulation and tests; absolute path.
        case replay(path: String)
    }

    public var backend: Backend
    /// `debounce_ms`: an input must hold a new level this long before it counts (default 10).
    public var debounceMs: Int

    public static let defaultDebounceMs = 10

    public init(backend: Backend = .gpiod, debounceMs: Int = GPIOConfiguration.defaultDebounceMs) {
        self.backend = backend
        self.debounceMs = debounceMs
    }
}

/// One GPIO input (`ring = { chip = "gpiochip0", line = 17 }`).
public struct GPIOPin: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Electrical bias, as libgpiod 1.6 requests it.
    public enum Bias: String, Equatable, Hashable, Sendable, CaseIterable {
        case asIs = "as-is", disabled, pullUp = "pull-up", pullDown = "pull-down"
    }

    /// `chip`: `gpiochip0`, `/dev/gpiochip0`, the chip's label or number.
    public var chip: String
    /// `line`: the line offset on the chip.
    public var line: Int
    /// `active_low`: asserted at low voltage (default false).
    public var activeLow: Bool
    /// `bias` (default as-is).
    public var bias: Bias

    public init(chip: String, line: Int, activeLow: Bool = false, bias: Bias = .asIs) {
        self.chip = chip
        self.line = line
        self.activeLow = activeLow
        self.bias = bias
    }

    public var description: String { "\(chip) line \(line)" }
}

/// One `[[lines]]` table: a tapped trunk line.
public struct LineConfiguration: Equatable, Sendable {
    /// `consent`: how a caller consents (R4).
    public enum Consent: Equatable, Hashable, Sendable {
        /// `consent = "continue"`: continuing after the announcement is consent.
        case continueMeansConsent
        /// `consent = "opt-out-key"`: pressing this key (0-9 * # A-D) objects; the call goes on unrecorded.
        case optOutKey(Character)
    }

    /// `id`: the line's number (1, 2, …), used in the catalog, the replay file and on the console.
    public var id: Int
    /// `name`: what the office calls the line ("Sekretariat").
    public var name: String
    /// `capture_channel`: zero-based capture channel.
    public var captureChannel: Int
    /// `playback_channel`: zero-based playback channel (default: `captureChannel`).
    public var playbackChannel: Int
    /// `ring`, `hook`: GPIO inputs (required with the gpiod backend).
    public var ring: GPIOPin?
    public var hook: GPIOPin?
    /// `record`: which calls are recorded (R2).
    public var record: Set<CallDirection>
    /// `announcement`: absolute path of the WAV played before incoming calls (16-bit mono at the audio rate).
    public var announcement: String?
    /// `announcement_id`: the label kept with each recording (default: the announcement's file name).
    public var announcementID: String?
    public var consent: Consent
    /// `opt_out_window_ms`: with `opt-out-key`, how long after the announcement ends the key still counts.
    public var optOutWindowMs: Int
    /// `outgoing_notice`: absolute path of a short WAV played into outgoing calls (R5), if any.
    public var outgoingNotice: String?
    /// `purpose`, `legal_basis`, `information_clause`: the record of processing for this line (R14).
    public var purpose: String?
    public var legalBasis: String?
    public var informationClause: String?

    public static let defaultOptOutWindowMs = 3000

    public init(id: Int, name: String, captureChannel: Int, playbackChannel: Int? = nil, ring: GPIOPin? = nil, hook: GPIOPin? = nil,
                record: Set<CallDirection>, announcement: String? = nil, announcementID: String? = nil,
                consent: Consent = .continueMeansConsent, optOutWindowMs: Int = LineConfiguration.defaultOptOutWindowMs,
                outgoingNotice: String? = nil, purpose: String? = nil, legalBasis: String? = nil,
                informationClause: String? = nil) {
        self.id = id
        self.name = name
        self.captureChannel = captureChannel
        self.playbackChannel = playbackChannel ?? captureChannel
        self.ring = ring
        self.hook = hook
        self.record = record
        self.announcement = announcement
        self.announcementID = announcementID
        self.consent = consent
        self.optOutWindowMs = optOutWindowMs
        self.outgoingNotice = outgoingNotice
        self.purpose = purpose
        self.legalBasis = legalBasis
        self.informationClause = informationClause
    }

    /// The call state machine's consent mode at `rate` (the window in frames).
    public func consentMode(rate: Int) -> ConsentMode {
        switch consent {
        case .continueMeansConsent: .continueMeansConsent
        case .optOutKey(let key): .optOutKey(key, windowFrames: UInt64(optOutWindowMs) * UInt64(rate) / 1000)
        }
    }
}

/// `[office]`: the office (the data controller) as its letters name it.
public struct OfficeConfiguration: Equatable, Sendable {
    public var name: String
    /// Street, postcode and town: one line each.
    public var address: [String]
    /// The town letters are dated in ("Piaseczno, dnia …"); default: the address's last line without its postcode.
    public var town: String?
    /// How to reach the data-protection officer (an e-mail address).
    public var dataProtectionOfficer: String?

    public init(name: String, address: [String] = [], town: String? = nil, dataProtectionOfficer: String? = nil) {
        (self.name, self.address, self.town, self.dataProtectionOfficer) = (name, address, town, dataProtectionOfficer)
    }
}

/// `[retention]`: how long recordings are kept (R6) and how much space is kept free.
public struct RetentionConfiguration: Equatable, Sendable {
    /// A retention period as the seeds state them.
    public enum Period: Equatable, Hashable, Sendable, CustomStringConvertible {
        /// `"30d"`
        case days(Int)
        /// `"6m"`: calendar months (Europe/Warsaw)
        case months(Int)
        /// `"capacity"`: kept as long as the storage allows, the oldest deleted first (Halinów).
        case untilCapacity

        public var description: String {
            switch self {
            case .days(let days): "\(days)d"
            case .months(let months): "\(months)m"
            case .untilCapacity: "capacity"
            }
        }

        /// Parses `30d`, `1m`, `12m`, `capacity`.
        public static func parse(_ text: String) -> Period? {
            let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
            if trimmed == "capacity" { return .untilCapacity }
            guard let unit = trimmed.last, let count = Int(trimmed.dropLast()), (1...3650).contains(count) else { return nil }
            switch unit {
            case "d": return .days(count)
            case "m" where count <= 120: return .months(count)
            default: return nil
            }
        }
    }

    /// A `keep_free` value: a percentage of the recordings' filesystem, or an amount.
    public enum KeepFree: Equatable, Sendable {
        case percent(Double)
        case bytes(Int64)
        /// Why the value is refused, to follow the quoted value in the problem.
        case refused(String)

        /// The most any appliance's flash could hold: an amount above it is a typo, not a rule.
        public static let largestAmount: Int64 = 1 << 50  // 1024 TiB
        static let expected = "(a percentage from 1% to 90%, or an amount like \"2GiB\" or \"500MiB\")"

        /// `"10%"` (1 to 90: 0% would keep nothing free, and above 90% almost nothing could be
        /// recorded), `"2GiB"`, `"500MiB"`, `"1.5GiB"` (more than 0, at most 1024 TiB; whether it
        /// fits the filesystem is checked when the daemon starts, where the size is known).
        public static func parse(_ text: String) -> KeepFree {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.hasSuffix("%") {
                guard let percent = Double(trimmed.dropLast()), percent.isFinite else { return .refused("is not a free-space rule \(expected)") }
                guard percent >= 1, percent <= 90 else {
                    return .refused(percent < 1 ? "would keep no space free: give 1% to 90% of the recordings' filesystem (10% is the default)"
                                                : "is more than 90% of the recordings' filesystem: almost nothing could be recorded; give 1% to 90%")
                }
                return .percent(percent)
            }
            let units: [(String, Double)] = [("TiB", 0x1p40), ("GiB", 0x1p30), ("MiB", 0x1p20)]
            guard let (unit, scale) = units.first(where: { trimmed.hasSuffix($0.0) }),
                  let amount = Double(trimmed.dropLast(unit.count).trimmingCharacters(in: .whitespaces)), amount.isFinite else {
                return .refused("is not a free-space rule \(expected)")
            }
            let bytes = (amount * scale).rounded(.up)
            guard bytes >= 1 else { return .refused("would keep no space free: give an amount above 0, like \"2GiB\", or a percentage") }
            guard bytes <= Double(largestAmount) else {
                return .refused("is more than any filesystem the appliance can have (at most 1024TiB); give the space to keep free, like \"2GiB\" or \"10%\"")
            }
            return .bytes(Int64(bytes))
        }
    }

    public static let defaultPeriod = Period.days(30)
    public static let defaultKeepFreePercent = 10.0
    public static let defaultCheckEveryMinutes = 60

    /// `period`: for every recording not covered by a more specific key (default 30d, the shortest of the seeds).
    public var period: Period = RetentionConfiguration.defaultPeriod
    /// `incoming`, `outgoing`: per direction.
    public var perDirection: [CallDirection: Period] = [:]
    /// A line's `retention`, `retention_incoming`, `retention_outgoing` (direction nil = both).
    public var perLine: [LineRetentionKey: Period] = [:]
    /// `keep_free`: `"10%"` or `"2GiB"`: delete the oldest unheld recordings to keep this much free.
    public var keepFreePercent: Double? = RetentionConfiguration.defaultKeepFreePercent
    public var keepFreeBytes: Int64?
    /// `check_every_minutes`: how often the retention engine runs (it also runs at start-up).
    public var checkEveryMinutes = RetentionConfiguration.defaultCheckEveryMinutes

    public init() {}

    /// The most specific period for a recording: line+direction, line, direction, default.
    public func period(line: Int, direction: CallDirection?) -> Period {
        if let direction, let period = perLine[LineRetentionKey(line: line, direction: direction)] { return period }
        if let period = perLine[LineRetentionKey(line: line, direction: nil)] { return period }
        if let direction, let period = perDirection[direction] { return period }
        return period
    }
}

public struct LineRetentionKey: Hashable, Sendable {
    public var line: Int
    public var direction: CallDirection?
    public init(line: Int, direction: CallDirection?) {
        self.line = line
        self.direction = direction
    }
}

import Foundation

/// A recording's catalog id. Shown as "R000123" in file names, the audit log and the console.
public struct RecordingID: Hashable, Sendable, Codable, Comparable, LosslessStringConvertible {
    public let rawValue: Int64

    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// Parses "R000123" (the `description` form; the zeros may be left out, as a technician would).
    public init?(_ description: String) {
        guard description.first == "R", description.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(description.dropFirst()), value > 0 else {
            return nil
        }
        rawValue = value
    }

    public var description: String {
        let digits = String(rawValue)
        return "R" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    public static func < (lhs: RecordingID, rhs: RecordingID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(Int64.self) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

public enum RecordingDirection: String, Sendable, Codable, CaseIterable {
    case incoming, outgoing
    /// A whole-line tap recorded without call logic (what `skrybad` does until call detection lands).
    case line
}

public enum RecordingStatus: String, Sendable, Codable, CaseIterable {
    case recording, complete, interrupted, discarded
    /// Nothing could be written: the file could not be created (EMFILE, EIO, ENOSPC…); the row's
    /// `failureReason` says why. No file, no audio, no caller number.
    case failed
}

/// What the caller did about the announcement (R4).
public enum Consent: String, Sendable, Codable, CaseIterable {
    /// Stayed on the line after the announcement.
    case given
    /// Pressed the objection key: the call continued unrecorded.
    case objected
    /// Hung up during the announcement.
    case hungUp = "hung-up"
    /// No announcement applies (outgoing calls: the employee announces it).
    case notAsked = "not-asked"
}

/// Which announcement version was played (R3), identified by its id and the SHA-256 of its audio.
public struct Announcement: Equatable, Sendable, Codable {
    public var id: String
    /// Hex SHA-256 of the announcement audio as played.
    public var sha256: String
    /// Whether the caller heard it to the end; nil while not yet known.
    public var completed: Bool?

    public init(id: String, sha256: String, completed: Bool? = nil) {
        self.id = id
        self.sha256 = sha256
        self.completed = completed
    }
}

/// What is known when a recording starts.
public struct NewRecording: Equatable, Sendable {
    /// 1-based, as in `SKRYBA_LINE` and the line files.
    public var line: Int
    public var direction: RecordingDirection
    public var startUTC: Date
    public var startFrame: UInt64
    /// The `age1…` recipients the file is sealed to; at least one (no key, no recording).
    public var recipients: [String]
    public var callerNumber: String?
    public var dialedDigits: String?
    public var announcement: Announcement?
    public var consent: Consent?
    public var retentionDeadlineUTC: Date?
    /// The system clock was not synchronised when the call started: `startUTC` says nothing, and
    /// retention never deletes the recording on its date (docs/retention.md, "An untrusted clock").
    public var clockUntrusted: Bool

    public init(line: Int, direction: RecordingDirection, startUTC: Date, startFrame: UInt64, recipients: [String],
                callerNumber: String? = nil, dialedDigits: String? = nil, announcement: Announcement? = nil,
                consent: Consent? = nil, retentionDeadlineUTC: Date? = nil, clockUntrusted: Bool = false) {
        self.clockUntrusted = clockUntrusted
        self.line = line
        self.direction = direction
        self.startUTC = startUTC
        self.startFrame = startFrame
        self.recipients = recipients
        self.callerNumber = callerNumber
        self.dialedDigits = dialedDigits
        self.announcement = announcement
        self.consent = consent
        self.retentionDeadlineUTC = retentionDeadlineUTC
    }
}

/// One row of `recordings`, typed. Times are whole milliseconds (what the catalog stores).
public struct RecordingRow: Equatable, Sendable, Codable {
    public var id: RecordingID
    public var line: Int
    public var direction: RecordingDirection
    public var startUTC: Date
    public var startFrame: UInt64
    public var endFrame: UInt64?
    public var durationMs: Int64?
    public var status: RecordingStatus
    public var callerNumber: String?
    public var dialedDigits: String?
    public var announcement: Announcement?
    public var consent: Consent?
    /// Relative to the data directory, e.g. "recordings/2025/03/14/R000012.skryba".
    public var filePath: String?
    public var fileSize: Int64?
    /// Hex SHA-256 of the sealed file as finished.
    public var fileSHA256: String?
    public var retentionDeadlineUTC: Date?
    /// Legal holds keeping this recording past its deadline (R7); empty when none.
    public var holdRefs: [String]
    public var recipients: [String]
    public var createdUTC: Date
    public var updatedUTC: Date
    /// The retention rule `retentionDeadlineUTC` was computed from ("retention 30 days", "retention
    /// 1 month", "as long as capacity allows"); nil until the policy has been applied to the row.
    public var retentionRule: String?
    /// Set when a deletion began (phase 1 of docs/retention.md, "Crash-safe deletion").
    public var deletionStartedUTC: Date?
    /// Why it was (or is being) deleted: "retention 30 days", "capacity", "erasure: <reason>".
    public var deletionRule: String?
    /// When the file was gone for good and the row lost its personal data.
    public var deletedUTC: Date?
    /// Set while processing is restricted (GDPR art. 18): kept, but left out of ordinary exports.
    public var restrictedUTC: Date?
    /// Started while the system clock was not synchronised (`clock_untrusted`): its dates are not evidence of when.
    public var clockUntrusted: Bool
    /// Why a `failed` recording could not be written; nil otherwise.
    public var failureReason: String?
    /// Periods missing from the recording's timeline, filled with silence in its file (evidence of a hole).
    public var gaps: [RecordingGap] = []

    /// Deleted, or its deletion has begun and fsck / the next retention run will finish it.
    public var isDeleted: Bool { deletionStartedUTC != nil }
    public var isRestricted: Bool { restrictedUTC != nil }

    public init(id: RecordingID, line: Int, direction: RecordingDirection, startUTC: Date, startFrame: UInt64,
                endFrame: UInt64? = nil, durationMs: Int64? = nil, status: RecordingStatus, callerNumber: String? = nil,
                dialedDigits: String? = nil, announcement: Announcement? = nil, consent: Consent? = nil,
                filePath: String? = nil, fileSize: Int64? = nil, fileSHA256: String? = nil,
                retentionDeadlineUTC: Date? = nil, holdRefs: [String] = [], recipients: [String],
                createdUTC: Date, updatedUTC: Date, retentionRule: String? = nil, deletionStartedUTC: Date? = nil,
                deletionRule: String? = nil, deletedUTC: Date? = nil, restrictedUTC: Date? = nil, clockUntrusted: Bool = false,
                failureReason: String? = nil) {
        self.clockUntrusted = clockUntrusted
        self.failureReason = failureReason
        self.retentionRule = retentionRule
        self.deletionStartedUTC = deletionStartedUTC
        self.deletionRule = deletionRule
        self.deletedUTC = deletedUTC
        self.restrictedUTC = restrictedUTC
        self.id = id
        self.line = line
        self.direction = direction
        self.startUTC = startUTC
        self.startFrame = startFrame
        self.endFrame = endFrame
        self.durationMs = durationMs
        self.status = status
        self.callerNumber = callerNumber
        self.dialedDigits = dialedDigits
        self.announcement = announcement
        self.consent = consent
        self.filePath = filePath
        self.fileSize = fileSize
        self.fileSHA256 = fileSHA256
        self.retentionDeadlineUTC = retentionDeadlineUTC
        self.holdRefs = holdRefs
        self.recipients = recipients
        self.createdUTC = createdUTC
        self.updatedUTC = updatedUTC
    }
}

/// A period missing from a recording's timeline (a ring overflow, an xrun, a recovered device, or
/// storage that fell too far behind): its file holds silence there, so it stays on the sample clock
/// and decodes to exactly its duration, and the catalog keeps the hole as evidence.
public struct RecordingGap: Codable, Equatable, Sendable {
    /// Where the hole starts on the sample clock, and how many frames it lasts.
    public var startFrame: UInt64
    public var frames: UInt64
    /// Where it starts from the recording's start, and how long it lasts, in milliseconds.
    public var offsetMs: Int64
    public var durationMs: Int64

    public init(startFrame: UInt64, frames: UInt64, recordingStartFrame: UInt64, rate: Int) {
        self.startFrame = startFrame
        self.frames = frames
        // Plain conversions, not the generic `init(clamping:)`: made on a line worker while it records.
        let perMs = UInt64(max(rate, 1)), largest = UInt64(Int64.max)
        offsetMs = Int64(min((startFrame &- min(startFrame, recordingStartFrame)) / perMs * 1000
                             + (startFrame &- min(startFrame, recordingStartFrame)) % perMs * 1000 / perMs, largest))
        durationMs = Int64(min(frames / perMs * 1000 + frames % perMs * 1000 / perMs, largest))
    }

    enum CodingKeys: String, CodingKey {
        case startFrame = "start_frame", frames, offsetMs = "offset_ms", durationMs = "duration_ms"
    }

    /// "2 (0.64 s) at 12.40 s, 31.02 s" — how `recordings list` and the audit log name a recording's holes.
    public static func summary(_ gaps: [RecordingGap]) -> String {
        let total = gaps.reduce(Int64(0)) { $0 + $1.durationMs }
        let positions = gaps.map { String(format: "%.2f s", Double($0.offsetMs) / 1000) }.joined(separator: ", ")
        return "\(gaps.count) (\(String(format: "%.2f s", Double(total) / 1000))) at \(positions)"
    }

    /// The JSON the catalog's `gaps` column holds.
    static func json(_ gaps: [RecordingGap]) -> String? {
        guard !gaps.isEmpty else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // Encoding integers cannot fail.
        return String(decoding: (try? encoder.encode(gaps)) ?? Data("[]".utf8), as: UTF8.self)
    }
}

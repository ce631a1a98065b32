import Crypto
import Foundation

public enum AuditKind: String, Sendable, Codable, CaseIterable {
    case recordingStarted = "recording-started"
    case recordingFinished = "recording-finished"
    case recordingInterrupted = "recording-interrupted"
    case recordingDiscarded = "recording-discarded"
    case recordingFailed = "recording-failed"
    case recordingDeleted = "recording-deleted"
    case holdAdded = "hold-added"
    case holdReleased = "hold-released"
    case export
    case configChanged = "config-changed"
    /// A technician played a line's announcement into its output (console `announcement test N`).
    case announcementTested = "announcement-tested"
    case consoleLogin = "console-login"
    case fsckFinding = "fsck-finding"
    case deviceKeyCreated = "device-key-created"
    case checkpoint
    // Retention, holds, secured copies, data-subject rights (docs/retention.md).
    case recordingDeletionStarted = "recording-deletion-started"
    case deletionReceipt = "deletion-receipt"
    case retentionScheduled = "retention-scheduled"
    case retentionPolicyApplied = "retention-policy-applied"
    /// The configuration's policy differs from the one the stored deadlines came from (old → new).
    case retentionPolicyChanged = "retention-policy-changed"
    /// Recordings kept because their date came from an unsynchronised clock.
    case retentionDateUntrusted = "retention-date-untrusted"
    case recordingRestricted = "recording-restricted"
    case recordingUnrestricted = "recording-unrestricted"
    case recordingCorrected = "recording-corrected"
    case copySecured = "copy-secured"
    case copyRenewed = "copy-renewed"
    case copyReleased = "copy-released"
    case copyDestroyed = "copy-destroyed"
    // The register of requests, exports and listenings (docs/disclosure.md).
    case requestRegistered = "request-registered", requestOpinion = "request-opinion", requestLinked = "request-linked"
    case requestDecided = "request-decided", listeningRecorded = "listening-recorded"
    case exportStarted = "export-started", exportCompleted = "export-completed", exportIncomplete = "export-incomplete"
    case exportRefused = "export-refused"
    case backupExportStarted = "backup-export-started", backupExportCompleted = "backup-export-completed"
    case backupExportIncomplete = "backup-export-incomplete"
    /// An alarm's start and end (docs/service.md): the alarm history, subject = the alarm's kind.
    case alarmRaised = "alarm-raised"
    case alarmCleared = "alarm-cleared"
}

/// One row of `audit_log`, exactly as stored: the hash covers these bytes, so nothing here is
/// re-parsed or normalised. `kind` stays a string so a log written by newer firmware still verifies.
public struct AuditEntry: Equatable, Sendable, Codable {
    public let seq: Int64
    public let timeUTC: String
    public let kind: String
    /// What the entry is about, e.g. "R000012"; nil for appliance-wide events.
    public let subject: String?
    /// Who caused it: "skrybad", "console:technician", …
    public let actor: String
    /// A JSON object with sorted keys and string values. Never personal data: this log is never
    /// erased, while caller numbers must go when their recording's retention ends.
    public let details: String
    public let prevHash: Data
    public let hash: Data

    public var knownKind: AuditKind? { AuditKind(rawValue: kind) }

    public var decodedDetails: [String: String]? {
        try? JSONDecoder().decode([String: String].self, from: Data(details.utf8))
    }

    /// The hash recomputed from this entry's stored fields.
    public var recomputedHash: Data {
        Self.hash(prevHash: prevHash, seq: seq, timeUTC: timeUTC, kind: kind, subject: subject, actor: actor, details: details)
    }

    /// The prev_hash of entry 1.
    public static let genesisHash = Data(count: 32)

    static let hashDomain = "skryba-audit-entry/v1\n"

    /// The canonical byte string an entry's hash is taken over (docs/storage.md, "Entry hash"):
    /// the domain line, prev_hash (32 bytes), seq (u64 big-endian), then time_utc, kind, subject,
    /// actor, details, each as a u32 big-endian byte count and its UTF-8 bytes; a NULL subject is
    /// the count FFFFFFFF with no bytes (so NULL and "" differ).
    public static func hashInput(prevHash: Data, seq: Int64, timeUTC: String, kind: String, subject: String?,
                                 actor: String, details: String) -> [UInt8] {
        var bytes = Array(hashDomain.utf8)
        bytes += prevHash
        bytes.appendBigEndian(UInt64(bitPattern: seq))
        for field in [timeUTC, kind, subject, actor, details] {
            guard let field else {
                bytes.appendBigEndian(UInt32.max)
                continue
            }
            let utf8 = Array(field.utf8)
            bytes.appendBigEndian(UInt32(utf8.count))
            bytes += utf8
        }
        return bytes
    }

    public static func hash(prevHash: Data, seq: Int64, timeUTC: String, kind: String, subject: String?,
                            actor: String, details: String) -> Data {
        Data(SHA256.hash(data: hashInput(prevHash: prevHash, seq: seq, timeUTC: timeUTC, kind: kind, subject: subject,
                                         actor: actor, details: details)))
    }

    /// `details` as stored: sorted keys, no escaped slashes (paths stay readable).
    static func encodeDetails(_ details: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a [String: String] cannot fail.
        return String(decoding: try! encoder.encode(details), as: UTF8.self)
    }
}

/// A signature by the device key over the chain up to and including entry `seq` (which is itself a
/// `checkpoint` entry naming the key): whoever has the public key can check that entries 1…seq are
/// exactly what the appliance had written when it signed.
public struct AuditCheckpoint: Equatable, Sendable, Codable {
    public let seq: Int64
    /// The hash of entry `seq`.
    public let hash: Data
    public let timeUTC: String
    /// Raw Ed25519 public key, 32 bytes.
    public let publicKey: Data
    /// Ed25519 signature, 64 bytes, over `message(seq:hash:)`.
    public let signature: Data

    static let messageDomain = "skryba-audit-checkpoint/v1\n"

    /// "skryba-audit-checkpoint/v1\n" || seq (u64 big-endian) || hash (32 bytes).
    public static func message(seq: Int64, hash: Data) -> Data {
        var bytes = Array(messageDomain.utf8)
        bytes.appendBigEndian(UInt64(bitPattern: seq))
        bytes += hash
        return Data(bytes)
    }

    public var isSignatureValid: Bool {
        DeviceKey.verify(signature: signature, message: Self.message(seq: seq, hash: hash), publicKey: publicKey)
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}

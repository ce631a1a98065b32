import Foundation
import SkrybaStore

/// The monthly record of processing for the data-protection officer (R14, issue 11 item 6): what
/// happened to recordings in one Warsaw calendar month. Only strings and integers, so its JSON
/// encoding (sorted keys) is the same bytes wherever it is made. Derived from the audit log by
/// `MonthlyReportQueries`; signed by the device key (`SignedMonthlyReport`).
public struct MonthlyReport: Codable, Equatable, Sendable {
    public struct Line: Codable, Equatable, Sendable {
        public var line: Int
        public var name: String
        public var purpose: String?
        public var legalBasis: String?
        public var informationClause: String?
        public var directions: [Direction]
    }

    /// The calls of one line in one direction that started in the month.
    public struct Direction: Codable, Equatable, Sendable {
        public var direction: String
        /// Every call the appliance saw start (recorded or not).
        public var calls: Int
        /// Complete recordings, and recordings cut short (power loss, crash) with their surviving audio.
        public var recorded: Int
        public var interrupted: Int
        /// Hung up during the announcement, or objected: nothing kept (R4).
        public var hungUp: Int
        public var objected: Int
        /// Discarded for another reason (too short, no audio).
        public var discardedOther: Int
        /// Nothing could be written (the alarms say why).
        public var failed: Int

        init(direction: String) {
            self.direction = direction
            (calls, recorded, interrupted, hungUp, objected, discardedOther, failed) = (0, 0, 0, 0, 0, 0, 0)
        }
    }

    public struct Listening: Codable, Equatable, Sendable {
        public var request: String
        public var recordings: [String]
        public var startedUTC: String
        /// Fingerprint of the key that signed the listening record.
        public var signer: String
        public var present: Int
    }

    public struct Export: Codable, Equatable, Sendable {
        public var timeUTC: String
        /// "request" or "backup".
        public var kind: String
        public var request: String?
        /// To whom: the SSH key that pulled it.
        public var keyFingerprint: String
        public var keyComment: String
        /// On what basis: the request's kind, authority, case and decision; or the administrative backup.
        public var basis: String
        public var recordings: [String]
        public var completed: Bool
    }

    /// A secured copy made, or a legal hold placed or released.
    public struct Keeping: Codable, Equatable, Sendable {
        public var timeUTC: String
        public var recording: String
        public var event: String
        public var caseReference: String?
    }

    public struct Deleted: Codable, Equatable, Sendable {
        /// The rule as the signed receipts state it ("retention 30 days", "erasure: …").
        public var rule: String
        public var count: Int
    }

    /// Something a person should look at: a failed recording, an fsck finding, an incomplete
    /// export, a recording made on an unsynchronised clock, an alarm the daemon logged.
    public struct Alarm: Codable, Equatable, Sendable {
        public var timeUTC: String
        public var kind: String
        public var subject: String?
        public var detail: String
    }

    public struct Gap: Codable, Equatable, Sendable {
        public var recording: String
        public var timeUTC: String
        /// As the recording's audit entry states them (count, length, where).
        public var gaps: String
    }

    /// "2026-03".
    public var month: String
    /// The month's bounds in Warsaw local time, as UTC instants (start inclusive, end exclusive).
    public var fromUTC: String
    public var toUTC: String
    public var generatedUTC: String
    public var office: String
    public var recorderID: String
    public var lines: [Line]
    public var listenings: [Listening]
    public var exports: [Export]
    public var refusedExports: Int
    public var securedCopies: [Keeping]
    public var holds: [Keeping]
    public var deleted: [Deleted]
    public var alarms: [Alarm]
    public var gaps: [Gap]
    /// The last audit entry read: the report covers the log up to it.
    public var auditLastSeq: Int64

    /// The Warsaw month "YYYY-MM" as its first instant and the next month's; nil when not a month.
    public static func bounds(month text: String) -> (from: Date, to: Date)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let year = Int(parts[0]), let month = Int(parts[1]),
              (2000...2999).contains(year), (1...12).contains(month),
              let start = LegalTime.calendar.date(from: DateComponents(year: year, month: month, day: 1)) else { return nil }
        return (start, LegalTime.adding(months: 1, to: start))
    }
}

public struct ReportProblem: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The report as a file: `{"report":<the report's JSON>,"signature":{…}}`, where the signature is
/// Ed25519 by the device key over exactly the bytes of the report's JSON as they stand in the file.
/// Nothing is re-encoded to check it, so any changed byte of the report fails.
public struct SignedMonthlyReport: Equatable, Sendable {
    public var report: MonthlyReport
    /// Raw Ed25519 public key and signature.
    public var publicKey: Data
    public var signature: Data
    public var fingerprint: String { DeviceKey.fingerprint(of: publicKey) }

    static let prefix = Array(#"{"report":"#.utf8)

    static func suffix(publicKey: Data, signature: Data) -> [UInt8] {
        Array((#","signature":{"algorithm":"ed25519","device_key":""# + publicKey.hexDigits + #"","fingerprint":""#
            + DeviceKey.fingerprint(of: publicKey) + #"","value":""# + signature.hexDigits + "\"}}\n").utf8)
    }

    static func encode(_ report: MonthlyReport) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(report))
    }

    /// Signs `report` with the device key; returns the file's bytes.
    public static func sign(_ report: MonthlyReport, with key: DeviceKey) throws -> (SignedMonthlyReport, [UInt8]) {
        let body = try encode(report)
        let signature = key.sign(Data(body))
        return (SignedMonthlyReport(report: report, publicKey: key.publicKey, signature: signature),
                prefix + body + suffix(publicKey: key.publicKey, signature: signature))
    }

    /// Checks a report file: its form, its signature, and that it is signed by the pinned device key
    /// (its 16-hex-digit fingerprint or its 64-hex-digit public key).
    public static func verify(_ bytes: [UInt8], pinned: String) throws(ReportProblem) -> SignedMonthlyReport {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let signatureObject = object["signature"] as? [String: Any] else {
            throw ReportProblem("not a signed Skryba monthly report (expected a JSON object with \"report\" and \"signature\")")
        }
        guard signatureObject["algorithm"] as? String == "ed25519", let keyHex = signatureObject["device_key"] as? String,
              let valueHex = signatureObject["value"] as? String, let publicKey = DeletionReport.publicKey(hex: keyHex), publicKey.count == 32,
              let signature = DeletionReport.publicKey(hex: valueHex), signature.count == 64 else {
            throw ReportProblem("the signature block is not an Ed25519 device key (64 hex digits) and signature (128 hex digits)")
        }
        let fingerprint = DeviceKey.fingerprint(of: publicKey)
        let pin = pinned.lowercased()
        guard pin == fingerprint || pin == publicKey.hexDigits else {
            throw ReportProblem("the report is signed by device key \(fingerprint), not by the pinned \(pinned): it does not come from the pinned appliance")
        }
        let suffix = suffix(publicKey: publicKey, signature: signature)
        guard bytes.count > prefix.count + suffix.count, bytes.starts(with: prefix), Array(bytes.suffix(suffix.count)) == suffix else {
            throw ReportProblem("the file's layout was changed around the report (it must be exactly as skryba report wrote it)")
        }
        let body = Array(bytes[prefix.count..<(bytes.count - suffix.count)])
        guard DeviceKey.verify(signature: signature, message: Data(body), publicKey: publicKey) else {
            throw ReportProblem("the signature does not verify with device key \(fingerprint): the report was changed after it was signed")
        }
        let decoder = JSONDecoder()
        guard let report = try? decoder.decode(MonthlyReport.self, from: Data(body)) else {
            throw ReportProblem("the signed report is not a monthly report this tool can read")
        }
        return SignedMonthlyReport(report: report, publicKey: publicKey, signature: signature)
    }
}

extension Data {
    var hexDigits: String { map { String(format: "%02x", $0) }.joined() }
}

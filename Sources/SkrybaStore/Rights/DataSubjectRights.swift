import Crypto
import Foundation
import GRDB

/// A personal-data field of a recording that a data subject may have corrected (GDPR art. 16).
public enum CorrectableField: String, Sendable, Codable, CaseIterable {
    case callerNumber = "caller_number"
    case dialedDigits = "dialed_digits"
}

/// One rectification, table `corrections`. The previous and new values stay here (not in the
/// never-erased audit log) until the recording is deleted, when they are erased with the row's
/// other personal data. The `recording-corrected` audit entry carries HMAC-SHA256 commitments to
/// both values keyed with `salt`, so while the values exist anyone can check they are what the log
/// committed to, and once salt and values are erased nothing guessable is left (a plain hash of a
/// phone number could be reversed by trying all numbers). docs/retention.md, "Rights".
public struct Correction: Equatable, Sendable {
    public var number: Int64
    public var recording: RecordingID
    public var field: CorrectableField
    /// nil when the field was empty, or once erased (`erasedUTC`).
    public var previousValue: String?
    public var newValue: String?
    public var salt: Data?
    public var correctedUTC: Date
    public var reason: String
    public var actor: String
    public var erasedUTC: Date?

    /// HMAC-SHA256(key: salt, UTF-8 of the value) in hex; "none" for an empty field.
    public static func commitment(_ value: String?, salt: Data) -> String {
        guard let value else { return "none" }
        return Data(HMAC<SHA256>.authenticationCode(for: Data(value.utf8), using: SymmetricKey(data: salt))).hex
    }

    /// True when `entry` is this correction's `recording-corrected` entry and commits to exactly
    /// the values kept here. False once the values are erased: there is nothing left to check.
    public func matches(_ entry: AuditEntry) -> Bool {
        guard erasedUTC == nil, let salt, entry.kind == AuditKind.recordingCorrected.rawValue,
              entry.subject == recording.description, let details = entry.decodedDetails,
              details["correction"] == String(number), details["field"] == field.rawValue else { return false }
        return details["previous_hmac_sha256"] == Self.commitment(previousValue, salt: salt)
            && details["new_hmac_sha256"] == Self.commitment(newValue, salt: salt)
    }
}

/// Data-subject rights on recordings (R12, Wałbrzych §8.3): erasure (art. 17), restriction
/// (art. 18), rectification (art. 16). Access (art. 15) is an export. docs/retention.md.
public struct DataSubjectRights: Sendable {
    public let catalog: Catalog
    public let dataDirectory: String
    /// Signs the deletion receipt of an erasure.
    public let signer: DeviceKey

    public init(catalog: Catalog, dataDirectory: String, signer: DeviceKey) {
        self.catalog = catalog
        self.dataDirectory = dataDirectory
        self.signer = signer
    }

    /// What an erasure did: the item deleted and its signed receipt.
    public struct Erasure: Equatable, Sendable {
        public var deleted: DeletedItem
        public var receipt: AuditEntry
    }

    /// Erases recording `id` now, as retention would (crash-safe, rule "erasure: <reason>", signed
    /// receipt). Refused while any hold keeps it, naming the holds; refused while still recording.
    @discardableResult
    public func erase(_ id: RecordingID, reason: String, by actor: String, at now: Date) throws -> Erasure {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw RetentionError.invalid("an erasure needs a reason (the request it answers); nothing was erased") }
        let nothing = "nothing was erased"
        try Self.checkText(reason: reason, actor: actor, nothingDone: nothing)
        let row: RecordingRow? = try catalog.connection.read("reading recording \(id)") { database in
            try Catalog.rows(where: "id = ?", [id.rawValue], in: database).first
        }
        guard row != nil else { throw RetentionError.noSuchRecording(id, nothingDone: nothing) }
        let item = try Deletion.delete(id, dataDirectory: dataDirectory, actor: actor, at: now, catalog: catalog) { row, holds in
            try Catalog.checkHoldable(row, nothingDone: nothing)
            if row.status == .recording { throw RetentionError.recordingInProgress(id, nothingDone: nothing) }
            guard holds.isEmpty else { throw RetentionError.held(id, caseReferences: holds, refused: "erasing", nothingDone: nothing) }
            return "erasure: \(reason)"
        }
        guard let item, let receipt = try catalog.appendDeletionReceipt([item], signer: signer, actor: actor, at: now) else {
            throw RetentionError.invalid("recording \(id) could not be erased")
        }
        return Erasure(deleted: item, receipt: receipt)
    }

    /// Restricts processing (GDPR art. 18): the recording is kept, under its usual retention, but
    /// left out of ordinary exports until unrestricted.
    public func restrict(_ id: RecordingID, reason: String, by actor: String, at now: Date) throws {
        try setRestricted(id, true, reason: reason, actor: actor, at: now)
    }

    public func unrestrict(_ id: RecordingID, reason: String, by actor: String, at now: Date) throws {
        try setRestricted(id, false, reason: reason, actor: actor, at: now)
    }

    private func setRestricted(_ id: RecordingID, _ restricted: Bool, reason: String, actor: String, at now: Date) throws {
        let verb = restricted ? "restricted" : "unrestricted"
        let nothing = "nothing was \(verb)"
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw RetentionError.invalid("\(restricted ? "restricting" : "lifting a restriction") needs a reason; \(nothing)")
        }
        try Self.checkText(reason: reason, actor: actor, nothingDone: nothing)
        try catalog.connection.write("marking recording \(id) \(verb)") { database in
            guard let row = try Catalog.rows(where: "id = ?", [id.rawValue], in: database).first else {
                throw RetentionError.noSuchRecording(id, nothingDone: nothing)
            }
            try Catalog.checkHoldable(row, nothingDone: nothing)
            if restricted, let since = row.restrictedUTC {
                throw RetentionError.invalid("recording \(id) is already restricted (since \(UTCTimestamp.string(from: since))); \(nothing)")
            }
            if !restricted, row.restrictedUTC == nil {
                throw RetentionError.invalid("recording \(id) is not restricted; \(nothing)")
            }
            let time = UTCTimestamp.string(from: now)
            try database.execute(sql: "UPDATE recordings SET restricted_utc = ?, updated_utc = ? WHERE id = ?",
                                arguments: [restricted ? time : nil, time, id.rawValue])
            var details = ["reason": reason]
            if !restricted, let since = row.restrictedUTC { details["restricted_since_utc"] = UTCTimestamp.string(from: since) }
            try AuditLog.append(restricted ? .recordingRestricted : .recordingUnrestricted, subject: id.description, details: details,
                                actor: actor, at: now, in: database)
        }
    }

    /// Rectifies the caller number (e.g. caller ID showed the switchboard, the person gave their own).
    @discardableResult
    public func correct(_ id: RecordingID, callerNumber: String?, reason: String, by actor: String, at now: Date) throws -> Correction {
        try correct(id, field: .callerNumber, to: callerNumber, reason: reason, by: actor, at: now)
    }

    /// Rectifies one personal-data field; the previous value is kept in `corrections` (see `Correction`).
    @discardableResult
    public func correct(_ id: RecordingID, field: CorrectableField, to value: String?, reason: String, by actor: String,
                        at now: Date) throws -> Correction {
        let nothing = "nothing was corrected"
        let value = value.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw RetentionError.invalid("a correction needs a reason (the request it answers); \(nothing)")
        }
        try Self.checkText(reason: reason, actor: actor, nothingDone: nothing)
        if let value, let problem = PhoneNumber.problem(value) { throw RetentionError.invalid("\(problem); \(nothing)") }
        return try catalog.connection.write("correcting recording \(id)") { database in
            guard let row = try Catalog.rows(where: "id = ?", [id.rawValue], in: database).first else {
                throw RetentionError.noSuchRecording(id, nothingDone: nothing)
            }
            try Catalog.checkHoldable(row, nothingDone: nothing)
            if field == .callerNumber, row.direction == .outgoing {
                throw RetentionError.invalid("recording \(id) is an outgoing call: it has no caller number (the number called is its dialled digits); \(nothing)")
            }
            if field == .dialedDigits, row.direction == .incoming {
                throw RetentionError.invalid("recording \(id) is an incoming call: it has no dialled digits; \(nothing)")
            }
            let previous = field == .callerNumber ? row.callerNumber : row.dialedDigits
            guard previous != value else {
                throw RetentionError.invalid("recording \(id) already has that \(field == .callerNumber ? "caller number" : "dialled number"); \(nothing)")
            }
            var generator = SystemRandomNumberGenerator()
            let salt = Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
            let time = UTCTimestamp.string(from: now)
            try database.execute(sql: "UPDATE recordings SET \(field.rawValue) = ?, updated_utc = ? WHERE id = ?",
                                arguments: [value, time, id.rawValue])
            try database.execute(sql: """
                INSERT INTO corrections (recording, field, previous_value, new_value, salt, corrected_utc, reason, actor)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id.rawValue, field.rawValue, previous, value, salt,
                          time, reason, actor])
            let number = database.lastInsertedRowID
            try AuditLog.append(.recordingCorrected, subject: id.description,
                                details: ["field": field.rawValue, "reason": reason, "correction": String(number),
                                          "previous_hmac_sha256": Correction.commitment(previous, salt: salt),
                                          "new_hmac_sha256": Correction.commitment(value, salt: salt)],
                                actor: actor, at: now, in: database)
            return Correction(number: number, recording: id, field: field, previousValue: previous, newValue: value, salt: salt,
                              correctedUTC: UTCTimestamp.date(from: time) ?? now, reason: reason, actor: actor, erasedUTC: nil)
        }
    }

    /// Reason and actor go into the audit log and are printed from it: one line of printable text each.
    static func checkText(reason: String, actor: String, nothingDone: String) throws {
        for (value, field) in [(actor, "who acts (--by)"), (reason, "the reason")] {
            if let problem = FreeText.problem(value, field: field) { throw RetentionError.invalid("\(problem); \(nothingDone)") }
        }
    }

    /// The corrections of one recording, oldest first.
    public func corrections(of id: RecordingID) throws -> [Correction] {
        try catalog.connection.read("reading the corrections of \(id)") { database in
            try Row.fetchAll(database, sql: """
                SELECT id, field, previous_value, new_value, salt, corrected_utc, reason, actor, erased_utc
                FROM corrections WHERE recording = ? ORDER BY id
                """, arguments: [id.rawValue]).map { values in
                var reader = StoredRow(values, table: "corrections")
                let number = try reader.integer("id")
                reader.key = "correction \(number)"
                let field: CorrectableField = try reader.enumValue("field")
                let previous = try reader.optionalText("previous_value"), new = try reader.optionalText("new_value")
                let salt = try reader.optionalBlob("salt")
                return Correction(number: number, recording: id, field: field, previousValue: previous, newValue: new, salt: salt,
                                  correctedUTC: try reader.date("corrected_utc"), reason: try reader.text("reason"),
                                  actor: try reader.text("actor"), erasedUTC: try reader.optionalDate("erased_utc"))
            }
        }
    }
}

import Foundation
import GRDB

/// The catalog: one row per recording in `DATA_DIR/catalog.sqlite`, and the audit log beside it on
/// the same connection. Every state change commits in one transaction with its audit entry, so the
/// log never claims what the catalog does not hold, nor the reverse.
public final class Catalog: Sendable {
    public let path: String
    public let audit: AuditLog
    let connection: StoreConnection

    /// The `PRAGMA user_version` this firmware writes.
    public static var schemaVersion: Int64 { Schema.currentVersion }

    /// Opens (creating and migrating as needed) the catalog at `path`. `actor` is who the audit
    /// entries of this process name: "skrybad", "console:technician", …
    public init(path: String, actor: String = "skrybad") throws {
        connection = try Schema.open(path: path)
        self.path = path
        audit = AuditLog(connection: connection, actor: actor)
    }

    public convenience init(dataDirectory: String, actor: String = "skrybad") throws {
        try self.init(path: "\(dataDirectory)/\(DataLayout.catalog)", actor: actor)
    }

    /// A new row in status `recording`, and `recording-started` in the audit log.
    public func insert(_ new: NewRecording, at now: Date) throws -> RecordingID {
        guard !new.recipients.isEmpty else {
            throw CatalogError.invalid(nil, reason: "a recording needs at least one age recipient (no key, no recording)")
        }
        if let bad = new.recipients.first(where: { !$0.hasPrefix("age1") }) {
            throw CatalogError.invalid(nil, reason: "recipient '\(bad)' is not an age X25519 recipient (age1…)")
        }
        let time = UTCTimestamp.string(from: now)
        return try connection.write("recording the start of a call on line \(new.line)") { database in
            try Self.insertRow(new, status: .recording, at: time, in: database)
            let id = RecordingID(rawValue: database.lastInsertedRowID)
            var details = [
                "line": String(new.line), "direction": new.direction.rawValue,
                "start_utc": UTCTimestamp.string(from: new.startUTC), "start_frame": String(new.startFrame),
                "recipients": new.recipients.joined(separator: ","),
            ]
            details["announcement_id"] = new.announcement?.id
            details["announcement_sha256"] = new.announcement?.sha256
            details["consent"] = new.consent?.rawValue
            details["retention_deadline_utc"] = new.retentionDeadlineUTC.map(UTCTimestamp.string(from:))
            if new.clockUntrusted { details["clock_untrusted"] = "true" }
            try AuditLog.append(.recordingStarted, subject: id.description, details: details, actor: audit.actor,
                                at: now, in: database)
            return id
        }
    }

    /// A call whose capture was destroyed before anything reached flash (R4: the caller hung up
    /// during the announcement, or objected): its row is written straight as `discarded`, without
    /// caller number or digits, with exactly one `recording-discarded` audit entry.
    public func recordDiscardedCall(_ new: NewRecording, endFrame: UInt64, durationMs: Int64, reason: String,
                                    at now: Date) throws -> RecordingID {
        var row = new
        row.callerNumber = nil
        row.dialedDigits = nil
        let time = UTCTimestamp.string(from: now)
        return try connection.write("recording a discarded call on line \(new.line)") { database in
            let id = try Self.insertRow(row, status: .discarded, at: time, in: database)
            try database.execute(sql: "UPDATE recordings SET end_frame = ?, duration_ms = ? WHERE id = ?",
                                arguments: [Int64(clamping: endFrame), durationMs, id.rawValue])
            var details = ["status": "discarded", "reason": reason, "line": String(new.line), "direction": new.direction.rawValue,
                           "start_utc": UTCTimestamp.string(from: new.startUTC), "start_frame": String(new.startFrame),
                           "end_frame": String(endFrame), "duration_ms": String(durationMs)]
            details["consent"] = new.consent?.rawValue
            details["announcement_id"] = new.announcement?.id
            details["announcement_completed"] = new.announcement?.completed.map { String($0) }
            try AuditLog.append(.recordingDiscarded, subject: id.description, details: details, actor: audit.actor, at: now, in: database)
            return id
        }
    }

    @discardableResult
    private static func insertRow(_ new: NewRecording, status: RecordingStatus, at time: String, in database: Database) throws -> RecordingID {
        try database.execute(sql: """
            INSERT INTO recordings (line, direction, start_utc, start_frame, status, caller_number, dialed_digits,
                announcement_id, announcement_sha256, announcement_completed, consent, retention_deadline_utc,
                recipients, created_utc, updated_utc, clock_untrusted)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [
                Int64(new.line), new.direction.rawValue, UTCTimestamp.string(from: new.startUTC),
                Int64(clamping: new.startFrame), status.rawValue, new.callerNumber, new.dialedDigits,
                new.announcement?.id, new.announcement?.sha256,
                new.announcement?.completed, new.consent?.rawValue,
                new.retentionDeadlineUTC.map(UTCTimestamp.string(from:)), jsonArray(new.recipients),
                time, time, new.clockUntrusted,
            ])
        return RecordingID(rawValue: database.lastInsertedRowID)
    }

    /// Records where the sealed file is (relative to the data directory, see `DataLayout.recordingPath`).
    /// Set once, while recording. No audit entry: the finishing entry names the file.
    public func setFile(_ id: RecordingID, relativePath: String, at now: Date) throws {
        let components = relativePath.split(separator: "/", omittingEmptySubsequences: false)
        if relativePath.isEmpty || relativePath.hasPrefix("/") {
            throw CatalogError.invalidFilePath(id, path: relativePath, reason: "must be relative to the data directory")
        }
        if components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            throw CatalogError.invalidFilePath(id, path: relativePath, reason: "must not contain empty, '.' or '..' components")
        }
        try connection.write("setting the file of recording \(id)") { database in
            let row = try Self.fetch(id, in: database)
            guard row.status == .recording else {
                throw CatalogError.alreadyFinished(id, status: row.status, refused: "set its file")
            }
            if let existing = row.filePath, existing != relativePath {
                throw CatalogError.fileAlreadySet(id, existing: existing, requested: relativePath)
            }
            try database.execute(sql: "UPDATE recordings SET file_path = ?, updated_utc = ? WHERE id = ?",
                                arguments: [relativePath, UTCTimestamp.string(from: now), id.rawValue])
        }
    }

    /// Ends a recording: `complete` (its file is whole), `interrupted` (cut short; what survived is
    /// kept) or `discarded` (R4: the caller did not consent, the audio is destroyed and the caller's
    /// number and dialled digits are erased from the row). Appends `recording-finished`,
    /// `recording-interrupted` or `recording-discarded` in the same transaction. `consent`,
    /// `announcementCompleted` and `dialedDigits` are what the call learnt on the way; nil keeps
    /// what the row has.
    public func finish(_ id: RecordingID, status: RecordingStatus, endFrame: UInt64?, durationMs: Int64?,
                       fileSize: Int64?, fileSHA256: String?, reason: String?, consent: Consent? = nil,
                       announcementCompleted: Bool? = nil, dialedDigits: String? = nil, gaps: [RecordingGap] = [],
                       at now: Date) throws {
        let kind: AuditKind
        switch status {
        case .recording:
            throw CatalogError.invalid(id, reason: "cannot be finished as 'recording'; a finished recording is complete, interrupted or discarded")
        case .complete: kind = .recordingFinished
        case .interrupted: kind = .recordingInterrupted
        case .discarded: kind = .recordingDiscarded
        case .failed: kind = .recordingFailed
        }
        if let fileSHA256, fileSHA256.count != 64 || !fileSHA256.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
            throw CatalogError.invalid(id, reason: "file SHA-256 '\(fileSHA256)' is not 64 lowercase hex digits")
        }
        if status == .discarded, fileSize != nil || fileSHA256 != nil {
            throw CatalogError.invalid(id, reason: "a discarded recording's audio is destroyed; it has no file size or SHA-256 to keep")
        }
        if status == .failed, fileSize != nil || fileSHA256 != nil || reason == nil {
            throw CatalogError.invalid(id, reason: "a failed recording has no file (so no size or SHA-256) and needs the reason it failed")
        }
        try connection.write("finishing recording \(id) as \(status.rawValue)") { database in
            var row = try Self.fetch(id, in: database)
            guard row.status == .recording else {
                throw CatalogError.alreadyFinished(id, status: row.status, refused: "mark it \(status.rawValue)")
            }
            if let endFrame, endFrame < row.startFrame {
                throw CatalogError.invalid(id, reason: "end frame \(endFrame) is before its start frame \(row.startFrame)")
            }
            if status == .complete {
                // Not the end frame: recovery closes whole files whose end it knows only as a duration.
                let missing = [("duration", durationMs == nil), ("file", row.filePath == nil),
                               ("file size", fileSize == nil), ("file SHA-256", fileSHA256 == nil)].filter(\.1).map(\.0)
                guard missing.isEmpty else {
                    throw CatalogError.invalid(id, reason: "a complete recording needs its \(missing.joined(separator: ", "))")
                }
            }
            if let announcementCompleted {
                guard row.announcement != nil else {
                    throw CatalogError.invalid(id, reason: "no announcement was played, so it cannot have been completed or not")
                }
                row.announcement?.completed = announcementCompleted
            }
            row.status = status
            row.endFrame = endFrame
            row.durationMs = durationMs
            row.fileSize = fileSize
            row.fileSHA256 = fileSHA256
            row.consent = consent ?? row.consent
            row.dialedDigits = dialedDigits ?? row.dialedDigits
            // Nothing of the call is kept, so nothing personal either (and retention, which deletes
            // only recordings with audio, never has to come back for it).
            if status == .discarded || status == .failed {
                row.callerNumber = nil
                row.dialedDigits = nil
            }
            try database.execute(sql: """
                UPDATE recordings SET status = ?, end_frame = ?, duration_ms = ?, file_size = ?, file_sha256 = ?,
                    consent = ?, announcement_completed = ?, caller_number = ?, dialed_digits = ?, failure_reason = ?, gaps = ?,
                    updated_utc = ?
                WHERE id = ?
                """, arguments: [
                    status.rawValue, endFrame.map { Int64(clamping: $0) }, durationMs,
                    fileSize, fileSHA256, row.consent?.rawValue,
                    row.announcement?.completed, row.callerNumber, row.dialedDigits,
                    status == .failed ? reason : nil, RecordingGap.json(gaps),
                    UTCTimestamp.string(from: now), id.rawValue,
                ])
            var details = ["status": status.rawValue]
            details["reason"] = reason
            details["end_frame"] = endFrame.map { String($0) }
            details["duration_ms"] = durationMs.map { String($0) }
            details["file"] = row.filePath
            details["file_size"] = fileSize.map { String($0) }
            details["file_sha256"] = fileSHA256
            details["consent"] = row.consent?.rawValue
            details["announcement_completed"] = row.announcement?.completed.map { String($0) }
            if !gaps.isEmpty {
                // The evidence of a hole, in the entry a DPO reads: how many, how long, where.
                details["gaps"] = RecordingGap.summary(gaps)
                details["gap_frames"] = String(gaps.reduce(UInt64(0)) { $0 + $1.frames })
            }
            try AuditLog.append(kind, subject: id.description, details: details, actor: audit.actor, at: now, in: database)
        }
    }

    public func recording(_ id: RecordingID) throws -> RecordingRow? {
        try connection.read("reading recording \(id)") { database in
            try Self.rows(where: "id = ?", [id.rawValue], in: database).first
        }
    }

    /// Recordings in id (= start) order, optionally only those in one status.
    public func recordings(status: RecordingStatus? = nil) throws -> [RecordingRow] {
        try connection.read("listing recordings") { database in
            guard let status else { return try Self.rows(where: "1", [], in: database) }
            return try Self.rows(where: "status = ?", [status.rawValue], in: database)
        }
    }

    static func fetch(_ id: RecordingID, in database: Database) throws -> RecordingRow {
        guard let row = try rows(where: "id = ?", [id.rawValue], in: database).first else {
            throw CatalogError.noSuchRecording(id)
        }
        return row
    }

    static func rows(where condition: String, _ values: StatementArguments, in database: Database) throws -> [RecordingRow] {
        try RecordingRow.fetchAll(database, sql: """
            SELECT id, line, direction, start_utc, start_frame, end_frame, duration_ms, status, caller_number,
                dialed_digits, announcement_id, announcement_sha256, announcement_completed, consent, file_path,
                file_size, file_sha256, retention_deadline_utc, hold_refs, recipients, created_utc, updated_utc,
                retention_rule, deletion_started_utc, deletion_rule, deleted_utc, restricted_utc, clock_untrusted, failure_reason, gaps
            FROM recordings WHERE \(condition) ORDER BY id
            """, arguments: values)
    }
}

/// Read strictly (`StoredRow`): a value that breaks the schema names its row and column.
extension RecordingRow: FetchableRecord {
    public init(row stored: Row) throws {
        var reader = StoredRow(stored, table: "recordings")
        let id = RecordingID(rawValue: try reader.integer("id"))
        reader.key = id.description
        let line = try reader.integer("line"), direction: RecordingDirection = try reader.enumValue("direction")
        let startUTC = try reader.date("start_utc"), startFrame = try reader.integer("start_frame")
        let endFrame = try reader.optionalInteger("end_frame"), durationMs = try reader.optionalInteger("duration_ms")
        let status: RecordingStatus = try reader.enumValue("status")
        let callerNumber = try reader.optionalText("caller_number"), dialedDigits = try reader.optionalText("dialed_digits")
        let announcementID = try reader.optionalText("announcement_id")
        let announcementSHA256 = try reader.optionalText("announcement_sha256")
        let announcementCompleted = try reader.optionalInteger("announcement_completed")
        let announcement = announcementID.map {
            Announcement(id: $0, sha256: announcementSHA256 ?? "", completed: announcementCompleted.map { $0 != 0 })
        }
        self.init(
            id: id, line: Int(line), direction: direction, startUTC: startUTC, startFrame: UInt64(startFrame),
            endFrame: endFrame.map { UInt64($0) }, durationMs: durationMs, status: status, callerNumber: callerNumber,
            dialedDigits: dialedDigits, announcement: announcement, consent: try reader.optionalEnum("consent"),
            filePath: try reader.optionalText("file_path"), fileSize: try reader.optionalInteger("file_size"),
            fileSHA256: try reader.optionalText("file_sha256"),
            retentionDeadlineUTC: try reader.optionalDate("retention_deadline_utc"),
            holdRefs: try reader.optionalJSON("hold_refs", as: [String].self) ?? [],
            recipients: try reader.optionalJSON("recipients", as: [String].self) ?? [],
            createdUTC: try reader.date("created_utc"), updatedUTC: try reader.date("updated_utc"),
            retentionRule: try reader.optionalText("retention_rule"),
            deletionStartedUTC: try reader.optionalDate("deletion_started_utc"),
            deletionRule: try reader.optionalText("deletion_rule"), deletedUTC: try reader.optionalDate("deleted_utc"),
            restrictedUTC: try reader.optionalDate("restricted_utc"),
            clockUntrusted: try reader.integer("clock_untrusted") != 0, failureReason: try reader.optionalText("failure_reason"))
        gaps = try reader.optionalJSON("gaps", as: [RecordingGap].self) ?? []
    }
}

/// A JSON array of strings, as `recipients` and `hold_refs` store them.
func jsonArray(_ strings: [String]) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .withoutEscapingSlashes
    // Encoding a [String] cannot fail.
    return String(decoding: try! encoder.encode(strings), as: UTF8.self)
}

import Crypto
import Foundation
import GRDB
import SkrybaSystem

/// One entry of the secured-copies register (R8, Wałbrzych §7.4–7.9): table `secured_copies`.
public struct SecuredCopy: Equatable, Sendable, Codable {
    /// a) The copy's sequence number: 1, 2, 3, … per appliance, never reused.
    public var sequence: Int64
    public var recording: RecordingID
    /// The hold keeping the recording while the copy exists: "secured-copy <sequence>".
    public var caseReference: String
    /// b) The period (date and time) the copy covers: the recording's start and end.
    public var periodFromUTC: Date
    public var periodToUTC: Date
    /// c) The caller's number. **Personal data**: erased from the register when the copy is destroyed.
    public var callerNumber: String?
    /// d) The office's number (or line name) that was called.
    public var calledNumber: String
    /// When the written request arrived (the 14 days are counted to this).
    public var requestReceivedUTC: Date
    /// When the request was entered on the appliance.
    public var requestedUTC: Date
    /// Set when a request after the 14 days was accepted anyway, with why.
    public var overrideReason: String?
    /// f) Who made the copy.
    public var madeBy: String
    /// e) When the copy was made (its file durable); nil while the copying was interrupted.
    public var madeUTC: Date?
    /// `secured/<sequence>-<id>.skryba`, relative to the data directory: the sealed file byte for byte.
    public var filePath: String
    public var fileSize: Int64?
    public var fileSHA256: String?
    /// When it lapses unless renewed: 4 months (Europe/Warsaw calendar) after it was made or last renewed.
    public var expiresUTC: Date?
    public var renewedUTC: Date?
    /// h) Handed over (e.g. to the police): when, and the note.
    public var releasedUTC: Date?
    public var releaseNote: String?
    /// h) Destroyed (lapsed, or by hand): when, and the note.
    public var destroyedUTC: Date?
    public var destructionNote: String?

    public var isDestroyed: Bool { destroyedUTC != nil }
}

/// Secured copies (R8): a copy of a sealed recording made on a person's request, kept at most
/// 4 months unless the request is renewed, then destroyed; the register records all of it.
/// docs/retention.md, "Secured copies".
public struct SecuredCopies: Sendable {
    /// Days after the day of the call within which a request is accepted (Wałbrzych §7.4).
    public static let requestWindowDays = 14
    /// Months a copy is kept unless renewed (Wałbrzych §7.9).
    public static let keptMonths = 4
    public static let directory = "secured"

    public let catalog: Catalog
    public let dataDirectory: String
    /// Signs the deletion receipt of a copy destroyed by hand (`destroy`); lapses are receipted by
    /// the retention run that lets them go.
    public let signer: DeviceKey?

    public init(catalog: Catalog, dataDirectory: String, signer: DeviceKey? = nil) {
        self.catalog = catalog
        self.dataDirectory = dataDirectory
        self.signer = signer
    }

    /// The end of the request window for a call that started at `callStart`: the end of the 14th
    /// day after the call's day, Warsaw time (the call's own day not counted, civil code art. 111).
    public static func requestDeadline(callStart: Date) -> Date {
        LegalTime.endOfDay(days: requestWindowDays, after: callStart)
    }

    /// Secures recording `id` for a person's request (Wałbrzych §7.4–7.8): holds it, copies its
    /// sealed file byte for byte to `secured/<seq>-<id>.skryba` (file and directory fsync'ed) and
    /// enters the copy in the register. A request received after the 14 days is refused unless
    /// `overrideReason` says why it is accepted anyway (logged in `copy-secured`).
    /// - Parameters:
    ///   - calledNumber: the office's number or line name that was called (register field d).
    ///   - madeBy: who makes the copy (register field f).
    ///   - requestReceived: when the written request arrived; `now` when nil.
    ///   - callerNumber: register field c when the request states it; the recording's caller ID when nil.
    @discardableResult
    public func secure(_ id: RecordingID, calledNumber: String, madeBy: String, requestReceived: Date? = nil,
                       callerNumber: String? = nil, overrideReason: String? = nil, at now: Date) throws -> SecuredCopy {
        let received = requestReceived ?? now
        let override = overrideReason?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !calledNumber.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw RetentionError.invalid("a secured copy needs the called number (the office's number or line); nothing was secured")
        }
        guard !madeBy.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw RetentionError.invalid("a secured copy needs who makes it; nothing was secured")
        }
        // Printed in the register and the audit log: one line of printable text each.
        let fields: [(String?, String)] = [(calledNumber, "the called number"), (madeBy, "who makes the copy"),
                                           (callerNumber, "the caller number"), (override, "the override reason")]
        for case let (value?, field) in fields {
            if let problem = FreeText.problem(value, field: field) { throw RetentionError.invalid("\(problem); nothing was secured") }
        }
        guard received <= now else {
            throw RetentionError.invalid("the request cannot have been received (\(UTCTimestamp.string(from: received))) after now; nothing was secured")
        }
        let copy = try catalog.connection.write("securing recording \(id)") { database -> SecuredCopy in
            guard let row = try Catalog.rows(where: "id = ?", [id.rawValue], in: database).first else {
                throw RetentionError.noSuchRecording(id, nothingDone: "nothing was secured")
            }
            try Catalog.checkHoldable(row, nothingDone: "nothing was secured")
            if row.status == .recording { throw RetentionError.recordingInProgress(id, nothingDone: "nothing was secured") }
            guard let source = row.filePath else { throw RetentionError.recordingHasNoFile(id, nothingDone: "nothing was secured") }
            // A date given for the request cannot precede the call (a default of now is never checked: the
            // simulator's sample clock runs ahead of the wall clock).
            guard requestReceived.map({ $0 >= row.startUTC }) ?? true else {
                throw RetentionError.invalid("the request (received \(WarsawTime.minute(received))) cannot come before the call it asks for "
                    + "(\(WarsawTime.minute(row.startUTC))); nothing was secured")
            }
            let deadline = Self.requestDeadline(callStart: row.startUTC)
            let late = received >= deadline
            if late, override?.isEmpty ?? true {
                throw RetentionError.lateCopyRequest(id, callStart: row.startUTC, lastDay: WarsawTime.day(deadline.addingTimeInterval(-1)),
                                                     received: received)
            }
            guard let sequence = try Int64.fetchOne(database, sql: "SELECT coalesce(max(seq), 0) + 1 FROM secured_copies") else {
                throw RetentionError.invalid("cannot number the copy")
            }
            let reference = "secured-copy \(sequence)"
            let time = UTCTimestamp.string(from: now)
            var extra = ["sequence": String(sequence), "source": source]
            if late { extra["late_request_override"] = override }
            let holdID = try Catalog.hold([id], reference: reference, kind: .securedCopy,
                                          reason: "secured copy \(sequence) requested on \(UTCTimestamp.string(from: received))",
                                          extra: extra, actor: madeBy, at: now, in: database)
            let periodTo = row.startUTC.addingTimeInterval(Double(row.durationMs ?? 0) / 1000)
            let path = "\(Self.directory)/\(sequence)-\(id).\(DataLayout.sealedExtension)"
            try database.execute(sql: """
                INSERT INTO secured_copies (seq, recording, hold, period_from_utc, period_to_utc, caller_number, called_number,
                    request_received_utc, requested_utc, override_reason, made_by, file_path)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [sequence, id.rawValue, holdID, UTCTimestamp.string(from: row.startUTC),
                          UTCTimestamp.string(from: periodTo), callerNumber ?? row.callerNumber, calledNumber,
                          UTCTimestamp.string(from: received), time, late ? override : nil, madeBy,
                          path])
            return try Self.copies(where: "seq = ?", [sequence], in: database)[0]
        }
        do {
            return try makeFile(of: copy, actor: madeBy, at: now)
        } catch let error as RetentionError {
            // The register keeps the number, noting the failed attempt; the recording is released again.
            try? abandon(copy, note: "copy failed: \(error)", actor: madeBy, at: now)
            throw error
        }
    }

    /// Phases 2 and 3 of securing: the file (temp, fsync, rename, fsync directory), then the register
    /// says it was made. Also how fsck finishes a copy a crash interrupted.
    func makeFile(of copy: SecuredCopy, actor: String, at now: Date) throws -> SecuredCopy {
        guard let row = try catalog.recording(copy.recording), let source = row.filePath else {
            throw RetentionError.recordingHasNoFile(copy.recording, nothingDone: "nothing was secured")
        }
        let directory = "\(dataDirectory)/\(Self.directory)"
        let target = "\(dataDirectory)/\(copy.filePath)"
        let bytes: [UInt8]
        do throws(FileError) {
            try Directory.create(directory, permissions: 0o700)
            let sourcePath = "\(dataDirectory)/\(source)"
            let original = try FileDescriptor.open(sourcePath, .readOnly)
            defer { try? original.close() }
            bytes = try original.readAll(path: sourcePath)
            let temporary = target + ".tmp"
            let file = try FileDescriptor.open(temporary, .truncate(permissions: 0o600))
            do throws(FileError) {
                try file.writeAll(bytes, path: temporary)
                try file.sync(path: temporary)
            } catch {
                try? file.close()
                throw error
            }
            try file.close(path: temporary)
            try Directory.rename(temporary, to: target, directory: directory)
        } catch { throw RetentionError.file(error) }
        let sha256 = SHA256.hash(data: bytes).hex
        let expires = LegalTime.adding(months: Self.keptMonths, to: now)
        return try catalog.connection.write("registering secured copy \(copy.sequence)") { database in
            let time = UTCTimestamp.string(from: now)
            try database.execute(sql: "UPDATE secured_copies SET made_utc = ?, file_size = ?, file_sha256 = ?, expires_utc = ? WHERE seq = ?",
                                arguments: [time, Int64(bytes.count), sha256, UTCTimestamp.string(from: expires),
                      copy.sequence])
            var details = ["sequence": String(copy.sequence), "case_ref": copy.caseReference, "file": copy.filePath,
                           "file_size": String(bytes.count), "file_sha256": sha256, "made_by": copy.madeBy,
                           "called_number": copy.calledNumber, "expires_utc": UTCTimestamp.string(from: expires),
                           "request_received_utc": UTCTimestamp.string(from: copy.requestReceivedUTC),
                           "matches_recording": String(sha256 == row.fileSHA256)]
            details["late_request_override"] = copy.overrideReason
            try AuditLog.append(.copySecured, subject: copy.recording.description, details: details, actor: actor, at: now, in: database)
            return try Self.copies(where: "seq = ?", [copy.sequence], in: database)[0]
        }
    }

    /// Renews the request (Wałbrzych §7.9): the copy is kept 4 more months from now.
    @discardableResult
    public func renew(sequence: Int64, by actor: String? = nil, at now: Date) throws -> SecuredCopy {
        try catalog.connection.write("renewing secured copy \(sequence)") { database in
            let copy = try Self.live(sequence, at: now, in: database)
            let expires = max(copy.expiresUTC ?? now, LegalTime.adding(months: Self.keptMonths, to: now))
            let time = UTCTimestamp.string(from: now)
            try database.execute(sql: "UPDATE secured_copies SET expires_utc = ?, renewed_utc = ? WHERE seq = ?",
                                arguments: [UTCTimestamp.string(from: expires), time, sequence])
            try AuditLog.append(.copyRenewed, subject: copy.recording.description,
                                details: ["sequence": String(sequence), "previous_expires_utc": copy.expiresUTC.map(UTCTimestamp.string(from:)) ?? "-",
                                          "expires_utc": UTCTimestamp.string(from: expires)],
                                actor: actor ?? catalog.audit.actor, at: now, in: database)
            return try Self.copies(where: "seq = ?", [sequence], in: database)[0]
        }
    }

    /// Notes that the copy was handed over (register field h), e.g. "handed to KMP Wałbrzych, protocol 12/2026".
    @discardableResult
    public func recordRelease(sequence: Int64, note: String, by actor: String? = nil, at now: Date) throws -> SecuredCopy {
        guard !note.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw RetentionError.invalid("a release note says to whom and on what basis the copy was handed over")
        }
        if let problem = FreeText.problem(note, field: "the release note") { throw RetentionError.invalid(problem) }
        return try catalog.connection.write("noting the release of secured copy \(sequence)") { database in
            let copy = try Self.live(sequence, at: now, in: database)
            if let released = copy.releasedUTC {
                throw RetentionError.invalid("secured copy \(sequence) was already released on \(UTCTimestamp.string(from: released)) (\(copy.releaseNote ?? ""))")
            }
            try database.execute(sql: "UPDATE secured_copies SET released_utc = ?, release_note = ? WHERE seq = ?",
                                arguments: [UTCTimestamp.string(from: now), note, sequence])
            try AuditLog.append(.copyReleased, subject: copy.recording.description, details: ["sequence": String(sequence), "note": note],
                                actor: actor ?? catalog.audit.actor, at: now, in: database)
            return try Self.copies(where: "seq = ?", [sequence], in: database)[0]
        }
    }

    /// Destroys the copy before its time (e.g. the proceedings no longer need it): the file goes, the
    /// hold ends, the register notes it (and, with a `signer`, a signed deletion receipt). Returns
    /// what was deleted.
    @discardableResult
    public func destroy(sequence: Int64, note: String, by actor: String? = nil, at now: Date) throws -> DeletedItem {
        guard !note.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw RetentionError.invalid("a destruction note says why the copy is destroyed before its time")
        }
        let copy = try catalog.connection.read("reading secured copy \(sequence)") { database in
            try Self.live(sequence, at: now, in: database)
        }
        let item = try end(copy, note: "destroyed: \(note)", actor: actor ?? catalog.audit.actor, at: now)
        if let signer { try catalog.appendDeletionReceipt([item], signer: signer, actor: actor ?? catalog.audit.actor, at: now) }
        return item
    }

    /// Copies whose time is up: each destroyed (register note, hold released, then the file unlinked).
    func lapse(at now: Date, actor: String) throws -> [DeletedItem] {
        try sweepDestroyed()
        let due = try catalog.connection.read("listing lapsed secured copies") { database in
            try Self.copies(where: "made_utc IS NOT NULL AND destroyed_utc IS NULL AND expires_utc <= ?",
                            [UTCTimestamp.string(from: now)], in: database)
        }
        return try due.map { copy in
            try end(copy, note: "lapsed: kept \(Self.keptMonths) months without renewal (until \(UTCTimestamp.string(from: copy.expiresUTC ?? now)))",
                    actor: actor, at: now)
        }
    }

    /// Register first (destroyed, caller number erased, hold released — one transaction), then the
    /// file: a crash between leaves a file the register calls destroyed, which `sweepDestroyed`
    /// (every retention run, and fsck) removes.
    func end(_ copy: SecuredCopy, note: String, actor: String, at now: Date) throws -> DeletedItem {
        try catalog.connection.write("destroying secured copy \(copy.sequence)") { database in
            let time = UTCTimestamp.string(from: now)
            try database.execute(sql: """
                UPDATE secured_copies SET destroyed_utc = ?, destruction_note = ?, caller_number = NULL
                WHERE seq = ? AND destroyed_utc IS NULL
                """, arguments: [time, note, copy.sequence])
            try AuditLog.append(.copyDestroyed, subject: copy.recording.description,
                                details: ["sequence": String(copy.sequence), "note": note, "file": copy.filePath,
                                          "file_sha256": copy.fileSHA256 ?? "-", "expires_utc": copy.expiresUTC.map(UTCTimestamp.string(from:)) ?? "-"],
                                actor: actor, at: now, in: database)
            try Catalog.release(reference: copy.caseReference, reason: "secured copy \(copy.sequence) \(note)", actor: actor, at: now,
                                in: database)
        }
        let freed = try Deletion.removeDurably("\(dataDirectory)/\(copy.filePath)")
        return DeletedItem(subject: "secured copy \(copy.sequence) of \(copy.recording)", recording: copy.recording, rule: note,
                           deadlineUTC: copy.expiresUTC, deletedUTC: UTCTimestamp.date(from: UTCTimestamp.string(from: now)) ?? now,
                           fileSHA256: copy.fileSHA256, bytesFreed: freed)
    }

    /// A copy whose file could not be made: the register keeps its number with the failure noted.
    func abandon(_ copy: SecuredCopy, note: String, actor: String, at now: Date) throws {
        _ = try end(copy, note: note, actor: actor, at: now)
        _ = try? Deletion.removeDurably("\(dataDirectory)/\(copy.filePath).tmp")
    }

    /// Removes files of copies the register already calls destroyed (a crash between the two steps).
    /// Returns their paths.
    @discardableResult
    func sweepDestroyed() throws -> [String] {
        let destroyed = try catalog.connection.read("listing destroyed secured copies") { database in
            try Self.copies(where: "destroyed_utc IS NOT NULL", [], in: database)
        }
        var removed: [String] = []
        for copy in destroyed {
            for path in [copy.filePath, copy.filePath + ".tmp"] where FileManager.default.fileExists(atPath: "\(dataDirectory)/\(path)") {
                try Deletion.removeDurably("\(dataDirectory)/\(path)")
                removed.append(path)
            }
        }
        return removed
    }

    /// Copies whose making was interrupted (register row without `made_utc`).
    func unfinished() throws -> [SecuredCopy] {
        try catalog.connection.read("listing unfinished secured copies") { database in
            try Self.copies(where: "made_utc IS NULL AND destroyed_utc IS NULL", [], in: database)
        }
    }

    /// The register, in sequence order.
    public func register() throws -> [SecuredCopy] {
        try catalog.connection.read("reading the secured-copies register") { database in
            try Self.copies(where: "1", [], in: database)
        }
    }

    public func copy(sequence: Int64) throws -> SecuredCopy? {
        try catalog.connection.read("reading secured copy \(sequence)") { database in
            try Self.copies(where: "seq = ?", [sequence], in: database).first
        }
    }

    /// The register as CSV (RFC 4180 quoting, but LF line ends; UTF-8; times UTC as stored), one row per copy, with an
    /// empty `signature` column for the printed register (Wałbrzych §7.8 g). A cell that starts with
    /// = + - or @ gets a leading apostrophe so spreadsheets show it as text ("'+48914245000").
    public func registerCSV() throws -> String {
        let header = ["sequence", "recording", "period_from_utc", "period_to_utc", "caller_number", "called_number",
                      "request_received_utc", "made_utc", "made_by", "signature", "expires_utc", "renewed_utc",
                      "released_utc", "release_note", "destroyed_utc", "destruction_note", "late_request_override",
                      "copy_file", "copy_sha256"]
        func time(_ date: Date?) -> String { date.map(UTCTimestamp.string(from:)) ?? "" }
        var lines = [header.joined(separator: ",")]
        for copy in try register() {
            let cells = [String(copy.sequence), copy.recording.description, time(copy.periodFromUTC), time(copy.periodToUTC),
                         copy.callerNumber ?? "", copy.calledNumber, time(copy.requestReceivedUTC), time(copy.madeUTC), copy.madeBy, "",
                         time(copy.expiresUTC), time(copy.renewedUTC), time(copy.releasedUTC), copy.releaseNote ?? "",
                         time(copy.destroyedUTC), copy.destructionNote ?? "", copy.overrideReason ?? "", copy.filePath,
                         copy.fileSHA256 ?? ""]
            lines.append(cells.map(Self.csvCell).joined(separator: ","))
        }
        return lines.map { $0 + "\n" }.joined()
    }

    static func csvCell(_ text: String) -> String {
        var cell = text
        if let first = cell.first, "=+-@".contains(first) { cell = "'" + cell }
        // Scalars, not Characters: "\r\n" is one Character, equal to neither "\r" nor "\n".
        guard cell.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A copy that exists and has not lapsed: what renewing, releasing and destroying need.
    static func live(_ sequence: Int64, at now: Date, in database: Database) throws -> SecuredCopy {
        guard let copy = try copies(where: "seq = ?", [sequence], in: database).first else {
            throw RetentionError.noSuchCopy(sequence)
        }
        if let destroyed = copy.destroyedUTC { throw RetentionError.copyDestroyed(sequence, at: destroyed) }
        guard let expires = copy.expiresUTC else { throw RetentionError.copyNotMade(sequence) }
        if expires <= now { throw RetentionError.copyLapsed(sequence, at: expires) }
        return copy
    }

    static func copies(where condition: String, _ values: StatementArguments, in database: Database) throws -> [SecuredCopy] {
        try Row.fetchAll(database, sql: """
            SELECT s.seq, s.recording, h.case_ref, s.period_from_utc, s.period_to_utc, s.caller_number, s.called_number,
                s.request_received_utc, s.requested_utc, s.override_reason, s.made_by, s.made_utc, s.file_path, s.file_size,
                s.file_sha256, s.expires_utc, s.renewed_utc, s.released_utc, s.release_note, s.destroyed_utc, s.destruction_note
            FROM secured_copies s JOIN holds h ON h.id = s.hold WHERE \(condition) ORDER BY s.seq
            """, arguments: values).map { values in
            var reader = StoredRow(values, table: "secured_copies")
            let sequence = try reader.integer("seq")
            reader.key = "copy \(sequence)"
            return SecuredCopy(
                sequence: sequence, recording: RecordingID(rawValue: try reader.integer("recording")),
                caseReference: try reader.text("case_ref"), periodFromUTC: try reader.date("period_from_utc"),
                periodToUTC: try reader.date("period_to_utc"), callerNumber: try reader.optionalText("caller_number"),
                calledNumber: try reader.text("called_number"), requestReceivedUTC: try reader.date("request_received_utc"),
                requestedUTC: try reader.date("requested_utc"), overrideReason: try reader.optionalText("override_reason"),
                madeBy: try reader.text("made_by"), madeUTC: try reader.optionalDate("made_utc"), filePath: try reader.text("file_path"),
                fileSize: try reader.optionalInteger("file_size"), fileSHA256: try reader.optionalText("file_sha256"),
                expiresUTC: try reader.optionalDate("expires_utc"), renewedUTC: try reader.optionalDate("renewed_utc"),
                releasedUTC: try reader.optionalDate("released_utc"), releaseNote: try reader.optionalText("release_note"),
                destroyedUTC: try reader.optionalDate("destroyed_utc"), destructionNote: try reader.optionalText("destruction_note"))
        }
    }
}

extension SHA256.Digest {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

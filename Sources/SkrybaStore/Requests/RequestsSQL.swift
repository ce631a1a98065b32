import Foundation
import GRDB

/// Every SQL statement of the register of requests, the recording search, the numbers of a call,
/// exports and listenings, on GRDB: one file. The logic is in RequestRegister.swift. docs/disclosure.md explains the tables.
enum RequestsSQL {
    /// Schema version 6 (issue 11): the register of requests and what hangs off it.
    /// `caller_number` exists since version 1 (caller ID of incoming calls); `line_number` is the
    /// office line's own number (from the configuration): the called number of an incoming call
    /// and the calling number of an outgoing one, whose called number is `dialed_digits`. So no
    /// personal number is stored twice, and the erasures that clear caller_number/dialed_digits
    /// stay complete.
    static let migration = Schema.Migration(version: 6, name: "the register of requests", sql: """
        ALTER TABLE recordings ADD COLUMN line_number TEXT;
        CREATE INDEX recordings_by_caller_number ON recordings (caller_number) WHERE caller_number IS NOT NULL;

        CREATE TABLE requests (
            reference TEXT PRIMARY KEY,
            year INTEGER NOT NULL,
            number INTEGER NOT NULL CHECK (number >= 1),
            kind TEXT NOT NULL CHECK (kind IN ('listening', 'access', 'authority', 'secured-copy')),
            received_utc TEXT NOT NULL,
            registered_utc TEXT NOT NULL,
            registered_by TEXT NOT NULL,
            requester_name TEXT,
            requester_address TEXT,
            requester_phone TEXT,
            requester_email TEXT,
            call_time TEXT,
            call_number TEXT,
            concerning TEXT,
            authority TEXT CHECK (authority IN ('police', 'court', 'prosecutor')),
            legal_basis TEXT,
            approver TEXT CHECK (approver IN ('mayor', 'deputy', 'secretary')),
            approver_name TEXT,
            case_reference TEXT,
            secured_copy INTEGER REFERENCES secured_copies (seq),
            dpo_opinion TEXT, dpo_opinion_by TEXT, dpo_opinion_utc TEXT,
            head_opinion TEXT, head_opinion_by TEXT, head_opinion_utc TEXT,
            decision TEXT CHECK (decision IN ('granted', 'refused')),
            decided_by TEXT CHECK ((decided_by IS NULL) = (decision IS NULL)),
            decided_utc TEXT CHECK ((decided_utc IS NULL) = (decision IS NULL)),
            decision_reason TEXT,
            includes_restricted INTEGER NOT NULL DEFAULT 0 CHECK (includes_restricted IN (0, 1)),
            notice TEXT CHECK (notice IS NULL OR decision = 'refused'),
            UNIQUE (year, number),
            CHECK (kind <> 'authority' OR (authority IS NOT NULL AND legal_basis IS NOT NULL AND approver IS NOT NULL
                                           AND case_reference IS NOT NULL)),
            CHECK (kind <> 'secured-copy' OR secured_copy IS NOT NULL)
        );
        CREATE TRIGGER requests_decision_is_final BEFORE UPDATE ON requests
            WHEN OLD.decision IS NOT NULL AND (NEW.decision IS NOT OLD.decision OR NEW.decided_utc IS NOT OLD.decided_utc
                                               OR NEW.includes_restricted IS NOT OLD.includes_restricted)
            BEGIN SELECT RAISE(ABORT, 'a decision on a request cannot be changed'); END;

        CREATE TABLE request_recordings (
            request TEXT NOT NULL REFERENCES requests (reference),
            recording INTEGER NOT NULL REFERENCES recordings (id),
            PRIMARY KEY (request, recording)
        ) WITHOUT ROWID;

        CREATE TABLE exports (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL CHECK (kind IN ('request', 'backup')),
            request TEXT REFERENCES requests (reference),
            key_fingerprint TEXT NOT NULL,
            key_comment TEXT NOT NULL,
            address TEXT,
            started_utc TEXT NOT NULL,
            finished_utc TEXT,
            outcome TEXT CHECK (outcome IN ('completed', 'incomplete')),
            bytes INTEGER,
            manifest_sha256 TEXT
        );

        CREATE TABLE listenings (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            request TEXT NOT NULL REFERENCES requests (reference),
            listened_by TEXT NOT NULL,
            present TEXT NOT NULL,
            started_utc TEXT NOT NULL,
            ended_utc TEXT NOT NULL,
            recordings TEXT NOT NULL,
            record_sha256 TEXT NOT NULL UNIQUE,
            signer TEXT NOT NULL,
            imported_utc TEXT NOT NULL
        );
        """)

    // MARK: Requests

    static func nextNumber(year: Int, in database: Database) throws -> Int64 {
        try Int64.fetchOne(database, sql: "SELECT coalesce(max(number), 0) + 1 FROM requests WHERE year = ?", arguments: [year]) ?? 1
    }

    static func insert(_ new: NewRequest, reference: String, year: Int, number: Int64, by actor: String, at now: Date,
                       in database: Database) throws {
        try database.execute(sql: """
            INSERT INTO requests (reference, year, number, kind, received_utc, registered_utc, registered_by, requester_name,
                requester_address, requester_phone, requester_email, call_time, call_number, concerning, authority, legal_basis,
                approver, approver_name, case_reference, secured_copy)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [
                reference, year, number, new.kind.rawValue,
                UTCTimestamp.string(from: new.receivedUTC), UTCTimestamp.string(from: now), actor,
                new.requesterName, new.requesterAddress, new.requesterPhone,
                new.requesterEmail, new.callTime, new.callNumber, new.concerning,
                new.authority?.rawValue, new.legalBasis, new.approver?.rawValue,
                new.approverName, new.caseReference, new.securedCopy,
            ])
    }

    static func setOpinion(_ role: OpinionRole, reference: String, text: String, by actor: String, at now: Date,
                           in database: Database) throws {
        let column = role == .dpo ? "dpo_opinion" : "head_opinion"
        try database.execute(sql: "UPDATE requests SET \(column) = ?, \(column)_by = ?, \(column)_utc = ? WHERE reference = ?",
                             arguments: [text, actor, UTCTimestamp.string(from: now), reference])
    }

    static func link(_ id: RecordingID, to reference: String, in database: Database) throws {
        try database.execute(sql: "INSERT OR IGNORE INTO request_recordings (request, recording) VALUES (?, ?)",
                             arguments: [reference, id.rawValue])
    }

    static func decide(_ reference: String, decision: RequestDecision, by actor: String, reason: String, includesRestricted: Bool,
                       notice: String?, at now: Date, in database: Database) throws {
        try database.execute(sql: """
            UPDATE requests SET decision = ?, decided_by = ?, decided_utc = ?, decision_reason = ?, includes_restricted = ?, notice = ?
            WHERE reference = ?
            """, arguments: [decision.rawValue, actor, UTCTimestamp.string(from: now), reason, includesRestricted ? 1 : 0, notice, reference])
    }

    static func requests(where condition: String, _ values: StatementArguments, in database: Database) throws -> [DisclosureRequest] {
        let rows = try Row.fetchAll(database, sql: """
            SELECT reference, kind, received_utc, registered_utc, registered_by, requester_name, requester_address, requester_phone,
                requester_email, call_time, call_number, concerning, authority, legal_basis, approver, approver_name, case_reference,
                secured_copy, dpo_opinion, dpo_opinion_by, dpo_opinion_utc, head_opinion, head_opinion_by, head_opinion_utc,
                decision, decided_by, decided_utc, decision_reason, includes_restricted, notice
            FROM requests WHERE \(condition) ORDER BY year, number
            """, arguments: values)
        return try rows.map { row in
            var reader = StoredRow(row, table: "requests")
            let reference = try reader.text("reference")
            reader.key = reference
            var request = DisclosureRequest(
                reference: reference, kind: try reader.enumValue("kind"), receivedUTC: try reader.date("received_utc"),
                registeredUTC: try reader.date("registered_utc"), registeredBy: try reader.text("registered_by"),
                requesterName: try reader.optionalText("requester_name"), requesterAddress: try reader.optionalText("requester_address"),
                requesterPhone: try reader.optionalText("requester_phone"), requesterEmail: try reader.optionalText("requester_email"),
                callTime: try reader.optionalText("call_time"), callNumber: try reader.optionalText("call_number"),
                concerning: try reader.optionalText("concerning"), authority: try reader.optionalEnum("authority"),
                legalBasis: try reader.optionalText("legal_basis"), approver: try reader.optionalEnum("approver"),
                approverName: try reader.optionalText("approver_name"), caseReference: try reader.optionalText("case_reference"),
                securedCopy: try reader.optionalInteger("secured_copy"), opinions: [], recordings: [], decision: nil, decidedBy: nil,
                decidedUTC: nil, decisionReason: nil, includesRestricted: false, notice: nil)
            for role in [OpinionRole.dpo, .head] {
                let text = try reader.optionalText("\(role.rawValue)_opinion"), by = try reader.optionalText("\(role.rawValue)_opinion_by")
                let at = try reader.optionalDate("\(role.rawValue)_opinion_utc")
                if let text, let by, let at { request.opinions.append(Opinion(role: role, text: text, by: by, atUTC: at)) }
            }
            request.decision = try reader.optionalEnum("decision")
            request.decidedBy = try reader.optionalText("decided_by")
            request.decidedUTC = try reader.optionalDate("decided_utc")
            request.decisionReason = try reader.optionalText("decision_reason")
            request.includesRestricted = try reader.integer("includes_restricted") != 0
            request.notice = try reader.optionalText("notice")
            request.recordings = try Row.fetchAll(database, sql: "SELECT recording FROM request_recordings WHERE request = ? ORDER BY recording",
                                                  arguments: [reference]).map { row in
                var reader = StoredRow(row, table: "request_recordings")
                reader.key = reference
                return RecordingID(rawValue: try reader.integer("recording"))
            }
            return request
        }
    }

    static func request(_ reference: String, in database: Database) throws -> DisclosureRequest {
        guard let request = try requests(where: "reference = ?", [reference], in: database).first else {
            throw RequestError.noSuchRequest(reference)
        }
        return request
    }

    static func securedCopyRecording(sequence: Int64, in database: Database) throws -> RecordingID? {
        try Int64.fetchOne(database, sql: "SELECT recording FROM secured_copies WHERE seq = ?", arguments: [sequence])
            .map(RecordingID.init(rawValue:))
    }

    /// The secured copy's file of `id` that still exists, for a recording whose own file retention deleted.
    static func securedCopyFile(of id: RecordingID, in database: Database) throws -> String? {
        try String.fetchOne(database, sql: """
            SELECT file_path FROM secured_copies WHERE recording = ? AND made_utc IS NOT NULL AND destroyed_utc IS NULL ORDER BY seq LIMIT 1
            """, arguments: [id.rawValue])
    }

    // MARK: Numbers and search

    /// The caller ID learnt during the call (when the row has none yet) and the line's own number.
    /// Never on a discarded or failed row: nothing personal of those calls is kept.
    static func recordNumbers(_ id: RecordingID, callerNumber: String?, lineNumber: String?, in database: Database) throws {
        try database.execute(sql: """
            UPDATE recordings SET caller_number = coalesce(caller_number, ?), line_number = coalesce(?, line_number)
            WHERE id = ? AND status NOT IN ('discarded', 'failed') AND deletion_started_utc IS NULL
            """, arguments: [callerNumber, lineNumber, id.rawValue])
    }

    static func lineNumber(of id: RecordingID, in database: Database) throws -> String? {
        try String.fetchOne(database, sql: "SELECT line_number FROM recordings WHERE id = ?", arguments: [id.rawValue])
    }

    /// Candidates by line and time in SQL; numbers are compared as digits by the caller (see PhoneNumber).
    static func candidates(_ search: RecordingSearch, in database: Database) throws -> [(RecordingRow, String?)] {
        var conditions = ["deletion_started_utc IS NULL", "status NOT IN ('discarded', 'failed')"]
        var values: [any DatabaseValueConvertible] = []
        if let line = search.line {
            conditions.append("line = ?")
            values.append(line)
        }
        if let around = search.around {
            conditions.append("start_utc BETWEEN ? AND ?")
            values += [UTCTimestamp.string(from: around.addingTimeInterval(-search.window)),
                       UTCTimestamp.string(from: around.addingTimeInterval(search.window))]
        }
        if let day = search.day {
            conditions.append("start_utc >= ? AND start_utc < ?")
            values += [UTCTimestamp.string(from: day.lowerBound), UTCTimestamp.string(from: day.upperBound)]
        }
        let rows = try Catalog.rows(where: conditions.joined(separator: " AND "), StatementArguments(values), in: database)
        return try rows.map { ($0, try lineNumber(of: $0.id, in: database)) }
    }

    // MARK: Exports and listenings

    static func startExport(kind: ExportPlan.Kind, request: String?, client: ExportClient, at now: Date,
                            in database: Database) throws -> Int64 {
        try database.execute(sql: """
            INSERT INTO exports (kind, request, key_fingerprint, key_comment, address, started_utc) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [kind.rawValue, request, client.keyFingerprint, client.keyComment, client.address,
                             UTCTimestamp.string(from: now)])
        return database.lastInsertedRowID
    }

    static func finishExport(_ id: Int64, completed: Bool, bytes: UInt64, manifestSHA256: String?, at now: Date,
                             in database: Database) throws {
        try database.execute(sql: "UPDATE exports SET finished_utc = ?, outcome = ?, bytes = ?, manifest_sha256 = ? WHERE id = ?",
                             arguments: [UTCTimestamp.string(from: now), completed ? "completed" : "incomplete",
                                         Int64(clamping: bytes), manifestSHA256, id])
    }

    static func completedExport(request: String, manifestSHA256: String, in database: Database) throws -> Bool {
        try Bool.fetchOne(database, sql: "SELECT 1 FROM exports WHERE request = ? AND manifest_sha256 = ? AND outcome = 'completed'",
                          arguments: [request, manifestSHA256]) != nil
    }

    static func insertListening(_ listening: Listening, in database: Database) throws {
        try database.execute(sql: """
            INSERT INTO listenings (request, listened_by, present, started_utc, ended_utc, recordings, record_sha256, signer, imported_utc)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [listening.request, listening.listenedBy, jsonArray(listening.present),
                             UTCTimestamp.string(from: listening.startedUTC), UTCTimestamp.string(from: listening.endedUTC),
                             jsonArray(listening.recordings.map(\.description)), listening.recordSHA256,
                             listening.signer, UTCTimestamp.string(from: listening.importedUTC)])
    }

    static func listeningImported(sha256: String, in database: Database) throws -> Bool {
        try Bool.fetchOne(database, sql: "SELECT 1 FROM listenings WHERE record_sha256 = ?", arguments: [sha256]) != nil
    }

    static func listenings(request: String, in database: Database) throws -> [Listening] {
        try Row.fetchAll(database, sql: """
            SELECT request, listened_by, present, started_utc, ended_utc, recordings, record_sha256, signer, imported_utc
            FROM listenings WHERE request = ? ORDER BY id
            """, arguments: [request]).map { row in
            var reader = StoredRow(row, table: "listenings")
            reader.key = request
            return Listening(request: try reader.text("request"), listenedBy: try reader.text("listened_by"),
                             present: try reader.optionalJSON("present", as: [String].self) ?? [], startedUTC: try reader.date("started_utc"),
                             endedUTC: try reader.date("ended_utc"),
                             recordings: (try reader.optionalJSON("recordings", as: [String].self) ?? []).compactMap(RecordingID.init),
                             recordSHA256: try reader.text("record_sha256"), signer: try reader.text("signer"),
                             importedUTC: try reader.date("imported_utc"))
        }
    }

    /// The first audit entry about any of `subjects` (recordings, the request), or nil.
    static func firstEntry(about subjects: [String], in database: Database) throws -> Int64? {
        guard !subjects.isEmpty else { return nil }
        let marks = Array(repeating: "?", count: subjects.count).joined(separator: ", ")
        return try Int64.fetchOne(database, sql: "SELECT min(seq) FROM audit_log WHERE subject IN (\(marks))",
                                  arguments: StatementArguments(subjects))
    }

    static func checkpoints(_ range: ClosedRange<Int64>, in database: Database) throws -> [AuditCheckpoint] {
        try AuditLog.checkpoints(in: database).filter { range.contains($0.seq) }
    }
}

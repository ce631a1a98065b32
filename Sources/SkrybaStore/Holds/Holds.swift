import Foundation
import GRDB

public enum HoldKind: String, Sendable, Codable, CaseIterable {
    /// Evidence in proceedings (R7): kept until the hold is released by its case reference.
    case legal
    /// Kept while a secured copy of it exists (R8); ends with the copy.
    case securedCopy = "secured-copy"
}

/// A hold: recordings exempt from retention and capacity deletion (and refused for erasure) until
/// it is released. Table `holds`, members in `hold_members` (docs/retention.md, "Holds").
public struct Hold: Equatable, Sendable, Codable {
    /// Unique on the appliance, never reused: the court or office case reference ("II K 123/26"),
    /// or "secured-copy N" for the hold of secured copy N.
    public var caseReference: String
    public var kind: HoldKind
    public var reason: String
    public var createdUTC: Date
    public var createdBy: String
    public var releasedUTC: Date?
    public var releasedBy: String?
    public var releaseReason: String?
    /// In id order.
    public var recordings: [RecordingID]

    public var isActive: Bool { releasedUTC == nil }
}

extension Catalog {
    /// Holds the named recordings under `caseReference` (R7). Refused, holding nothing, if any of them
    /// does not exist ("recording R000099 does not exist; nothing was held"), was deleted or is being
    /// deleted, or was discarded. An active legal hold with the same case reference gains the
    /// recordings it lacks (one `hold-added` entry per recording added); a released one is not reused.
    @discardableResult
    public func addHold(caseReference: String, reason: String, recordings ids: [RecordingID], by actor: String? = nil,
                        at now: Date) throws -> Hold {
        let reference = try Self.validatedHoldText(caseReference, reason: reason)
        guard !ids.isEmpty else { throw RetentionError.invalid("a hold needs at least one recording; nothing was held") }
        return try connection.write("adding hold '\(reference)'") { database in
            for id in Set(ids).sorted() {
                guard let row = try Self.rows(where: "id = ?", [id.rawValue], in: database).first else {
                    throw RetentionError.noSuchRecording(id, nothingDone: "nothing was held")
                }
                try Self.checkHoldable(row)
            }
            try Self.hold(Set(ids).sorted(), reference: reference, kind: .legal, reason: reason, extra: [:],
                          actor: actor ?? audit.actor, at: now, in: database)
            return try Self.hold(reference: reference, in: database)!
        }
    }

    /// Holds every recording on `line` whose audio overlaps `from`…`to` (UTC, inclusive): a call that
    /// started before `from` but was still going on is held too. Refused if that matches nothing.
    @discardableResult
    public func addHold(caseReference: String, reason: String, line: Int, from: Date, to: Date, by actor: String? = nil,
                        at now: Date) throws -> Hold {
        let reference = try Self.validatedHoldText(caseReference, reason: reason)
        guard from <= to else {
            throw RetentionError.invalid("the period to hold ends (\(UTCTimestamp.string(from: to))) before it starts (\(UTCTimestamp.string(from: from))); nothing was held")
        }
        return try connection.write("adding hold '\(reference)'") { database in
            // Calls last minutes, not days: look a day back for calls still going on at `from`.
            let candidates = try Self.rows(
                where: "line = ? AND start_utc <= ? AND start_utc >= ? AND deletion_started_utc IS NULL AND status != 'discarded'",
                [Int64(line), UTCTimestamp.string(from: to), UTCTimestamp.string(from: from.addingTimeInterval(-86_400))],
                in: database)
            let matching = candidates.filter { row in
                let end = row.startUTC.addingTimeInterval(Double(row.durationMs ?? 0) / 1000)
                return row.startUTC >= from || end >= from || row.status == .recording
            }
            guard !matching.isEmpty else { throw RetentionError.holdMatchesNothing(line: line, from: from, to: to) }
            try Self.hold(matching.map(\.id), reference: reference, kind: .legal, reason: reason,
                          extra: ["line": String(line), "from_utc": UTCTimestamp.string(from: from), "to_utc": UTCTimestamp.string(from: to)],
                          actor: actor ?? audit.actor, at: now, in: database)
            return try Self.hold(reference: reference, in: database)!
        }
    }

    /// Releases a legal hold (the proceedings ended). Its recordings go back under the retention
    /// policy: one whose deadline has passed goes at the next retention run.
    @discardableResult
    public func releaseHold(caseReference: String, reason: String, by actor: String? = nil, at now: Date) throws -> Hold {
        let reference = caseReference.trimmingCharacters(in: .whitespaces)
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw RetentionError.invalid("releasing a hold needs a reason (e.g. the decision ending the proceedings); nothing was released")
        }
        return try connection.write("releasing hold '\(reference)'") { database in
            guard let hold = try Self.hold(reference: reference, in: database) else { throw RetentionError.noSuchHold(reference) }
            if let released = hold.releasedUTC { throw RetentionError.holdReleased(reference, at: released) }
            if hold.kind == .securedCopy {
                let sequence = try Int64.fetchOne(database, sql: "SELECT s.seq FROM secured_copies s JOIN holds h ON h.id = s.hold WHERE h.case_ref = ?",
                                                  arguments: [reference])
                guard let number = sequence else { throw RetentionError.holdOfSecuredCopy(reference, sequence: 0) }
                throw RetentionError.holdOfSecuredCopy(reference, sequence: number)
            }
            try Self.release(reference: reference, reason: reason, actor: actor ?? audit.actor, at: now, in: database)
            return try Self.hold(reference: reference, in: database)!
        }
    }

    /// Holds, oldest first; released ones only when asked.
    public func holds(includeReleased: Bool = false) throws -> [Hold] {
        try connection.read("listing holds") { database in
            try Self.holds(where: includeReleased ? "1" : "released_utc IS NULL", [], in: database)
        }
    }

    public func hold(caseReference: String) throws -> Hold? {
        try connection.read("reading hold '\(caseReference)'") { database in try Self.hold(reference: caseReference, in: database) }
    }

    /// The active holds on one recording.
    public func holds(on id: RecordingID) throws -> [Hold] {
        try connection.read("listing the holds on \(id)") { database in
            try Self.holds(where: "released_utc IS NULL AND id IN (SELECT hold FROM hold_members WHERE recording = ?)",
                           [id.rawValue], in: database)
        }
    }

    // MARK: - Inside a transaction (also used by secured copies and deletion)

    static func validatedHoldText(_ caseReference: String, reason: String) throws -> String {
        let reference = caseReference.trimmingCharacters(in: .whitespaces)
        guard !reference.isEmpty else { throw RetentionError.invalid("a hold needs a case reference; nothing was held") }
        guard !reference.contains(where: { $0.isNewline || $0 == "\t" }) else {
            throw RetentionError.invalid("a case reference is one line; nothing was held")
        }
        if reference.hasPrefix("secured-copy") {
            throw RetentionError.invalid("case references starting 'secured-copy' are the register's own; nothing was held")
        }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw RetentionError.invalid("a hold needs a reason (what the proceedings are); nothing was held")
        }
        return reference
    }

    /// A recording can be held unless it is gone or never had audio.
    static func checkHoldable(_ row: RecordingRow, nothingDone: String = "nothing was held") throws {
        if let deleted = row.deletedUTC {
            throw RetentionError.recordingDeleted(row.id, at: deleted, rule: row.deletionRule ?? "", nothingDone: nothingDone)
        }
        if row.deletionStartedUTC != nil {
            throw RetentionError.recordingBeingDeleted(row.id, rule: row.deletionRule ?? "", nothingDone: nothingDone)
        }
        if row.status == .discarded { throw RetentionError.recordingDiscarded(row.id, nothingDone: nothingDone) }
    }

    /// Creates the hold (or extends an active legal one) and audits each recording added. Returns the hold's row id.
    @discardableResult
    static func hold(_ ids: [RecordingID], reference: String, kind: HoldKind, reason: String, extra: [String: String],
                     actor: String, at now: Date, in database: Database) throws -> Int64 {
        let time = UTCTimestamp.string(from: now)
        let holdID: Int64
        if let existing = try Self.hold(reference: reference, in: database) {
            if let released = existing.releasedUTC { throw RetentionError.holdReleased(reference, at: released) }
            guard existing.kind == kind, kind == .legal else {
                throw RetentionError.invalid("hold '\(reference)' already exists; nothing was held")
            }
            guard let id = try Int64.fetchOne(database, sql: "SELECT id FROM holds WHERE case_ref = ?", arguments: [reference]) else {
                throw RetentionError.noSuchHold(reference)
            }
            holdID = id
        } else {
            try database.execute(sql: "INSERT INTO holds (case_ref, kind, reason, created_utc, created_by) VALUES (?, ?, ?, ?, ?)",
                                arguments: [reference, kind.rawValue, reason, time, actor])
            holdID = database.lastInsertedRowID
        }
        let insert = try database.makeStatement(sql: "INSERT OR IGNORE INTO hold_members (hold, recording, added_utc) VALUES (?, ?, ?)")
        var added: [RecordingID] = []
        for id in ids {
            try insert.execute(arguments: [holdID, id.rawValue, time])
            if database.changesCount > 0 { added.append(id) }
        }
        try syncHoldReferences(added, at: time, in: database)
        for id in added {
            var details = extra
            details["case_ref"] = reference
            details["kind"] = kind.rawValue
            details["reason"] = reason
            try AuditLog.append(.holdAdded, subject: id.description, details: details, actor: actor, at: now, in: database)
        }
        return holdID
    }

    /// Marks the hold released and audits `hold-released` for each of its recordings.
    static func release(reference: String, reason: String, actor: String, at now: Date, in database: Database) throws {
        guard let hold = try Self.hold(reference: reference, in: database) else { throw RetentionError.noSuchHold(reference) }
        let time = UTCTimestamp.string(from: now)
        try database.execute(sql: "UPDATE holds SET released_utc = ?, released_by = ?, release_reason = ? WHERE case_ref = ? AND released_utc IS NULL",
                            arguments: [time, actor, reason, reference])
        try syncHoldReferences(hold.recordings, at: time, in: database)
        for id in hold.recordings {
            try AuditLog.append(.holdReleased, subject: id.description,
                                details: ["case_ref": reference, "kind": hold.kind.rawValue, "reason": reason,
                                          "held_since_utc": UTCTimestamp.string(from: hold.createdUTC)],
                                actor: actor, at: now, in: database)
        }
    }

    /// Active hold references on a recording, sorted: the truth is `hold_members` joined with `holds`.
    static func activeHoldReferences(of id: RecordingID, in database: Database) throws -> [String] {
        try String.fetchAll(database, sql: """
            SELECT h.case_ref FROM hold_members m JOIN holds h ON h.id = m.hold
            WHERE m.recording = ? AND h.released_utc IS NULL ORDER BY h.case_ref
            """, arguments: [id.rawValue])
    }

    /// Rewrites `recordings.hold_refs` (a JSON array of active case references, NULL when none) from
    /// `hold_members`, in the same transaction as the change, for the rows given.
    static func syncHoldReferences(_ ids: [RecordingID], at time: String, in database: Database) throws {
        let update = try database.makeStatement(sql: "UPDATE recordings SET hold_refs = ?, updated_utc = ? WHERE id = ?")
        for id in ids {
            let references = try activeHoldReferences(of: id, in: database)
            try update.execute(arguments: [references.isEmpty ? nil : jsonArray(references), time, id.rawValue])
        }
    }

    static func hold(reference: String, in database: Database) throws -> Hold? {
        try holds(where: "case_ref = ?", [reference], in: database).first
    }

    static func holds(where condition: String, _ values: StatementArguments, in database: Database) throws -> [Hold] {
        let rows = try Row.fetchAll(database, sql: """
            SELECT id, case_ref, kind, reason, created_utc, created_by, released_utc, released_by, release_reason
            FROM holds WHERE \(condition) ORDER BY id
            """, arguments: values)
        let members = try database.makeStatement(sql: "SELECT recording FROM hold_members WHERE hold = ? ORDER BY recording")
        return try rows.map { values in
            var reader = StoredRow(values, table: "holds")
            let id = try reader.integer("id")
            reader.key = "hold \(id)"
            let reference = try reader.text("case_ref")
            let kind: HoldKind = try reader.enumValue("kind")
            let reason = try reader.text("reason")
            let created = try reader.date("created_utc"), createdBy = try reader.text("created_by")
            let released = try reader.optionalDate("released_utc"), releasedBy = try reader.optionalText("released_by")
            let releaseReason = try reader.optionalText("release_reason")
            let recordings = try Int64.fetchAll(members, arguments: [id]).map(RecordingID.init(rawValue:))
            return Hold(caseReference: reference, kind: kind, reason: reason, createdUTC: created, createdBy: createdBy,
                        releasedUTC: released, releasedBy: releasedBy, releaseReason: releaseReason, recordings: recordings)
        }
    }
}

import Foundation
import SkrybaSQLite

/// What `applyRetentionPolicy` changed.
public struct RetentionPolicyChange: Equatable, Sendable {
    /// Rows whose deadline or rule changed.
    public var rescheduled: Int
    /// Of those, how many now have an earlier deadline.
    public var earlier: Int
    /// Not deleted, not held, whose new deadline has already passed: the next retention run deletes
    /// them. The console should show this number before a technician confirms a shorter period.
    public var dueNow: Int
}

extension Catalog {
    /// Stamps the policy's deadline and rule on every row that has none yet (`retention_rule` NULL),
    /// except discarded and deleted ones, with one `retention-scheduled` entry naming them. The
    /// daemon calls it after finishing a recording; every retention run calls it first.
    @discardableResult
    public func scheduleRetention(policy: RetentionPolicy, at now: Date) throws -> [RecordingID] {
        try connection.write("scheduling retention") { database in
            let rows = try Self.rows(where: "retention_rule IS NULL AND deleted_utc IS NULL AND status != 'discarded'", [], in: database)
            guard !rows.isEmpty else { return [] }
            try Self.stamp(rows, policy: policy, at: now, in: database)
            try AuditLog.append(.retentionScheduled, subject: nil,
                                details: ["policy": policy.description, "count": String(rows.count),
                                          "recordings": rows.map(\.id.description).joined(separator: ",")],
                                actor: audit.actor, at: now, in: database)
            return rows.map(\.id)
        }
    }

    /// A new retention policy: recomputes the deadline and rule of every row not deleted (nor
    /// discarded), and appends one `retention-policy-applied` entry with the policy and what changed.
    @discardableResult
    public func applyRetentionPolicy(_ policy: RetentionPolicy, by actor: String? = nil, at now: Date) throws -> RetentionPolicyChange {
        if let problem = policy.problems.first { throw RetentionError.invalid("retention policy: \(problem)") }
        return try connection.write("applying a retention policy") { database in
            let rows = try Self.rows(where: "deletion_started_utc IS NULL AND status != 'discarded'", [], in: database)
            var change = RetentionPolicyChange(rescheduled: 0, earlier: 0, dueNow: 0)
            var changed: [RecordingRow] = []
            for row in rows {
                let period = policy.period(line: row.line, direction: row.direction)
                let deadline = period.deadline(from: row.startUTC).map { UTCTimestamp.date(from: UTCTimestamp.string(from: $0))! }
                if deadline != row.retentionDeadlineUTC || period.rule != row.retentionRule {
                    changed.append(row)
                    change.rescheduled += 1
                    if let deadline, row.retentionDeadlineUTC.map({ deadline < $0 }) ?? true { change.earlier += 1 }
                }
                if let deadline, deadline <= now, try Self.activeHoldReferences(of: row.id, in: database).isEmpty { change.dueNow += 1 }
            }
            try Self.stamp(changed, policy: policy, at: now, in: database)
            try AuditLog.append(.retentionPolicyApplied, subject: nil,
                                details: ["policy": policy.description, "rescheduled": String(change.rescheduled),
                                          "earlier": String(change.earlier), "due_now": String(change.dueNow)],
                                actor: actor ?? audit.actor, at: now, in: database)
            return change
        }
    }

    /// Recordings in id order, without deleted ones (and without restricted ones unless asked).
    public func recordings(status: RecordingStatus? = nil, includeDeleted: Bool, includeRestricted: Bool) throws -> [RecordingRow] {
        var conditions = ["1"]
        var values: [SQLiteValue] = []
        if let status {
            conditions.append("status = ?")
            values.append(.text(status.rawValue))
        }
        if !includeDeleted { conditions.append("deletion_started_utc IS NULL") }
        if !includeRestricted { conditions.append("restricted_utc IS NULL") }
        return try connection.read("listing recordings") { database in
            try Self.rows(where: conditions.joined(separator: " AND "), values, in: database)
        }
    }

    /// What an ordinary export may include: finished (complete or interrupted), not deleted, not
    /// restricted (GDPR art. 18). Restricted recordings are exported only on purpose, by id.
    public func exportableRecordings() throws -> [RecordingRow] {
        try connection.read("listing exportable recordings") { database in
            try Self.rows(where: "status IN ('complete', 'interrupted') AND deletion_started_utc IS NULL AND restricted_utc IS NULL",
                          [], in: database)
        }
    }

    static func stamp(_ rows: [RecordingRow], policy: RetentionPolicy, at now: Date, in database: SQLiteDatabase) throws {
        let update = try database.prepare("UPDATE recordings SET retention_deadline_utc = ?, retention_rule = ?, updated_utc = ? WHERE id = ?")
        let time = UTCTimestamp.string(from: now)
        for row in rows {
            let period = policy.period(line: row.line, direction: row.direction)
            try update.run([.optional(period.deadline(from: row.startUTC).map(UTCTimestamp.string(from:))), .text(period.rule),
                            .text(time), .integer(row.id.rawValue)])
        }
    }
}

import Foundation
import GRDB

/// What a retention policy does to the rows already in the catalog (`retentionPreview`,
/// `followRetentionPolicy`, `applyRetentionPolicy`).
public struct RetentionPlan: Equatable, Sendable {
    public struct Row: Equatable, Sendable {
        /// As stored now (old rule and deadline).
        public var row: RecordingRow
        public var newRule: String
        public var newDeadlineUTC: Date?
    }

    /// Scheduled rows whose deadline or rule the policy changes.
    public var changes: [Row]
    /// Finished, not held, dated on a trusted clock, with a deadline under the policy that has
    /// passed: what the next run deletes (whether or not their deadline changed).
    public var dueNow: [Row]
    /// Of `changes`, how many get an earlier deadline.
    public var earlier: Int
}

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
            let plan = try Self.retentionPlan(policy, at: now, in: database)
            try Self.stamp(plan.changes.map(\.row), policy: policy, at: now, in: database)
            try AuditLog.append(.retentionPolicyApplied, subject: nil,
                                details: ["policy": policy.description, "rescheduled": String(plan.changes.count),
                                          "earlier": String(plan.earlier), "due_now": String(plan.dueNow.count)],
                                actor: actor ?? audit.actor, at: now, in: database)
            return RetentionPolicyChange(rescheduled: plan.changes.count, earlier: plan.earlier, dueNow: plan.dueNow.count)
        }
    }

    /// What `policy` would change if it were in force at `now`, without changing anything: the
    /// rows whose deadline or rule it changes, and the recordings the next run would then delete
    /// (`skryba retention preview`). Capacity deletions depend on the space free then, so they are
    /// not predicted.
    public func retentionPreview(_ policy: RetentionPolicy, at now: Date) throws -> RetentionPlan {
        if let problem = policy.problems.first { throw RetentionError.invalid("retention policy: \(problem)") }
        return try connection.read("previewing a retention policy") { database in
            try Self.retentionPlan(policy, at: now, in: database)
        }
    }

    /// Makes the stored deadlines follow the policy in force: rows already scheduled under another
    /// policy (a changed `period`, a new override) get the deadline `policy` gives them, with one
    /// `retention-policy-changed` entry (old → new policy, how many changed, which are now due).
    /// Every retention run calls it, so a change in the configuration reaches existing recordings
    /// at the next start. nil when every row already follows the policy.
    @discardableResult
    public func followRetentionPolicy(_ policy: RetentionPolicy, by actor: String? = nil, at now: Date) throws -> RetentionPlan? {
        if let problem = policy.problems.first { throw RetentionError.invalid("retention policy: \(problem)") }
        return try connection.write("following the retention policy") { database in
            // Cheap first (one pass in SQLite, a handful of groups): a row's rule names its period, and
            // its deadline is that period from its start, so rules that match mean nothing to change.
            let groups = try Row.fetchAll(database, sql: """
                SELECT DISTINCT line, direction, retention_rule FROM recordings
                WHERE deletion_started_utc IS NULL AND status != 'discarded' AND retention_rule IS NOT NULL
                """)
            let follows = groups.allSatisfy { group in
                guard let line = group["line"] as Int64?, let direction = RecordingDirection(rawValue: group["direction"] ?? ""),
                      let rule = group["retention_rule"] as String? else { return false }
                return policy.period(line: Int(line), direction: direction).rule == rule
            }
            guard !follows else { return nil }
            let plan = try Self.retentionPlan(policy, at: now, includeUnscheduled: false, in: database)
            guard !plan.changes.isEmpty else { return nil }
            let previous = try Row.fetchOne(database, sql: """
                SELECT kind, details FROM audit_log WHERE kind IN ('retention-policy-changed', 'retention-policy-applied', 'retention-scheduled')
                ORDER BY seq DESC LIMIT 1
                """)
            var old = "unknown"
            if let previous, let kind = previous["kind"] as String?, let details = previous["details"] as String?,
               let decoded = try? JSONDecoder().decode([String: String].self, from: Data(details.utf8)) {
                old = decoded[kind == AuditKind.retentionPolicyChanged.rawValue ? "new_policy" : "policy"] ?? old
            }
            try Self.stamp(plan.changes.map(\.row), policy: policy, at: now, in: database)
            try AuditLog.append(.retentionPolicyChanged, subject: nil, details: [
                "old_policy": old, "new_policy": policy.description, "rescheduled": String(plan.changes.count),
                "earlier": String(plan.earlier), "due_now": String(plan.dueNow.count),
                "due_recordings": plan.dueNow.map(\.row.id.description).joined(separator: ","),
            ], actor: actor ?? audit.actor, at: now, in: database)
            return plan
        }
    }

    /// The one computation behind apply, preview and follow: rows not being deleted, not discarded
    /// (and, unless `includeUnscheduled`, already scheduled), with the deadline `policy` gives them.
    static func retentionPlan(_ policy: RetentionPolicy, at now: Date, includeUnscheduled: Bool = true,
                              in database: Database) throws -> RetentionPlan {
        let rows = try rows(where: "deletion_started_utc IS NULL AND status != 'discarded'", [], in: database)
        var plan = RetentionPlan(changes: [], dueNow: [], earlier: 0)
        for row in rows {
            let period = policy.period(line: row.line, direction: row.direction)
            // Through the stored form (whole milliseconds), so an unchanged deadline compares equal.
            let deadline = period.deadline(from: row.startUTC).flatMap { UTCTimestamp.date(from: UTCTimestamp.string(from: $0)) }
            let planned = RetentionPlan.Row(row: row, newRule: period.rule, newDeadlineUTC: deadline)
            if includeUnscheduled || row.retentionRule != nil, deadline != row.retentionDeadlineUTC || period.rule != row.retentionRule {
                plan.changes.append(planned)
                if let deadline, row.retentionDeadlineUTC.map({ deadline < $0 }) ?? true { plan.earlier += 1 }
            }
            if let deadline, deadline <= now, !row.clockUntrusted, row.status == .complete || row.status == .interrupted,
               try activeHoldReferences(of: row.id, in: database).isEmpty {
                plan.dueNow.append(planned)
            }
        }
        return plan
    }

    /// Recordings in id order, without deleted ones (and without restricted ones unless asked).
    public func recordings(status: RecordingStatus? = nil, includeDeleted: Bool, includeRestricted: Bool) throws -> [RecordingRow] {
        var conditions = ["1"]
        var values: StatementArguments = []
        if let status {
            conditions.append("status = ?")
            values += [status.rawValue]
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

    static func stamp(_ rows: [RecordingRow], policy: RetentionPolicy, at now: Date, in database: Database) throws {
        let update = try database.makeStatement(sql: "UPDATE recordings SET retention_deadline_utc = ?, retention_rule = ?, updated_utc = ? WHERE id = ?")
        let time = UTCTimestamp.string(from: now)
        for row in rows {
            let period = policy.period(line: row.line, direction: row.direction)
            try update.execute(arguments: [period.deadline(from: row.startUTC).map(UTCTimestamp.string(from:)), period.rule,
                            time, row.id.rawValue])
        }
    }
}

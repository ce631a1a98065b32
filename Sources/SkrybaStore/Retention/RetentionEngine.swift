import Foundation
import GRDB
import SkrybaSystem

/// What one retention run did.
public struct RetentionReport: Equatable, Sendable {
    /// Recordings deleted (including deletions a crash had left half done), in order.
    public var deleted: [DeletedItem] = []
    /// Secured copies whose 4 months lapsed: their files are gone and the register notes it.
    public var lapsedCopies: [DeletedItem] = []
    /// Recordings that newly got a deadline from the policy.
    public var scheduled: [RecordingID] = []
    /// Bytes of recordings and copies deleted.
    public var bytesFreed: Int64 = 0
    /// The recordings' filesystem after the run; nil when no capacity rule applied and no room was asked for.
    public var usage: FilesystemUsage?
    /// Free bytes the capacity rule (plus any room asked for) requires; 0 without a rule.
    public var requiredFreeBytes: Int64 = 0
    /// True when the capacity rule holds (always without a rule) and the room asked for is free.
    public var capacityRuleMet = true
    /// The capacity rule is not met and nothing is left that may be deleted (everything is held,
    /// in progress, within its retention period or dated on an untrusted clock).
    public var nothingDeletable = false
    /// Room asked for beyond the capacity rule (`makeRoom`): what the next call needs.
    public var bytesNeeded: Int64 = 0
    /// Free bytes counted after the run (never less than what was freed); nil without a capacity check.
    public var freeBytes: Int64?
    /// Recordings the capacity rule would have deleted but may not: their retention period has
    /// not run out (only recordings under "as long as capacity allows" go for space).
    public var keptWithinRetention = 0
    /// Rows whose deadline this run changed to follow the policy in force (the configuration's
    /// policy changed since they were scheduled); nil when none.
    public var policyChange: RetentionPlan?
    /// Whether the clock could be trusted at `now`; when not, nothing was deleted by date.
    public var clock: ClockTrust = .trusted("not checked")
    /// Finished recordings kept because they were dated on an unsynchronised clock (never deleted
    /// by retention; `skryba retention untrusted` lists them for the DPO).
    public var keptUntrustedDate: [RecordingID] = []

    /// How full the recordings' filesystem is after the run, for the storage alarms.
    public var storage: StorageState {
        guard let freeBytes else { return .ok }
        if freeBytes < bytesNeeded { return .full }
        return freeBytes < requiredFreeBytes ? .nearlyFull : .ok
    }

    /// The line the daemon and `skryba retention run` print about untrusted dates; nil when none.
    public var untrustedDateStatus: String? {
        guard !keptUntrustedDate.isEmpty else { return nil }
        return "\(keptUntrustedDate.count) recording(s) kept because their date is untrusted (recorded before the clock was synchronised); "
            + "retention will not delete them: see skryba retention untrusted"
    }

    /// Deletions that failed (e.g. an I/O error); each stays "being deleted" and is retried.
    public var failures: [String] = []
    /// The signed `deletion-receipt` entry; nil when nothing was deleted.
    public var receipt: AuditEntry?
}

/// How full the recordings' filesystem is after a run (docs/retention.md, "Capacity and the storage alarms").
public enum StorageState: String, Equatable, Sendable {
    case ok
    /// Below the `keep_free` rule, but the next call still fits.
    case nearlyFull = "nearly-full"
    /// Not even the room the next call needs is free.
    case full
}

/// Deletes what retention says must go (R6): expired recordings, then the oldest recordings until
/// the capacity rule holds; never a held one (R7), never one still being recorded. Also lets
/// secured copies lapse after 4 months (R8). Runs at start-up and periodically; time is passed in.
/// Every deletion is crash-safe (`Deletion`) and audited; each run that deleted anything ends with
/// a signed `deletion-receipt`. docs/retention.md.
public struct RetentionEngine: Sendable {
    public let catalog: Catalog
    public let dataDirectory: String
    public var policy: RetentionPolicy
    public let signer: DeviceKey
    public let space: any FilesystemSpace
    /// Whether `now` can be believed: nothing is deleted by date on an untrusted clock.
    public let clock: any SystemClockStatus
    /// Who the audit entries name; the catalog's actor by default.
    public var actor: String

    public init(catalog: Catalog, dataDirectory: String, policy: RetentionPolicy, signer: DeviceKey, clock: any SystemClockStatus,
                space: any FilesystemSpace = StatvfsSpace(), actor: String? = nil) {
        self.clock = clock
        self.catalog = catalog
        self.dataDirectory = dataDirectory
        self.policy = policy
        self.signer = signer
        self.space = space
        self.actor = actor ?? catalog.audit.actor
    }

    /// Where capacity is measured: the filesystem holding `recordings/`.
    public var recordingsDirectory: String { "\(dataDirectory)/\(DataLayout.recordingsDirectory)" }

    /// One periodic run: finish deletions a crash cut short, schedule new recordings, let lapsed
    /// secured copies go, delete expired recordings, then the oldest until the capacity rule holds.
    public func run(at now: Date) throws -> RetentionReport {
        try run(bytesNeeded: 0, at: now, interruptAfter: nil)
    }

    /// For the daemon when a write fails with ENOSPC: a run that also frees `bytesNeeded` beyond the
    /// capacity rule (oldest first, never held). `nothingDeletable` means the call cannot be saved
    /// by deleting: raise the alarm.
    public func makeRoom(bytesNeeded: Int64, at now: Date) throws -> RetentionReport {
        try run(bytesNeeded: max(0, bytesNeeded), at: now, interruptAfter: nil)
    }

    func run(bytesNeeded: Int64, at now: Date, interruptAfter: DeletionPhase?) throws -> RetentionReport {
        if let problem = policy.problems.first { throw RetentionError.invalid("retention policy: \(problem)") }
        var report = RetentionReport()
        func record(_ item: DeletedItem) {
            report.deleted.append(item)
            report.bytesFreed += item.bytesFreed
        }

        for row in try Deletion.unfinished(catalog) {
            do { record(try Deletion.finish(row, dataDirectory: dataDirectory, actor: actor, at: now, catalog: catalog)) }
            catch let error as RetentionError { report.failures.append("\(row.id): \(error)") }
        }
        // Follow first, so its entry names as old policy the one the stored deadlines came from.
        report.policyChange = try catalog.followRetentionPolicy(policy, by: actor, at: now)
        report.scheduled = try catalog.scheduleRetention(policy: policy, at: now)
        report.clock = clock.trust(at: now)

        let copies = SecuredCopies(catalog: catalog, dataDirectory: dataDirectory)
        report.lapsedCopies = try copies.lapse(at: now, actor: actor)
        report.bytesFreed += report.lapsedCopies.reduce(0) { $0 + $1.bytesFreed }

        // Expired, earliest deadline first; none when `now` itself cannot be believed.
        let nowText = UTCTimestamp.string(from: now)
        let expired = report.clock.isTrusted
            ? try candidates(where: "retention_deadline_utc IS NOT NULL AND retention_deadline_utc <= ? AND clock_untrusted = 0", [nowText],
                             order: "retention_deadline_utc, id") : []
        for id in expired {
            do {
                let item = try Deletion.delete(id, dataDirectory: dataDirectory, actor: actor, at: now, catalog: catalog,
                                               interruptAfter: interruptAfter) { row, holds in
                    guard holds.isEmpty, !row.isDeleted, !row.clockUntrusted, row.status == .complete || row.status == .interrupted,
                          let deadline = row.retentionDeadlineUTC, deadline <= now else { return nil }
                    return row.retentionRule ?? "retention"
                }
                if let item { record(item) }
            } catch let error as RetentionError { report.failures.append("\(id): \(error)") }
        }

        // Capacity, oldest first.
        if policy.capacity != nil || bytesNeeded > 0 {
            do { try Directory.create(recordingsDirectory) } catch { throw RetentionError.file(error) }
            let initial = try space.usage(of: recordingsDirectory)
            let required = (policy.capacity?.requiredFreeBytes(totalBytes: initial.totalBytes) ?? 0) + bytesNeeded
            var freedHere: Int64 = 0
            // A file someone still has open frees nothing until closed: never count on less than what was unlinked.
            func available() throws -> Int64 {
                max(try space.usage(of: recordingsDirectory).availableBytes, initial.availableBytes + freedHere)
            }
            var free = try available()
            // Only recordings kept "as long as capacity allows" go for space; the others keep their period.
            let forSpace = ("file_path IS NOT NULL AND clock_untrusted = 0 AND retention_rule = ?", [RetentionPeriod.untilCapacity.rule] as StatementArguments)
            if free < required {
                for id in try candidates(where: forSpace.0, forSpace.1, order: "start_utc, id") {
                    do {
                        let item = try Deletion.delete(id, dataDirectory: dataDirectory, actor: actor, at: now, catalog: catalog,
                                                       interruptAfter: interruptAfter) { row, holds in
                            holds.isEmpty && !row.isDeleted && !row.clockUntrusted && row.retentionRule == RetentionPeriod.untilCapacity.rule
                                && (row.status == .complete || row.status == .interrupted) ? "capacity" : nil
                        }
                        if let item {
                            record(item)
                            freedHere += item.bytesFreed
                        }
                    } catch let error as RetentionError { report.failures.append("\(id): \(error)") }
                    free = try available()
                    if free >= required { break }
                }
            }
            report.usage = try space.usage(of: recordingsDirectory)
            report.requiredFreeBytes = required
            report.bytesNeeded = max(0, bytesNeeded)
            report.freeBytes = free
            report.capacityRuleMet = free >= required
            if !report.capacityRuleMet {
                report.nothingDeletable = try candidates(where: forSpace.0, forSpace.1, order: "start_utc, id").isEmpty
                report.keptWithinRetention = try candidates(where: "file_path IS NOT NULL AND clock_untrusted = 0 AND retention_rule IS NOT ?",
                                                            forSpace.1, order: "id").count
            }
        }

        report.keptUntrustedDate = try keptForUntrustedDate(at: now)
        report.receipt = try catalog.appendDeletionReceipt(report.lapsedCopies + report.deleted, signer: signer, actor: actor, at: now)
        // A periodic run, and any run that deleted, ends signed: a power cut later cannot cut off
        // what it did unnoticed. (Not every room-making run before a call: that would sign per call.)
        if bytesNeeded == 0 || report.receipt != nil { try catalog.audit.checkpointIfUncovered(signer: signer, at: now) }
        return report
    }

    /// The room to make before a new call (docs/retention.md, "Room for the next call"): the
    /// average sealed size of the last 20 finished recordings, and never less than 3 minutes at
    /// `bitrate` bit/s (the first calls, or a run of short ones).
    public func roomForNextCall(bitrate: Int) throws -> Int64 {
        let floor = Int64(max(0, bitrate)) / 8 * 180
        let average = try catalog.connection.read("measuring recent recordings") { database in
            try Double.fetchOne(database, sql: """
                SELECT avg(file_size) FROM (SELECT file_size FROM recordings
                    WHERE status IN ('complete', 'interrupted') AND file_size IS NOT NULL ORDER BY id DESC LIMIT 20)
                """)
        }
        guard let average else { return floor }
        return max(floor, Int64(average.rounded(.up)))
    }

    /// Finished recordings dated on an untrusted clock, not deleted, in id order; a
    /// `retention-date-untrusted` entry names them whenever the list differs from the last one.
    func keptForUntrustedDate(at now: Date) throws -> [RecordingID] {
        try catalog.connection.write("listing recordings with an untrusted date") { database in
            let ids = try Catalog.rows(where: "clock_untrusted = 1 AND deletion_started_utc IS NULL AND status IN ('complete', 'interrupted')",
                                       [], in: database).map(\.id)
            let listed = ids.map(\.description).joined(separator: ",")
            let last = try String.fetchOne(database, sql: "SELECT details FROM audit_log WHERE kind = ? ORDER BY seq DESC LIMIT 1",
                                           arguments: [AuditKind.retentionDateUntrusted.rawValue])
            var lastListed = ""
            if let details = last {
                lastListed = (try? JSONDecoder().decode([String: String].self, from: Data(details.utf8)))?["recordings"] ?? ""
            }
            if listed != lastListed {
                try AuditLog.append(.retentionDateUntrusted, subject: nil, details: [
                    "count": String(ids.count), "recordings": listed,
                    "reason": "recorded while the system clock was not synchronised; retention does not delete on such a date",
                ], actor: actor, at: now, in: database)
            }
            return ids
        }
    }

    /// Finished, not deleted, not held recordings matching `condition`, in `order`. Re-checked
    /// inside each deletion's own transaction, so a hold added meanwhile still wins.
    func candidates(where condition: String, _ values: StatementArguments, order: String) throws -> [RecordingID] {
        try catalog.connection.read("listing recordings to delete") { database in
            try Row.fetchAll(database, sql: """
                SELECT id FROM recordings
                WHERE status IN ('complete', 'interrupted') AND deletion_started_utc IS NULL
                  AND NOT EXISTS (SELECT 1 FROM hold_members m JOIN holds h ON h.id = m.hold
                                  WHERE m.recording = recordings.id AND h.released_utc IS NULL)
                  AND \(condition)
                ORDER BY \(order)
                """, arguments: values).compactMap { row -> RecordingID? in
                (row[0] as Int64?).map(RecordingID.init(rawValue:))
            }
        }
    }
}

import Foundation
import SkrybaSQLite
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
    /// The capacity rule is not met and nothing is left that may be deleted (everything is held or
    /// in progress): the daemon raises the "storage nearly full" alarm.
    public var nothingDeletable = false
    /// Deletions that failed (e.g. an I/O error); each stays "being deleted" and is retried.
    public var failures: [String] = []
    /// The signed `deletion-receipt` entry; nil when nothing was deleted.
    public var receipt: AuditEntry?
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
    /// Who the audit entries name; the catalog's actor by default.
    public var actor: String

    public init(catalog: Catalog, dataDirectory: String, policy: RetentionPolicy, signer: DeviceKey,
                space: any FilesystemSpace = StatvfsSpace(), actor: String? = nil) {
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
        report.scheduled = try catalog.scheduleRetention(policy: policy, at: now)

        let copies = SecuredCopies(catalog: catalog, dataDirectory: dataDirectory)
        report.lapsedCopies = try copies.lapse(at: now, actor: actor)
        report.bytesFreed += report.lapsedCopies.reduce(0) { $0 + $1.bytesFreed }

        // Expired, earliest deadline first.
        let nowText = UTCTimestamp.string(from: now)
        for id in try candidates(where: "retention_deadline_utc IS NOT NULL AND retention_deadline_utc <= ?", [.text(nowText)],
                                 order: "retention_deadline_utc, id") {
            do {
                let item = try Deletion.delete(id, dataDirectory: dataDirectory, actor: actor, at: now, catalog: catalog,
                                               interruptAfter: interruptAfter) { row, holds in
                    guard holds.isEmpty, !row.isDeleted, row.status == .complete || row.status == .interrupted,
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
            if free < required {
                for id in try candidates(where: "file_path IS NOT NULL", [], order: "start_utc, id") {
                    do {
                        let item = try Deletion.delete(id, dataDirectory: dataDirectory, actor: actor, at: now, catalog: catalog,
                                                       interruptAfter: interruptAfter) { row, holds in
                            holds.isEmpty && !row.isDeleted && (row.status == .complete || row.status == .interrupted) ? "capacity" : nil
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
            report.capacityRuleMet = free >= required
            if !report.capacityRuleMet {
                report.nothingDeletable = try candidates(where: "file_path IS NOT NULL", [], order: "start_utc, id").isEmpty
            }
        }

        report.receipt = try catalog.appendDeletionReceipt(report.lapsedCopies + report.deleted, signer: signer, actor: actor, at: now)
        return report
    }

    /// Finished, not deleted, not held recordings matching `condition`, in `order`. Re-checked
    /// inside each deletion's own transaction, so a hold added meanwhile still wins.
    func candidates(where condition: String, _ values: [SQLiteValue], order: String) throws -> [RecordingID] {
        try catalog.connection.read("listing recordings to delete") { database in
            try database.prepare("""
                SELECT id FROM recordings
                WHERE status IN ('complete', 'interrupted') AND deletion_started_utc IS NULL
                  AND NOT EXISTS (SELECT 1 FROM hold_members m JOIN holds h ON h.id = m.hold
                                  WHERE m.recording = recordings.id AND h.released_utc IS NULL)
                  AND \(condition)
                ORDER BY \(order)
                """).rows(values).compactMap { row -> RecordingID? in
                if case .integer(let id) = row[0] { RecordingID(rawValue: id) } else { nil }
            }
        }
    }
}

import Dispatch
import Foundation
import Logging
import SkrybaPipeline
import SkrybaStore

/// Where alarms start and end for a person: one journal line each, and an `alarm-raised` /
/// `alarm-cleared` entry in the append-only audit log (the alarm history `skryba alarms` reads).
/// The board calls back on the raising thread (a line worker, the storage thread); the work is
/// done here on a queue of its own, in order, so no worker waits for SQLite or the journal.
public final class AlarmJournal: @unchecked Sendable {
    private let queue = DispatchQueue(label: "skryba.alarms")
    private let audit: AuditLog
    private let logger: Logger

    public init(board: AlarmBoard, audit: AuditLog, logger: Logger) {
        self.audit = audit
        self.logger = logger
        board.onRaised = { [self] alarm, isNew in
            let now = Date()
            queue.async { self.raised(alarm, isNew: isNew, at: now) }
        }
        board.onCleared = { [self] alarm, reason in
            let now = Date()
            queue.async { self.cleared(alarm, reason: reason, at: now) }
        }
    }

    /// Alarms raised before the journal existed (while the appliance started): logged and audited now.
    public func adopt(_ active: [ActiveAlarm]) {
        for alarm in active { queue.async { self.raised(alarm.alarm, isNew: true, at: alarm.raisedAt) } }
    }

    /// Waits until every alarm handed over so far is logged and audited.
    public func drain() { queue.sync {} }

    private func raised(_ alarm: Alarm, isNew: Bool, at now: Date) {
        // The line the tests and technicians grep for since the first release: "skrybad: ALARM: ALARM kind line N …".
        logger.warning("ALARM: \(alarm.description)")
        guard isNew else { return }
        append(.alarmRaised, alarm, ["line": "\(alarm.line)", "frame": "\(alarm.frame)", "message": alarm.message], at: now)
    }

    private func cleared(_ alarm: Alarm, reason: String, at now: Date) {
        logger.notice("alarm cleared: \(alarm.kind.rawValue) line \(alarm.line): \(reason)")
        append(.alarmCleared, alarm, ["line": "\(alarm.line)", "reason": reason], at: now)
    }

    private func append(_ kind: AuditKind, _ alarm: Alarm, _ details: [String: String], at now: Date) {
        do { try audit.append(kind, subject: alarm.kind.rawValue, details: details, at: now) } catch {
            logger.error("cannot keep the \(alarm.kind.rawValue) alarm in the audit log: \(error)")
        }
    }
}

/// One alarm of the history, as the audit log keeps it: raised, and cleared if it was.
public struct AlarmRecord: Codable, Sendable, Equatable {
    public var kind: String
    public var line: Int
    public var message: String
    public var raisedUTC: String
    public var clearedUTC: String?
    public var clearReason: String?

    /// The history from the audit log: each `alarm-raised` paired with the next `alarm-cleared` of
    /// the same kind and line; oldest first.
    public static func history(_ entries: [AuditEntry]) -> [AlarmRecord] {
        var records: [AlarmRecord] = []
        var open: [String: Int] = [:]  // "kind/line" → index of the record still in force
        for entry in entries {
            guard let kind = entry.subject, let details = entry.decodedDetails else { continue }
            let line = Int(details["line"] ?? "") ?? 0
            let key = "\(kind)/\(line)"
            switch entry.knownKind {
            case .alarmRaised?:
                open[key] = records.count
                records.append(AlarmRecord(kind: kind, line: line, message: details["message"] ?? "", raisedUTC: entry.timeUTC))
            case .alarmCleared?:
                guard let index = open.removeValue(forKey: key) else { continue }
                records[index].clearedUTC = entry.timeUTC
                records[index].clearReason = details["reason"]
            default:
                continue
            }
        }
        return records
    }
}

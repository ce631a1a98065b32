import Foundation
import SkrybaStore

// Every read the monthly report makes of the appliance's state, in one place: the audit log, read
// through `AuditLog.entries()` of a read-only catalog (no SQL of its own, so the catalog's storage
// can change under it). The audit log is the source because it is never erased: a recording
// deleted since, or a request whose personal data is gone, still counts.

/// A line as the configuration describes it (the record of processing, R14).
public struct ReportLine: Sendable, Equatable {
    public var id: Int
    public var name: String
    public var purpose: String?
    public var legalBasis: String?
    public var informationClause: String?
    /// "incoming", "outgoing": the directions it records, listed even when no call was made.
    public var directions: [String]

    public init(id: Int, name: String, purpose: String?, legalBasis: String?, informationClause: String?, directions: [String]) {
        (self.id, self.name, self.purpose, self.legalBasis, self.informationClause, self.directions) = (id, name, purpose, legalBasis, informationClause, directions)
    }
}

extension MonthlyReport {
    /// The report of the Warsaw month `month` ("YYYY-MM") from the whole audit log.
    public init(month: String, auditEntries entries: [AuditEntry], lines configured: [ReportLine], office: String, recorderID: String,
                generated: Date) throws(ReportProblem) {
        guard let (from, to) = MonthlyReport.bounds(month: month) else {
            throw ReportProblem("--month \(month) is not a month: give it as YYYY-MM, e.g. 2026-03")
        }
        func inMonth(_ utc: String?) -> Bool { utc.flatMap(UTCTimestamp.date(from:)).map { $0 >= from && $0 < to } ?? false }
        let details = entries.map { $0.decodedDetails ?? [:] }
        var started: [String: (line: Int, direction: String, startUTC: String)] = [:]
        var outcome: [String: (kind: String, details: [String: String])] = [:]
        var requests: [String: [String: String]] = [:]
        var decisions: [String: [String: String]] = [:]
        var exportsStarted: [String: [String: String]] = [:]
        for (entry, detail) in zip(entries, details) {
            guard let subject = entry.subject else { continue }
            switch entry.knownKind {
            case .recordingStarted?:
                started[subject] = (Int(detail["line"] ?? "") ?? 0, detail["direction"] ?? "line", detail["start_utc"] ?? entry.timeUTC)
            case .recordingDiscarded?:
                // A call discarded before anything was written has no started entry: its own entry says when and where.
                if started[subject] == nil, let line = detail["line"].flatMap(Int.init) {
                    started[subject] = (line, detail["direction"] ?? "line", detail["start_utc"] ?? entry.timeUTC)
                }
                outcome[subject] = (entry.kind, detail)
            case .recordingFinished?, .recordingInterrupted?, .recordingFailed?:
                outcome[subject] = (entry.kind, detail)
            case .requestRegistered?: requests[subject] = detail
            case .requestDecided?: decisions[subject] = detail
            default: break
            }
            if entry.knownKind == .exportStarted || entry.knownKind == .backupExportStarted, let id = detail["export"] { exportsStarted[id] = detail }
        }
        for (entry, detail) in zip(entries, details) where entry.subject == nil {
            if entry.knownKind == .backupExportStarted, let id = detail["export"] { exportsStarted[id] = detail }
        }

        // Calls per line and direction, by when they started.
        var counts: [Int: [String: Direction]] = [:]
        for (subject, call) in started where inMonth(call.startUTC) {
            var direction = counts[call.line, default: [:]][call.direction] ?? Direction(direction: call.direction)
            direction.calls += 1
            switch outcome[subject].map({ ($0.kind, $0.details) }) {
            case (AuditKind.recordingFinished.rawValue, _)?: direction.recorded += 1
            case (AuditKind.recordingInterrupted.rawValue, _)?: direction.recorded += 1; direction.interrupted += 1
            case (AuditKind.recordingFailed.rawValue, _)?: direction.failed += 1
            case (AuditKind.recordingDiscarded.rawValue, let detail)?:
                switch detail["consent"] {
                case Consent.hungUp.rawValue?: direction.hungUp += 1
                case Consent.objected.rawValue?: direction.objected += 1
                default: direction.discardedOther += 1
                }
            default: break  // still recording when the report was made
            }
            counts[call.line, default: [:]][call.direction] = direction
        }
        let order = ["incoming", "outgoing", "line"]
        var lines = configured.map { line in
            Line(line: line.id, name: line.name, purpose: line.purpose, legalBasis: line.legalBasis, informationClause: line.informationClause,
                 directions: Set(line.directions + (counts[line.id]?.keys.map { $0 } ?? [])).sorted { order.firstIndex(of: $0) ?? 9 < order.firstIndex(of: $1) ?? 9 }
                    .map { counts[line.id]?[$0] ?? Direction(direction: $0) })
        }
        for id in counts.keys.sorted() where !configured.contains(where: { $0.id == id }) {
            lines.append(Line(line: id, name: "linia \(id) (nie ma jej w konfiguracji)", purpose: nil, legalBasis: nil, informationClause: nil,
                              directions: counts[id, default: [:]].values.sorted { order.firstIndex(of: $0.direction) ?? 9 < order.firstIndex(of: $1.direction) ?? 9 }))
        }

        var listenings: [Listening] = [], exports: [Export] = [], secured: [Keeping] = [], holds: [Keeping] = []
        var deleted: [String: Int] = [:], alarms: [Alarm] = [], gaps: [Gap] = [], refusedExports = 0
        for (entry, detail) in zip(entries, details) where inMonth(entry.timeUTC) {
            switch entry.knownKind {
            case .listeningRecorded?:
                listenings.append(Listening(request: entry.subject ?? "-", recordings: Self.list(detail["recordings"]),
                                            startedUTC: detail["started_utc"] ?? entry.timeUTC, signer: detail["signer"] ?? "-",
                                            present: Int(detail["present"] ?? "") ?? 0))
            case .exportCompleted?, .exportIncomplete?, .backupExportCompleted?, .backupExportIncomplete?:
                let backup = entry.knownKind == .backupExportCompleted || entry.knownKind == .backupExportIncomplete
                let completed = entry.knownKind == .exportCompleted || entry.knownKind == .backupExportCompleted
                let startedDetail = detail["export"].flatMap { exportsStarted[$0] } ?? [:]
                exports.append(Export(timeUTC: entry.timeUTC, kind: backup ? "backup" : "request", request: entry.subject,
                                      keyFingerprint: detail["key_fingerprint"] ?? "-", keyComment: detail["key_comment"] ?? "",
                                      basis: backup ? "kopia zapasowa (eksport administracyjny)"
                                                    : Self.basis(entry.subject, requests: requests, decisions: decisions),
                                      recordings: Self.list(startedDetail["recordings"]), completed: completed))
                if !completed {
                    alarms.append(Alarm(timeUTC: entry.timeUTC, kind: entry.kind, subject: entry.subject,
                                        detail: "eksport przerwany: \(detail["reason"] ?? "połączenie zerwane")"))
                }
            case .exportRefused?: refusedExports += 1
            case .copySecured?:
                secured.append(Keeping(timeUTC: entry.timeUTC, recording: entry.subject ?? "-", event: "kopia zabezpieczona nr \(detail["sequence"] ?? "?")",
                                       caseReference: detail["case_ref"]))
            case .holdAdded?, .holdReleased?:
                holds.append(Keeping(timeUTC: entry.timeUTC, recording: entry.subject ?? "-",
                                     event: entry.knownKind == .holdAdded ? "wstrzymanie usunięcia" : "zwolnienie wstrzymania",
                                     caseReference: detail["case_ref"]))
            case .deletionReceipt?:
                for item in DeletionReceipt(entry: entry)?.items ?? [] { deleted[item.rule, default: 0] += 1 }
            case .recordingFailed?:
                alarms.append(Alarm(timeUTC: entry.timeUTC, kind: entry.kind, subject: entry.subject, detail: "nagranie niezapisane: \(detail["reason"] ?? "-")"))
            case .fsckFinding?:
                alarms.append(Alarm(timeUTC: entry.timeUTC, kind: entry.kind, subject: entry.subject, detail: "kontrola spójności: \(detail.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))"))
            case .retentionDateUntrusted?:
                alarms.append(Alarm(timeUTC: entry.timeUTC, kind: entry.kind, subject: nil,
                                    detail: "nagrania z niezsynchronizowanym zegarem zatrzymane: \(detail["recordings"] ?? "-")"))
            case .recordingStarted? where detail["clock_untrusted"] == "true":
                alarms.append(Alarm(timeUTC: entry.timeUTC, kind: entry.kind, subject: entry.subject, detail: "nagranie rozpoczęte przy niezsynchronizowanym zegarze"))
            default:
                // Alarms newer firmware logs (kinds this build does not know) are listed as they stand.
                if entry.knownKind == nil && entry.kind.contains("alarm") {
                    alarms.append(Alarm(timeUTC: entry.timeUTC, kind: entry.kind, subject: entry.subject,
                                        detail: detail["message"] ?? detail.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")))
                }
            }
            if let summary = detail["gaps"], [.recordingFinished, .recordingInterrupted].contains(entry.knownKind) {
                gaps.append(Gap(recording: entry.subject ?? "-", timeUTC: entry.timeUTC, gaps: summary))
            }
        }
        self.init(month: month, fromUTC: UTCTimestamp.string(from: from), toUTC: UTCTimestamp.string(from: to),
                  generatedUTC: UTCTimestamp.string(from: generated), office: office, recorderID: recorderID, lines: lines,
                  listenings: listenings, exports: exports, refusedExports: refusedExports, securedCopies: secured, holds: holds,
                  deleted: deleted.sorted { $0.key < $1.key }.map { Deleted(rule: $0.key, count: $0.value) }, alarms: alarms, gaps: gaps,
                  auditLastSeq: entries.last?.seq ?? 0)
    }

    static func list(_ text: String?) -> [String] { (text ?? "").split(separator: ",").map(String.init) }

    /// On what basis a request's export was made: its kind, the authority and case, the decision.
    static func basis(_ reference: String?, requests: [String: [String: String]], decisions: [String: [String: String]]) -> String {
        guard let reference, let request = requests[reference] else { return "wniosek \(reference ?? "-") (brak wpisu w dzienniku)" }
        let kind = switch request["kind"] {
        case SkrybaStore.RequestKind.listening.rawValue?: "wniosek o odsłuchanie"
        case SkrybaStore.RequestKind.access.rawValue?: "żądanie dostępu (art. 15 RODO)"
        case SkrybaStore.RequestKind.authority.rawValue?:
            "wniosek organu (\(request["authority"].flatMap(Authority.init(rawValue:))?.polishName ?? "-")), sygn. \(request["case_reference"] ?? "-")"
        case SkrybaStore.RequestKind.securedCopy.rawValue?: "wniosek o zabezpieczenie nagrania"
        default: "wniosek"
        }
        let decision = decisions[reference].map { "zgoda: \($0["by"] ?? "-")" } ?? "bez decyzji w dzienniku"
        return "\(reference): \(kind); \(decision)"
    }
}

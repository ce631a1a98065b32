import Foundation
import GRDB

/// A recording found for a request, with the office line's own number.
public struct Candidate: Sendable, Equatable {
    public var recording: RecordingRow
    public var lineNumber: String?

    public init(recording: RecordingRow, lineNumber: String?) {
        self.recording = recording
        self.lineNumber = lineNumber
    }

    /// Who called: the caller ID of an incoming call, the office line for an outgoing one.
    public var callingNumber: String? { recording.direction == .outgoing ? lineNumber : recording.callerNumber }
    /// Who was called: the office line for an incoming call, the dialled digits of an outgoing one.
    public var calledNumber: String? { recording.direction == .outgoing ? recording.dialedDigits : lineNumber }
}

/// The audit log from the first entry about an export's recordings (and its request) to the
/// checkpoint signed when the export started: contiguous, so IT can recompute every hash from the
/// first entry's prev_hash to the signed one (docs/disclosure.md, "The audit excerpt").
public struct AuditExcerpt: Codable, Sendable, Equatable {
    public var entries: [AuditEntry]
    public var checkpoints: [AuditCheckpoint]
}

/// The register of requests for recordings (issue 11 item 1, docs/disclosure.md): listening and
/// access requests by callers, requests of authorities, and the secured copies linked in; their
/// opinions, decisions and refusal notices; the exports and listenings they led to. Every change
/// commits with its audit entry, which names the request's reference and never the requester.
public struct RequestRegister: Sendable {
    public let catalog: Catalog

    public init(catalog: Catalog) { self.catalog = catalog }

    private var connection: StoreConnection { catalog.connection }
    private var actor: String { catalog.audit.actor }

    // MARK: Registering and deciding

    public func register(_ new: NewRequest, by registrar: String, at now: Date) throws -> DisclosureRequest {
        switch new.kind {
        case .listening, .access:
            guard new.requesterName != nil else { throw RequestError.invalid("a caller's \(new.kind.rawValue) request needs the requester's name (--name)") }
            guard new.callNumber != nil else {
                throw RequestError.invalid("a caller's \(new.kind.rawValue) request needs the number the call was made from (--number)")
            }
        case .authority:
            let missing = [("--authority", new.authority == nil), ("--legal-basis", new.legalBasis == nil),
                           ("--approver", new.approver == nil), ("--case", new.caseReference == nil)].filter(\.1).map(\.0)
            guard missing.isEmpty else { throw RequestError.invalid("an authority's request needs \(missing.joined(separator: ", "))") }
        case .securedCopy:
            guard new.securedCopy != nil else { throw RequestError.invalid("a secured-copy request needs the copy's sequence number (--copy)") }
        }
        let year = LegalTime.calendar.component(.year, from: now)
        return try connection.write("registering a \(new.kind.rawValue) request") { database in
            let number = try RequestsSQL.nextNumber(year: year, in: database)
            let reference = "RQ-\(year)-" + String(number).leftPadded(4)
            try RequestsSQL.insert(new, reference: reference, year: year, number: number, by: registrar, at: now, in: database)
            var details = ["kind": new.kind.rawValue, "received_utc": UTCTimestamp.string(from: new.receivedUTC), "by": registrar]
            details["authority"] = new.authority?.rawValue
            details["approver"] = new.approver?.rawValue
            details["case_reference"] = new.caseReference
            if let sequence = new.securedCopy {
                guard let recording = try RequestsSQL.securedCopyRecording(sequence: sequence, in: database) else {
                    throw RequestError.invalid("there is no secured copy \(sequence) in the copies register (see: skryba copies list)")
                }
                try RequestsSQL.link(recording, to: reference, in: database)
                details["secured_copy"] = String(sequence)
                details["recordings"] = recording.description
            }
            try AuditLog.append(.requestRegistered, subject: reference, details: details, actor: actor, at: now, in: database)
            return try RequestsSQL.request(reference, in: database)
        }
    }

    public func addOpinion(_ reference: String, role: OpinionRole, text: String, by author: String, at now: Date) throws -> DisclosureRequest {
        try connection.write("recording an opinion on \(reference)") { database in
            let request = try RequestsSQL.request(reference, in: database)
            if let decision = request.decision {
                throw RequestError.refused("request \(reference) was already \(decision.rawValue); an opinion comes before the decision")
            }
            try RequestsSQL.setOpinion(role, reference: reference, text: text, by: author, at: now, in: database)
            try AuditLog.append(.requestOpinion, subject: reference, details: ["role": role.rawValue, "by": author],
                                actor: actor, at: now, in: database)
            return try RequestsSQL.request(reference, in: database)
        }
    }

    /// Links the recordings a request concerns (found with `search`), before the decision.
    public func link(_ reference: String, recordings ids: [RecordingID], by who: String, at now: Date) throws -> DisclosureRequest {
        try connection.write("linking recordings to \(reference)") { database in
            let request = try RequestsSQL.request(reference, in: database)
            if let decision = request.decision {
                throw RequestError.refused("request \(reference) was already \(decision.rawValue); its recordings cannot change after the decision")
            }
            for id in ids {
                _ = try Catalog.fetch(id, in: database)
                try RequestsSQL.link(id, to: reference, in: database)
            }
            try AuditLog.append(.requestLinked, subject: reference,
                                details: ["recordings": ids.map(\.description).joined(separator: ","), "by": who],
                                actor: actor, at: now, in: database)
            return try RequestsSQL.request(reference, in: database)
        }
    }

    /// Grants or refuses. A grant needs recordings, and for a caller's request both opinions and a
    /// caller number identified on every recording that matches the requester's number (Szczecin
    /// §4.7, Halinów §2.7); otherwise it is refused with the reason and nothing changes. A refusal
    /// writes the notice to the requester.
    public func decide(_ reference: String, grant: Bool, by official: String, reason: String, includeRestricted: Bool = false,
                       at now: Date) throws -> DisclosureRequest {
        try connection.write("deciding \(reference)") { database in
            let request = try RequestsSQL.request(reference, in: database)
            if let decision = request.decision, let by = request.decidedBy, let at = request.decidedUTC {
                throw RequestError.refused("request \(reference) was already \(decision.rawValue) by \(by) on \(WarsawTime.minute(at)); a decision cannot be changed")
            }
            if grant { try checkGrantable(request, in: database) }
            if includeRestricted && !grant { throw RequestError.invalid("--include-restricted goes with a grant, not a refusal") }
            var decided = request
            decided.decision = grant ? .granted : .refused
            decided.decidedBy = official
            decided.decidedUTC = now
            decided.decisionReason = reason
            let notice = grant ? nil : RefusalNotice.text(decided)
            try RequestsSQL.decide(reference, decision: grant ? .granted : .refused, by: official, reason: reason,
                                   includesRestricted: includeRestricted, notice: notice, at: now, in: database)
            var details = ["decision": grant ? "granted" : "refused", "by": official, "reason": reason,
                           "recordings": request.recordings.map(\.description).joined(separator: ",")]
            if includeRestricted { details["includes_restricted"] = "true" }
            if notice != nil { details["notice"] = "written" }
            try AuditLog.append(.requestDecided, subject: reference, details: details, actor: actor, at: now, in: database)
            return try RequestsSQL.request(reference, in: database)
        }
    }

    private func checkGrantable(_ request: DisclosureRequest, in database: Database) throws {
        let reference = request.reference
        guard !request.recordings.isEmpty else {
            throw RequestError.refused("cannot grant \(reference): no recording is linked to it (find them with: skryba requests search, then skryba requests link)")
        }
        guard request.kind.isCallers else { return }
        let missing = OpinionRole.allCases.filter { request.opinion($0) == nil }
            .map { $0 == .dpo ? "the data protection officer's" : "the head of department's" }
        guard missing.isEmpty else {
            throw RequestError.refused("cannot grant \(reference): \(missing.joined(separator: " and ")) opinion is missing (skryba requests opinion)")
        }
        for id in request.recordings {
            let row = try Catalog.fetch(id, in: database)
            guard row.direction == .incoming, let caller = row.callerNumber else {
                throw RequestError.refused("cannot grant \(reference): recording \(id) has no identified caller number; a caller's request can only be granted for recordings whose caller number was identified (Szczecin §4.7, Halinów §2.7) — refuse it with this reason")
            }
            if let stated = request.callNumber, !PhoneNumber.same(stated, caller) {
                throw RequestError.refused("cannot grant \(reference): recording \(id) was made from another number than the requester's (\(stated)); a caller may only hear their own calls")
            }
        }
    }

    public func request(_ reference: String) throws -> DisclosureRequest {
        try connection.read("reading request \(reference)") { database in try RequestsSQL.request(reference, in: database) }
    }

    public func requests() throws -> [DisclosureRequest] {
        try connection.read("reading the register of requests") { database in try RequestsSQL.requests(where: "1", [], in: database) }
    }

    // MARK: Finding recordings

    /// Candidates by line, day and approximate time; numbers match as digits (PhoneNumber.same).
    public func search(_ search: RecordingSearch) throws -> [Candidate] {
        let found = try connection.read("searching recordings") { database in try RequestsSQL.candidates(search, in: database) }
        return found.map { Candidate(recording: $0.0, lineNumber: $0.1) }.filter { candidate in
            if let caller = search.callerNumber, !(candidate.callingNumber.map { PhoneNumber.same($0, caller) } ?? false) { return false }
            if let called = search.calledNumber, !(candidate.calledNumber.map { PhoneNumber.same($0, called) } ?? false) { return false }
            return true
        }
    }

    // MARK: Exports

    /// What `export --request` would send: the granted request's recordings that have a sealed file,
    /// restricted ones only when the decision allows them.
    public func exportPlan(request reference: String) throws -> ExportPlan {
        try connection.read("planning the export of \(reference)") { database in
            let request = try RequestsSQL.request(reference, in: database)
            guard request.decision == .granted else {
                let state = request.decision.map { "was \($0.rawValue)" } ?? "has not been decided"
                throw RequestError.refused("request \(reference) \(state); only a granted request can be exported")
            }
            var plan = ExportPlan(kind: .request, request: request, items: [], excluded: [])
            for id in request.recordings {
                let row = try Catalog.fetch(id, in: database)
                if row.isRestricted && !request.includesRestricted {
                    plan.excluded.append((id, "restricted (R12); the decision does not allow restricted recordings"))
                } else if let path = try row.isDeleted ? RequestsSQL.securedCopyFile(of: id, in: database) : row.filePath {
                    plan.items.append(ExportItem(recording: row, filePath: path))
                } else {
                    plan.excluded.append((id, row.isDeleted ? "deleted by retention, and no secured copy exists" : "has no sealed file (\(row.status.rawValue))"))
                }
            }
            return plan
        }
    }

    /// The administrative backup: every sealed recording still kept, restricted ones too (storing is
    /// the one processing a restriction allows).
    public func backupPlan() throws -> ExportPlan {
        let rows = try catalog.recordings()
        var plan = ExportPlan(kind: .backup, request: nil, items: [], excluded: [])
        for row in rows where !row.isDeleted && row.status != .recording {
            if let path = row.filePath { plan.items.append(ExportItem(recording: row, filePath: path)) }
        }
        return plan
    }

    public func lineNumber(of id: RecordingID) throws -> String? {
        try connection.read("reading recording \(id)") { database in try RequestsSQL.lineNumber(of: id, in: database) }
    }

    /// Records the start of an export (audited, then a checkpoint signed in the same transaction)
    /// and returns its id with the audit excerpt that covers it.
    public func beginExport(_ plan: ExportPlan, client: ExportClient, signer: DeviceKey, at now: Date) throws -> (id: Int64, excerpt: AuditExcerpt) {
        let reference = plan.request?.reference
        return try connection.write("starting an export") { database in
            let id = try RequestsSQL.startExport(kind: plan.kind, request: reference, client: client, at: now, in: database)
            var details = Self.clientDetails(client)
            details["export"] = String(id)
            details["recordings"] = plan.items.map(\.recording.id.description).joined(separator: ",")
            if !plan.excluded.isEmpty { details["excluded"] = plan.excluded.map { "\($0.0): \($0.1)" }.joined(separator: "; ") }
            let started = try AuditLog.append(plan.kind == .backup ? .backupExportStarted : .exportStarted, subject: reference,
                                              details: details, actor: actor, at: now, in: database)
            let checkpoint = try AuditLog.appendCheckpoint(signer: signer, actor: actor, at: now, in: database)
            let subjects = plan.items.map(\.recording.id.description) + [reference].compactMap { $0 }
            let firstAbout = try RequestsSQL.firstEntry(about: subjects, in: database) ?? started.seq
            let first = plan.kind == .backup ? 1 : min(firstAbout, started.seq)
            let range = first...checkpoint.seq
            let excerpt = AuditExcerpt(entries: try AuditLog.entries(range, limit: Int64.max, in: database),
                                       checkpoints: try RequestsSQL.checkpoints(range, in: database))
            return (id, excerpt)
        }
    }

    /// Whether every byte went out (`completed`) or the transfer broke (`incomplete`, with why).
    public func finishExport(_ id: Int64, plan: ExportPlan, client: ExportClient, completed: Bool, bytes: UInt64,
                             manifestSHA256: String?, problem: String?, at now: Date) throws {
        try connection.write("finishing export \(id)") { database in
            try RequestsSQL.finishExport(id, completed: completed, bytes: bytes, manifestSHA256: manifestSHA256, at: now, in: database)
            var details = Self.clientDetails(client)
            details["export"] = String(id)
            details["bytes"] = String(bytes)
            details["manifest_sha256"] = manifestSHA256
            details["reason"] = problem
            let kind: AuditKind = switch (plan.kind, completed) {
            case (.request, true): .exportCompleted
            case (.request, false): .exportIncomplete
            case (.backup, true): .backupExportCompleted
            case (.backup, false): .backupExportIncomplete
            }
            try AuditLog.append(kind, subject: plan.request?.reference, details: details, actor: actor, at: now, in: database)
        }
    }

    /// A request that could not be exported (not granted, unknown), in the audit log.
    public func recordRefusedExport(_ reference: String?, client: ExportClient, command: String, reason: String, at now: Date) throws {
        var details = Self.clientDetails(client)
        details["command"] = command
        details["reason"] = reason
        try catalog.audit.append(.exportRefused, subject: reference, details: details, at: now)
    }

    static func clientDetails(_ client: ExportClient) -> [String: String] {
        var details = ["key_fingerprint": client.keyFingerprint, "key_comment": client.keyComment]
        details["address"] = client.address
        return details
    }

    // MARK: Listenings

    /// Imports a listening record whose signature the caller has checked: it must be about a
    /// granted request's bundle that was exported completely, and is imported once.
    public func recordListening(_ listening: Listening, manifestSHA256: String, at now: Date) throws {
        try connection.write("recording a listening of \(listening.request)") { database in
            let request = try RequestsSQL.request(listening.request, in: database)
            guard request.decision == .granted else {
                throw RequestError.refused("request \(request.reference) was not granted; a listening of it cannot be recorded")
            }
            guard try RequestsSQL.completedExport(request: request.reference, manifestSHA256: manifestSHA256, in: database) else {
                throw RequestError.refused("the listening record names a bundle (manifest SHA-256 \(manifestSHA256)) that this appliance never exported completely for \(request.reference)")
            }
            if let stray = listening.recordings.first(where: { !request.recordings.contains($0) }) {
                throw RequestError.refused("the listening record names recording \(stray), which request \(request.reference) does not cover")
            }
            guard try !RequestsSQL.listeningImported(sha256: listening.recordSHA256, in: database) else {
                throw RequestError.refused("this listening record (SHA-256 \(listening.recordSHA256)) was already imported")
            }
            try RequestsSQL.insertListening(listening, in: database)
            try AuditLog.append(.listeningRecorded, subject: request.reference, details: [
                "recordings": listening.recordings.map(\.description).joined(separator: ","), "signer": listening.signer,
                "record_sha256": listening.recordSHA256, "started_utc": UTCTimestamp.string(from: listening.startedUTC),
                "ended_utc": UTCTimestamp.string(from: listening.endedUTC), "present": String(listening.present.count),
            ], actor: actor, at: now, in: database)
        }
    }

    public func listenings(of reference: String) throws -> [Listening] {
        try connection.read("reading the listenings of \(reference)") { database in try RequestsSQL.listenings(request: reference, in: database) }
    }
}

extension Catalog {
    /// At a call's end: the caller ID learnt during the call (kept when the row already has one) and
    /// the office line's own number from the configuration. No audit entry (numbers are personal
    /// data and the log is never erased); nothing is stored for discarded or failed calls.
    public func recordNumbers(_ id: RecordingID, callerNumber: String?, lineNumber: String?) throws {
        guard callerNumber != nil || lineNumber != nil else { return }
        try connection.write("recording the numbers of \(id)") { database in
            try RequestsSQL.recordNumbers(id, callerNumber: callerNumber, lineNumber: lineNumber, in: database)
        }
    }
}

/// The written notice of a refusal, plain text (the Polish document is issue 11 item 5).
public enum RefusalNotice {
    public static func text(_ request: DisclosureRequest) -> String {
        var lines = ["NOTICE OF REFUSAL — request \(request.reference)", ""]
        if let name = request.requesterName { lines.append("To: \(name)") }
        if let address = request.requesterAddress { lines.append("    \(address)") }
        if let authority = request.authority { lines.append("To: the \(authority.rawValue), case \(request.caseReference ?? "-")") }
        lines.append("")
        let what = switch request.kind {
        case .listening: "to listen to the recording of a telephone call"
        case .access: "for access to the recording of a telephone call (GDPR art. 15)"
        case .authority: "for the disclosure of recordings of telephone calls"
        case .securedCopy: "for a secured copy of the recording of a telephone call"
        }
        var call = ""
        if let time = request.callTime { call += " made on \(time)" }
        if let number = request.callNumber { call += " from \(number)" }
        lines.append("Your request of \(WarsawTime.minute(request.receivedUTC)) \(what)\(call) is refused.")
        lines.append("")
        lines.append("Reason: \(request.decisionReason ?? "-")")
        for opinion in request.opinions {
            let role = opinion.role == .dpo ? "Data protection officer" : "Head of department"
            lines.append("\(role)'s opinion (\(opinion.by), \(WarsawTime.minute(opinion.atUTC))): \(opinion.text)")
        }
        lines.append("")
        lines.append("Decided by \(request.decidedBy ?? "-") on \(request.decidedUTC.map(WarsawTime.minute) ?? "-").")
        return lines.joined(separator: "\n") + "\n"
    }
}

import Foundation

/// The kinds of request for a recording the offices' regulations know (issue 11, docs/disclosure.md).
public enum RequestKind: String, Sendable, Codable, CaseIterable {
    /// A caller asks to listen to their call (Szczecin annex form).
    case listening
    /// A caller's access request under GDPR art. 15.
    case access
    /// Police, a court or a prosecutor, with a legal basis and an approver.
    case authority
    /// A secured copy (R8) already in the copies register, linked in.
    case securedCopy = "secured-copy"

    /// The caller's own requests: granted only for recordings whose caller number was identified.
    public var isCallers: Bool { self == .listening || self == .access }
}

public enum Authority: String, Sendable, Codable, CaseIterable { case police, court, prosecutor }

/// Who may approve an authority's request (the office's head or their stand-in).
public enum Approver: String, Sendable, Codable, CaseIterable { case mayor, deputy, secretary }

public enum RequestDecision: String, Sendable, Codable { case granted, refused }

/// The opinions the regulations ask for before a decision (Szczecin §4.3, Halinów §2.3).
public enum OpinionRole: String, Sendable, Codable, CaseIterable {
    case dpo
    /// The head of the department the call concerned.
    case head
}

/// What a request says when it is registered. Personal data of the requester: kept in the register
/// only, never in the audit log (which is never erased).
public struct NewRequest: Sendable {
    public var kind: RequestKind
    public var receivedUTC: Date
    public var requesterName: String?
    public var requesterAddress: String?
    public var requesterPhone: String?
    public var requesterEmail: String?
    /// The date and time of the call as the requester gives it (free text, Warsaw time).
    public var callTime: String?
    /// The number the requester called from (caller's requests) or the number concerned.
    public var callNumber: String?
    /// What the call concerned.
    public var concerning: String?
    public var authority: Authority?
    public var legalBasis: String?
    public var approver: Approver?
    public var approverName: String?
    public var caseReference: String?
    /// For `secured-copy`: the copy's sequence number in the copies register.
    public var securedCopy: Int64?

    public init(kind: RequestKind, receivedUTC: Date) {
        self.kind = kind
        self.receivedUTC = receivedUTC
    }
}

public struct Opinion: Equatable, Sendable, Codable {
    public var role: OpinionRole
    public var text: String
    public var by: String
    public var atUTC: Date
}

/// One request in the register, with everything decided about it.
public struct DisclosureRequest: Equatable, Sendable, Codable {
    /// "RQ-2026-0001": the register's reference, numbered per Warsaw calendar year.
    public var reference: String
    public var kind: RequestKind
    public var receivedUTC: Date
    public var registeredUTC: Date
    public var registeredBy: String
    public var requesterName: String?
    public var requesterAddress: String?
    public var requesterPhone: String?
    public var requesterEmail: String?
    public var callTime: String?
    public var callNumber: String?
    public var concerning: String?
    public var authority: Authority?
    public var legalBasis: String?
    public var approver: Approver?
    public var approverName: String?
    public var caseReference: String?
    public var securedCopy: Int64?
    public var opinions: [Opinion]
    public var recordings: [RecordingID]
    public var decision: RequestDecision?
    public var decidedBy: String?
    public var decidedUTC: Date?
    public var decisionReason: String?
    /// The decision allows restricted recordings (R12) to be disclosed.
    public var includesRestricted: Bool
    /// The written notice to the requester, for a refusal.
    public var notice: String?

    public func opinion(_ role: OpinionRole) -> Opinion? { opinions.first { $0.role == role } }
}

/// A candidate recording for a request (Wałbrzych §7.5).
public struct RecordingSearch: Sendable {
    public var callerNumber: String?
    public var calledNumber: String?
    public var line: Int?
    /// The calls that started within `window` of this instant.
    public var around: Date?
    public var window: TimeInterval = 15 * 60
    /// The calls that started on this Warsaw calendar day (given as its start and end instants).
    public var day: ClosedRange<Date>?

    public init() {}
}

/// Numbers compared as digits only, so "+48 91 424 50 00" matches "48914245000".
extension PhoneNumber {
    public static func digits(_ number: String) -> String { String(number.filter(\.isASCII).filter(\.isNumber)) }

    /// Equal, or one is the other with a country prefix (a trailing match of at least 9 digits).
    public static func same(_ a: String, _ b: String) -> Bool {
        let (x, y) = (digits(a), digits(b))
        guard !x.isEmpty, !y.isEmpty else { return false }
        if x == y { return true }
        let shorter = min(x.count, y.count)
        return shorter >= 9 && x.suffix(shorter) == y.suffix(shorter)
    }
}

/// A recording chosen for an export, or why it is left out.
public struct ExportItem: Sendable, Equatable {
    public var recording: RecordingRow
    /// Relative to the data directory.
    public var filePath: String
}

public struct ExportPlan: Sendable, Equatable {
    public enum Kind: String, Sendable { case request, backup }
    public var kind: Kind
    public var request: DisclosureRequest?
    public var items: [ExportItem]
    /// Recordings the request covers that are not in the bundle, with why.
    public var excluded: [(RecordingID, String)]

    public static func == (lhs: ExportPlan, rhs: ExportPlan) -> Bool {
        lhs.kind == rhs.kind && lhs.request == rhs.request && lhs.items == rhs.items
            && lhs.excluded.map(\.0) == rhs.excluded.map(\.0) && lhs.excluded.map(\.1) == rhs.excluded.map(\.1)
    }
}

/// Who pulled an export: the SSH key that authenticated.
public struct ExportClient: Sendable, Equatable, Codable {
    /// "SHA256:…" as `ssh-keygen -lf` prints it.
    public var keyFingerprint: String
    public var keyComment: String
    /// SSH_CLIENT's address, when known.
    public var address: String?

    public init(keyFingerprint: String, keyComment: String, address: String?) {
        self.keyFingerprint = keyFingerprint
        self.keyComment = keyComment
        self.address = address
    }
}

/// A signed listening record imported back from IT's workstation.
public struct Listening: Sendable, Equatable, Codable {
    public var request: String
    public var listenedBy: String
    public var present: [String]
    public var startedUTC: Date
    public var endedUTC: Date
    public var recordings: [RecordingID]
    /// SHA-256 of the record file as imported (the same record is imported once).
    public var recordSHA256: String
    /// Fingerprint of the key that signed it.
    public var signer: String
    public var importedUTC: Date

    public init(request: String, listenedBy: String, present: [String], startedUTC: Date, endedUTC: Date, recordings: [RecordingID],
                recordSHA256: String, signer: String, importedUTC: Date) {
        (self.request, self.listenedBy, self.present, self.startedUTC, self.endedUTC) = (request, listenedBy, present, startedUTC, endedUTC)
        (self.recordings, self.recordSHA256, self.signer, self.importedUTC) = (recordings, recordSHA256, signer, importedUTC)
    }
}

public enum RequestError: Error, Equatable, Sendable, CustomStringConvertible {
    case noSuchRequest(String)
    case refused(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .noSuchRequest(let reference): "there is no request \(reference) in the register (see: skryba requests list)"
        case .refused(let reason): reason
        case .invalid(let reason): reason
        }
    }
}

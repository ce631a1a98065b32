import Foundation

/// What a technician may see of an audit entry (the console's `log`, read from the catalog or from
/// skrybad's control socket): every entry's kind, subject and who, but the details only of the
/// kinds about the appliance itself. The log never carries caller numbers; this keeps the rest
/// (recordings, rights, copies, requests) down to what a technician needs.
public struct TechnicianLogEntry: Codable, Sendable, Equatable {
    public var seq: Int64
    public var timeUTC: String
    public var kind: String
    public var subject: String?
    public var actor: String
    public var details: [String: String]

    public static let detailedKinds = Set([AuditKind.configChanged, .consoleLogin, .deviceKeyCreated, .retentionPolicyChanged,
                                           .retentionPolicyApplied, .fsckFinding, .announcementTested].map(\.rawValue))

    public init(_ entry: AuditEntry) {
        seq = entry.seq
        timeUTC = entry.timeUTC
        kind = entry.kind
        subject = entry.subject
        actor = entry.actor
        details = Self.detailedKinds.contains(entry.kind) ? (entry.decodedDetails ?? [:]).filter { $0.key != "public_key" } : [:]
    }
}

extension AuditLog {
    /// The latest `count` entries as a technician may see them, oldest first.
    public func technicianView(last count: Int) throws -> [TechnicianLogEntry] {
        try entries().suffix(count).map(TechnicianLogEntry.init)
    }
}

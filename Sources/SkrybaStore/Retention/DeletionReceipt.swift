import Foundation

/// A signed summary of what one retention run (or one erasure) deleted, appended to the audit log as
/// a `deletion-receipt` entry. The device key signs a canonical text (below) that the entry carries
/// verbatim, so a data-protection officer can check it with the pinned public key and nothing of
/// Skryba's: `DeletionReceipt.verify(entry:publicKey:)`, or OpenSSL (docs/retention.md).
///
/// The signed text, UTF-8, every line ending in "\n":
///
///     skryba-deletion-receipt/v1
///     device <fingerprint of the signing key>
///     time <the entry's time_utc>
///     items <n>
///     <subject>\t<rule>\t<deadline_utc or ->\t<deleted_utc>\t<file_sha256 or ->     (n lines, in deletion order)
///
/// Control characters in a field (an erasure reason typed with a tab) are written as spaces.
public struct DeletionReceipt: Equatable, Sendable {
    public var deviceFingerprint: String
    public var timeUTC: String
    public var items: [Item]

    public struct Item: Equatable, Sendable {
        /// "R000012" or "secured copy 3 of R000012".
        public var subject: String
        public var rule: String
        public var deadlineUTC: String?
        public var deletedUTC: String
        public var fileSHA256: String?
    }

    public static let domain = "skryba-deletion-receipt/v1"

    /// The exact text the device key signs.
    public var message: String {
        var lines = [Self.domain, "device \(deviceFingerprint)", "time \(timeUTC)", "items \(items.count)"]
        for item in items {
            lines.append([item.subject, item.rule, item.deadlineUTC ?? "-", item.deletedUTC, item.fileSHA256 ?? "-"]
                .map(Self.field).joined(separator: "\t"))
        }
        return lines.map { $0 + "\n" }.joined()
    }

    static func field(_ text: String) -> String {
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
        return cleaned.isEmpty ? "-" : cleaned
    }

    init(deviceFingerprint: String, timeUTC: String, items: [DeletedItem]) {
        self.deviceFingerprint = deviceFingerprint
        self.timeUTC = timeUTC
        self.items = items.map {
            Item(subject: $0.subject, rule: $0.rule, deadlineUTC: $0.deadlineUTC.map(UTCTimestamp.string(from:)),
                 deletedUTC: UTCTimestamp.string(from: $0.deletedUTC), fileSHA256: $0.fileSHA256)
        }
    }

    /// Parses the signed text of a `deletion-receipt` entry (without checking the signature).
    public init?(entry: AuditEntry) {
        guard entry.kind == AuditKind.deletionReceipt.rawValue, let text = entry.decodedDetails?["receipt"] else { return nil }
        self.init(message: text)
    }

    public init?(message: String) {
        guard message.hasSuffix("\n") else { return nil }
        let lines = message.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 4, lines[0] == Self.domain, lines[1].hasPrefix("device "), lines[2].hasPrefix("time "),
              lines[3].hasPrefix("items "), let count = Int(lines[3].dropFirst(6)), count == lines.count - 4 else { return nil }
        deviceFingerprint = String(lines[1].dropFirst(7))
        timeUTC = String(lines[2].dropFirst(5))
        var items: [Item] = []
        for line in lines[4...] {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 5 else { return nil }
            items.append(Item(subject: fields[0], rule: fields[1], deadlineUTC: fields[2] == "-" ? nil : fields[2],
                              deletedUTC: fields[3], fileSHA256: fields[4] == "-" ? nil : fields[4]))
        }
        self.items = items
        guard message == self.message else { return nil }  // canonical form only
    }

    /// The audit details of a receipt signed by `signer`.
    static func details(items: [DeletedItem], signer: DeviceKey, timeUTC: String) -> [String: String] {
        let receipt = DeletionReceipt(deviceFingerprint: signer.fingerprint, timeUTC: timeUTC, items: items)
        let message = receipt.message
        return ["receipt": message, "items": String(items.count), "public_key": signer.publicKeyHex,
                "fingerprint": signer.fingerprint, "signature": signer.sign(Data(message.utf8)).hex]
    }

    /// True when `entry` is a `deletion-receipt` whose text is canonical, was signed by `publicKey`
    /// (the device key IT pinned: raw 32-byte Ed25519), names that key, and carries the entry's own
    /// time. Pure: no catalog, no files. The entry's place in the chain is `AuditLog.verify`'s job.
    public static func verify(entry: AuditEntry, publicKey: Data) -> Bool {
        guard let details = entry.decodedDetails, let receipt = DeletionReceipt(entry: entry),
              let message = details["receipt"], let signatureHex = details["signature"], let signature = Data(hex: signatureHex),
              details["public_key"] == publicKey.hex, receipt.deviceFingerprint == DeviceKey.fingerprint(of: publicKey),
              receipt.timeUTC == entry.timeUTC, details["items"] == String(receipt.items.count) else { return false }
        return DeviceKey.verify(signature: signature, message: Data(message.utf8), publicKey: publicKey)
    }
}

extension Catalog {
    /// Appends a signed `deletion-receipt` for `items`; nil when there is nothing to report.
    @discardableResult
    func appendDeletionReceipt(_ items: [DeletedItem], signer: DeviceKey, actor: String, at now: Date) throws -> AuditEntry? {
        guard !items.isEmpty else { return nil }
        return try connection.write("appending a deletion receipt") { database in
            try AuditLog.append(.deletionReceipt, subject: nil,
                                details: DeletionReceipt.details(items: items, signer: signer, timeUTC: UTCTimestamp.string(from: now)),
                                actor: actor, at: now, in: database)
        }
    }
}

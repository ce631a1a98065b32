import Foundation
import SkrybaStore

// The two documents whose content the store holds today: the secured-copies register and the
// deletion receipts. Mapped here from the store's own types, read only.

extension SecuredCopiesRegister.Entry {
    public init(_ copy: SecuredCopy) {
        self.init(sequence: copy.sequence, recording: copy.recording.description, periodFrom: copy.periodFromUTC, periodTo: copy.periodToUTC,
                  callerNumber: copy.callerNumber, calledNumber: copy.calledNumber, requestReceived: copy.requestReceivedUTC,
                  made: copy.madeUTC, madeBy: copy.madeBy, expires: copy.expiresUTC, renewed: copy.renewedUTC,
                  released: copy.releasedUTC, releaseNote: copy.releaseNote, destroyed: copy.destroyedUTC,
                  destructionNote: copy.destructionNote, lateRequestOverride: copy.overrideReason)
    }
}

extension SecuredCopiesRegister {
    public init(office: Office, copies: [SecuredCopy], generated: Date) {
        self.init(office: office, entries: copies.map(Entry.init), generated: generated)
    }
}

extension DeletionReport.Receipt {
    /// A `deletion-receipt` audit entry; nil for any other entry. `pinnedPublicKey` (raw Ed25519)
    /// is the key the signature must check against; without it, the key the entry names.
    public init?(_ entry: AuditEntry, pinnedPublicKey: Data? = nil) {
        guard let receipt = DeletionReceipt(entry: entry), let time = UTCTimestamp.date(from: entry.timeUTC) else { return nil }
        let key = pinnedPublicKey ?? entry.decodedDetails?["public_key"].flatMap(DeletionReport.publicKey(hex:))
        self.init(auditSequence: entry.seq, time: time, deviceFingerprint: receipt.deviceFingerprint,
                  signatureValid: key.map { DeletionReceipt.verify(entry: entry, publicKey: $0) } ?? false,
                  items: receipt.items.map { item in
                      DeletionReport.Item(subject: item.subject, rule: item.rule, deadline: item.deadlineUTC.flatMap(UTCTimestamp.date(from:)),
                                          deleted: UTCTimestamp.date(from: item.deletedUTC) ?? time, fileSHA256: item.fileSHA256)
                  })
    }
}

extension DeletionReport {
    /// Raw bytes of a hex key; nil when it is not hex.
    public static func publicKey(hex: String) -> Data? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return Data(bytes)
    }

    /// The receipts among `entries` signed at or after `from` and before `to`.
    public init(office: Office, from: Date, to: Date, auditEntries entries: [AuditEntry], pinnedPublicKey: Data? = nil, generated: Date) {
        let receipts = entries.compactMap { DeletionReport.Receipt($0, pinnedPublicKey: pinnedPublicKey) }
            .filter { $0.time >= from && $0.time < to }
        self.init(office: office, from: from, to: to, receipts: receipts, generated: generated)
    }
}

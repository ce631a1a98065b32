import Crypto
import Foundation
import SkrybaSystem

/// Writes one sealed recording: magic line, age header wrapping a fresh random file key to the
/// organisation's recipients, nonce, then one authenticated record per `append`. The file key and
/// the record key exist only in this object's memory; nothing that could open the file is ever
/// written to disk.
///
/// Durability (DESIGN.md §4): the file is created exclusively (0600), the header is fsync'ed together
/// with the directory entry, every record is fsync'ed before `append` returns. If the header cannot
/// be made durable the file is removed again (no orphan). A failed write or fsync poisons the
/// writer (never retried): the file is cut back to the end of the last durable record, so it stays
/// a valid recording of everything before the failure, and size and SHA-256 describe that prefix.
/// Appending to a poisoned or finished writer throws; it never traps.
public final class SealedRecordingWriter {
    public let path: String
    public let recipients: [AgeRecipient]
    private let file: FileDescriptor
    private let recordKey: SymmetricKey
    private var counter: UInt64 = 0
    /// Hashes only what is durable (a record joins once it is on disk), so after a failure it
    /// already describes the file cut back to its last durable record — no copy per record.
    private var hasher = SHA256()
    /// Bytes and stream position at the end of the last record that is on disk.
    private var durable: (bytes: Int64, position: UInt64) = (0, 0)
    private let syncEachRecord: Bool
    public private(set) var bytesWritten: Int64 = 0
    public private(set) var isFinished = false
    public private(set) var failure: FileError?
    /// Called after each record is on disk (fsync'ed): records so far and the stream position reached.
    public var onDurable: ((_ records: UInt64, _ position: UInt64) -> Void)?
    /// Called before each record's fsync (tests stall storage here; nil in the appliance).
    public var beforeSync: (() -> Void)?
    /// Called once, when a write or fsync fails and poisons the writer (e.g. ENOSPC: make room).
    public var onFailure: ((FileError) -> Void)?
    /// The stream position of the last durable record (0 before the first).
    public var durablePosition: UInt64 { durable.position }

    /// - Parameter syncEachRecord: fsync after every record (the appliance); the bench may turn it
    ///   off to measure sealing alone.
    public convenience init(path: String, recipients: [AgeRecipient], syncEachRecord: Bool = true) throws {
        var nonce = [UInt8](repeating: 0, count: SealedFormat.nonceLength)
        var generator = SystemRandomNumberGenerator()
        for index in nonce.indices { nonce[index] = generator.next() }
        try self.init(path: path, recipients: recipients, syncEachRecord: syncEachRecord,
                      fileKey: SymmetricKey(size: .bits128), nonce: nonce, ephemeralSecrets: nil)
    }

    /// Fixed randomness, for the published test vectors (docs/sealed-format.md) only.
    init(path: String, recipients: [AgeRecipient], syncEachRecord: Bool, fileKey: SymmetricKey, nonce: [UInt8],
         ephemeralSecrets: [[UInt8]]?) throws {
        guard !recipients.isEmpty else { throw SealedWriterError.noRecipients }
        self.path = path
        self.recipients = recipients
        self.syncEachRecord = syncEachRecord
        recordKey = SealedFormat.recordKey(fileKey: fileKey, nonce: nonce)
        let header = try AgeHeader.seal(fileKey: fileKey, to: recipients, ephemeralSecrets: ephemeralSecrets)
        let prologue = SealedFormat.magicLine + header.encoded + nonce
        let directory = (path as NSString).deletingLastPathComponent
        file = try .open(path, .createExclusive(permissions: 0o600))
        do throws(FileError) {
            try write(prologue)
            try file.sync(path: path)
            try Directory.sync(directory)
            hasher.update(data: prologue)
        } catch {
            // EMFILE, EIO, ENOSPC after the create: take the file back, so no orphan is left behind.
            try? file.close()
            unlink(path)
            try? Directory.sync(directory)
            throw error
        }
        durable = (bytesWritten, 0)
    }

    deinit { if !isFinished { try? file.close() } }

    /// Seals `plaintext` as the next record. `position` is the stream position reached at the end
    /// of this record (for Ogg Opus: the granule position) — readable without the key, authenticated.
    public func append(_ plaintext: UnsafeRawBufferPointer, position: UInt64, final: Bool) throws {
        if let failure { throw failure }
        guard !isFinished else { throw SealedWriterError.closed(path: path) }
        let flags = final ? SealedFormat.finalFlag : 0
        let header = SealedFormat.authenticatedHeader(ciphertextLength: plaintext.count + SealedFormat.tagLength, flags: flags, position: position)
        let box = try ChaChaPoly.seal(plaintext, using: recordKey, nonce: SealedFormat.recordNonce(counter: counter, final: final),
                                      authenticating: header)
        var frame = header
        frame.reserveCapacity(SealedFormat.frameHeaderLength + plaintext.count + SealedFormat.tagLength)
        var crc = CRC32C.update(0, header)
        crc = CRC32C.update(crc, box.ciphertext)
        crc = CRC32C.update(crc, box.tag)
        appendLE(crc, &frame)
        frame += box.ciphertext
        frame += box.tag
        do throws(FileError) {
            try write(frame)
            if syncEachRecord || final {
                beforeSync?()
                try file.sync(path: path)
            }
        } catch {
            poison(error)
            throw error
        }
        hasher.update(data: frame)
        durable = (bytesWritten, position)
        counter += 1
        if syncEachRecord || final { onDurable?(counter, position) }
        if final {
            isFinished = true
            try file.close(path: path)
        }
    }

    public func append(_ plaintext: [UInt8], position: UInt64, final: Bool) throws {
        try plaintext.withUnsafeBytes { try append($0, position: position, final: final) }
    }

    /// Hex SHA-256 of the file up to its last durable record (the catalog's fingerprint of the sealed file).
    public var sha256: String { hasher.finalize().map { String(format: "%02x", $0) }.joined() }

    /// Records written so far.
    public var records: UInt64 { counter }

    private func write(_ bytes: [UInt8]) throws(FileError) {
        try file.writeAll(bytes, path: path)
        bytesWritten += Int64(bytes.count)
    }

    /// Cuts a partly written (or not durably written) record off, so the file ends with the last
    /// durable record, and stops the writer. Truncating needs no free space.
    private func poison(_ error: FileError) {
        failure = error
        try? file.truncateDurably(to: durable.bytes, path: path)
        bytesWritten = durable.bytes
        isFinished = true
        try? file.close()
        onFailure?(error)
    }

    /// Closes without a final record: what a crash leaves behind, on purpose (tests, abandoned calls).
    public func abandon() {
        guard !isFinished else { return }
        isFinished = true
        try? file.close()
    }
}

public enum SealedWriterError: Error, CustomStringConvertible {
    case noRecipients
    /// A record was offered after the recording was finished or abandoned.
    case closed(path: String)
    public var description: String {
        switch self {
        case .noRecipients:
            "no age recipient is configured: Skryba refuses to record without a key to seal to (add recipients = [\"age1…\"] from age-keygen)"
        case .closed(let path):
            "\(path): the recording is already closed; nothing more can be added to it"
        }
    }
}

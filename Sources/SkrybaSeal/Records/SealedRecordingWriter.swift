import Crypto
import Foundation
import SkrybaSystem

/// Writes one sealed recording: magic line, age header wrapping a fresh random file key to the
/// organisation's recipients, nonce, then one authenticated record per `append`. The file key and
/// the record key exist only in this object's memory; nothing that could open the file is ever
/// written to disk.
///
/// Durability (DESIGN.md §4): the file is created exclusively, the header is fsync'ed together with
/// the directory entry, every record is fsync'ed before `append` returns. A failed write or fsync
/// poisons the writer (never retried); the caller records the recording as interrupted.
public final class SealedRecordingWriter {
    public let path: String
    public let recipients: [AgeRecipient]
    private let file: FileDescriptor
    private let recordKey: SymmetricKey
    private var counter: UInt64 = 0
    private var hasher = SHA256()
    private let syncEachRecord: Bool
    public private(set) var bytesWritten: Int64 = 0
    public private(set) var isFinished = false
    public private(set) var failure: FileError?
    /// Called after each record is on disk (fsync'ed): records so far and the stream position reached.
    public var onDurable: ((_ records: UInt64, _ position: UInt64) -> Void)?

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
        file = try .open(path, .createExclusive(permissions: 0o640))
        do {
            try write(prologue)
            try file.sync()
            try Directory.sync((path as NSString).deletingLastPathComponent)
        } catch {
            try? file.close()
            throw error
        }
    }

    deinit { if !isFinished { try? file.close() } }

    /// Seals `plaintext` as the next record. `position` is the stream position reached at the end
    /// of this record (for Ogg Opus: the granule position) — readable without the key, authenticated.
    public func append(_ plaintext: UnsafeRawBufferPointer, position: UInt64, final: Bool) throws {
        precondition(!isFinished, "the recording was already finished")
        if let failure { throw failure }
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
            if syncEachRecord || final { try file.sync() }
        } catch {
            failure = error
            throw error
        }
        counter += 1
        if syncEachRecord || final { onDurable?(counter, position) }
        if final {
            isFinished = true
            try file.close()
        }
    }

    public func append(_ plaintext: [UInt8], position: UInt64, final: Bool) throws {
        try plaintext.withUnsafeBytes { try append($0, position: position, final: final) }
    }

    /// Hex SHA-256 of every byte written so far (the catalog's fingerprint of the sealed file).
    public var sha256: String { hasher.finalize().map { String(format: "%02x", $0) }.joined() }

    /// Records written so far.
    public var records: UInt64 { counter }

    private func write(_ bytes: [UInt8]) throws(FileError) {
        try file.writeAll(bytes)
        hasher.update(data: bytes)
        bytesWritten += Int64(bytes.count)
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
    public var description: String {
        "no age recipient is configured: Skryba refuses to record without a key to seal to (add recipients = [\"age1…\"] from age-keygen)"
    }
}

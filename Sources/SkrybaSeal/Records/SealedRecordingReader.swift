import Crypto
import Foundation

/// One record as found on disk, without the key.
public struct SealedRecordFrame: Equatable, Sendable {
    public var index: Int
    /// Byte offset of the frame header in the file.
    public var offset: Int
    public var ciphertextLength: Int
    public var isFinal: Bool
    /// Stream position at the end of the record (Ogg granule, 48 kHz samples incl. pre-skip).
    public var position: UInt64
    public var end: Int { offset + SealedFormat.frameHeaderLength + ciphertextLength }
}

/// What follows the last whole record.
public enum SealedTail: Equatable, Sendable {
    /// The last record is final and the file ends with it: cleanly closed.
    case closed
    /// The file ends after a whole, non-final record: the writer stopped (crash, power loss) between records.
    case interrupted
    /// Bytes after the last whole record that do not form a whole record: a torn write. Recovery
    /// truncates at `offset` (the end of the last whole record).
    case torn(offset: Int, reason: String)
    /// A record in the middle fails its CRC while later bytes remain: corruption, not a torn tail.
    /// Recovery leaves such a file alone.
    case corrupted(offset: Int, reason: String)
    /// Bytes after the final record.
    case trailingData(offset: Int)
}

/// The structure of a sealed recording, read without any key (recovery runs on the appliance,
/// which holds none).
public struct SealedFileLayout: Equatable, Sendable {
    public var header: AgeHeader
    /// Where the nonce starts (after magic line and age header).
    public var nonceOffset: Int
    public var records: [SealedRecordFrame]
    public var tail: SealedTail
    /// Bytes up to the end of the last whole record.
    public var validLength: Int { records.last?.end ?? (nonceOffset + SealedFormat.nonceLength) }
    /// The stream position the surviving records reach.
    public var position: UInt64 { records.last?.position ?? 0 }
}

public enum SealedRecordingReader {
    /// Parses the prologue and walks the records by their CRC32C; never needs the key.
    public static func scan(_ bytes: [UInt8]) throws(SealedFormatError) -> SealedFileLayout {
        let magic = SealedFormat.magicLine
        guard bytes.count >= magic.count, bytes.starts(with: magic) else {
            if bytes.starts(with: Array("age-encryption.org/".utf8)) { throw .standardAgeFile }
            throw .notSealed
        }
        let parsed: (header: AgeHeader, length: Int)
        do { parsed = try AgeHeader.parse(bytes[magic.count...]) } catch { throw .header(error) }
        let nonceOffset = magic.count + parsed.length
        guard bytes.count >= nonceOffset + SealedFormat.nonceLength else {
            throw .prologueTruncated(have: bytes.count, need: nonceOffset + SealedFormat.nonceLength)
        }
        var records: [SealedRecordFrame] = []
        var offset = nonceOffset + SealedFormat.nonceLength
        var tail = SealedTail.interrupted
        let all = bytes[...]
        while offset < bytes.count {
            if let final = records.last, final.isFinal {
                tail = .trailingData(offset: offset)
                break
            }
            let index = records.count
            guard bytes.count - offset >= SealedFormat.frameHeaderLength else {
                tail = .torn(offset: offset, reason: "record \(index) at byte \(offset): the file ends inside its header")
                break
            }
            let length = Int(readLE(UInt32.self, all, at: offset))
            let flags = bytes[offset + 4]
            let position = readLE(UInt64.self, all, at: offset + 5)
            let storedCRC = readLE(UInt32.self, all, at: offset + 13)
            let end = offset + SealedFormat.frameHeaderLength + length
            let plausible = length >= SealedFormat.tagLength && length <= SealedFormat.maximumCiphertextLength && flags & ~SealedFormat.finalFlag == 0
            if !plausible || end > bytes.count {
                // A torn append leaves exactly this at the end of the file; anything else is damage.
                let reason = !plausible
                    ? "record \(index) at byte \(offset): its header is damaged (length \(length), flags 0x\(String(flags, radix: 16)))"
                    : "record \(index) at byte \(offset): the file ends inside it (\(bytes.count - offset) of \(end - offset) bytes)"
                tail = classify(bytes, damagedAt: offset, reason: reason)
                break
            }
            var crc = CRC32C.update(0, bytes[offset..<offset + SealedFormat.authenticatedHeaderLength])
            crc = CRC32C.update(crc, bytes[(offset + SealedFormat.frameHeaderLength)..<end])
            guard crc == storedCRC else {
                let reason = "record \(index) at byte \(offset): CRC32C mismatch (stored 0x\(String(storedCRC, radix: 16)), computed 0x\(String(crc, radix: 16)))"
                tail = classify(bytes, damagedAt: offset, reason: reason)
                break
            }
            records.append(SealedRecordFrame(index: index, offset: offset, ciphertextLength: length,
                                             isFinal: flags & SealedFormat.finalFlag != 0, position: position))
            offset = end
        }
        if case .interrupted = tail, let last = records.last, last.isFinal { tail = .closed }
        return SealedFileLayout(header: parsed.header, nonceOffset: nonceOffset, records: records, tail: tail)
    }

    /// A torn append leaves nothing valid after it; damage in the middle does. Recovery truncates
    /// only the former, so a flipped bit never costs the records behind it.
    static func classify(_ bytes: [UInt8], damagedAt offset: Int, reason: String) -> SealedTail {
        let all = bytes[...]
        var candidate = offset + 1
        while candidate + SealedFormat.frameHeaderLength <= bytes.count {
            defer { candidate += 1 }
            let flags = bytes[candidate + 4]
            guard flags & ~SealedFormat.finalFlag == 0 else { continue }
            let length = Int(readLE(UInt32.self, all, at: candidate))
            let end = candidate + SealedFormat.frameHeaderLength + length
            guard length >= SealedFormat.tagLength, length <= SealedFormat.maximumCiphertextLength, end <= bytes.count else { continue }
            var crc = CRC32C.update(0, bytes[candidate..<candidate + SealedFormat.authenticatedHeaderLength])
            crc = CRC32C.update(crc, bytes[(candidate + SealedFormat.frameHeaderLength)..<end])
            if crc == readLE(UInt32.self, all, at: candidate + 13) { return .corrupted(offset: offset, reason: reason) }
        }
        return .torn(offset: offset, reason: reason)
    }

    /// The result of opening a sealed recording with IT's identity.
    public struct Opened: Sendable {
        public var layout: SealedFileLayout
        /// The concatenated plaintext of every record that verified, in order (never more).
        public var plaintext: [UInt8]
        public var verifiedRecords: Int
        /// Nil when every record verified and the final record is present.
        public var problem: SealedFormatError?
    }

    /// Unwraps the file key with `identities`, then authenticates and decrypts record after record,
    /// stopping at the first that fails. Only verified plaintext is returned.
    public static func open(_ bytes: [UInt8], identities: [AgeIdentity]) throws(SealedFormatError) -> Opened {
        let layout = try scan(bytes)
        let fileKey: SymmetricKey
        do { fileKey = try layout.header.unwrap(with: identities) } catch { throw .header(error) }
        let key = SealedFormat.recordKey(fileKey: fileKey, nonce: Array(bytes[layout.nonceOffset..<layout.nonceOffset + SealedFormat.nonceLength]))
        var plaintext: [UInt8] = []
        var previousPosition: UInt64 = 0
        for record in layout.records {
            let headerStart = record.offset
            let body = headerStart + SealedFormat.frameHeaderLength
            let aad = bytes[headerStart..<headerStart + SealedFormat.authenticatedHeaderLength]
            guard let box = try? ChaChaPoly.SealedBox(nonce: SealedFormat.recordNonce(counter: UInt64(record.index), final: record.isFinal),
                                                      ciphertext: bytes[body..<record.end - SealedFormat.tagLength],
                                                      tag: bytes[record.end - SealedFormat.tagLength..<record.end]),
                  let opened = try? ChaChaPoly.open(box, using: key, authenticating: aad) else {
                return Opened(layout: layout, plaintext: plaintext, verifiedRecords: record.index,
                              problem: .authenticationFailed(record: record.index, offset: record.offset))
            }
            guard record.position >= previousPosition else {
                return Opened(layout: layout, plaintext: plaintext, verifiedRecords: record.index,
                              problem: .positionDecreases(record: record.index, offset: record.offset))
            }
            previousPosition = record.position
            plaintext += opened
        }
        let problem: SealedFormatError? = switch layout.tail {
        case .closed: nil
        case .interrupted: .noFinalRecord(records: layout.records.count)
        case .torn(_, let reason), .corrupted(_, let reason): .damagedRecord(reason)
        case .trailingData(let offset): .trailingData(offset: offset)
        }
        return Opened(layout: layout, plaintext: plaintext, verifiedRecords: layout.records.count, problem: problem)
    }
}

public enum SealedFormatError: Error, Equatable, CustomStringConvertible {
    case notSealed
    case standardAgeFile
    case header(AgeHeaderError)
    case prologueTruncated(have: Int, need: Int)
    case authenticationFailed(record: Int, offset: Int)
    case positionDecreases(record: Int, offset: Int)
    case noFinalRecord(records: Int)
    case damagedRecord(String)
    case trailingData(offset: Int)

    public var description: String {
        switch self {
        case .notSealed: "not a Skryba sealed recording (the first line is not 'skryba-sealed-recording/v1')"
        case .standardAgeFile: "this is a standard age file, not a sealed recording"
        case .header(let error): "\(error)"
        case .prologueTruncated(let have, let need): "the file is cut short inside its header (\(have) of at least \(need) bytes)"
        case .authenticationFailed(let record, let offset):
            "record \(record) at byte \(offset) fails authentication: it was altered, moved, or belongs to another recording"
        case .positionDecreases(let record, let offset): "record \(record) at byte \(offset): its stream position goes backwards"
        case .noFinalRecord(let records):
            "no final record after \(records) record(s): the recording was interrupted (power loss or crash) or truncated"
        case .damagedRecord(let reason): reason
        case .trailingData(let offset): "unexpected bytes after the final record, from byte \(offset)"
        }
    }
}

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
        let (header, nonceOffset) = try prologue(bytes)
        var records: [SealedRecordFrame] = []
        var offset = nonceOffset + SealedFormat.nonceLength
        var tail = SealedTail.interrupted
        while offset < bytes.count {
            if let final = records.last, final.isFinal {
                tail = .trailingData(offset: offset)
                break
            }
            let index = records.count
            switch frame(in: bytes, at: offset, index: index) {
            case .whole(let record):
                records.append(record)
                offset = record.end
                continue
            case .headerCut(let reason):
                tail = .torn(offset: offset, reason: reason)
            case .damaged(let reason, _):
                // A torn append leaves exactly this at the end of the file; anything else is damage.
                tail = classify(bytes, damagedAt: offset, reason: reason)
            }
            break
        }
        if case .interrupted = tail, let last = records.last, last.isFinal { tail = .closed }
        return SealedFileLayout(header: header, nonceOffset: nonceOffset, records: records, tail: tail)
    }

    /// Magic line and age header; returns the header and where the nonce starts.
    static func prologue(_ bytes: [UInt8]) throws(SealedFormatError) -> (header: AgeHeader, nonceOffset: Int) {
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
        return (parsed.header, nonceOffset)
    }

    enum FrameCheck {
        case whole(SealedRecordFrame)
        /// Fewer bytes than a frame header remain.
        case headerCut(String)
        /// Implausible header, cut short, or CRC mismatch; `claimedEnd` when the header is plausible
        /// and the whole claimed frame lies in the file (only its CRC fails).
        case damaged(String, claimedEnd: Int?)
    }

    /// The frame at `offset`, checked by its CRC32C alone.
    static func frame(in bytes: [UInt8], at offset: Int, index: Int) -> FrameCheck {
        guard bytes.count - offset >= SealedFormat.frameHeaderLength else {
            return .headerCut("record \(index) at byte \(offset): the file ends inside its header")
        }
        let all = bytes[...]
        let length = Int(readLE(UInt32.self, all, at: offset))
        let flags = bytes[offset + 4]
        let position = readLE(UInt64.self, all, at: offset + 5)
        let storedCRC = readLE(UInt32.self, all, at: offset + 13)
        let end = offset + SealedFormat.frameHeaderLength + length
        let plausible = length >= SealedFormat.tagLength && length <= SealedFormat.maximumCiphertextLength && flags & ~SealedFormat.finalFlag == 0
        guard plausible else {
            return .damaged("record \(index) at byte \(offset): its header is damaged (length \(length), flags 0x\(String(flags, radix: 16)))",
                            claimedEnd: nil)
        }
        guard end <= bytes.count else {
            return .damaged("record \(index) at byte \(offset): the file ends inside it (\(bytes.count - offset) of \(end - offset) bytes)",
                            claimedEnd: nil)
        }
        var crc = CRC32C.update(0, bytes[offset..<offset + SealedFormat.authenticatedHeaderLength])
        crc = CRC32C.update(crc, bytes[(offset + SealedFormat.frameHeaderLength)..<end])
        guard crc == storedCRC else {
            return .damaged("record \(index) at byte \(offset): CRC32C mismatch (stored 0x\(String(storedCRC, radix: 16)), computed 0x\(String(crc, radix: 16)))",
                            claimedEnd: end)
        }
        return .whole(SealedRecordFrame(index: index, offset: offset, ciphertextLength: length,
                                        isFinal: flags & SealedFormat.finalFlag != 0, position: position))
    }

    /// A torn append leaves nothing valid after it; damage in the middle does. Recovery truncates
    /// only the former, so a flipped bit never costs the records behind it. Linear in the file size.
    static func classify(_ bytes: [UInt8], damagedAt offset: Int, reason: String) -> SealedTail {
        var work = 0
        return FrameSearch.firstWholeFrame(in: bytes, after: offset, work: &work) == nil
            ? .torn(offset: offset, reason: reason) : .corrupted(offset: offset, reason: reason)
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
        let key = try recordKey(header: layout.header, nonceOffset: layout.nonceOffset, identities: identities, bytes: bytes)
        var plaintext: [UInt8] = []
        var previousPosition: UInt64 = 0
        for record in layout.records {
            guard let opened = decrypt(record, counter: UInt64(record.index), key: key, in: bytes) else {
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

extension SealedRecordingReader {
    static func recordKey(header: AgeHeader, nonceOffset: Int, identities: [AgeIdentity], bytes: [UInt8]) throws(SealedFormatError) -> SymmetricKey {
        let fileKey: SymmetricKey
        do { fileKey = try header.unwrap(with: identities) } catch { throw .header(error) }
        return SealedFormat.recordKey(fileKey: fileKey, nonce: Array(bytes[nonceOffset..<nonceOffset + SealedFormat.nonceLength]))
    }

    /// The plaintext of `record` if it authenticates as the record numbered `counter`.
    static func decrypt(_ record: SealedRecordFrame, counter: UInt64, key: SymmetricKey, in bytes: [UInt8]) -> [UInt8]? {
        let body = record.offset + SealedFormat.frameHeaderLength
        let aad = bytes[record.offset..<record.offset + SealedFormat.authenticatedHeaderLength]
        guard let box = try? ChaChaPoly.SealedBox(nonce: SealedFormat.recordNonce(counter: counter, final: record.isFinal),
                                                  ciphertext: bytes[body..<record.end - SealedFormat.tagLength],
                                                  tag: bytes[record.end - SealedFormat.tagLength..<record.end]),
              let opened = try? ChaChaPoly.open(box, using: key, authenticating: aad) else { return nil }
        return Array(opened)
    }

    /// What salvage kept and what it could not.
    public struct Salvaged: Sendable {
        public struct Record: Sendable, Equatable {
            /// The record's number in the file (its nonce counter), as authenticated.
            public var index: Int
            public var offset: Int
            /// Stream position at the end of the record (authenticated).
            public var position: UInt64
            public var isFinal: Bool
            public var plaintext: [UInt8]
        }

        /// Bytes of the file that hold no authentic record, between two kept records (or the file's ends).
        public struct Hole: Sendable, Equatable {
            /// Record numbers lost: from `firstIndex` up to `lastIndex` (nil when the damage hides how
            /// many records the bytes held, e.g. a record's length field was hit).
            public var firstIndex: Int
            public var lastIndex: Int?
            public var offset: Int
            public var endOffset: Int
            /// Stream position at the end of the last record kept before the hole (0 at the start).
            public var positionBefore: UInt64
            /// Why the first record of the hole could not be kept.
            public var reason: String
            /// True when the hole runs to the end of the file (the recording's end is lost or cut).
            public var reachesEnd: Bool
        }

        public var records: [Record]
        public var holes: [Hole]
        /// The last kept record is final: the recording's end survived.
        public var hasFinalRecord: Bool { records.last?.isFinal ?? false }
    }

    /// Keyed salvage: keeps every record that authenticates, in order, and skips damaged ones instead
    /// of stopping at the first. After a damaged record whose length is intact the walk goes on at
    /// its end; otherwise it resynchronises on the next whole frame (FrameSearch, linear) and finds
    /// its number by authentication. Nothing that does not authenticate is ever returned.
    public static func salvage(_ bytes: [UInt8], identities: [AgeIdentity]) throws(SealedFormatError) -> Salvaged {
        let (header, nonceOffset) = try prologue(bytes)
        let key = try recordKey(header: header, nonceOffset: nonceOffset, identities: identities, bytes: bytes)
        let minimumFrame = SealedFormat.frameHeaderLength + SealedFormat.tagLength
        var result = Salvaged(records: [], holes: [])
        var offset = nonceOffset + SealedFormat.nonceLength
        var counter = 0  // the number the record at `offset` has if nothing was lost before it
        var hole: Salvaged.Hole?
        var countUnknown = false
        var triesLeft = 1 << 12
        func openHole(_ reason: String, at offset: Int) {
            guard hole == nil else { return }
            hole = Salvaged.Hole(firstIndex: counter, lastIndex: nil, offset: offset, endOffset: offset,
                                 positionBefore: result.records.last?.position ?? 0, reason: reason, reachesEnd: false)
        }
        func closeHole(at end: Int, nextIndex: Int) {
            guard var closing = hole else { return }
            closing.endOffset = end
            closing.lastIndex = nextIndex - 1
            result.holes.append(closing)
            hole = nil
            countUnknown = false
        }
        while offset < bytes.count, !result.hasFinalRecord {
            switch frame(in: bytes, at: offset, index: counter) {
            case .whole(let record):
                // After a resync the records lost in between are unknown in number: each took at
                // least a header and a tag, which bounds the numbers to try. A hostile file of
                // CRC-valid frames that never authenticate exhausts a fixed budget, not the machine.
                let bound = countUnknown ? max(1, (offset - (hole?.offset ?? offset)) / minimumFrame) : 0
                let tries = min(bound, 64, triesLeft)
                triesLeft -= tries
                var kept = false
                for number in counter...(counter + tries) {
                    guard let plaintext = decrypt(record, counter: UInt64(number), key: key, in: bytes) else { continue }
                    closeHole(at: offset, nextIndex: number)
                    result.records.append(Salvaged.Record(index: number, offset: offset, position: record.position,
                                                          isFinal: record.isFinal, plaintext: plaintext))
                    counter = number + 1
                    kept = true
                    break
                }
                if !kept {
                    openHole("record \(counter) at byte \(offset) fails authentication: it was altered, moved, or belongs to another recording",
                             at: offset)
                    if !countUnknown { counter += 1 }
                }
                offset = record.end
            case .headerCut(let reason):
                openHole(reason, at: offset)
                offset = bytes.count
            case .damaged(let reason, let claimedEnd):
                openHole(reason, at: offset)
                // Only the CRC failed and a whole frame (or the end of the file) follows: one record lost.
                if let claimedEnd, claimedEnd == bytes.count || Self.isWholeFrame(bytes, at: claimedEnd) {
                    if !countUnknown { counter += 1 }
                    offset = claimedEnd
                    continue
                }
                var work = 0
                guard let next = FrameSearch.firstWholeFrame(in: bytes, after: offset, work: &work) else {
                    offset = bytes.count
                    break
                }
                if !countUnknown { counter += 1 }
                countUnknown = true
                offset = next.offset
            }
        }
        if var last = hole {
            last.endOffset = bytes.count
            last.reachesEnd = true
            result.holes.append(last)
        } else if offset < bytes.count {
            // Bytes after the final record.
            result.holes.append(Salvaged.Hole(firstIndex: counter, lastIndex: nil, offset: offset, endOffset: bytes.count,
                                              positionBefore: result.records.last?.position ?? 0,
                                              reason: "unexpected bytes after the final record, from byte \(offset)", reachesEnd: true))
        }
        return result
    }

    static func isWholeFrame(_ bytes: [UInt8], at offset: Int) -> Bool {
        if case .whole = frame(in: bytes, at: offset, index: 0) { return true }
        return false
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

import Crypto
import Foundation
import Testing
@testable import SkrybaSeal
import SkrybaOpus
import SkrybaPipeline
import SkrybaSystem

/// Sealed recordings: written by the real encoder path, opened only with IT's identity, and every
/// kind of damage named precisely with no plaintext beyond what verified.
@Suite struct SealedRecordingTests {
    static let identity = AgeIdentity()

    /// Encodes the fixture speech through LineEncoder → SealedSink; returns the file's bytes and the
    /// plain Ogg Opus the same encoder settings give (for comparison).
    func sealSpeech(name: String, packetsPerPage: Int = 50) throws -> (path: String, bytes: [UInt8]) {
        let directory = try makeTemporaryDirectory(prefix: "skryba-sealed")
        let path = "\(directory)/\(name).skryba"
        let writer = try SealedRecordingWriter(path: path, recipients: [Self.identity.recipient])
        let encoder = try LineEncoder(sampleRate: 8000, settings: OpusSettings(), sink: SealedSink(writer: writer), serialNumber: 7,
                                      metadata: .init([("SKRYBA_LINE", "1")]), packetsPerPage: packetsPerPage)
        try ALSAFixture.shared.speech[0].withUnsafeBufferPointer { try encoder.consume($0) }
        try encoder.finish()
        #expect(writer.isFinished)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(writer.bytesWritten == Int64(bytes.count))
        #expect(writer.sha256 == SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
        return (path, bytes)
    }

    @Test func aSealedRecordingOpensToTheExactOggOpusStream() throws {
        let (path, bytes) = try sealSpeech(name: "roundtrip")
        let layout = try SealedRecordingReader.scan(bytes)
        #expect(layout.tail == .closed)
        let speechSeconds = Double(ALSAFixture.shared.speech[0].count) / 8000
        // One record per second of audio (plus the header record), the last one final.
        #expect(layout.records.count == Int(speechSeconds.rounded(.up)) + 1)
        #expect(layout.records.dropLast().allSatisfy { !$0.isFinal } && layout.records.last!.isFinal)
        // Without a key, recovery knows how far the audio reaches: the final granule.
        #expect(layout.position == 312 + UInt64(ALSAFixture.shared.speech[0].count) * 6)

        let opened = try SealedRecordingReader.open(bytes, identities: [Self.identity])
        #expect(opened.problem == nil)
        try Data(opened.plaintext).write(to: URL(fileURLWithPath: path + ".opus"))
        let decoded = try Tool.opusdec(path + ".opus")
        #expect(decoded.count == ALSAFixture.shared.speech[0].count)
        #expect(try Tool.run("opusinfo", [path + ".opus"]).status == 0)
    }

    @Test func nothingInTheFileRevealsTheAudio() throws {
        let (_, bytes) = try sealSpeech(name: "opaque")
        // Neither the Ogg capture pattern nor the Opus headers appear anywhere in the sealed file.
        for marker in ["OggS", "OpusHead", "OpusTags", "SKRYBA_LINE"] {
            #expect(bytes.firstRange(of: Array(marker.utf8)) == nil, "\(marker) is visible")
        }
    }

    @Test func noRecipientMeansNoRecording() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-norecipient")
        let error = #expect(throws: SealedWriterError.self) { try SealedRecordingWriter(path: "\(directory)/x.skryba", recipients: []) }
        #expect(error?.description.hasPrefix("no age recipient is configured: Skryba refuses to record") == true)
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/x.skryba"))
    }

    @Test func aWrongIdentityOpensNothing() throws {
        let (_, bytes) = try sealSpeech(name: "wrongkey")
        let stranger = AgeIdentity()
        #expect(throws: SealedFormatError.header(.noMatchingIdentity(stanzas: 1, identities: [stranger.recipient.description]))) {
            try SealedRecordingReader.open(bytes, identities: [stranger])
        }
    }

    @Test func aFlippedHeaderBitBreaksTheMAC() throws {
        let (_, bytes) = try sealSpeech(name: "header")
        var damaged = bytes
        // Inside the stanza body line (base64): change one character to another valid one.
        let stanzaLine = damaged.firstRange(of: Array("-> X25519 ".utf8))!.upperBound
        damaged[stanzaLine + 2] = damaged[stanzaLine + 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: SealedFormatError.self) { try SealedRecordingReader.open(damaged, identities: [Self.identity]) }
        // A change to the MAC line itself.
        var macDamaged = bytes
        let mac = macDamaged.firstRange(of: Array("--- ".utf8))!.upperBound
        macDamaged[mac + 5] = macDamaged[mac + 5] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: SealedFormatError.header(.macMismatch)) { try SealedRecordingReader.open(macDamaged, identities: [Self.identity]) }
    }

    @Test func aFlippedRecordBitIsFoundByCRCAndNothingBeyondIsDecrypted() throws {
        let (_, bytes) = try sealSpeech(name: "record")
        let layout = try SealedRecordingReader.scan(bytes)
        let victim = layout.records[3]
        var damaged = bytes
        damaged[victim.offset + SealedFormat.frameHeaderLength + 10] ^= 0x01
        let scanned = try SealedRecordingReader.scan(damaged)
        #expect(scanned.records.count == 3)
        guard case .corrupted(let offset, let reason) = scanned.tail else { Issue.record("expected corruption, got \(scanned.tail)"); return }
        #expect(offset == victim.offset)
        #expect(reason.hasPrefix("record 3 at byte \(victim.offset): CRC32C mismatch"))
        let opened = try SealedRecordingReader.open(damaged, identities: [Self.identity])
        let good = try SealedRecordingReader.open(bytes, identities: [Self.identity])
        #expect(opened.verifiedRecords == 3)
        #expect(opened.problem == .damagedRecord(reason))
        let verifiedLength = try plaintextLength(of: bytes, records: 3)
        #expect(opened.plaintext == Array(good.plaintext[0..<verifiedLength]), "exactly the verified records, nothing more")
    }

    @Test func aRecordAlteredWithAFixedCRCFailsAuthentication() throws {
        let (_, bytes) = try sealSpeech(name: "forged")
        let layout = try SealedRecordingReader.scan(bytes)
        let victim = layout.records[2]
        var damaged = bytes
        damaged[victim.offset + SealedFormat.frameHeaderLength + 4] ^= 0x80
        // An attacker recomputes the CRC so the file looks whole without a key.
        var crc = CRC32C.update(0, damaged[victim.offset..<victim.offset + 13])
        crc = CRC32C.update(crc, damaged[(victim.offset + 17)..<victim.end])
        withUnsafeBytes(of: crc.littleEndian) { for (index, byte) in $0.enumerated() { damaged[victim.offset + 13 + index] = byte } }
        #expect(try SealedRecordingReader.scan(damaged).tail == .closed)
        let opened = try SealedRecordingReader.open(damaged, identities: [Self.identity])
        #expect(opened.problem == .authenticationFailed(record: 2, offset: victim.offset))
        #expect(opened.verifiedRecords == 2)
        #expect(opened.plaintext.count == (try plaintextLength(of: bytes, records: 2)))
    }

    @Test func aDamagedCRCFieldIsNamed() throws {
        let (_, bytes) = try sealSpeech(name: "crcfield")
        let victim = try SealedRecordingReader.scan(bytes).records[1]
        var damaged = bytes
        damaged[victim.offset + 13] ^= 0xFF
        let scanned = try SealedRecordingReader.scan(damaged)
        guard case .corrupted(let offset, let reason) = scanned.tail else { Issue.record("\(scanned.tail)"); return }
        #expect(offset == victim.offset && reason.contains("CRC32C mismatch"))
    }

    @Test func aTruncatedFinalRecordIsATornTailAndTheRestOpens() throws {
        let (_, bytes) = try sealSpeech(name: "truncated")
        let layout = try SealedRecordingReader.scan(bytes)
        let final = layout.records.last!
        let cut = Array(bytes[0..<final.end - 5])
        let scanned = try SealedRecordingReader.scan(cut)
        #expect(scanned.tail == .torn(offset: final.offset,
                                      reason: "record \(final.index) at byte \(final.offset): the file ends inside it (\(final.end - 5 - final.offset) of \(final.end - final.offset) bytes)"))
        let opened = try SealedRecordingReader.open(cut, identities: [Self.identity])
        #expect(opened.verifiedRecords == final.index)
        // Cut exactly at a record boundary: whole records, no final one.
        let clean = Array(bytes[0..<final.offset])
        #expect(try SealedRecordingReader.scan(clean).tail == .interrupted)
        #expect(try SealedRecordingReader.open(clean, identities: [Self.identity]).problem == .noFinalRecord(records: final.index))
    }

    @Test func swappedRecordsFailAuthenticationAtTheFirstMovedOne() throws {
        let (_, bytes) = try sealSpeech(name: "reordered")
        let records = try SealedRecordingReader.scan(bytes).records
        let (first, second) = (records[1], records[2])
        let reordered = Array(bytes[0..<first.offset]) + bytes[second.offset..<second.end] + bytes[first.offset..<first.end] + bytes[second.end...]
        let opened = try SealedRecordingReader.open(reordered, identities: [Self.identity])
        #expect(opened.problem == .authenticationFailed(record: 1, offset: first.offset))
        #expect(opened.verifiedRecords == 1)
    }

    @Test func aNonSealedFileIsRecognised() throws {
        #expect(throws: SealedFormatError.notSealed) { try SealedRecordingReader.scan(Array("OggS....".utf8)) }
        let age = try AgePayload.encryptFile([1], to: [Self.identity.recipient])
        #expect(throws: SealedFormatError.standardAgeFile) { try SealedRecordingReader.scan(age) }
    }

    /// Plaintext bytes in the first `records` records of an intact file.
    func plaintextLength(of bytes: [UInt8], records: Int) throws -> Int {
        try SealedRecordingReader.scan(bytes).records.prefix(records).reduce(0) { $0 + $1.ciphertextLength - SealedFormat.tagLength }
    }
}

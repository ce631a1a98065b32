import Crypto
import Foundation
import Testing
@testable import SkrybaSeal
import SkrybaSystem

/// The keyless scanner and keyed salvage on damaged sealed files: bounded, seeded cases that must
/// neither crash nor hang, where the torn-tail / mid-file-damage classification must match a
/// direct (quadratic) reference, and salvage must return only authentic records.
@Suite struct SealedScannerFuzzTests {

    static let identity = AgeIdentity()

    struct Base {
        var bytes: [UInt8]
        var plaintexts: [[UInt8]]
        var records: [SealedRecordFrame]
    }

    /// A sealed file of `count` records with fixed randomness.
    static func base(_ number: Int, records count: Int, random: inout SplitMix64, final: Bool) throws -> Base {
        let directory = try makeTemporaryDirectory(prefix: "skryba-fuzz")
        let path = "\(directory)/\(number).skryba"
        let writer = try SealedRecordingWriter(path: path, recipients: [identity.recipient], syncEachRecord: false,
                                               fileKey: SymmetricKey(data: random.bytes(16)), nonce: random.bytes(16),
                                               ephemeralSecrets: [random.bytes(32)])
        var plaintexts: [[UInt8]] = []
        for index in 0..<count {
            let plaintext = random.bytes(random.below(400))
            plaintexts.append(plaintext)
            try writer.append(plaintext, position: UInt64(960 * (index + 1)), final: final && index == count - 1)
        }
        if !(final) { writer.abandon() }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        return Base(bytes: bytes, plaintexts: plaintexts, records: try SealedRecordingReader.scan(bytes).records)
    }

    /// The definition, checked directly at every offset: is there a whole frame after `offset`?
    static func referenceHasWholeFrame(_ bytes: [UInt8], after offset: Int) -> Bool {
        var candidate = offset + 1
        while candidate + SealedFormat.frameHeaderLength <= bytes.count {
            defer { candidate += 1 }
            if case .whole = SealedRecordingReader.frame(in: bytes, at: candidate, index: 0) { return true }
        }
        return false
    }

    /// Scans `bytes` and checks the classification against the reference; salvages and checks that
    /// every kept record is the original one.
    static func check(_ bytes: [UInt8], base: Base, salvage: Bool, _ comment: Comment) throws {
        guard let layout = try? SealedRecordingReader.scan(bytes) else { return }  // a damaged prologue is refused, not a crash
        switch layout.tail {
        case .torn(let offset, _):
            #expect(!referenceHasWholeFrame(bytes, after: offset), comment)
        case .corrupted(let offset, _):
            #expect(referenceHasWholeFrame(bytes, after: offset), comment)
        default:
            break
        }
        guard salvage, let salvaged = try? SealedRecordingReader.salvage(bytes, identities: [identity]) else { return }
        #expect(zip(salvaged.records, salvaged.records.dropFirst()).allSatisfy { $0.index < $1.index }, comment)
        for record in salvaged.records {
            #expect(record.index < base.plaintexts.count && record.plaintext == base.plaintexts[record.index], comment)
        }
    }

    @Test func randomDamageNeverCrashesAndIsClassifiedAsDefined() throws {
        var random = SplitMix64(seed: 0x5EA1_ED00_0008)
        var bases: [Base] = []
        for number in 0..<6 { bases.append(try Self.base(number, records: 3 + random.below(10), random: &random, final: number % 3 != 2)) }
        var cases = 0
        for round in 0..<1800 {
            let base = bases[round % bases.count]
            var bytes = base.bytes
            let recordsStart = base.records[0].offset
            switch random.below(6) {
            case 0:  // truncation anywhere
                bytes = Array(bytes.prefix(random.below(bytes.count + 1)))
            case 1:  // bit flips after the prologue
                for _ in 0...random.below(3) { bytes[recordsStart + random.below(bytes.count - recordsStart)] ^= 1 << UInt8(random.below(8)) }
            case 2:  // a range overwritten with noise or zeros
                let start = recordsStart + random.below(bytes.count - recordsStart)
                let length = min(bytes.count - start, 1 + random.below(64))
                let fill = random.below(2) == 0 ? random.bytes(length) : [UInt8](repeating: 0, count: length)
                bytes.replaceSubrange(start..<start + length, with: fill)
            case 3:  // bytes inserted
                bytes.insert(contentsOf: random.bytes(1 + random.below(40)), at: recordsStart + random.below(bytes.count - recordsStart + 1))
            case 4:  // garbage appended
                bytes += random.bytes(1 + random.below(300))
            default:  // a real record's header copied somewhere else: plausible headers where none belong
                let record = base.records[random.below(base.records.count)]
                let header = Array(bytes[record.offset..<record.offset + SealedFormat.frameHeaderLength])
                let at = recordsStart + random.below(bytes.count - recordsStart - SealedFormat.frameHeaderLength)
                bytes.replaceSubrange(at..<at + header.count, with: header)
            }
            try Self.check(bytes, base: base, salvage: round % 3 == 0, "round \(round)")
            cases += 1
        }
        #expect(cases == 1800)
    }

    @Test func oneFlippedBitIsMidFileDamageAndSalvageKeepsEverythingElse() throws {
        var random = SplitMix64(seed: 17)
        let base = try Self.base(0, records: 8, random: &random, final: true)
        for round in 0..<400 {
            let victim = base.records[random.below(base.records.count)]
            var bytes = base.bytes
            let at = victim.offset + random.below(victim.end - victim.offset)
            bytes[at] ^= 1 << UInt8(random.below(8))
            let layout = try SealedRecordingReader.scan(bytes)
            #expect(layout.records == Array(base.records.prefix(victim.index)), "round \(round)")
            switch layout.tail {
            case .corrupted(let offset, _):
                #expect(offset == victim.offset && victim.index < base.records.count - 1, "round \(round)")
            case .torn(let offset, _):
                #expect(offset == victim.offset && victim.index == base.records.count - 1, "the last record has nothing after it: round \(round)")
            default:
                Issue.record("round \(round): byte \(at) of record \(victim.index): \(layout.tail)")
            }
            let salvaged = try SealedRecordingReader.salvage(bytes, identities: [Self.identity])
            #expect(salvaged.records.map(\.index) == Array(0..<base.records.count).filter { $0 != victim.index }, "round \(round), byte \(at)")
            #expect(salvaged.records.allSatisfy { $0.plaintext == base.plaintexts[$0.index] })
            #expect(salvaged.holes.count == 1 && salvaged.holes.first?.firstIndex == victim.index && salvaged.holes.first?.offset == victim.offset,
                    "round \(round): \(salvaged.holes)")
        }
    }

    @Test func truncationIsNeverMistakenForMidFileDamage() throws {
        var random = SplitMix64(seed: 99)
        let base = try Self.base(0, records: 10, random: &random, final: true)
        for length in stride(from: base.records[0].offset, through: base.bytes.count, by: 7) {
            let layout = try SealedRecordingReader.scan(Array(base.bytes.prefix(length)))
            #expect(layout.records == base.records.filter { $0.end <= length }, "length \(length)")
            if case .corrupted = layout.tail { Issue.record("length \(length): \(layout.tail)") }
        }
    }

    /// A file full of plausible headers: every fourth offset claims a frame of 64 KiB, the next one a
    /// frame of 256 bytes. Checking each candidate's CRC directly touches about 1 GiB here (n²/16);
    /// the search touches each byte once plus 13 per candidate header.
    @Test func theKeylessSearchIsLinearOnAdversarialInput() throws {
        var random = SplitMix64(seed: 4)
        let base = try Self.base(0, records: 1, random: &random, final: false)
        let start = base.records[0].offset
        var bytes = Array(base.bytes[0..<start])
        let size = 128 << 10
        while bytes.count < start + size { bytes += [0x00, 0x00, 0x01, 0x00] }
        var work = 0
        #expect(FrameSearch.firstWholeFrame(in: bytes, after: start, work: &work) == nil)
        #expect(work <= 14 * (bytes.count - start), "\(work) bytes of checksum work for \(bytes.count - start) bytes")
        let layout = try SealedRecordingReader.scan(bytes)
        guard case .torn(let offset, _) = layout.tail else { Issue.record("\(layout.tail)"); return }
        #expect(offset == start)
    }

    @Test func theSearchFindsARealFrameAmongPlausibleOnes() throws {
        var random = SplitMix64(seed: 5)
        let base = try Self.base(0, records: 4, random: &random, final: true)
        let victim = base.records[1]
        // Record 1's header destroyed: the next whole frame is record 2, found by its end.
        var bytes = base.bytes
        for index in victim.offset..<victim.offset + 5 { bytes[index] = 0xFF }
        var work = 0
        let found = FrameSearch.firstWholeFrame(in: bytes, after: victim.offset, work: &work)
        #expect(found == FrameSearch.Found(offset: base.records[2].offset, end: base.records[2].end))
        #expect(work <= 14 * (base.records[2].end - victim.offset))
    }

    /// Frames with valid CRCs that never authenticate (anyone can compute a CRC) after a damaged
    /// header: salvage tries a bounded number of record numbers and keeps only authentic records.
    @Test func salvageOfForgedFramesStaysBounded() throws {
        var random = SplitMix64(seed: 6)
        let base = try Self.base(0, records: 3, random: &random, final: true)
        var bytes = Array(base.bytes[0..<base.records[1].offset]) + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        for index in 0..<2000 {
            let ciphertext = random.bytes(SealedFormat.tagLength + random.below(16))
            var frame = SealedFormat.authenticatedHeader(ciphertextLength: ciphertext.count, flags: 0, position: UInt64(index))
            let crc = CRC32C.update(CRC32C.update(0, frame), ciphertext)
            withUnsafeBytes(of: crc.littleEndian) { frame += $0 }
            bytes += frame + ciphertext
        }
        bytes += base.bytes[base.records[2].offset...]
        let salvaged = try SealedRecordingReader.salvage(bytes, identities: [Self.identity])
        #expect(salvaged.records.map(\.index) == [0, 2], "\(salvaged.records.map(\.index))")
        #expect(salvaged.holes.count == 1 && salvaged.holes.first?.firstIndex == 1 && salvaged.holes.first?.lastIndex == 1)
        #expect(salvaged.records.allSatisfy { $0.plaintext == base.plaintexts[$0.index] })
    }
}

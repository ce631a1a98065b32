import Foundation
import Testing
import SkrybaOpus
import SkrybaPipeline
import SkrybaSystem
@testable import SkrybaSeal

/// `skryba-tools` as IT runs it, with keys from stock `age-keygen` and files checked by stock `age`.
@Suite struct ITToolsTests {
    struct Setup {
        let directory: String
        let key: String
        let recipient: String
        let sealed: String
    }

    /// An organisation key from age-keygen and one sealed recording of the fixture speech.
    func setUp(_ name: String, speechRepeats: Int = 1) throws -> Setup {
        let directory = try makeTemporaryDirectory(prefix: "skryba-it-\(name)")
        let key = "\(directory)/org.key"
        #expect(try Tool.run("age-keygen", ["-o", key]).status == 0)
        let recipient = try Tool.run("age-keygen", ["-y", key]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let sealed = "\(directory)/R000001.skryba"
        let writer = try SealedRecordingWriter(path: sealed, recipients: [try AgeRecipient(parsing: recipient)])
        let encoder = try LineEncoder(sampleRate: 8000, settings: OpusSettings(), sink: SealedSink(writer: writer), serialNumber: 1,
                                      metadata: .init([("SKRYBA_LINE", "1")]))
        for _ in 0..<speechRepeats { try ALSAFixture.shared.speech[1].withUnsafeBufferPointer { try encoder.consume($0) } }
        try encoder.finish()
        return Setup(directory: directory, key: key, recipient: recipient, sealed: sealed)
    }

    let tools = Tool.product("skryba-tools")
    /// Header record plus one record per started second of the fixture speech.
    var records: Int { Int((Double(ALSAFixture.shared.speech[1].count) / 8000).rounded(.up)) + 1 }

    @Test func decryptGivesAStandardOpusFile() throws {
        let setup = try setUp("decrypt")
        let result = try Tool.run(tools, ["decrypt", "--identity", setup.key, setup.sealed, "-o", "\(setup.directory)/out.opus"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("sealed recording, \(records) of \(records) record(s) verified; wrote"))
        #expect(try Tool.opusdec("\(setup.directory)/out.opus").count == ALSAFixture.shared.speech[1].count)
    }

    @Test func toAgeOutputOpensWithStockAge() throws {
        let setup = try setUp("toage")
        let converted = try Tool.run(tools, ["to-age", "--identity", setup.key, "--recipient", setup.recipient, setup.sealed,
                                             "-o", "\(setup.directory)/out.age"])
        #expect(converted.status == 0, "\(converted.output)")
        let opened = try Tool.run("age", ["-d", "-i", setup.key, "-o", "\(setup.directory)/via-age.opus", "\(setup.directory)/out.age"])
        #expect(opened.status == 0, "\(opened.output)")
        _ = try Tool.run(tools, ["decrypt", "--identity", setup.key, setup.sealed, "-o", "\(setup.directory)/direct.opus"])
        #expect(FileManager.default.contents(atPath: "\(setup.directory)/via-age.opus") == FileManager.default.contents(atPath: "\(setup.directory)/direct.opus"))
    }

    @Test func anAgeFileFromStockAgeOpens() throws {
        let setup = try setUp("agein")
        let plain = "\(setup.directory)/note.txt"
        try Data("Protokół odsłuchu nr 7".utf8).write(to: URL(fileURLWithPath: plain))
        #expect(try Tool.run("age", ["-r", setup.recipient, "-o", "\(plain).age", plain]).status == 0)
        let result = try Tool.run(tools, ["decrypt", "--identity", setup.key, "\(plain).age", "-o", "\(setup.directory)/back.txt"])
        #expect(result.status == 0, "\(result.output)")
        #expect(FileManager.default.contents(atPath: "\(setup.directory)/back.txt") == Data("Protokół odsłuchu nr 7".utf8))
    }

    @Test func verifyReportsIntactDamagedAndInterruptedFiles() throws {
        let setup = try setUp("verify")
        let keyless = try Tool.run(tools, ["verify", setup.sealed])
        #expect(keyless.status == 0)
        #expect(keyless.output.contains("1 recipient stanza(s), \(records) whole record(s), audio reaches"))
        #expect(keyless.output.contains("OK: every record's CRC32C matches and the last record is final"))
        let keyed = try Tool.run(tools, ["verify", "--identity", setup.key, setup.sealed])
        #expect(keyed.status == 0 && keyed.output.contains("OK: header MAC, every record's CRC32C and authentication tag"))

        var bytes = [UInt8](FileManager.default.contents(atPath: setup.sealed)!)
        let layout = try SealedRecordingReader.scan(bytes)
        // Interrupted: cut at the start of the final record.
        try Data(bytes[0..<layout.records.last!.offset]).write(to: URL(fileURLWithPath: "\(setup.directory)/cut.skryba"))
        let cut = try Tool.run(tools, ["verify", "\(setup.directory)/cut.skryba"])
        #expect(cut.status == 3)
        #expect(cut.output.contains("INTERRUPTED: no final record after record \(records - 2)"))
        let cutDecrypt = try Tool.run(tools, ["decrypt", "--identity", setup.key, "\(setup.directory)/cut.skryba", "-o", "\(setup.directory)/cut.opus"])
        #expect(cutDecrypt.status == 3)
        #expect(cutDecrypt.output.contains("no final record after \(records - 1) record(s): the recording was interrupted"))
        // The surviving whole seconds play (Ogg without an EOS page is still playable).
        #expect(try Tool.opusdec("\(setup.directory)/cut.opus").count >= 8000 * (records - 2) - 320)

        // Damaged: one flipped bit in record 2.
        bytes[layout.records[2].offset + 30] ^= 0x04
        try Data(bytes).write(to: URL(fileURLWithPath: "\(setup.directory)/bad.skryba"))
        let bad = try Tool.run(tools, ["verify", "\(setup.directory)/bad.skryba"])
        #expect(bad.status == 1)
        #expect(bad.output.contains("FAILED: record 2 at byte \(layout.records[2].offset): CRC32C mismatch"))
    }

    @Test func aWrongKeyIsRefusedAndWritesNothing() throws {
        let setup = try setUp("wrongkey")
        let other = "\(setup.directory)/other.key"
        _ = try Tool.run("age-keygen", ["-o", other])
        let result = try Tool.run(tools, ["decrypt", "--identity", other, setup.sealed, "-o", "\(setup.directory)/nothing.opus"])
        #expect(result.status == 1)
        #expect(result.output.contains("none of the 1 recipient stanza(s) opens with the given identity"))
        #expect(!FileManager.default.fileExists(atPath: "\(setup.directory)/nothing.opus"))
    }

    // MARK: - Output safety (issue 8 item 16)

    func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? nil
    }

    @Test func decryptNeverWritesOntoTheInputOrAnotherSealedFile() throws {
        let setup = try setUp("ontoinput")
        let original = FileManager.default.contents(atPath: setup.sealed)
        let other = try setUp("othersealed")
        let symlink = "\(setup.directory)/link.opus", hardlink = "\(setup.directory)/hard.opus"
        try FileManager.default.createSymbolicLink(atPath: symlink, withDestinationPath: setup.sealed)
        try FileManager.default.linkItem(atPath: setup.sealed, toPath: hardlink)
        for target in [setup.sealed, symlink, hardlink, "\(setup.directory)/./R000001.skryba"] {
            let result = try Tool.run(tools, ["decrypt", "--identity", setup.key, setup.sealed, "-o", target])
            #expect(result.status == 1, "\(target)")
            #expect(result.output.contains("\(target) is the input file \(setup.sealed) itself (the same file, perhaps through a link): "
                                           + "writing there would destroy the sealed recording; give another output file"), "\(result.output)")
        }
        let onto = try Tool.run(tools, ["decrypt", "--identity", setup.key, setup.sealed, "-o", other.sealed])
        #expect(onto.status == 1)
        #expect(onto.output.contains("\(other.sealed) is a sealed recording: refusing to overwrite it; give another output file"), "\(onto.output)")
        let salvageLink = "\(setup.directory)/s.salvaged.opus"
        try FileManager.default.createSymbolicLink(atPath: salvageLink, withDestinationPath: setup.sealed)
        let salvage = try Tool.run(tools, ["decrypt", "--salvage", "--identity", setup.key, setup.sealed, "-o", salvageLink])
        #expect(salvage.status == 1 && salvage.output.contains("is the input file"), "\(salvage.output)")
        #expect(FileManager.default.contents(atPath: setup.sealed) == original, "the sealed recording is untouched")
        #expect(FileManager.default.contents(atPath: other.sealed).map { $0.starts(with: Array("skryba-sealed-recording/v1".utf8)) } == true)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: symlink) == setup.sealed)
    }

    @Test func decryptedFilesAreOwnerOnly() throws {
        let setup = try setUp("mode")
        let fresh = "\(setup.directory)/fresh.opus", existing = "\(setup.directory)/existing.opus"
        FileManager.default.createFile(atPath: existing, contents: Data("old".utf8), attributes: [.posixPermissions: 0o644])
        for output in [fresh, existing] {
            let result = try Tool.run(tools, ["decrypt", "--identity", setup.key, setup.sealed, "-o", output])
            #expect(result.status == 0, "\(result.output)")
            #expect(mode(output) == 0o600, "\(output)")
            #expect(try Tool.opusdec(output).count == ALSAFixture.shared.speech[1].count)
        }
        let converted = try Tool.run(tools, ["to-age", "--identity", setup.key, "--recipient", setup.recipient, setup.sealed, "-o", "\(setup.directory)/out.age"])
        #expect(converted.status == 0 && mode("\(setup.directory)/out.age") == 0o600, "\(converted.output)")
        // No temporary file is left beside the outputs.
        let left = try FileManager.default.contentsOfDirectory(atPath: setup.directory).filter { $0.hasSuffix(".partial") }
        #expect(left.isEmpty, "\(left)")
    }

    // MARK: - Salvage (issue 8 item 17)

    /// Flips one bit of record `k` at `byteInRecord` (from its header start), salvages, and checks
    /// output, report and the plain decrypt's refusal.
    func salvageAfterDamage(_ name: String, record k: Int, byteInRecord: (SealedRecordFrame) -> Int) throws {
        let setup = try setUp(name, speechRepeats: 3)
        var bytes = [UInt8](FileManager.default.contents(atPath: setup.sealed)!)
        let layout = try SealedRecordingReader.scan(bytes)
        let records = layout.records.count
        #expect(k < records - 1, "a record in the middle")
        let victim = layout.records[k]
        bytes[victim.offset + byteInRecord(victim)] ^= 0x10
        let damaged = "\(setup.directory)/damaged.skryba"
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))

        let plain = try Tool.run(tools, ["decrypt", "--identity", setup.key, damaged, "-o", "\(setup.directory)/plain.opus"])
        #expect(plain.status == 1, "the plain decrypt still refuses: \(plain.output)")
        #expect(try Tool.opusdec("\(setup.directory)/plain.opus").count < 8000 * k, "only the verified beginning")

        let result = try Tool.run(tools, ["decrypt", "--salvage", "--identity", setup.key, damaged, "-o", "\(setup.directory)/out.opus"])
        #expect(result.status == 1, "holes are damage: \(result.output)")
        let opus = "\(setup.directory)/out.salvaged.opus", reportPath = "\(setup.directory)/out.salvaged.txt"
        #expect(!FileManager.default.fileExists(atPath: "\(setup.directory)/out.opus"), "the output is marked as salvaged by its name")
        #expect(mode(opus) == 0o600 && mode(reportPath) == 0o600)
        let report = String(decoding: FileManager.default.contents(atPath: reportPath) ?? Data(), as: UTF8.self)
        #expect(result.output.contains(report.trimmingCharacters(in: .newlines)), "the report is also printed")
        #expect(report.contains("Kept \(records - 1) record(s) of at least \(records); every kept record authenticated"), "\(report)")
        #expect(report.contains("Hole 1: record \(k), bytes \(victim.offset) to \(victim.end) of the sealed file, could not be kept (record \(k) at byte \(victim.offset): "),
                "\(report)")
        // Record k held the audio between record k − 1's position and its own (pre-skip 312 at 8 kHz).
        let start = String(format: "%.3f s", Double(layout.records[k - 1].position - 312) / 48000)
        let end = String(format: "%.3f s", Double(layout.records[k].position - 312) / 48000)
        #expect(report.contains("The audio from \(start) to \(end) of the recording (granule positions \(layout.records[k - 1].position) to "
                                + "\(layout.records[k].position)) is missing (1.000 s); in the salvaged file the audio after the hole follows directly"),
                "\(report)")
        #expect(report.contains("The recording's final record is present"))
        #expect(!report.contains("Hole 2"))

        // A playable Ogg Opus stream: every page checks, and the audio before and after the hole decodes.
        // opusinfo reads the whole stream and names the gap (its exit status is 1 for any warning).
        let info = try Tool.run("opusinfo", [opus]).output
        #expect(info.contains("WARNING: sequence number gap in stream 1. Got page \(k + 2) when expecting page \(k + 1). Indicates missing data."),
                "\(info)")
        #expect(info.contains("Logical stream 1 ended") && !info.contains("ERROR"), "\(info)")
        let inspect = try Tool.run(tools, ["inspect", opus])
        #expect(inspect.status == 0, "\(inspect.output)")
        let whole = try Tool.opusdec("\(setup.directory)/plain.opus")
        let salvaged = try Tool.opusdec(opus)
        let total = 3 * ALSAFixture.shared.speech[1].count
        #expect(abs(salvaged.count - (total - 8000)) <= 960, "one second lost of \(total) samples: \(salvaged.count)")
        // The seconds before the hole are the same samples as in the plain decrypt's verified part.
        #expect(Array(salvaged.prefix(whole.count - 960)) == Array(whole.prefix(whole.count - 960)))
    }

    @Test func salvageKeepsEveryRecordAroundACorruptedOne() throws {
        // A bit in record 3's ciphertext: its length is intact, the walk goes on at its end.
        try salvageAfterDamage("salvage-body", record: 3) { $0.ciphertextLength / 2 + SealedFormat.frameHeaderLength }
    }

    @Test func salvageResynchronisesAfterADamagedLengthField() throws {
        // A bit in record 3's length field: the next record is found by the keyless search.
        try salvageAfterDamage("salvage-length", record: 3) { _ in 2 }
    }

    @Test func salvageOfAnInterruptedFileKeepsItsRecords() throws {
        let setup = try setUp("salvage-cut")
        let bytes = [UInt8](FileManager.default.contents(atPath: setup.sealed)!)
        let cut = "\(setup.directory)/cut.skryba"
        try Data(bytes[0..<(try SealedRecordingReader.scan(bytes)).records.last!.offset]).write(to: URL(fileURLWithPath: cut))
        let result = try Tool.run(tools, ["decrypt", "--salvage", "--identity", setup.key, cut, "-o", "\(setup.directory)/cut.opus"])
        #expect(result.status == 3, "\(result.output)")
        #expect(result.output.contains("No record was damaged.") && result.output.contains("There is no final record"), "\(result.output)")
        #expect(try Tool.opusdec("\(setup.directory)/cut.salvaged.opus").count >= 8000 * (records - 2) - 320)
    }

    @Test func salvageOfAWholeFileSaysSo() throws {
        let setup = try setUp("salvage-whole")
        let result = try Tool.run(tools, ["decrypt", "--salvage", "--identity", setup.key, setup.sealed, "-o", "\(setup.directory)/w.salvaged.opus"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("Nothing was missing: the recording is whole."))
        #expect(FileManager.default.contents(atPath: "\(setup.directory)/w.salvaged.opus")
                == (try { () throws -> Data? in
                    _ = try Tool.run(tools, ["decrypt", "--identity", setup.key, setup.sealed, "-o", "\(setup.directory)/w.opus"])
                    return FileManager.default.contents(atPath: "\(setup.directory)/w.opus")
                }()))
    }
}


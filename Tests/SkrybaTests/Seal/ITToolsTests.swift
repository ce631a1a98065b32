import Foundation
import Testing
import SkrybaOpus
import SkrybaPipeline
import SkrybaSystem
import SkrybaSeal

/// `skryba-tools` as IT runs it, with keys from stock `age-keygen` and files checked by stock `age`.
@Suite struct ITToolsTests {
    struct Setup {
        let directory: String
        let key: String
        let recipient: String
        let sealed: String
    }

    /// An organisation key from age-keygen and one sealed recording of the fixture speech.
    func setUp(_ name: String) throws -> Setup {
        let directory = try makeTemporaryDirectory(prefix: "skryba-it-\(name)")
        let key = "\(directory)/org.key"
        #expect(try Tool.run("age-keygen", ["-o", key]).status == 0)
        let recipient = try Tool.run("age-keygen", ["-y", key]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let sealed = "\(directory)/R000001.skryba"
        let writer = try SealedRecordingWriter(path: sealed, recipients: [try AgeRecipient(parsing: recipient)])
        let encoder = try LineEncoder(sampleRate: 8000, settings: OpusSettings(), sink: SealedSink(writer: writer), serialNumber: 1,
                                      metadata: .init([("SKRYBA_LINE", "1")]))
        try ALSAFixture.shared.speech[1].withUnsafeBufferPointer { try encoder.consume($0) }
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
}

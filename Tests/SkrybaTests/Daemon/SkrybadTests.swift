import Crypto
import Foundation
import Testing
import SkrybaPipeline
import SkrybaSystem
import SkrybaSeal
import SkrybaStore

/// `skrybad` as the appliance runs it, on real alsa-lib file PCMs.
@Suite struct SkrybadTests {
    @Test func withoutARecipientItRefusesToRecordAndSaysWhy() throws {
        _ = ALSAFixture.shared
        let directory = try makeTemporaryDirectory(prefix: "skryba-nokey")
        let result = try Tool.run(Tool.product("skrybad"), ["--capture", "skryba_test_speech2", "--channels", "2",
                                                            "--data-dir", directory, "--stop-at-frame", "8000"])
        #expect(result.status == 2)
        #expect(result.output.contains("skrybad: ALARM: no age recipient is configured: Skryba refuses to record without a key to seal to"))
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/recordings"))
    }

    @Test func aRunLeavesCatalogRowsThatMatchTheSealedFilesAndASignedAuditLog() throws {
        let fixture = ALSAFixture.shared
        let directory = try makeTemporaryDirectory(prefix: "skryba-daemon")
        let identity = AgeIdentity()
        let frames = fixture.speech.map(\.count).max()!
        let result = try Tool.run(Tool.product("skrybad"), ["--capture", "skryba_test_speech2", "--channels", "2", "--data-dir", directory,
                                                            "--recipient", identity.recipient.description, "--pacing", "simulation",
                                                            "--stop-at-frame", "\(frames)"])
        #expect(result.status == 0, "\(result.output)")

        var status = stat()
        #expect(stat("\(directory)/\(DataLayout.deviceKey)", &status) == 0)
        #expect(status.st_mode & 0o777 == 0o600, "the device key is private")

        let catalog = try Catalog(dataDirectory: directory)
        let rows = try catalog.recordings()
        #expect(rows.map(\.line) == [1, 2])
        for (index, row) in rows.enumerated() {
            #expect(row.status == .complete && row.direction == .line)
            #expect(row.endFrame == UInt64(frames) && row.durationMs == Int64(frames) * 1000 / 8000)
            #expect(row.recipients == [identity.recipient.description])
            let bytes = [UInt8](FileManager.default.contents(atPath: "\(directory)/\(row.filePath!)")!)
            #expect(row.fileSize == Int64(bytes.count))
            #expect(row.fileSHA256 == SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
            let opened = try SealedRecordingReader.open(bytes, identities: [identity])
            #expect(opened.problem == nil)
            try Data(opened.plaintext).write(to: URL(fileURLWithPath: "\(directory)/\(index).opus"))
            let decoded = try Tool.opusdec("\(directory)/\(index).opus")
            #expect(decoded.count == frames)
            #expect(Signal.bestCorrelation(fixture.speech[index], decoded).correlation > 0.85)
        }
        let kinds = try catalog.audit.entries().map(\.kind)
        // The two lines finish on their own worker threads, in either order.
        #expect(kinds.first == "device-key-created" && kinds.last == "checkpoint")
        #expect(kinds.dropFirst().dropLast().sorted() == ["recording-finished", "recording-finished", "recording-started", "recording-started"])
        let verified = try Tool.run(Tool.product("skryba"), ["audit", "verify", "--data-dir", directory])
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("chain intact"))
    }

    @Test func theFlushIntervalSetsHowMuchAudioEachDurableRecordHolds() throws {
        let fixture = ALSAFixture.shared
        let directory = try makeTemporaryDirectory(prefix: "skryba-flush")
        let frames = fixture.speech.map(\.count).max()!
        let common = ["--capture", "skryba_test_speech2", "--channels", "2", "--lines", "1", "--data-dir", directory,
                      "--recipient", AgeIdentity().recipient.description, "--pacing", "simulation", "--stop-at-frame", "\(frames)"]
        let refused = try Tool.run(Tool.product("skrybad"), common + ["--flush-interval-ms", "30"])
        #expect(refused.status != 0)
        #expect(refused.output.contains("--flush-interval-ms must be a multiple of 20 between 20 and 5000, not 30"))

        #expect(try Tool.run(Tool.product("skrybad"), common + ["--flush-interval-ms", "200"]).status == 0)
        let row = try Catalog(dataDirectory: directory).recordings().first!
        let layout = try SealedRecordingReader.scan([UInt8](FileManager.default.contents(atPath: "\(directory)/\(row.filePath!)")!))
        // 20 ms packets covering the audio plus the encoder's 52-sample lookahead; 10 per record, plus the header record.
        let packets = (frames + 52 + 159) / 160
        #expect(layout.records.count == 1 + (packets + 9) / 10)
        #expect(zip(layout.records.dropFirst(), layout.records.dropFirst(2)).allSatisfy { $1.position - $0.position <= 10 * 960 })
    }
}

import Crypto
import Foundation
import Testing
import SkrybaPipeline
import SkrybaSeal
import SkrybaStore
import SkrybaSystem

/// Power loss simulated at the byte level: a recording's file is cut at random offsets (what a
/// power cut does to writes that were not yet fsync'ed), sometimes followed by zeros (a filesystem
/// that extended the size but not the data). After `Fsck`, every older recording is untouched and
/// the cut one opens up to the last whole record before the cut — at most one flush interval lost.
@Suite struct TornWriteTests {
    static let identity = AgeIdentity()

    struct Written {
        var id: RecordingID
        var path: String
        /// (end offset, position) of each record.
        var records: [(end: Int, position: UInt64)]
    }

    /// A catalogued recording of `seconds` one-second records, left in status `recording` unless finished.
    func record(_ catalog: Catalog, dataDirectory: String, seconds: Int, finish: Bool) throws -> Written {
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        let id = try catalog.insert(NewRecording(line: 1, direction: .line, startUTC: start, startFrame: 0,
                                                 recipients: [Self.identity.recipient.description]), at: start)
        let relative = DataLayout.recordingPath(id, startUTC: start)
        let path = "\(dataDirectory)/\(relative)"
        try Directory.create((path as NSString).deletingLastPathComponent)
        let writer = try SealedRecordingWriter(path: path, recipients: [Self.identity.recipient])
        try catalog.setFile(id, relativePath: relative, at: start)
        var records: [(end: Int, position: UInt64)] = []
        for second in 0..<seconds {
            let final = finish && second == seconds - 1
            try writer.append((0..<2000).map { UInt8(truncatingIfNeeded: $0 &+ second) }, position: UInt64(second + 1) * 48000, final: final)
            records.append((Int(writer.bytesWritten), UInt64(second + 1) * 48000))
        }
        if finish {
            try catalog.finish(id, status: .complete, endFrame: UInt64(seconds) * 8000, durationMs: Int64(seconds) * 1000, fileSize: writer.bytesWritten,
                               fileSHA256: writer.sha256, reason: nil, at: start)
        } else {
            writer.abandon()
        }
        return Written(id: id, path: path, records: records)
    }

    func sha256(_ path: String) -> String {
        SHA256.hash(data: FileManager.default.contents(atPath: path)!).map { String(format: "%02x", $0) }.joined()
    }

    @Test(arguments: 0..<3)
    func cutsAtRandomOffsetsLoseAtMostTheTornRecord(seed: Int) throws {
        var generator = SplitMix64(seed: UInt64(seed))
        for round in 0..<12 {
            let directory = try makeTemporaryDirectory(prefix: "skryba-torn")
            let catalog = try Catalog(dataDirectory: directory)
            let older = try record(catalog, dataDirectory: directory, seconds: 3, finish: true)
            let olderHash = sha256(older.path)
            let cut = try record(catalog, dataDirectory: directory, seconds: 6, finish: false)
            let full = [UInt8](FileManager.default.contents(atPath: cut.path)!)
            // Anywhere from inside the first record to the end of the file.
            let offset = Int.random(in: (cut.records[0].end - 1900)...full.count, using: &generator)
            var torn = Array(full[0..<offset])
            if round % 3 == 0 { torn += [UInt8](repeating: 0, count: Int.random(in: 1...5000, using: &generator)) }
            try Data(torn).write(to: URL(fileURLWithPath: cut.path))

            let report = try Fsck.run(dataDirectory: directory, catalog: catalog, at: Date())
            let survivors = cut.records.filter { $0.end <= offset }
            let expectedLength = survivors.last?.end ?? (cut.records[0].end - (2000 + 16 + 17))
            let after = [UInt8](FileManager.default.contents(atPath: cut.path)!)
            #expect(after.count == expectedLength, "seed \(seed) round \(round): cut at \(offset)")
            #expect(sha256(older.path) == olderHash, "the older recording is untouched")
            let row = try catalog.recording(cut.id)!
            #expect(row.status == .interrupted)
            #expect(row.fileSize == Int64(expectedLength))
            #expect(row.fileSHA256 == sha256(cut.path))
            #expect(report.findings.map(\.subject) == ["\(cut.id)"])

            let opened = try SealedRecordingReader.open(after, identities: [Self.identity])
            #expect(opened.verifiedRecords == survivors.count)
            #expect(opened.problem == .noFinalRecord(records: survivors.count))
            #expect(opened.layout.position == (survivors.last?.position ?? 0))
            // A second run finds nothing more to do.
            #expect(try Fsck.run(dataDirectory: directory, catalog: catalog, at: Date()).findings.isEmpty)
            #expect(try catalog.audit.verify().isIntact)
        }
    }
}

import Crypto
import Foundation
import Testing
import SkrybaPipeline
import SkrybaSystem
import SkrybaSeal
import SkrybaStore

/// The real daemon killed with SIGKILL at random points, many times over one data directory. The
/// daemon reports each record it has fsync'ed; after every kill `skryba fsck` runs, and then every
/// older recording must be exactly as it was, and each cut recording must open at least up to the
/// last record the daemon reported durable — nothing older than one flush interval is lost.
@Suite struct KillTests {
    struct Durable: Decodable { var durable: String; var records: UInt64; var position: UInt64 }

    @Test func sigkillAtRandomPointsNeverCostsDurableAudio() throws {
        let fixture = ALSAFixture.shared
        let directory = try makeTemporaryDirectory(prefix: "skryba-kill")
        let identity = AgeIdentity()
        let frames = fixture.speech.map(\.count).max()!
        let arguments = ["--capture", "skryba_test_speech2", "--channels", "2", "--data-dir", directory,
                         "--recipient", identity.recipient.description, "--pacing", "simulation", "--speed", "8",
                         "--stop-at-frame", "\(frames)", "--progress"]
        var generator = SplitMix64(seed: 2026)
        var settled: [RecordingID: String] = [:]  // id → SHA-256 of its file after recovery

        for run in 0..<6 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Tool.product("skrybad"))
            process.arguments = arguments
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Kill after a random number of durable records (both lines report).
            let wanted = Int.random(in: 1...6, using: &generator)
            var lastDurable: [String: UInt64] = [:]
            var buffer = Data()
            var seen = 0
            while seen < wanted {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }  // the daemon finished before we could kill it
                buffer += chunk
                while let newline = buffer.firstIndex(of: 0x0A) {
                    let line = buffer[buffer.startIndex..<newline]
                    buffer = Data(buffer[(newline + 1)...])
                    let durable = try JSONDecoder().decode(Durable.self, from: line)
                    lastDurable[durable.durable] = durable.position
                    seen += 1
                }
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()

            let fsck = try Tool.run(Tool.product("skryba"), ["fsck", "--data-dir", directory])
            #expect(fsck.status == 0 || fsck.status == 1, "run \(run): \(fsck.output)")

            let catalog = try Catalog(dataDirectory: directory)
            #expect(try catalog.recordings(status: .recording).isEmpty, "run \(run): recovery settled every row")
            for row in try catalog.recordings() {
                let path = "\(directory)/\(row.filePath!)"
                let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
                let hash = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
                #expect(row.fileSHA256 == hash, "run \(run): \(row.id) matches its catalog row")
                if let before = settled[row.id] {
                    #expect(before == hash, "run \(run): the older recording \(row.id) was not touched")
                }
                settled[row.id] = hash
                let opened = try SealedRecordingReader.open(bytes, identities: [identity])
                #expect(opened.verifiedRecords == opened.layout.records.count, "run \(run): \(row.id) every surviving record authenticates")
                #expect(opened.problem == nil || opened.problem == .noFinalRecord(records: opened.layout.records.count))
                #expect((opened.problem == nil) == (row.status == .complete))
                if let durable = lastDurable["\(row.id)"] {
                    #expect(opened.layout.position >= durable, "run \(run): \(row.id) keeps everything reported durable")
                }
            }
            #expect(try catalog.audit.verify().isIntact, "run \(run)")
        }
        // And a run left alone finishes cleanly.
        let clean = try Tool.run(Tool.product("skrybad"), arguments)
        #expect(clean.status == 0, "\(clean.output)")
        let catalog = try Catalog(dataDirectory: directory)
        #expect(try catalog.recordings(status: .interrupted).count >= 6, "the kills did land mid-recording")
        let last = try catalog.recordings().suffix(2)
        #expect(last.allSatisfy { $0.status == .complete && $0.durationMs == Int64(frames) * 1000 / 8000 })
    }
}

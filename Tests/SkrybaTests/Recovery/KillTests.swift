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
///
/// `tools/power-cut.sh` runs the same test as a benchmark (SKRYBA_POWER_CUTS=100 and more, in real
/// time, each kill at a random moment inside a flush interval) and prints how much audio each cut
/// call lost; the figures are in docs/storage.md.
@Suite struct KillTests {
    struct Durable: Decodable { var durable: String; var records: UInt64; var position: UInt64 }

    /// The benchmark's settings from the environment; the normal test run: 6 cuts at 8× real time.
    static let cuts = ProcessInfo.processInfo.environment["SKRYBA_POWER_CUTS"].flatMap { Int($0) } ?? 6
    static let speed = ProcessInfo.processInfo.environment["SKRYBA_POWER_CUT_SPEED"].flatMap { Double($0) } ?? 8
    static let benchmark = ProcessInfo.processInfo.environment["SKRYBA_POWER_CUTS"] != nil

    @Test func sigkillAtRandomPointsNeverCostsDurableAudio() throws {
        let fixture = ALSAFixture.shared
        let directory = try makeTemporaryDirectory(prefix: "skryba-kill")
        let identity = AgeIdentity()
        let frames = fixture.speech.map(\.count).max()!
        let arguments = ["--capture", "skryba_test_speech2", "--channels", "2", "--data-dir", directory,
                         "--recipient", identity.recipient.description, "--pacing", "simulation", "--speed", "\(Self.speed)",
                         "--stop-at-frame", "\(frames)", "--progress"]
        var generator = SplitMix64(seed: 2026)
        var settled: [RecordingID: String] = [:]  // id → SHA-256 of its file after recovery
        var lostSeconds: [Double] = []  // per cut recording: audio captured after its last durable record
        var olderChecks = 0, olderIdentical = 0, intactChains = 0

        for run in 0..<Self.cuts {
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
            var reportedAt: [String: (time: Double, position: UInt64)] = [:]  // monotonic seconds
            var buffer = Data()
            var seen = 0
            func take(_ chunk: Data, at time: Double?) throws {
                buffer += chunk
                while let newline = buffer.firstIndex(of: 0x0A) {
                    let line = buffer[buffer.startIndex..<newline]
                    buffer = Data(buffer[(newline + 1)...])
                    let durable = try JSONDecoder().decode(Durable.self, from: line)
                    lastDurable[durable.durable] = durable.position
                    if let time { reportedAt[durable.durable] = (time, durable.position) }
                    seen += 1
                }
            }
            var finished = false
            while seen < wanted {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { finished = true; break }  // the daemon finished before we could kill it
                try take(chunk, at: Self.monotonicSeconds())
            }
            if Self.benchmark {
                // The benchmark cuts at a random moment inside a flush interval, not just after a record.
                usleep(UInt32.random(in: 0..<UInt32(1_000_000 / Self.speed), using: &generator))
            }
            let killedAt = Self.monotonicSeconds()
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            // Records made durable just before the kill still count as reported (their time is unknown:
            // the loss is measured from the last report read in time, against what the file kept).
            let rest = output.fileHandleForReading.readDataToEndOfFile()
            if !rest.isEmpty { try take(rest, at: nil) }

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
                    olderChecks += 1
                    if before == hash { olderIdentical += 1 }
                }
                settled[row.id] = hash
                let opened = try SealedRecordingReader.open(bytes, identities: [identity])
                #expect(opened.verifiedRecords == opened.layout.records.count, "run \(run): \(row.id) every surviving record authenticates")
                #expect(opened.problem == nil || opened.problem == .noFinalRecord(records: opened.layout.records.count))
                #expect((opened.problem == nil) == (row.status == .complete))
                if let durable = lastDurable["\(row.id)"] {
                    #expect(opened.layout.position >= durable, "run \(run): \(row.id) keeps everything reported durable")
                }
                if row.status == .interrupted, !finished, let report = reportedAt["\(row.id)"] {
                    // Where the capture had got to at the kill, from the last report and the pace (48 kHz granule).
                    let captured = Double(report.position) + (killedAt - report.time) * Self.speed * 48000
                    lostSeconds.append(max(0, captured - Double(opened.layout.position)) / 48000)
                }
            }
            let intact = try catalog.audit.verify().isIntact
            #expect(intact, "run \(run)")
            if intact { intactChains += 1 }
        }
        if Self.benchmark {
            let sorted = lostSeconds.sorted()
            let median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
            print(String(format: "power-cut: %d cuts at %gx real time; older recordings byte-identical in %d of %d checks; "
                         + "audit chain intact %d/%d; audio lost per cut recording (%d): median %.2f s, 90th percentile %.2f s, max %.2f s",
                         Self.cuts, Self.speed, olderIdentical, olderChecks, intactChains, Self.cuts, sorted.count, median,
                         sorted.isEmpty ? 0 : sorted[sorted.count * 9 / 10], sorted.last ?? 0))
        }
        // And a run left alone finishes cleanly.
        let clean = try Tool.run(Tool.product("skrybad"), arguments)
        #expect(clean.status == 0, "\(clean.output)")
        let catalog = try Catalog(dataDirectory: directory)
        #expect(try catalog.recordings(status: .interrupted).count >= Self.cuts, "the kills did land mid-recording")
        let last = try catalog.recordings().suffix(2)
        #expect(last.allSatisfy { $0.status == .complete && $0.durationMs == Int64(frames) * 1000 / 8000 })
    }

    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

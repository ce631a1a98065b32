import Crypto
import Foundation
import Testing
import SkrybaConfig
import SkrybaCore
import SkrybaPipeline
import SkrybaSeal
import SkrybaSystem
@testable import SkrybaStore
#if canImport(Glibc)
import Glibc
#endif

/// A full disk and a file that cannot be created, on real small tmpfs filesystems (tests run as
/// root): the daemon never dies, the call that hit ENOSPC keeps its durable audio in a valid file,
/// a file that could not be made leaves a `failed` row and no orphan, and skrybad and fsck start on
/// a 100 % full filesystem thanks to the storage reserve.
@Suite(.serialized) struct FullDiskTests {
    static let identity = AgeIdentity()

    /// Writes zeros into `path` until the filesystem refuses with ENOSPC: 100 % full.
    static func fill(_ path: String) throws {
        let file = try FileDescriptor.open(path, .createOrOpen(permissions: 0o600))
        defer { try? file.close() }
        _ = lseek(file.rawValue, 0, SEEK_END)
        let chunk = [UInt8](repeating: 0, count: 1 << 16)
        var size = chunk.count
        while size > 0 {
            // Halve on ENOSPC, so the last pages are taken too.
            if chunk.withUnsafeBytes({ write(file.rawValue, $0.baseAddress, size) }) < 0 {
                guard errno == ENOSPC else { throw FileError(operation: "write", path: path, errno: errno) }
                size /= 2
            }
        }
        #expect(StorageReserve(dataDirectory: (path as NSString).deletingLastPathComponent).availableBytes() == 0)
    }

    /// Where the disk was filled: the recording and the position it had made durable then.
    final class FillPoint: @unchecked Sendable {
        let lock = NSLock()
        var reached: (id: RecordingID, position: UInt64)?
    }

    func appliance(_ scenario: Scenario, dataDirectory: String, work: String) throws -> (Appliance, ScenarioRenderer.Output) {
        let rendered = try ScenarioRenderer(scenario: scenario, directory: work).render()
        try Simulator.configuration(for: scenario, recipients: [Self.identity.recipient], dataDirectory: dataDirectory)
            .write(toFile: "\(work)/skryba.toml", atomically: true, encoding: .utf8)
        var options = Appliance.Options()
        options.stopAtFrame = rendered.frames
        options.simulation = true
        options.alsaConfigurationFile = rendered.alsaConfiguration
        return (try Appliance(configuration: try ConfigurationLoader.load(path: "\(work)/skryba.toml"), options: options), rendered)
    }

    /// ENOSPC in the middle of a call: that call is closed as interrupted with everything up to its
    /// last durable record (the file scans clean, size and SHA-256 match the row), an alarm says the
    /// disk was full, and the line that starts a call afterwards records it whole.
    @Test func aCallThatHitsAFullDiskKeepsItsDurableAudioAndTheDaemonGoesOn() throws {
        let work = try makeTemporaryDirectory(prefix: "skryba-enospc")
        let mount = try TmpfsMount(at: "\(work)/data", size: "16m")
        defer { mount.unmount() }
        var scenario = Scenario(announcement: "Rozmowy są nagrywane.", lines: [Scenario.Line(id: 1, name: "A"), Scenario.Line(id: 2, name: "B")],
                                calls: [Scenario.Call(line: 1, direction: .outgoing, at: 0.5, dial: "12", hangUpAfter: 12.5),
                                        Scenario.Call(line: 2, direction: .outgoing, at: 8, dial: "34", hangUpAfter: 3)])
        scenario.tailSeconds = 1
        let (appliance, _) = try appliance(scenario, dataDirectory: mount.path, work: work)
        #expect(appliance.reserve.exists, "the reserve is made at the first start")
        let point = FillPoint()
        let filler = "\(mount.path)/filler"
        appliance.recorder.store.onDurable = { id, records, position in
            point.lock.lock()
            defer { point.lock.unlock() }
            guard point.reached == nil, records == 3 else { return }
            try? Self.fill(filler)
            point.reached = (id, position)
        }
        let report = try appliance.recorder.run()

        let reached = try #require(point.reached)
        let failedID = reached.id, durableBeforeFill = reached.position
        #expect(report.calls.map(\.outcome) == ["interrupted", "complete"], "\(report.calls)")
        #expect(report.alarms.contains { $0.kind == .recordingFailed && $0.line == 1 && $0.message.contains("No space left on device") })
        #expect(report.alarms.contains { $0.kind == .storageFull && $0.message.contains("storage reserve (4 MiB, .reserve) was released") })
        #expect(!appliance.reserve.exists)

        let catalog = appliance.catalog
        let rows = try catalog.recordings()
        let cut = try #require(rows.first { $0.id == failedID })
        #expect(cut.status == .interrupted && cut.line == 1)
        let cutPath = try #require(cut.filePath)
        let bytes = [UInt8](try #require(FileManager.default.contents(atPath: "\(mount.path)/\(cutPath)")))
        #expect(cut.fileSize == Int64(bytes.count))
        #expect(cut.fileSHA256 == SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
        let layout = try SealedRecordingReader.scan(bytes)
        #expect(layout.tail == .interrupted, "no torn record is left after the cut")
        #expect(layout.position >= durableBeforeFill)
        #expect(cut.durationMs == Int64(layout.position / 48))
        let opened = try SealedRecordingReader.open(bytes, identities: [Self.identity])
        #expect(opened.verifiedRecords == layout.records.count && opened.problem == .noFinalRecord(records: layout.records.count))

        let whole = try #require(rows.first { $0.line == 2 })
        #expect(whole.status == .complete)
        let wholePath = try #require(whole.filePath)
        let second = [UInt8](try #require(FileManager.default.contents(atPath: "\(mount.path)/\(wholePath)")))
        #expect(try SealedRecordingReader.open(second, identities: [Self.identity]).problem == nil)
        #expect(try catalog.audit.verify().isIntact)
        #expect(try Fsck.run(dataDirectory: mount.path, catalog: catalog, at: Date()).findings == [])
    }

    /// The file cannot be written after its exclusive create (ENOSPC on a full recordings
    /// filesystem): an alarm, the row closed as `failed` with the reason and no caller data, no
    /// orphan file, no row left `recording` after the clean end of the run, and nothing for fsck.
    @Test func aFileThatCannotBeCreatedClosesTheRowAsFailedWithoutAnOrphan() throws {
        let work = try makeTemporaryDirectory(prefix: "skryba-nofile")
        let data = "\(work)/data"
        let recordings = "\(data)/\(DataLayout.recordingsDirectory)"
        let mount = try TmpfsMount(at: recordings, size: "1m")
        defer { mount.unmount() }
        try Self.fill("\(recordings)/filler")
        var scenario = Scenario(announcement: "Rozmowy są nagrywane.", lines: [Scenario.Line(id: 1, name: "A")],
                                calls: [Scenario.Call(line: 1, direction: .outgoing, at: 0.5, dial: "12", hangUpAfter: 3)])
        scenario.tailSeconds = 1
        let (appliance, _) = try appliance(scenario, dataDirectory: data, work: work)
        let report = try appliance.recorder.run()

        #expect(report.calls.map(\.outcome) == ["failed"])
        #expect(report.alarms.contains { $0.kind == .recordingFailed && $0.message.contains("No space left on device") })
        let rows = try appliance.catalog.recordings()
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row.status == .failed && row.filePath == nil && row.fileSize == nil && row.callerNumber == nil && row.dialedDigits == nil)
        #expect(row.failureReason?.hasPrefix("its file recordings/") == true)
        #expect(row.failureReason?.contains("/R000001.skryba could not be created: ") == true)
        #expect(row.failureReason?.contains("write failed: No space left on device (errno 28)") == true)
        #expect(Directory.files(under: recordings) == ["\(recordings)/filler"], "no orphan file")
        let failedEntry = try appliance.catalog.audit.entries().last { $0.kind == "recording-failed" }
        #expect(failedEntry?.subject == "R000001" && failedEntry?.details.contains("\"status\":\"failed\"") == true)
        let findings = try Fsck.run(dataDirectory: data, catalog: appliance.catalog, at: Date()).findings
        #expect(findings.map(\.subject) == ["recordings/filler"], "only the test's own filler: no orphan, no open row")
    }

    /// The appliance itself on a 100 % full filesystem: it opens the catalog, recovers, runs
    /// retention and says why the disk has room again (the alarm names the released reserve).
    @Test func theApplianceStartsOnAFullFilesystem() throws {
        let work = try makeTemporaryDirectory(prefix: "skryba-full-appliance")
        let mount = try TmpfsMount(at: "\(work)/data", size: "16m")
        defer { mount.unmount() }
        let scenario = Scenario(announcement: "Rozmowy są nagrywane.", lines: [Scenario.Line(id: 1, name: "A")], calls: [])
        do {
            let (first, _) = try appliance(scenario, dataDirectory: mount.path, work: work)
            #expect(first.reserve.exists && first.startupRetention.failures.isEmpty)
        }
        try Self.fill("\(mount.path)/filler")
        let (second, _) = try appliance(scenario, dataDirectory: mount.path, work: work)
        #expect(!second.reserve.exists)
        #expect(second.recorder.alarms.alarms.contains {
            $0.kind == .storageFull && $0.message == "the filesystem of \(mount.path) was full at start-up; the storage reserve (4 MiB, .reserve) "
                + "was released so the catalog can close calls and retention can make room; it is made again once there is room"
        })
        #expect(try second.catalog.audit.verify().isIntact)
    }

    /// A 100 % full filesystem: with the reserve made at the first start, `skryba fsck` and then
    /// `skrybad` open the catalog, recover and record; the reserve comes back once there is room.
    @Test func fsckAndSkrybadStartOnAFullFilesystem() throws {
        let fixture = ALSAFixture.shared
        let work = try makeTemporaryDirectory(prefix: "skryba-full-start")
        let mount = try TmpfsMount(at: "\(work)/data", size: "16m")
        defer { mount.unmount() }
        let data = mount.path
        let daemon = ["--capture", "skryba_test_speech2", "--channels", "2", "--data-dir", data, "--recipient", Self.identity.recipient.description,
                      "--pacing", "simulation", "--stop-at-frame", "16000"]
        let first = try Tool.run(Tool.product("skrybad"), daemon)
        #expect(first.status == 0, "\(first.output)")
        let reserve = StorageReserve(dataDirectory: data)
        #expect(reserve.exists)
        var status = stat()
        #expect(stat(reserve.path, &status) == 0 && Int64(status.st_blocks) * 512 >= reserve.size, "real blocks, not a sparse file")

        try Self.fill("\(data)/filler")
        let fsck = try Tool.run(Tool.product("skryba"), ["fsck", "--data-dir", data])
        #expect(fsck.status == 0, "\(fsck.output)")
        #expect(fsck.output.contains("checked 2 recording(s) and 2 file(s): 0 finding(s)"))
        #expect(!reserve.exists, "released to open the catalog")

        // Room again: the next owner makes the reserve again; then the disk fills up once more.
        #expect(unlink("\(data)/filler") == 0)
        #expect(try Tool.run(Tool.product("skryba"), ["fsck", "--data-dir", data]).status == 0)
        #expect(reserve.exists)
        try Self.fill("\(data)/filler")
        let second = try Tool.run(Tool.product("skrybad"), daemon)
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("the filesystem of \(data) is full; the storage reserve was released to start"))
        let rows = try Catalog(dataDirectory: data).recordings()
        #expect(rows.count == 4 && rows.allSatisfy { $0.status == .complete }, "\(rows.map(\.status))")
        _ = fixture
    }
}

import Foundation
import Testing
import SkrybaConfig
import SkrybaCore
import SkrybaOpus
import SkrybaPipeline
import SkrybaSeal
import SkrybaStore
import SkrybaSystem

/// Line workers never wait for flash: a stalled storage service (its first record's fsync blocked
/// on a semaphore the test holds until the line workers have finished) costs queued memory, and
/// audio only once the line's bounded queue is full — then the loss is counted, kept as a gap and
/// alarmed, and the file still decodes to exactly the catalog's duration.
@Suite(.serialized) struct StorageStallTests {
    static let identity = AgeIdentity()
    /// 8 slots: 5 for records, 3 kept for opening and closing; a stall of 4 flush intervals (4 s)
    /// beyond the record being written is survived (docs/architecture.md, "Storage service").
    static let buffering = StorageBuffering(slotsPerLine: 8, recordBytes: 8192)

    /// Blocks the first record fsync it sees until `release`.
    final class Stall: @unchecked Sendable {
        let gate = DispatchSemaphore(value: 0)
        let lock = NSLock()
        var blocked = false
        func hook() {
            let first = lock.withLock { () -> Bool in
                defer { blocked = true }
                return !blocked
            }
            if first { gate.wait() }
        }
        func release() { gate.signal() }
    }

    func record(callSeconds: Double, _ name: String) throws -> (CallRunReport, RecordingRow, [Int16], [AuditEntry]) {
        let directory = try makeTemporaryDirectory(prefix: "skryba-stall-\(name)")
        var scenario = Scenario(announcement: "Rozmowy są nagrywane.", lines: [Scenario.Line(id: 1, name: "A")],
                                calls: [Scenario.Call(line: 1, direction: .outgoing, at: 0.5, dial: "12", hangUpAfter: callSeconds)])
        scenario.tailSeconds = 1
        let rendered = try ScenarioRenderer(scenario: scenario, directory: directory).render()
        try Simulator.configuration(for: scenario, recipients: [Self.identity.recipient], dataDirectory: "\(directory)/data")
            .write(toFile: "\(directory)/skryba.toml", atomically: true, encoding: .utf8)
        var options = Appliance.Options()
        options.stopAtFrame = rendered.frames
        options.simulation = true
        options.alsaConfigurationFile = rendered.alsaConfiguration
        options.storageBuffering = Self.buffering
        let appliance = try Appliance(configuration: try ConfigurationLoader.load(path: "\(directory)/skryba.toml"), options: options)
        let stall = Stall()
        appliance.recorder.store.beforeRecordSync = { stall.hook() }
        appliance.recorder.afterLinesFinished = { stall.release() }
        let report = try appliance.recorder.run()
        #expect(stall.blocked, "the storage service was stalled")
        let row = try #require(try appliance.catalog.recordings().first)
        #expect(row.status == .complete)
        let opened = try SealedRecordingReader.open([UInt8](FileManager.default.contents(atPath: "\(directory)/data/\(row.filePath!)")!),
                                                    identities: [Self.identity])
        #expect(opened.problem == nil)
        let path = "\(directory)/call.opus"
        try Data(opened.plaintext).write(to: URL(fileURLWithPath: path))
        return (report, row, try Tool.opusdec(path), try appliance.catalog.audit.entries())
    }

    @Test func theStatedStallIsSurvivedWithoutLoss() throws {
        #expect(Self.buffering.stallSeconds(flushIntervalMs: 1000) == 4)
        // The storage thread stalls at the first fsync of the call (its headers, written when the call
        // is handed over at its start) and stays stalled for the whole 5 s call.
        let (report, row, decoded, _) = try record(callSeconds: 5, "survived")
        let frames = Int(row.endFrame! - row.startFrame)
        #expect(frames == 40_000)
        #expect(decoded.count == frames && row.durationMs == 5000)
        #expect(row.gaps.isEmpty)
        #expect(report.storageLostFrames == [0])
        #expect(report.storageQueueHighWater[0] >= Self.buffering.recordSlots, "the queue filled its record slots")
        #expect(report.alarms.contains { $0.kind == .storageFallingBehind && $0.line == 1 })
        #expect(!report.alarms.contains { $0.kind == .storageOverflow || $0.kind == .recordingGap })
        #expect(report.calls.map(\.outcome) == ["complete"])
    }

    @Test func aLongerStallLosesAudioCountedAsAGapAndAlarmed() throws {
        let (report, row, decoded, entries) = try record(callSeconds: 8, "lost")
        let lost = report.storageLostFrames[0]
        #expect(lost > 0)
        // Everything the queue could not take is one gap, from where it filled to the call's end.
        #expect(row.gaps.count == 1)
        let gap = try #require(row.gaps.first)
        #expect(gap.frames == lost)
        #expect(gap.startFrame + gap.frames == row.endFrame!)
        // Kept: the records queued behind the stalled job and the interval that waited in the sink.
        #expect(gap.startFrame == row.startFrame + UInt64(Self.buffering.recordSlots) * 8000)
        // The file holds what was kept and silence as far as the closing slots allowed; it decodes to the catalog's duration.
        #expect(Int64(decoded.count) * 1000 / 8000 == row.durationMs!)
        #expect(decoded.count >= 5 * 8000 && decoded.count < Int(row.endFrame! - row.startFrame))
        #expect(report.alarms.contains { $0.kind == .storageOverflow && $0.line == 1 && $0.message.contains("storage queue is full") })
        #expect(report.alarms.contains { $0.kind == .storageFallingBehind && $0.line == 1 })
        let finished = try #require(entries.last { $0.kind == "recording-finished" })
        #expect(finished.decodedDetails?["gap_frames"] == String(lost))
    }
}

/// The whole-line mode computes only too: its files are created, written and fsync'ed by the storage
/// service, so a storage thread stalled for the whole capture costs memory, not audio, and the line
/// workers finish every period while nothing is durable yet.
@Suite struct WholeLineStorageTests {
    @Test func wholeLinesRecordThroughAStalledStorageServiceWithoutLoss() throws {
        let fixture = ALSAFixture.shared
        let directory = try makeTemporaryDirectory(prefix: "skryba-whole-line-stall")
        let catalog = try Catalog(dataDirectory: directory)
        let identity = AgeIdentity()
        let store = try CatalogStore(dataDirectory: directory, catalog: catalog, recipients: [identity.recipient])
        let stall = StorageStallTests.Stall()
        store.calls.beforeRecordSync = { stall.hook() }
        let durable = DurableCount()
        store.onDurable = { _, _, _ in durable.add() }
        let frames = UInt64(fixture.speech.map(\.count).max()!)
        var configuration = RecorderConfiguration(
            pcmName: "skryba_test_speech2", layout: try LineLayout(rate: 8000, lines: 2), periodFrames: 160,
            opus: OpusSettings(), frameLimit: frames, pacing: .waitForConsumers)
        configuration.realtimePriority = nil
        var recorder = ContinuousRecorder(configuration: configuration, store: store)
        var durableWhenLinesFinished: Int?
        recorder.afterLinesFinished = {
            durableWhenLinesFinished = durable.count
            stall.release()
        }
        let report = try recorder.run()
        #expect(stall.blocked, "the storage service was stalled")
        #expect(durableWhenLinesFinished == 0, "the workers finished every period before anything was durable")
        #expect(report.lineFailures.isEmpty)
        let rows = try catalog.recordings().sorted { $0.line < $1.line }
        #expect(rows.map(\.direction) == [.line, .line])
        #expect(rows.map(\.status) == [.complete, .complete])
        #expect(rows.map(\.durationMs) == [Int64(frames) * 1000 / 8000, Int64(frames) * 1000 / 8000])
        #expect(report.files == rows.map { "\(directory)/\($0.filePath!)" })
        for row in rows {
            let opened = try SealedRecordingReader.open([UInt8](FileManager.default.contents(atPath: "\(directory)/\(row.filePath!)")!),
                                                        identities: [identity])
            #expect(opened.problem == nil)
            let path = "\(directory)/line-\(row.line).opus"
            try Data(opened.plaintext).write(to: URL(fileURLWithPath: path))
            #expect(try Tool.opusdec(path).count == Int(frames))
        }
    }

    final class DurableCount: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func add() { lock.withLock { value += 1 } }
        var count: Int { lock.withLock { value } }
    }
}

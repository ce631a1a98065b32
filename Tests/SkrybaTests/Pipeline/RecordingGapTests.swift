import Foundation
import Testing
import SkrybaALSA
import SkrybaCapture
import SkrybaConfig
import SkrybaCore
import SkrybaPipeline
import SkrybaSeal
import SkrybaStore
import SkrybaSystem

/// One recording session for every path: a hole in a line's timeline becomes silence in the file
/// (so it decodes to exactly the catalog's duration) and evidence in the catalog, the audit log,
/// `recordings list` and an alarm.
@Suite struct RecordingGapTests {
    static let identity = AgeIdentity()

    /// The capture loop (device pacing, real alsa-lib file PCM, real 4-slot rings) and the line
    /// workers driven step by step: every 100 periods the workers are 10 periods late, so each
    /// line's full ring drops whole periods exactly as on a board whose worker fell behind.
    @Test func aCallWithRingOverflowsDecodesToItsCatalogDurationAndListsItsGaps() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-gaps")
        var scenario = Scenario(announcement: "Rozmowy są nagrywane.", lines: (1...4).map { Scenario.Line(id: $0, name: "L\($0)") }, calls: [])
        scenario.calls = (1...4).map { Scenario.Call(line: $0, direction: .outgoing, at: 0.5, dial: "1\($0)", hangUpAfter: 6) }
        scenario.tailSeconds = 1
        let rendered = try ScenarioRenderer(scenario: scenario, directory: directory).render()
        try Simulator.configuration(for: scenario, recipients: [Self.identity.recipient], dataDirectory: "\(directory)/data")
            .write(toFile: "\(directory)/skryba.toml", atomically: true, encoding: .utf8)
        var options = Appliance.Options()
        options.alsaConfigurationFile = rendered.alsaConfiguration
        let configuration = try ConfigurationLoader.load(path: "\(directory)/skryba.toml")
        let appliance = try Appliance(configuration: configuration, options: options)
        let recorder = appliance.recorder
        let storage = StorageService(store: recorder.store, alarms: recorder.alarms, lines: recorder.lines.map(\.line),
                                     buffering: recorder.storageBuffering)
        try storage.start()
        let dispatcher = SignalDispatcher(source: recorder.signals)
        let workers = try recorder.lines.map {
            try CallLine(setup: $0, store: recorder.store, storage: storage, dispatcher: dispatcher, player: nil, alarms: recorder.alarms, sessionStart: Date())
        }
        let pcm = try PCM(name: configuration.audio.capture, stream: .capture,
                          parameters: PCMParameters(rate: 8000, channels: 4, periodFrames: 160), configurationFile: rendered.alsaConfiguration)
        // 4 periods of slack and the worker's look-back: 8 slots, of which a caught-up worker holds 2.
        let rings = CaptureRings(layout: try configuration.lineLayout(), periodFrames: 160, slotsPerRing: 4,
                                 heldPerRing: workers[0].heldPeriods(periodFrames: 160))
        var drains = zip(rings.rings, workers).map { LineDrain(ring: $0, consumer: $1) }
        var loop = rings.makeLoop(source: pcm.realtimeReader(), frameLimit: rendered.frames, pacing: .device)
        var period = 0
        while loop.step() == .captured(frames: 160) {
            defer { period += 1 }
            if period % 100 >= 93 { continue }  // the workers are late: nothing drained
            for index in drains.indices { drains[index].drain() }
        }
        for index in drains.indices {
            drains[index].drain()
            drains[index].finish(endFrame: loop.position)
        }
        storage.finish()
        withExtendedLifetime(pcm) {}

        // Periods 93…99 of every hundred are read while the workers are late: 6 fit the ring, the
        // fifth and the one read before they catch up are dropped (periods 99 and 100, 199 and 200, …).
        #expect(rings.overflows == Array(repeating: RingOverflow(periods: 6, frames: 960), count: 4))
        let expectedGaps = [99, 199, 299].map { RecordingGap(startFrame: UInt64($0 * 160), frames: 320, recordingStartFrame: 4000, rate: 8000) }
        let rows = try appliance.catalog.recordings()
        #expect(rows.count == 4 && rows.allSatisfy { $0.status == .complete }, "\(rows.map(\.status)) \(storage.summaries)")
        #expect(rows.allSatisfy { $0.gaps == expectedGaps }, "\(rows.map(\.gaps))")
        let alarms = recorder.alarms.alarms
        let entries = try appliance.catalog.audit.entries()
        for row in rows {
            let frames = try #require(row.endFrame) - row.startFrame
            #expect(row.durationMs == Int64(frames * 1000 / 8000))
            let opened = try SealedRecordingReader.open([UInt8](FileManager.default.contents(atPath: "\(directory)/data/\(row.filePath!)")!),
                                                        identities: [Self.identity])
            #expect(opened.problem == nil)
            let path = "\(directory)/\(row.id).opus"
            try Data(opened.plaintext).write(to: URL(fileURLWithPath: path))
            #expect(try Tool.opusdec(path).count == Int(frames), "\(row.id): decoded samples = the catalog's duration, gaps included")

            let finished = try #require(entries.last { $0.subject == row.id.description && $0.kind == "recording-finished" })
            if row.gaps.isEmpty {
                #expect(finished.decodedDetails?["gaps"] == nil)
            } else {
                #expect(finished.decodedDetails?["gaps"] == RecordingGap.summary(row.gaps))
                #expect(finished.decodedDetails?["gap_frames"] == String(row.gaps.reduce(0) { $0 + $1.frames }))
                #expect(alarms.contains { $0.kind == .recordingGap && $0.line == row.line }, "line \(row.line)'s gap raised an alarm")
            }
        }

        // `skryba recordings list` (table and JSON) shows every hole.
        let gapped = try #require(rows.first { !$0.gaps.isEmpty })
        let table = try Tool.run(Tool.product("skryba"), ["recordings", "list", "--data-dir", "\(directory)/data"])
        #expect(table.status == 0, "\(table.output)")
        let line = try #require(table.output.split(separator: "\n").first { $0.hasPrefix("\(gapped.id)\t") })
        #expect(line.hasSuffix("\t" + RecordingGap.summary(gapped.gaps)))
        let json = try Tool.run(Tool.product("skryba"), ["recordings", "list", "--data-dir", "\(directory)/data", "--json"])
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]])
        let listed = try #require(objects.first { $0["id"] as? String == gapped.id.description }?["gaps"] as? [[String: Any]])
        #expect(listed.count == gapped.gaps.count)
        #expect(listed.first?["frames"] as? Int == Int(gapped.gaps[0].frames))
        #expect(listed.first?["start_frame"] as? Int == Int(gapped.gaps[0].startFrame))
    }

    @Test func theGapSummaryNamesCountLengthAndPositions() {
        let gaps = [RecordingGap(startFrame: 8000 * 12 + 3200 + 1000, frames: 2560, recordingStartFrame: 1000, rate: 8000),
                    RecordingGap(startFrame: 8000 * 31 + 160 + 1000, frames: 2560, recordingStartFrame: 1000, rate: 8000)]
        #expect(RecordingGap.summary(gaps) == "2 (0.64 s) at 12.40 s, 31.02 s")
    }
}

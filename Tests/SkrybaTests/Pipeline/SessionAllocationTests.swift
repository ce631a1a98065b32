import Foundation
import Testing
import CAllocationCounter
import SkrybaCapture
import SkrybaCore
import SkrybaOpus
@testable import SkrybaPipeline
import SkrybaSeal
import SkrybaSignals
import SkrybaStore
import SkrybaSystem

/// A call's recording in progress on its line worker — encoding, filling holes with silence, queueing
/// each flush interval to the storage service — allocates nothing per period: counted per thread.
@Suite struct SessionAllocationTests {
    @Test func aRecordingInProgressAllocatesNothingPerPeriod() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-session-alloc")
        let catalog = try Catalog(dataDirectory: directory)
        let store = try CallStore(dataDirectory: directory, catalog: catalog, recipients: [AgeIdentity().recipient])
        let storage = StorageService(store: store, alarms: AlarmBoard(), lines: [1],
                                     buffering: .sized(lines: 1, bitrate: OpusSettings.defaultBitrate, flushIntervalMs: 1000))
        try storage.start()
        let queue = try #require(storage.queue(line: 1))
        let encoder = try LineEncoder(sampleRate: 8000, settings: OpusSettings(), sink: DeferredSealedSink(capacity: .awaitingConsent(frames: 0, rate: 8000, bitrate: OpusSettings.defaultBitrate, flushFrames: 8000)), serialNumber: 1,
                                      metadata: .init([("SKRYBA_LINE", "1")]))
        let session = RecordingSession(line: 1, rate: 8000, startFrame: 0, encoder: encoder)
        let call = CallRecord(line: 1, direction: .outgoing, startFrame: 0, startUTC: Date())
        try session.sink.storage.handOver(to: queue)
        #expect(queue.push(job: .open(call, backlog: session.sink.storage)))

        var period = [Int16](repeating: 0, count: 160)
        var allocations = 0, frame: UInt64 = 0, counted = 0
        for index in 0..<2000 {
            for sample in period.indices { period[sample] = Int16(truncatingIfNeeded: (index * 160 + sample) * 37 % 2000 - 1000) }
            // Every 5 s two periods are missing from the timeline: filled with silence, kept as gaps.
            if index % 250 == 249 { frame += 320 }
            skryba_allocations_begin()
            try period.withUnsafeBufferPointer { try session.consume($0, at: frame) }
            let made = skryba_allocations_end()
            // The first packets set up libopus and the Ogg writer; steady state starts after them.
            if index >= 10 {
                allocations += made
                counted += 1
            }
            frame += 160
        }
        try session.finish(at: frame)
        #expect(queue.push(job: .finish(call, endFrame: frame, durationMs: session.durationMs, failure: nil, gaps: session.gaps)))
        storage.finish()
        #expect(counted == 1990)
        #expect(allocations == 0)
        #expect(session.gaps.count == 8 && session.gapFrames == 8 * 320)
        #expect(storage.summaries.map(\.outcome) == ["complete"])
        #expect(try catalog.recordings().first?.gaps.count == 8)
    }
}

/// The hot-path contract on the line worker itself (`CallLine` fed through a real ring by a
/// `LineDrain`, holding its GPIO lag and look-back in ring slots): over a whole call — two ring bursts,
/// off hook, the announcement, talk, on hook — and the idle line around it, no period allocates or
/// takes a lock, except the few in which the call changes state (an edge, the encoder's start and
/// first packets, the commit to storage, the end). The idle hour is `DetectionGateTests`'.
@Suite struct WholeCallAllocationTests {
    static let rate = 8000, period = 160

    @Test(arguments: [UInt64(0), 96]) func aWholeCallAllocatesAndLocksNothingPerPeriodInSteadyState(decisionDelay: UInt64) throws {
        let (store, catalog) = try CallLineOrderingTests.store("whole-call-alloc-\(decisionDelay)")
        let second = UInt64(Self.rate)
        let edges = [SignalEdge(frame: 10 * second, line: 1, signal: .ring, level: true),
                     SignalEdge(frame: 11 * second, line: 1, signal: .ring, level: false),
                     SignalEdge(frame: 14 * second, line: 1, signal: .ring, level: true),
                     SignalEdge(frame: 15 * second, line: 1, signal: .ring, level: false),
                     SignalEdge(frame: 16 * second, line: 1, signal: .hook, level: true),
                     SignalEdge(frame: 46 * second, line: 1, signal: .hook, level: false)]
        let commitFrame = 19 * second  // off hook + the 3 s announcement: continuing is consent
        let replay = ReplayLineSignals(edges: edges)
        replay.decisionDelay = decisionDelay
        let line = try CallLineOrderingTests.makeLine(
            store: store, id: 1, policy: LinePolicy(record: [.incoming], consent: .continueMeansConsent, announcementFrames: 3 * second),
            announcementFrames: Int(3 * second), source: replay)
        // Quiet line noise on hook, talk (about −30 dBFS noise: both detectors awake, the encoder busy) off hook.
        var state: UInt64 = 11
        let audio: [Int16] = (0..<(60 * Self.rate)).map { index in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let offHook = (16 * Self.rate..<46 * Self.rate).contains(index)
            return Int16(Int(state >> 33) % (offHook ? 2001 : 49) - (offHook ? 1000 : 24))
        }
        // Where the call changes state: an edge or the commit (a timer that fires at the end of the period
        // it ends), until the lag and look-back have passed; the encoder's start and its first packets
        // (libopus and the Ogg writer set up lazily). And the first second: the Swift runtime makes
        // its type metadata on first use, once per process.
        let changes = edges.map(\.frame) + [commitFrame]
        func changesState(_ start: UInt64) -> Bool {
            start < second || changes.contains { start + UInt64(Self.period) >= $0 && start < $0 + decisionDelay + 12 * UInt64(Self.period) }
        }
        let feed = RingFeed(line, periodFrames: Self.period)
        var steady = 0, steadyAllocations = 0, steadyLocks = 0, changing = 0
        // The look-back (2 periods) and, behind the lag, the period still waiting for it: held in the ring, not copied.
        let expectedHeld = DetectionGate.lookBackPeriods + (decisionDelay == 0 ? 0 : 1)
        var heldCounts = Set<Int>()
        audio.withUnsafeBufferPointer { buffer in
            for start in stride(from: 0, to: buffer.count, by: Self.period) {
                skryba_allocations_begin()
                feed.push(UnsafeBufferPointer(rebasing: buffer[start..<start + Self.period]), startFrame: UInt64(start))
                let allocations = skryba_allocations_end(), locks = skryba_locks_counted()
                if changesState(UInt64(start)) {
                    changing += 1
                } else {
                    steady += 1
                    steadyAllocations += allocations
                    steadyLocks += locks
                    heldCounts.insert(feed.drain.held)
                }
            }
        }
        feed.finish(endFrame: UInt64(audio.count))
        // The first second and at most 15 periods around each of the 7 changes; the other 2,850 or so are steady.
        #expect(steady + changing == 3000 && changing <= 50 + 7 * 15, "\(steady) steady periods, \(changing) changing state")
        #expect(steadyAllocations == 0)
        #expect(steadyLocks == 0)
        #expect(heldCounts == [expectedHeld], "ring slots held after each period")
        // And the call came out whole: 30 s from off hook to on hook, consented after the announcement.
        let rows = try catalog.recordings()
        #expect(rows.count == 1)
        #expect(rows.first?.startFrame == 16 * second)
        #expect(rows.first?.durationMs == 30_000)
        #expect(rows.first?.consent == .given)
        #expect(line.detectorUse.dtmfPeriods >= 30 * 50, "DTMF heard the whole call")
    }
}

import Foundation
import Testing
import CAllocationCounter
import SkrybaCore
import SkrybaOpus
@testable import SkrybaPipeline
import SkrybaSeal
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
        let encoder = try LineEncoder(sampleRate: 8000, settings: OpusSettings(), sink: DeferredSealedSink(), serialNumber: 1,
                                      metadata: .init([("SKRYBA_LINE", "1")]))
        let session = RecordingSession(line: 1, rate: 8000, startFrame: 0, encoder: encoder)
        let call = CallRecord(line: 1, direction: .outgoing, startFrame: 0, startUTC: Date())
        session.sink.storage.handOver(to: queue)
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

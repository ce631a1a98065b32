import Foundation
import Testing
import SkrybaCapture
import SkrybaCore
import SkrybaOpus
import SkrybaPipeline
import SkrybaSeal
import SkrybaStore
import SkrybaSystem

/// A line worker (`CallLine`, with its real DTMF and caller-ID detectors, ring cadence, state machine,
/// encoder and sealed catalog store) driven by every ordering of edges, digits and audio: it must never
/// trap (a trap would stop every line), and what it records must make sense.
@Suite struct CallLineOrderingTests {
    static let rate = 8000
    static let identity = AgeIdentity()

    /// Edges that become known only `lateness` frames after they happen (a GPIO reader that fell
    /// behind its debounce margin): the worker sees them dated inside audio it has already processed.
    final class LateSignals: LineSignalSource, @unchecked Sendable {
        private var edges: [SignalEdge]
        private let lateness: UInt64
        init(edges: [SignalEdge], lateness: UInt64) {
            self.edges = edges
            self.lateness = lateness
        }
        func takeEdges(before frame: UInt64) -> [SignalEdge] {
            let due = edges.prefix { $0.frame + lateness < frame }
            edges.removeFirst(due.count)
            return Array(due)
        }
        func close() {}
    }

    struct Line {
        let worker: CallLine
        let offHookFrames: [UInt64]
    }

    static func makeLine(store: CallStore, id: Int, policy: LinePolicy, announcementFrames: Int?, source: any LineSignalSource) throws -> CallLine {
        let clip = announcementFrames.map { AnnouncementPlayer.Clip(id: "zapowiedz", sha256: String(repeating: "0", count: 64),
                                                                   samples: [Int16](repeating: 0, count: $0)) }
        let setup = CallLineSetup(line: id, name: "Linia \(id)", playbackChannel: 0, rate: rate, opus: OpusSettings(), packetsPerPage: 50,
                                  policy: policy, announcement: clip, outgoingNotice: nil, recorderID: "test", limits: .standard(rate: rate))
        return try CallLine(setup: setup, store: store, dispatcher: SignalDispatcher(source: source), player: nil, alarms: AlarmBoard(),
                        sessionStart: Date(timeIntervalSince1970: 1_764_000_000))
    }

    /// Feeds `audio` in periods of `sizes` (cycled), skipping the periods listed in `dropped`.
    /// Through a real ring, as the line worker reads it (`RingFeed`).
    static func feed(_ line: CallLine, audio: [Int16], sizes: [Int], dropped: Set<Int> = []) {
        let feed = RingFeed(line, periodFrames: sizes.max() ?? 160)
        var start = 0, index = 0
        while start < audio.count {
            let count = min(sizes[index % sizes.count], audio.count - start)
            if !dropped.contains(index) {
                audio[start..<start + count].withUnsafeBufferPointer { feed.push($0, startFrame: UInt64(start)) }
            }
            start += count
            index += 1
        }
        feed.finish(endFrame: UInt64(audio.count))
    }

    static func mix(_ samples: [Int16], into audio: inout [Int16], at frame: Int) {
        for (offset, sample) in samples.enumerated() where (0..<audio.count).contains(frame + offset) {
            audio[frame + offset] = Int16(clamping: Int32(audio[frame + offset]) + Int32(sample))
        }
    }

    static func store(_ name: String) throws -> (CallStore, Catalog) {
        let directory = try makeTemporaryDirectory(prefix: "skryba-callline-\(name)")
        let catalog = try Catalog(dataDirectory: directory)
        return (try CallStore(dataDirectory: directory, catalog: catalog, recipients: [identity.recipient]), catalog)
    }

    /// The reported crash: the caller's opt-out key is already sounding when the line goes off hook, so
    /// the digit is dated before the call began. The key began before the call and is not an objection in
    /// it; the call is announced and recorded from its off-hook frame.
    @Test func anOptOutKeyAlreadySoundingAtOffHookIsNotAnObjectionAndDoesNotTrap() throws {
        let (store, catalog) = try Self.store("sounding")
        let policy = LinePolicy(record: [.incoming], consent: .optOutKey("9", windowFrames: 8000), announcementFrames: 16_000)
        let offHook: UInt64 = 48_000
        let edges = [SignalEdge(frame: 8000, line: 1, signal: .ring, level: true), SignalEdge(frame: 16_000, line: 1, signal: .ring, level: false),
                     SignalEdge(frame: offHook, line: 1, signal: .hook, level: true), SignalEdge(frame: 96_000, line: 1, signal: .hook, level: false)]
        let line = try Self.makeLine(store: store, id: 1, policy: policy, announcementFrames: 16_000, source: ReplayLineSignals(edges: edges))
        var audio = [Int16](repeating: 0, count: 104_000)
        for index in audio.indices { audio[index] = Int16(index % 7) - 3 }
        // "9" from 0.1 s before the off-hook to 0.2 s after it.
        Self.mix(SignalSynthesis.dtmf("9", rate: Self.rate, toneMilliseconds: 300, pauseMilliseconds: 0), into: &audio, at: Int(offHook) - 800)
        Self.feed(line, audio: audio, sizes: [160])

        #expect(line.calls.count == 1)
        let call = try #require(line.calls.first)
        #expect(call.startFrame == offHook && call.endFrame == 96_000)
        #expect(call.outcome == "complete" && call.consent == "given")
        let row = try #require(try catalog.recordings().first)
        #expect(row.startFrame == offHook && row.endFrame == 96_000 && row.durationMs == 6000)
    }

    /// An edge that arrives after its audio went by (a GPIO reader behind its margin) takes effect at the
    /// first frame still to process: the recording's frames match the audio it holds, end after start.
    @Test func lateEdgesTakeEffectWhereTheAudioIsAndNeverRunBackwards() throws {
        let (store, catalog) = try Self.store("late")
        let policy = LinePolicy(record: [.incoming, .outgoing], consent: .continueMeansConsent, announcementFrames: nil)
        let edges = [SignalEdge(frame: 1000, line: 1, signal: .hook, level: true), SignalEdge(frame: 1100, line: 1, signal: .hook, level: false)]
        let line = try Self.makeLine(store: store, id: 1, policy: policy, announcementFrames: nil, source: LateSignals(edges: edges, lateness: 700))
        Self.feed(line, audio: [Int16](repeating: 5, count: 4000), sizes: [160])
        let call = try #require(line.calls.first)
        // Off hook (1000) becomes known in the period 1600..<1760, on hook (1100) in 1760..<1920.
        #expect(call.startFrame == 1600 && call.endFrame == 1760)
        #expect(try catalog.recordings().first?.durationMs == 20)
    }

    /// A line whose store cannot create files (here `recordings` is a plain file): each call raises one
    /// `recording-failed` alarm and is reported failed; the line goes on with its next call.
    @Test func aFailingStoreCostsOneAlarmPerCallAndTheLineGoesOn() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-callline-broken")
        let catalog = try Catalog(dataDirectory: directory)
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: "\(directory)/recordings"))
        let store = try CallStore(dataDirectory: directory, catalog: catalog, recipients: [Self.identity.recipient])
        let policy = LinePolicy(record: [.outgoing], consent: .continueMeansConsent, announcementFrames: nil)
        let edges = [SignalEdge(frame: 800, line: 1, signal: .hook, level: true), SignalEdge(frame: 8800, line: 1, signal: .hook, level: false),
                     SignalEdge(frame: 12_000, line: 1, signal: .hook, level: true), SignalEdge(frame: 20_000, line: 1, signal: .hook, level: false)]
        let alarms = AlarmBoard()
        let setup = CallLineSetup(line: 1, name: "A", playbackChannel: 0, rate: Self.rate, opus: OpusSettings(), packetsPerPage: 1, policy: policy,
                                  announcement: nil, outgoingNotice: nil, recorderID: "test", limits: .standard(rate: Self.rate))
        let line = try CallLine(setup: setup, store: store, dispatcher: SignalDispatcher(source: ReplayLineSignals(edges: edges)), player: nil,
                            alarms: alarms, sessionStart: Date())
        Self.feed(line, audio: (0..<24_000).map { Int16($0 % 50) - 25 }, sizes: [160])
        #expect(line.calls.map(\.outcome) == ["failed", "failed"])
        #expect(alarms.alarms.map(\.kind) == [.recordingFailed, .recordingFailed], "\(alarms.alarms)")
        #expect(alarms.alarms.map(\.frame) == [800, 12_000])
    }

    /// Random orderings of ring and hook edges (repeated levels, simultaneous edges, edges late by up to
    /// a second), DTMF keys (the opt-out key among them) across every boundary, caller ID, odd period
    /// sizes and dropped periods, under every policy. Fixed seed: a failure reproduces.
    @Test func randomOrderingsNeverTrapAndKeepRecordingsInsideTheirCalls() throws {
        let (store, catalog) = try Self.store("random")
        var generator = SplitMix64(seed: 0x5C0F_FEE8)
        let cases = ProcessInfo.processInfo.environment["SKRYBA_FUZZ_CASES"].flatMap(Int.init) ?? 40
        var lineIDs: [Int: [UInt64]] = [:]
        var workers: [CallLine] = []
        for id in 1...cases {
            let frames = Int.random(in: 4000...32_000, using: &generator)
            var edges: [SignalEdge] = []
            for _ in 0..<Int.random(in: 0...14, using: &generator) {
                edges.append(SignalEdge(frame: UInt64.random(in: 0...UInt64(frames + 2000), using: &generator), line: id,
                                        signal: Bool.random(using: &generator) ? .ring : .hook, level: Bool.random(using: &generator)))
            }
            var answered: UInt64?
            if Bool.random(using: &generator) {
                // An answered call: a ring burst, then off hook (and maybe on hook) a little later.
                let ring = UInt64.random(in: 0...UInt64(frames / 2), using: &generator)
                let offHook = ring + UInt64.random(in: 1600...6000, using: &generator)
                answered = offHook
                edges += [SignalEdge(frame: ring, line: id, signal: .ring, level: true), SignalEdge(frame: ring + 1600, line: id, signal: .ring, level: false),
                          SignalEdge(frame: offHook, line: id, signal: .hook, level: true)]
                if Bool.random(using: &generator) {
                    edges.append(SignalEdge(frame: offHook + UInt64.random(in: 0...20_000, using: &generator), line: id, signal: .hook, level: false))
                }
            }
            edges.sort { $0.frame < $1.frame }
            var audio = (0..<frames).map { _ in Int16.random(in: -30...30, using: &generator) }
            for _ in 0..<Int.random(in: 0...6, using: &generator) {
                let keys = String((0..<Int.random(in: 1...3, using: &generator)).map { _ in "0123456789*#9ABCD".randomElement(using: &generator)! })
                Self.mix(SignalSynthesis.dtmf(keys, rate: Self.rate, toneMilliseconds: Int.random(in: 30...600, using: &generator),
                                              pauseMilliseconds: Int.random(in: 10...120, using: &generator)),
                         into: &audio, at: Int.random(in: 0..<frames, using: &generator))
            }
            for edge in edges where edge.signal == .hook && edge.level && (edge.frame == answered || Bool.random(using: &generator)) {
                // A key already sounding when the line goes off hook (the reported crash), or starting with it.
                Self.mix(SignalSynthesis.dtmf(["9", "9", "5"].randomElement(using: &generator)!, rate: Self.rate,
                                              toneMilliseconds: Int.random(in: 40...400, using: &generator), pauseMilliseconds: 0),
                         into: &audio, at: Int(edge.frame) - Int.random(in: -400...1600, using: &generator))
            }
            if Bool.random(using: &generator) {
                Self.mix(SignalSynthesis.dtmfCallerID(number: "600100200", rate: Self.rate), into: &audio, at: Int.random(in: 0..<frames, using: &generator))
            }
            let record: Set<CallDirection> = [[.incoming], [.outgoing], [.incoming, .outgoing]].randomElement(using: &generator)!
            let consent: ConsentMode = Int.random(in: 0..<3, using: &generator) == 0 ? .continueMeansConsent
                : .optOutKey("9", windowFrames: UInt64.random(in: 0...16_000, using: &generator))
            let announcement = Int.random(in: 0..<4, using: &generator) > 0 ? Int.random(in: 1...24_000, using: &generator) : nil
            let policy = LinePolicy(record: record, consent: consent, announcementFrames: announcement.map(UInt64.init),
                                    outgoingNoticeFrames: Bool.random(using: &generator) ? 800 : nil,
                                    outgoingNoticeAfterDialPauseFrames: UInt64.random(in: 0...24_000, using: &generator))
            let source: any LineSignalSource
            if Bool.random(using: &generator) {
                let replay = ReplayLineSignals(edges: edges)
                replay.decisionDelay = Bool.random(using: &generator) ? 0 : UInt64.random(in: 1...400, using: &generator)
                source = replay
            } else {
                source = LateSignals(edges: edges, lateness: UInt64.random(in: 0...8000, using: &generator))
            }
            let line = try Self.makeLine(store: store, id: id, policy: policy, announcementFrames: announcement, source: source)
            let sizes = (0..<3).map { _ in [160, 80, 320, Int.random(in: 1...500, using: &generator)].randomElement(using: &generator)! }
            let dropped = Set((0..<Int.random(in: 0...3, using: &generator)).map { _ in Int.random(in: 0...40, using: &generator) })
            Self.feed(line, audio: audio, sizes: sizes, dropped: dropped)
            lineIDs[id] = edges.filter { $0.signal == .hook && $0.level }.map(\.frame)
            workers.append(line)
        }
        for line in workers {
            let offHooks = lineIDs[line.setup.line] ?? []
            for call in line.calls {
                #expect(call.endFrame >= call.startFrame, "line \(line.setup.line): \(call)")
                #expect(offHooks.contains { $0 <= call.startFrame }, "line \(line.setup.line): a call starts at or after an off-hook edge")
            }
        }
        for row in try catalog.recordings() {
            #expect(row.status != .recording, "\(row.id): every call ended when the run did")
            #expect((row.endFrame ?? 0) >= row.startFrame && (row.durationMs ?? 0) >= 0, "\(row.id)")
            #expect(lineIDs[row.line]?.contains { $0 <= row.startFrame } == true, "\(row.id) starts at or after an off-hook edge")
        }
    }
}

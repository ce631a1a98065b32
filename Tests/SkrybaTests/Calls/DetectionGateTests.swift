import CAllocationCounter
import Foundation
import Testing
import SkrybaCapture
import SkrybaCore
import SkrybaPipeline
import SkrybaSignals
import SkrybaStore

/// Detection only where it can matter (docs/signals.md): the FSK and DTMF detectors sleep on a
/// silent on-hook line, wake on the first period of a signal without losing its start, and the line
/// worker's steady state allocates nothing.
@Suite struct DetectionGateTests {
    static let rate = 8000
    static let period = 160

    /// Line noise as the simulator renders it (±24, about −64 dBFS): below the gate.
    static func lineNoise(seconds: Double, seed: UInt64) -> [Int16] {
        var state = seed
        return (0..<Int(seconds * Double(rate))).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int16(Int(state >> 33) % 49 - 24)
        }
    }

    /// The weakest caller ID the detectors are tested with (docs/signals.md): DTMF tones at −40 dBFS
    /// each, the FSK carrier at −44 dBFS.
    static func weakCallerID(_ number: String, fsk: Bool) -> [Int16] {
        fsk ? SignalSynthesis.fskCallerID(SignalSynthesis.callerIDMessage(number: number, dateTime: "11220930", format: .fskMDMF), rate: rate,
                                          amplitude: 32767 * pow(10, -44.0 / 20))
            : SignalSynthesis.dtmf("A" + number + "C", rate: rate, amplitude: 2 * 32767 * pow(10, -40.0 / 20))
    }

    /// Caller ID sent before the first ring, after a long silence, starting at every kind of offset
    /// into a period (its first sample, the middle, the last): the gate opens on the period it starts
    /// in, or the next, and the look-back hands the detectors its very beginning.
    @Test(arguments: [false, true]) func callerIDBeforeTheFirstRingIsDecodedAtAnyOffsetIntoAPeriod(fsk: Bool) throws {
        for offset in [0, 1, 12, 80, 150, 159] {
            let (store, catalog) = try CallLineOrderingTests.store("gate-\(fsk)-\(offset)")
            var audio = Self.lineNoise(seconds: 30, seed: UInt64(offset + 1))
            let clipStart = 20 * Self.rate + offset
            let clip = Self.weakCallerID("221000\(offset)", fsk: fsk)
            CallLineOrderingTests.mix(clip, into: &audio, at: clipStart)
            let ring = UInt64(clipStart + clip.count + Self.rate / 2), answer = ring + UInt64(Self.rate * 3 / 2)
            let edges = [SignalEdge(frame: ring, line: 1, signal: .ring, level: true),
                         SignalEdge(frame: ring + UInt64(Self.rate), line: 1, signal: .ring, level: false),
                         SignalEdge(frame: answer, line: 1, signal: .hook, level: true),
                         SignalEdge(frame: answer + UInt64(Self.rate * 2), line: 1, signal: .hook, level: false)]
            let line = try CallLineOrderingTests.makeLine(store: store, id: 1, policy: LinePolicy(record: [.incoming], consent: .continueMeansConsent, announcementFrames: nil),
                                                      announcementFrames: nil, source: ReplayLineSignals(edges: edges))
            CallLineOrderingTests.feed(line, audio: audio, sizes: [Self.period])
            let rows = try catalog.recordings()
            let number = rows.first?.callerNumber, startFrame = rows.first?.startFrame
            let format = fsk ? "FSK" : "DTMF"
            #expect(rows.count == 1)
            #expect(number == "221000\(offset)", "offset \(offset), \(format)")
            #expect(startFrame == answer)
            // Asleep for the 20 s of line noise before the caller ID.
            let fskPeriods = line.detectorUse.fskPeriods
            #expect(fskPeriods > 0 && fskPeriods < 11 * 50)
        }
    }

    /// An idle on-hook line: the detectors never run, and an hour of it on the sample clock (plain and
    /// behind a GPIO decision delay) allocates nothing in the line worker after its first second.
    @Test(arguments: [UInt64(0), 96]) func anIdleHourWakesNoDetectorAndAllocatesNothing(decisionDelay: UInt64) throws {
        let (store, _) = try CallLineOrderingTests.store("idle-hour-\(decisionDelay)")
        let replay = ReplayLineSignals(edges: [])
        replay.decisionDelay = decisionDelay
        let line = try CallLineOrderingTests.makeLine(store: store, id: 1, policy: LinePolicy(record: [.incoming, .outgoing], consent: .continueMeansConsent, announcementFrames: nil),
                                                  announcementFrames: nil, source: replay)
        let second = Self.lineNoise(seconds: 1, seed: 7)
        let feed = RingFeed(line, periodFrames: Self.period)
        var allocations = 0, locks = 0
        second.withUnsafeBufferPointer { buffer in
            for secondIndex in 0..<3600 {
                for start in stride(from: 0, to: buffer.count, by: Self.period) {
                    skryba_allocations_begin()
                    feed.push(UnsafeBufferPointer(rebasing: buffer[start..<start + Self.period]), startFrame: UInt64(secondIndex * Self.rate + start))
                    let made = skryba_allocations_end(), taken = skryba_locks_counted()
                    // The first second is warm-up: the Swift runtime instantiates generic metadata once
                    // per process (it allocates and locks), and whichever test gets there first pays.
                    if secondIndex > 0 {
                        allocations += made
                        locks += taken
                    }
                }
            }
        }
        #expect(allocations == 0)
        #expect(locks == 0)
        #expect(line.detectorUse == CallLine.DetectorUse(dtmfPeriods: 0, fskPeriods: 0))
        #expect(line.calls.isEmpty)
    }

    /// The detectors' steady state inside the worker: an on-hook line that sounds (both detectors
    /// awake) and an unrecorded call off hook (DTMF), periods without edges or results.
    @Test func awakeDetectorsAllocateNothingInTheWorker() throws {
        let (store, _) = try CallLineOrderingTests.store("awake")
        let seconds = 20
        let hookFrame = UInt64(10 * Self.rate)
        let replay = ReplayLineSignals(edges: [SignalEdge(frame: hookFrame, line: 1, signal: .hook, level: true)])
        // Nothing recorded: the encoder (the recording session's) stays out of this count.
        let line = try CallLineOrderingTests.makeLine(store: store, id: 1, policy: LinePolicy(record: [], consent: .continueMeansConsent, announcementFrames: nil),
                                                  announcementFrames: nil, source: replay)
        // Loud noise (about −30 dBFS): it wakes the gate but carries no key and no carrier.
        var state: UInt64 = 3
        let audio: [Int16] = (0..<(seconds * Self.rate)).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int16(Int(state >> 33) % 2001 - 1000)
        }
        var allocations = 0, counted = 0
        let feed = RingFeed(line, periodFrames: Self.period)
        audio.withUnsafeBufferPointer { buffer in
            for start in stride(from: 0, to: buffer.count, by: Self.period) {
                skryba_allocations_begin()
                feed.push(UnsafeBufferPointer(rebasing: buffer[start..<start + Self.period]), startFrame: UInt64(start))
                let made = skryba_allocations_end()
                // Skip the warm-up second and the period of the hook edge (an edge allocates its events).
                if start >= Self.rate && !(UInt64(start)..<UInt64(start + Self.period)).contains(hookFrame) {
                    allocations += made
                    counted += 1
                }
            }
        }
        #expect(counted > 900)
        #expect(allocations == 0)
        #expect(line.detectorUse.fskPeriods == 10 * 50, "FSK on hook only")
        #expect(line.detectorUse.dtmfPeriods == seconds * 50, "DTMF on and off hook")
    }

    @Test func theGateOpensOnSoundOrRingAndHoldsFiveSeconds() {
        var gate = DetectionGate(sampleRate: Self.rate)
        let quiet = Self.lineNoise(seconds: 0.02, seed: 1)
        // −50 dBFS: 8 dB above the gate, 2 dB below the weakest FSK carrier.
        let faint = (0..<Self.period).map { Int16(32767 * pow(10, -50.0 / 20) * sin(Double($0) * 0.9)) }
        quiet.withUnsafeBufferPointer { quiet in
            faint.withUnsafeBufferPointer { faint in
                let beforeSound = gate.observe(quiet, start: 0, end: 160, rang: false)
                let onSound = gate.observe(faint, start: 160, end: 320, rang: false)
                let held = gate.observe(quiet, start: 320 + 5 * 8000 - 160, end: 320 + 5 * 8000, rang: false)
                let after = gate.observe(quiet, start: 320 + 5 * 8000, end: 320 + 5 * 8000 + 160, rang: false)
                let onRing = gate.observe(quiet, start: 100_000, end: 100_160, rang: true)
                #expect(!beforeSound && onSound)
                #expect(held, "held 5 s")
                #expect(!after)
                #expect(onRing, "a ring edge wakes it")
            }
        }
    }
}

import Testing
import SkrybaALSA
import SkrybaCapture
import SkrybaCore
import SkrybaPipeline

/// The capture thread, the rings and the line workers on real alsa-lib `type file` PCMs.
@Suite struct CaptureThroughRingsTests {
    /// Runs a bounded capture through the real capture thread and line workers.
    func capture(pcm name: String, layout: LineLayout, frames: UInt64, periodFrames: Int = 160, slots: Int = 8,
                 workers: Int = 2) throws -> (CaptureOutcome, [CollectingLine], CaptureRings) {
        _ = ALSAFixture.shared
        let pcm = try PCM(name: name, stream: .capture,
                          parameters: PCMParameters(rate: layout.rate, channels: layout.channels, periodFrames: periodFrames))
        let rings = CaptureRings(layout: layout, periodFrames: pcm.parameters.periodFrames, slotsPerRing: slots)
        let lines = (0..<layout.lineCount).map { _ in CollectingLine() }
        let capture = CaptureThread(consumers: workers)
        let workerThreads = try LineWorkers(rings: rings, capture: capture, consumers: lines)
        try capture.start(rings.makeLoop(source: pcm.realtimeReader(), frameLimit: frames, pacing: .waitForConsumers), realtimePriority: nil)
        let outcome = capture.join()
        workerThreads.join()
        return (outcome, lines, rings)
    }

    @Test func everyFrameArrivesOnceInOrderOnItsLine() throws {
        let layout = try LineLayout(rate: 8000, lines: 8)
        // Not a multiple of the period, and far more periods than the rings hold.
        let frames: UInt64 = 12_345
        let (outcome, lines, rings) = try capture(pcm: "skryba_test_pattern8", layout: layout, frames: frames)
        #expect(outcome.end == .reachedFrameLimit)
        #expect(outcome.framesCaptured == frames)
        #expect(outcome.recoveredOverruns == 0)
        #expect(rings.overflows.allSatisfy { $0 == RingOverflow(periods: 0, frames: 0) })
        for (line, collected) in lines.enumerated() {
            #expect(collected.samples.count == Int(frames))
            let expected = (0..<Int(frames)).map { ALSAFixture.patternSample(frame: $0, channel: line) }
            #expect(collected.samples == expected, "line \(line + 1) must carry exactly channel \(line)")
            // 77 whole periods of 160 frames, then the last 25.
            #expect(collected.periodStarts == (0..<78).map { UInt64($0 * 160) })
            #expect(collected.finishCalls == 1)
            #expect(collected.endFrame == frames)
        }
    }

    @Test func aToneOnChannelThreeLandsOnlyOnItsLine() throws {
        // Lines mapped in a different order from the channels: line 2 listens to channel 3.
        let layout = try LineLayout(rate: 8000, channels: 6, captureChannels: [5, 3, 0, 1])
        let (outcome, lines, _) = try capture(pcm: "skryba_test_tone6", layout: layout, frames: UInt64(ALSAFixture.toneFrames))
        #expect(outcome.framesCaptured == UInt64(ALSAFixture.toneFrames))
        for (index, line) in lines.enumerated() {
            let energy = Signal.rms(line.samples[...])
            if layout.captureChannels[index] == ALSAFixture.toneChannel {
                #expect(abs(energy - 8000 / 2.0.squareRoot()) < 50, "the tone's RMS, on line \(index + 1)")
            } else {
                #expect(line.samples.allSatisfy { $0 == 0 }, "line \(index + 1) must be silent")
            }
        }
    }

    @Test func boundedCaptureStopsAtItsExactFrame() throws {
        _ = ALSAFixture.shared
        let layout = try LineLayout(rate: 8000, lines: 8)
        let pcm = try PCM(name: "skryba_test_pattern8", stream: .capture,
                          parameters: PCMParameters(rate: 8000, channels: 8, periodFrames: 160))
        let rings = CaptureRings(layout: layout, periodFrames: 160, slotsPerRing: 16)
        var loop = rings.makeLoop(source: pcm.realtimeReader(), frameLimit: 1003, pacing: .waitForConsumers)
        var steps: [CaptureLoop<PCMReader>.Step] = []
        for _ in 0..<9 { steps.append(loop.step()) }
        #expect(steps == Array(repeating: .captured(frames: 160), count: 6) + [.captured(frames: 43), .reachedLimit, .reachedLimit])
        #expect(loop.position == 1003)
        let ring = rings.rings[5]
        var starts: [UInt64] = []
        var last: [Int16] = []
        while let period = ring.peek() {
            starts.append(period.startFrame)
            last = Array(period.samples)
            ring.release()
        }
        #expect(starts == [0, 160, 320, 480, 640, 800, 960])
        #expect(last == (960..<1003).map { ALSAFixture.patternSample(frame: $0, channel: 5) })
    }

    @Test func aFullRingDropsWholePeriodsAndCountsThemOnDevicePacing() throws {
        _ = ALSAFixture.shared
        let layout = try LineLayout(rate: 8000, lines: 2, channels: 8)
        let pcm = try PCM(name: "skryba_test_pattern8", stream: .capture,
                          parameters: PCMParameters(rate: 8000, channels: 8, periodFrames: 160))
        let rings = CaptureRings(layout: layout, periodFrames: 160, slotsPerRing: 4)
        var loop = rings.makeLoop(source: pcm.realtimeReader(), frameLimit: nil, pacing: .device)
        for _ in 0..<10 { #expect(loop.step() == .captured(frames: 160)) }
        // Nobody consumed: 4 periods kept, 6 dropped per line.
        #expect(rings.overflows == Array(repeating: RingOverflow(periods: 6, frames: 960), count: 2))
        // The consumer sees the gap as a jump in the sample clock.
        let ring = rings.rings[1]
        var starts: [UInt64] = []
        while let period = ring.peek() { starts.append(period.startFrame); ring.release() }
        #expect(starts == [0, 160, 320, 480])
        #expect(loop.step() == .captured(frames: 160))
        #expect(ring.peek()?.startFrame == 1600)
    }
}

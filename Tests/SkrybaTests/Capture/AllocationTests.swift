import Testing
import CAllocationCounter
import SkrybaALSA
import SkrybaCapture
import SkrybaCore

/// The capture loop must never allocate: counted, not assumed. The malloc family is interposed in
/// this test binary (CAllocationCounter) and counted per thread around each iteration.
@Suite struct AllocationTests {
    @Test func theCaptureLoopAllocatesNothingInSteadyState() throws {
        _ = ALSAFixture.shared
        let layout = try LineLayout(rate: 8000, lines: 8)
        let pcm = try PCM(name: "skryba_test_pattern8", stream: .capture,
                          parameters: PCMParameters(rate: 8000, channels: 8, periodFrames: 160))
        let rings = CaptureRings(layout: layout, periodFrames: 160, slotsPerRing: 8)
        // With a clock anchor: the stream timestamp is read and published after every period too.
        let anchor = SampleClockAnchor.allocate()
        defer { anchor.deallocate() }
        var loop = rings.makeLoop(source: pcm.realtimeReader(), frameLimit: nil, pacing: .device, clockAnchor: anchor)
        for _ in 0..<4 { _ = loop.step() }  // alsa-lib may set up lazily on the first reads

        var allocations = 0
        var captured = 0
        for iteration in 0..<1500 {
            skryba_allocations_begin()
            let step = loop.step()
            allocations += skryba_allocations_end()
            if step == .captured(frames: 160) { captured += 1 }
            // Drain some lines only, so both the publish and the overflow paths run.
            if iteration % 3 == 0 {
                for line in 0..<4 { while rings.rings[line].peek() != nil { rings.rings[line].release() } }
            }
        }
        #expect(captured == 1500)
        #expect(rings.overflows[7].periods > 0, "the overflow path ran")
        #expect(allocations == 0)
        #expect(anchor.read()?.frame ?? 0 >= 1504 * 160, "the file PCM reports its position with a timestamp")
    }

    @Test func theCounterSeesAnAllocation() {
        skryba_allocations_begin()
        let array = [Int](repeating: 7, count: Int.random(in: 100...200))
        let counted = skryba_allocations_end()
        #expect(array.count >= 100)
        #expect(counted >= 1)
    }
}

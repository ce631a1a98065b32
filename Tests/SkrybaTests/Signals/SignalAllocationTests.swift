import CAllocationCounter
import Testing
import SkrybaSignals

extension Signals {
    /// The detectors run on the line worker for every period: counted, not assumed, they allocate
    /// nothing while they have nothing to report (a result array is made only when something ends).
    @Suite struct SignalAllocationTests {
        @Test(arguments: [8000, 16000]) func detectorsAllocateNothingPerPeriod(rate: Int) {
            var signal = SignalBuilder(rate: rate)
            signal.silence(seconds: 0.1)
            signal.fsk(CallerIDMessage.mdmf([(0x02, Array("123456789".utf8))]), modulator: FSKModulator(standard: .v23, rate: rate))
            signal.key("5", seconds: 0.5)
            signal.silence(seconds: 0.1)
            signal.addNoise(rms: 30, seed: 1)
            let samples = signal.int16
            var dtmf = DTMFDetector(sampleRate: rate)
            var fsk = FSKCallerIDDecoder(sampleRate: rate)
            let period = rate / 50
            var allocations = 0, quietPeriods = 0, results = 0
            // Pass 0 warms up the runtime's one-time initialisations (lazy statics); pass 1 is counted.
            for pass in 0..<2 {
                samples.withUnsafeBufferPointer { buffer in
                    for start in stride(from: 0, to: buffer.count - period, by: period) {
                        let block = UnsafeBufferPointer(rebasing: buffer[start..<start + period])
                        let frame = UInt64(pass * samples.count + start)
                        skryba_allocations_begin()
                        let digits = dtmf.process(block, startFrame: frame)
                        let ids = fsk.process(block, startFrame: frame)
                        let counted = skryba_allocations_end()
                        guard pass == 1 else { continue }
                        if digits.isEmpty && ids.isEmpty { allocations += counted; quietPeriods += 1 } else { results += digits.count + ids.count }
                    }
                }
            }
            #expect(results == 2, "the caller ID and the key were found")
            #expect(quietPeriods > 50)
            #expect(allocations == 0)
        }
    }
}

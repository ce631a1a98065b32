import Testing
import SkrybaCore
import SkrybaCapture

/// Timestamp → frame mapping from the capture stream's anchors (docs/gpio.md, "Timestamps to frames").
@Suite struct GPIOClockMapperTests {
    static let second: UInt64 = 1_000_000_000

    /// Anchors of a perfect 8000 Hz stream that started at 3 s: one every 20 ms from 5 s on.
    static func exactAnchors(through end: UInt64) -> [ClockAnchor] {
        stride(from: 5 * second, through: end, by: 20_000_000).map {
            ClockAnchor(monotonicNanoseconds: $0, frame: ($0 - 3 * second) * 8000 / second)
        }
    }

    @Test func mapsExactlyWithOneAnchorAndWithAFittedWindow() {
        var mapper = SampleClockMapper(nominalRate: 8000)
        #expect(mapper.map(monotonicNanoseconds: 7 * Self.second) == .init(frame: 0, placement: .noAnchor))

        mapper.add(ClockAnchor(monotonicNanoseconds: 5 * Self.second, frame: 16_000))
        let five = 5 * Self.second
        #expect(mapper.map(monotonicNanoseconds: five) == .init(frame: 16_000, placement: .withinAnchors))
        #expect(mapper.map(monotonicNanoseconds: five + 124_999) == .init(frame: 16_000, placement: .afterLastAnchor))
        #expect(mapper.map(monotonicNanoseconds: five + 375_000) == .init(frame: 16_003, placement: .afterLastAnchor))
        // Backwards along the line while the stream ran; before it started (3 s) the frame is 0.
        #expect(mapper.map(monotonicNanoseconds: five - Self.second) == .init(frame: 8_000, placement: .beforeFirstAnchor))
        #expect(mapper.map(monotonicNanoseconds: 3 * Self.second) == .init(frame: 0, placement: .beforeFirstAnchor))
        #expect(mapper.map(monotonicNanoseconds: 2 * Self.second) == .init(frame: 0, placement: .beforeFirstAnchor))

        for anchor in Self.exactAnchors(through: 15 * Self.second) { mapper.add(anchor) }
        #expect(mapper.anchors.count == 11)  // 1 s apart, the last one the newest
        #expect(abs(mapper.rate - 8000) < 1e-9)
        #expect(mapper.map(monotonicNanoseconds: 12_500_625_000) == .init(frame: 76_005, placement: .withinAnchors))
        #expect(mapper.map(monotonicNanoseconds: 15_060_000_000) == .init(frame: 96_480, placement: .afterLastAnchor))
        #expect(mapper.map(monotonicNanoseconds: 4 * Self.second) == .init(frame: 8_000, placement: .beforeFirstAnchor))
        #expect(mapper.realignments == 0)
        let stale = mapper.add(ClockAnchor(monotonicNanoseconds: 15 * Self.second, frame: 96_000))
        #expect(!stale)  // not newer than the newest
    }

    /// A crystal 50 ppm fast (8000.4 Hz) seen through timestamps with ±50 µs of jitter: the rate
    /// comes out within 1 ppm, and every edge maps within one frame of the truth.
    @Test func recoversTheTrueRateFromJitteryAnchors() {
        let trueRate = 8000.4
        var random = Xorshift(seed: 0x5EED_0F_C10C)
        var mapper = SampleClockMapper(nominalRate: 8000)
        let start = 1_000 * Self.second
        func trueTime(_ frame: Double) -> Double { Double(start) + frame / trueRate * 1e9 }
        var worstMapping = 0.0
        for period in 0...6_000 {  // two minutes of 160-frame periods
            let frame = UInt64(period * 160)
            let jitter = Double(random.next() % 100_001) - 50_000  // ±50 µs, uniform
            mapper.add(ClockAnchor(monotonicNanoseconds: UInt64(trueTime(Double(frame)) + jitter), frame: frame))
            // An edge somewhere in the next period, as the reader thread would map it.
            guard period >= 10 else { continue }
            let edgeFrame = Double(frame) + Double(random.next() % 16_000) / 100
            let mapped = mapper.map(monotonicNanoseconds: UInt64(trueTime(edgeFrame)))
            worstMapping = max(worstMapping, abs(Double(mapped.frame) - edgeFrame.rounded(.down)))
        }
        #expect(abs(mapper.deviationPPM - 50) < 1)
        #expect(worstMapping <= 1)
        #expect(mapper.realignments == 0)
    }

    @Test func anOverrunRealignsTheWindowAndKeepsTheRate() {
        var mapper = SampleClockMapper(nominalRate: 8000)
        for anchor in Self.exactAnchors(through: 15 * Self.second) { mapper.add(anchor) }
        // An overrun lost 1280 frames: the sample clock counts on from where it was.
        mapper.add(ClockAnchor(monotonicNanoseconds: 16 * Self.second, frame: 104_000 - 1_280))
        #expect(mapper.realignments == 1)
        #expect(mapper.anchors.count == 1)
        #expect(abs(mapper.rate - 8000) < 1e-9)
        #expect(mapper.map(monotonicNanoseconds: 17 * Self.second).frame == 110_720)
        // Jitter within 5 ms of the line is not an overrun.
        mapper.add(ClockAnchor(monotonicNanoseconds: 17 * Self.second, frame: 110_720 + 39))
        #expect(mapper.realignments == 1)
    }

    @Test func clampsTheRateToNominalPlusMinus1000ppm() {
        for (trueRate, clamped) in [(8100.0, 8008.0), (7900.0, 7992.0)] {
            var mapper = SampleClockMapper(nominalRate: 8000)
            for period in 0...250 {  // 5 s: the first fitted window
                mapper.add(ClockAnchor(monotonicNanoseconds: UInt64(period) * 20_000_000, frame: UInt64((Double(period) * 0.02 * trueRate).rounded())))
            }
            #expect(abs(mapper.rate - clamped) < 1e-9)
            #expect(mapper.realignments == 0)
        }
    }
}

@Suite struct GPIOClockAnchorTests {
    @Test func readsNothingBeforeThePublishAndThenTheLatestPair() {
        let slot = SampleClockAnchor.allocate()
        defer { slot.deallocate() }
        #expect(slot.read() == nil)
        slot.publish(ClockAnchor(monotonicNanoseconds: 42, frame: 7))
        slot.publish(ClockAnchor(monotonicNanoseconds: 43, frame: 8))
        #expect(slot.read() == ClockAnchor(monotonicNanoseconds: 43, frame: 8))
    }

    /// The capture thread publishes a million pairs whose halves are tied by a hash; a reader on
    /// another real thread checks every pair it reads. A torn read (time of one publish, frame of
    /// another) would break the tie; time never goes back.
    @Test func aReaderNeverSeesATornPair() throws {
        let slot = SampleClockAnchor.allocate()
        defer { slot.deallocate() }
        let count: UInt64 = 1_000_000
        func tie(_ time: UInt64) -> UInt64 { (time &* 0x9E37_79B9_7F4A_7C15) ^ (time >> 7) }
        let writer = try JoinableThread(name: "anchor-writer") {
            for time in 1...count { slot.publish(ClockAnchor(monotonicNanoseconds: time, frame: tie(time))) }
        }
        var torn = 0, backwards = 0, reads = 0, last: UInt64 = 0
        while last < count {
            guard let anchor = slot.read() else { continue }
            reads += 1
            if anchor.frame != tie(anchor.monotonicNanoseconds) { torn += 1 }
            if anchor.monotonicNanoseconds < last { backwards += 1 }
            last = anchor.monotonicNanoseconds
        }
        writer.join()
        #expect(torn == 0)
        #expect(backwards == 0)
        #expect(reads > 0)
    }
}

/// xorshift64*: deterministic jitter so a failure reproduces.
struct Xorshift {
    var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

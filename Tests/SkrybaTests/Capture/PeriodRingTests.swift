import Testing
import SkrybaCapture
import SkrybaPipeline

@Suite struct PeriodRingTests {
    @Test func capacityRoundsUpToAPowerOfTwo() {
        let ring = PeriodRing.allocate(slotCount: 5, periodFrames: 4)
        defer { ring.deallocate() }
        #expect(ring.slotCount == 8)
    }

    @Test func emptyAndFullAreReportedExactly() {
        let ring = PeriodRing.allocate(slotCount: 2, periodFrames: 3)
        defer { ring.deallocate() }
        #expect(ring.peek() == nil)
        for index in 0..<2 {
            let slot = ring.reserve()!
            for sample in 0..<3 { slot[sample] = Int16(index * 10 + sample) }
            ring.publish(startFrame: UInt64(index * 3), frames: 3)
        }
        #expect(ring.reserve() == nil)
        #expect(!ring.hasFreeSlot)
        #expect(ring.fill == 2)
        #expect(Array(ring.peek()!.samples) == [0, 1, 2])
        ring.release()
        #expect(ring.hasFreeSlot)
        #expect(ring.peek()!.startFrame == 3)
    }

    /// Producer and consumer on two real threads, a million samples through an 4-slot ring: every
    /// sample arrives once, in order (a torn or reordered slot would break the sequence).
    @Test func twoThreadsMoveEverySampleInOrder() throws {
        let ring = PeriodRing.allocate(slotCount: 4, periodFrames: 64)
        defer { ring.deallocate() }
        let periods = 16_000
        let producer = try JoinableThread(name: "producer") {
            var next: Int16 = 0
            for period in 0..<periods {
                var slot = ring.reserve()
                while slot == nil { slot = ring.reserve() }
                for index in 0..<64 { slot![index] = next; next &+= 1 }
                ring.publish(startFrame: UInt64(period * 64), frames: 64)
            }
        }
        var expected: Int16 = 0
        var mismatches = 0
        var expectedStart: UInt64 = 0
        var received = 0
        while received < periods {
            guard let period = ring.peek() else { continue }
            if period.startFrame != expectedStart { mismatches += 1 }
            for sample in period.samples {
                if sample != expected { mismatches += 1 }
                expected &+= 1
            }
            ring.release()
            expectedStart += 64
            received += 1
        }
        producer.join()
        #expect(mismatches == 0)
        #expect(ring.overflow == RingOverflow(periods: 0, frames: 0))
    }
}

import Synchronization

/// A single-producer single-consumer lock-free ring of capture periods for one line.
///
/// Each slot holds one period of one line's samples plus the sample-clock position of its first
/// frame, so the consumer always knows exactly where on the timeline its audio sits, even after the
/// producer had to drop a period because the ring was full (the gap is visible as a jump in
/// `startFrame`).
///
/// Memory ordering follows PipeWire's `spa_ringbuffer`: the producer writes the slot, then
/// publishes the write index with release; the consumer loads it with acquire before reading the
/// slot, and publishes its read index with release once done, which the producer loads with acquire
/// before reusing the slot. Indices count slots monotonically (64-bit, never wrap in practice) and
/// are masked by the power-of-two capacity.
///
/// The ring is a trivial value of raw pointers: copying it into the capture loop costs no
/// reference counting. `PeriodRing.allocate` and `deallocate` are the owner's business
/// (`CaptureRings`); the ring must outlive both threads.
public struct PeriodRing: @unchecked Sendable {
    public let slotCount: Int
    public let periodFrames: Int
    @usableFromInline let mask: Int
    @usableFromInline let samples: UnsafeMutablePointer<Int16>
    @usableFromInline let startFrames: UnsafeMutablePointer<UInt64>
    @usableFromInline let frameCounts: UnsafeMutablePointer<Int>
    /// Cache-line separated: write index, read index, overflow counters.
    @usableFromInline let counters: UnsafeMutableRawPointer

    @usableFromInline static let cacheLine = 64

    /// - Parameter slotCount: rounded up to a power of two.
    public static func allocate(slotCount requested: Int, periodFrames: Int) -> PeriodRing {
        precondition(requested > 0 && periodFrames > 0)
        var slots = 1
        while slots < requested { slots <<= 1 }
        let counters = UnsafeMutableRawPointer.allocate(byteCount: 4 * cacheLine, alignment: cacheLine)
        for index in 0..<4 {
            (counters + index * cacheLine).bindMemory(to: Atomic<UInt64>.self, capacity: 1).initialize(to: Atomic(0))
        }
        let samples = UnsafeMutablePointer<Int16>.allocate(capacity: slots * periodFrames)
        samples.initialize(repeating: 0, count: slots * periodFrames)
        let startFrames = UnsafeMutablePointer<UInt64>.allocate(capacity: slots)
        startFrames.initialize(repeating: 0, count: slots)
        let frameCounts = UnsafeMutablePointer<Int>.allocate(capacity: slots)
        frameCounts.initialize(repeating: 0, count: slots)
        return PeriodRing(slotCount: slots, periodFrames: periodFrames, mask: slots - 1, samples: samples,
                          startFrames: startFrames, frameCounts: frameCounts, counters: counters)
    }

    @usableFromInline init(slotCount: Int, periodFrames: Int, mask: Int, samples: UnsafeMutablePointer<Int16>,
                           startFrames: UnsafeMutablePointer<UInt64>, frameCounts: UnsafeMutablePointer<Int>,
                           counters: UnsafeMutableRawPointer) {
        self.slotCount = slotCount
        self.periodFrames = periodFrames
        self.mask = mask
        self.samples = samples
        self.startFrames = startFrames
        self.frameCounts = frameCounts
        self.counters = counters
    }

    public func deallocate() {
        for index in 0..<4 { counter(index).deinitialize(count: 1) }
        counters.deallocate()
        samples.deallocate()
        startFrames.deallocate()
        frameCounts.deallocate()
    }

    @inlinable func counter(_ index: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        (counters + index * Self.cacheLine).assumingMemoryBound(to: Atomic<UInt64>.self)
    }
    @inlinable var writeIndex: UnsafeMutablePointer<Atomic<UInt64>> { counter(0) }
    @inlinable var readIndex: UnsafeMutablePointer<Atomic<UInt64>> { counter(1) }
    @inlinable var droppedPeriods: UnsafeMutablePointer<Atomic<UInt64>> { counter(2) }
    @inlinable var droppedFrames: UnsafeMutablePointer<Atomic<UInt64>> { counter(3) }

    // MARK: Producer (capture thread)

    /// The next free slot's sample storage, or nil when the consumer has not freed one yet.
    @inlinable public func reserve() -> UnsafeMutablePointer<Int16>? {
        let write = writeIndex.pointee.load(ordering: .relaxed)  // only the producer stores it
        let read = readIndex.pointee.load(ordering: .acquiring)
        guard write &- read < UInt64(slotCount) else { return nil }
        return samples + (Int(truncatingIfNeeded: write) & mask) * periodFrames
    }

    /// Makes the slot returned by `reserve()` visible to the consumer.
    @inlinable public func publish(startFrame: UInt64, frames: Int) {
        let write = writeIndex.pointee.load(ordering: .relaxed)
        let slot = Int(truncatingIfNeeded: write) & mask
        startFrames[slot] = startFrame
        frameCounts[slot] = frames
        writeIndex.pointee.store(write &+ 1, ordering: .releasing)
    }

    /// Counts a period the producer had to drop because the ring was full.
    @inlinable public func recordOverflow(frames: Int) {
        droppedPeriods.pointee.add(1, ordering: .relaxed)
        droppedFrames.pointee.add(UInt64(frames), ordering: .relaxed)
    }

    /// True when at least one slot is free (used by simulation pacing, which waits instead of dropping).
    @inlinable public var hasFreeSlot: Bool {
        writeIndex.pointee.load(ordering: .relaxed) &- readIndex.pointee.load(ordering: .acquiring) < UInt64(slotCount)
    }

    // MARK: Consumer (line worker)

    /// The oldest unread period, or nil when the ring is empty.
    @inlinable public func peek() -> CapturedPeriod? { peek(offset: 0) }

    /// The period `offset` slots after the oldest unreleased one, or nil when the producer has not
    /// published it yet. A consumer that must look back (the GPIO lag, the detectors' look-back) keeps
    /// the slots it already read and releases them late, instead of copying their samples.
    @inlinable public func peek(offset: Int) -> CapturedPeriod? {
        let read = readIndex.pointee.load(ordering: .relaxed)  // only the consumer stores it
        let write = writeIndex.pointee.load(ordering: .acquiring)
        let index = read &+ UInt64(offset)
        guard index < write else { return nil }
        return period(atIndex: index)
    }

    @inlinable func period(atIndex index: UInt64) -> CapturedPeriod {
        let slot = Int(truncatingIfNeeded: index) & mask
        return CapturedPeriod(startFrame: startFrames[slot],
                              samples: UnsafeBufferPointer(start: samples + slot * periodFrames, count: frameCounts[slot]))
    }

    /// Frees the period returned by `peek()`.
    @inlinable public func release() { release(1) }

    /// Frees the `count` oldest periods read (the producer may reuse their slots).
    @inlinable public func release(_ count: Int) {
        guard count > 0 else { return }
        let read = readIndex.pointee.load(ordering: .relaxed)
        readIndex.pointee.store(read &+ UInt64(count), ordering: .releasing)
    }

    // MARK: Monitoring (any thread)

    public var overflow: RingOverflow {
        RingOverflow(periods: droppedPeriods.pointee.load(ordering: .relaxed), frames: droppedFrames.pointee.load(ordering: .relaxed))
    }

    /// Periods waiting for the consumer.
    public var fill: Int {
        Int(writeIndex.pointee.load(ordering: .acquiring) &- readIndex.pointee.load(ordering: .acquiring))
    }
}

/// The periods a consumer has read from its ring and not released yet, oldest first (the newest is
/// the one it is consuming): its look-back, held in the ring's own slots. Valid until it releases them.
public struct HeldPeriods {
    public let ring: PeriodRing
    public let count: Int

    @inlinable public init(ring: PeriodRing, count: Int) {
        self.ring = ring
        self.count = count
    }

    /// `index` 0 is the oldest held period, `count - 1` the newest.
    @inlinable public subscript(index: Int) -> CapturedPeriod {
        ring.period(atIndex: ring.readIndex.pointee.load(ordering: .relaxed) &+ UInt64(index))
    }
}

/// One period of one line, as the consumer sees it. The samples stay valid until `release()`.
public struct CapturedPeriod {
    public let startFrame: UInt64
    public let samples: UnsafeBufferPointer<Int16>

    @inlinable public init(startFrame: UInt64, samples: UnsafeBufferPointer<Int16>) {
        self.startFrame = startFrame
        self.samples = samples
    }
}

/// How much a line lost because its consumer fell behind.
public struct RingOverflow: Equatable, Sendable, Codable {
    public var periods: UInt64
    public var frames: UInt64
    public init(periods: UInt64, frames: UInt64) {
        self.periods = periods
        self.frames = frames
    }
}

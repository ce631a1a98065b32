import Synchronization

/// One observation of the capture stream: at `monotonicNanoseconds` (CLOCK_MONOTONIC) the stream's
/// position on the sample clock was `frame`.
///
/// The capture side makes one after a read from `snd_pcm_htimestamp(pcm, &avail, &ts)` (with the
/// PCM's timestamp type set to monotonic): `frame = framesCapturedSoFar + avail`, because `ts` is
/// when the hardware position was last updated, and `avail` frames were waiting to be read then.
public struct ClockAnchor: Hashable, Sendable {
    public var monotonicNanoseconds: UInt64
    public var frame: UInt64

    @inlinable public init(monotonicNanoseconds: UInt64, frame: UInt64) {
        self.monotonicNanoseconds = monotonicNanoseconds
        self.frame = frame
    }
}

/// Maps CLOCK_MONOTONIC timestamps (GPIO edges) onto the sample clock (DESIGN.md §1).
///
/// The stream's true rate differs from the nominal one by tens of ppm on real hardware, which
/// over a long call would put edges many frames off, so the rate is estimated: a least-squares
/// line over a sliding window of anchors kept about `anchorSpacing` apart (a long span is what
/// makes the slope precise; timestamp jitter averages out across the window), always including
/// the newest anchor so the line follows the stream. The rate is clamped to nominal ±1000 ppm,
/// so a bad anchor cannot make the clock absurd. An anchor far off the line (the capture lost
/// frames in an overrun, which the sample clock does not count) restarts the window there.
///
/// A plain value with no I/O: the GPIO reader thread owns one and feeds it what it reads from a
/// `SampleClockAnchor`; tests feed it synthetic anchors.
public struct SampleClockMapper: Sendable {
    public struct Mapping: Equatable, Sendable {
        public enum Placement: Equatable, Sendable {
            /// Nothing published yet (capture not started): frame 0.
            case noAnchor
            /// Earlier than every anchor seen: extrapolated backwards along the line, and 0 if that
            /// lands before the stream started.
            case beforeFirstAnchor
            case withinAnchors
            /// After the newest anchor: extrapolated along the estimated rate.
            case afterLastAnchor
        }
        public var frame: UInt64
        public var placement: Placement

        public init(frame: UInt64, placement: Placement) {
            self.frame = frame
            self.placement = placement
        }
    }

    /// Frames per second the stream was opened at.
    public let nominalRate: Double
    /// The estimated rate is kept within nominal × (1 ± this). 1000 ppm is far beyond any crystal.
    public let maximumDeviation = 1e-3
    public let anchorSpacingNanoseconds: UInt64
    public let capacity: Int
    /// Below this span the window cannot give a slope better than the crystal's own tolerance, so
    /// the previous (at first the nominal) rate is used through the newest anchor.
    public let minimumRateSpanNanoseconds: UInt64
    /// An anchor this many frames off the line restarts the window (an overrun dropped frames).
    public let realignmentFrames: Double

    /// Frames per second as estimated (nominal until the window spans `minimumRateSpan`).
    public private(set) var rate: Double
    /// The window, oldest first; the last one is the newest anchor accepted.
    public private(set) var anchors: [ClockAnchor] = []
    /// How often an anchor off the line restarted the window.
    public private(set) var realignments = 0
    private var firstAnchorNanoseconds: UInt64?
    /// A point of the fitted line, relative to `anchors[0]` (the centroid, or the newest anchor).
    private var pivotNanoseconds = 0.0
    private var pivotFrames = 0.0

    public init(nominalRate: Int, anchorSpacingNanoseconds: UInt64 = 1_000_000_000, capacity: Int = 64,
                minimumRateSpanNanoseconds: UInt64 = 5_000_000_000, realignmentMilliseconds: Double = 5) {
        precondition(nominalRate > 0 && capacity >= 2)
        self.nominalRate = Double(nominalRate)
        self.rate = Double(nominalRate)
        self.anchorSpacingNanoseconds = anchorSpacingNanoseconds
        self.capacity = capacity
        self.minimumRateSpanNanoseconds = minimumRateSpanNanoseconds
        self.realignmentFrames = Double(nominalRate) * realignmentMilliseconds / 1000
    }

    /// Rate error against nominal, in ppm (for health reports: tens is normal, ±1000 means clamped).
    public var deviationPPM: Double { (rate / nominalRate - 1) * 1e6 }

    /// Adds an anchor. Returns false (and ignores it) when it is not newer than the newest one:
    /// time must advance and the frame count never goes back.
    @discardableResult
    public mutating func add(_ anchor: ClockAnchor) -> Bool {
        if let newest = anchors.last {
            guard anchor.monotonicNanoseconds > newest.monotonicNanoseconds, anchor.frame >= newest.frame else { return false }
            if abs(Double(anchor.frame) - position(anchor.monotonicNanoseconds)) > realignmentFrames {
                anchors.removeAll(keepingCapacity: true)
                realignments += 1
            }
        }
        if firstAnchorNanoseconds == nil { firstAnchorNanoseconds = anchor.monotonicNanoseconds }
        // The newest anchor is replaced by the next one until it lies a full spacing past the one
        // before; then it stays. The window is evenly spread and still ends at the newest observation.
        if anchors.count >= 2,
           anchors[anchors.count - 1].monotonicNanoseconds - anchors[anchors.count - 2].monotonicNanoseconds < anchorSpacingNanoseconds {
            anchors[anchors.count - 1] = anchor
        } else {
            anchors.append(anchor)
            if anchors.count > capacity { anchors.removeFirst() }
        }
        fit()
        return true
    }

    private mutating func fit() {
        let origin = anchors[0], newest = anchors[anchors.count - 1]
        let n = Double(anchors.count)
        guard anchors.count >= 2, newest.monotonicNanoseconds - origin.monotonicNanoseconds >= minimumRateSpanNanoseconds else {
            pivotNanoseconds = Double(newest.monotonicNanoseconds - origin.monotonicNanoseconds)
            pivotFrames = Double(newest.frame - origin.frame)
            return
        }
        var meanT = 0.0, meanF = 0.0
        for anchor in anchors {
            meanT += Double(anchor.monotonicNanoseconds - origin.monotonicNanoseconds)
            meanF += Double(anchor.frame - origin.frame)
        }
        meanT /= n
        meanF /= n
        var sxx = 0.0, sxy = 0.0
        for anchor in anchors {
            let dt = Double(anchor.monotonicNanoseconds - origin.monotonicNanoseconds) - meanT
            sxx += dt * dt
            sxy += dt * (Double(anchor.frame - origin.frame) - meanF)
        }
        let estimated = sxy / sxx * 1e9
        rate = min(max(estimated, nominalRate * (1 - maximumDeviation)), nominalRate * (1 + maximumDeviation))
        pivotNanoseconds = meanT
        pivotFrames = meanF
    }

    /// The fitted line at `nanoseconds`, in frames (fractional, unclamped).
    private func position(_ nanoseconds: UInt64) -> Double {
        Double(anchors[0].frame) + offset(nanoseconds)
    }

    /// Frames from `anchors[0]` to `nanoseconds` along the line. Kept relative so the fraction
    /// survives: absolute frame counts would eat the Double's mantissa.
    private func offset(_ nanoseconds: UInt64) -> Double {
        let dt = Double(Int64(bitPattern: nanoseconds &- anchors[0].monotonicNanoseconds)) - pivotNanoseconds
        return pivotFrames + dt * rate / 1e9
    }

    /// The frame being captured at `nanoseconds` (the floor of the fractional position).
    public func map(monotonicNanoseconds nanoseconds: UInt64) -> Mapping {
        guard let origin = anchors.first, let newest = anchors.last, let first = firstAnchorNanoseconds else {
            return Mapping(frame: 0, placement: .noAnchor)
        }
        // The epsilon (well under one nanosecond's worth of frames) keeps exact positions such as
        // 8000.0 from flooring to 7999 through rounding in the fit.
        let whole = Int64((offset(nanoseconds) + 1e-6).rounded(.down))
        let frame = UInt64(max(0, Int64(origin.frame) + whole))
        let placement: Mapping.Placement =
            nanoseconds < first ? .beforeFirstAnchor : nanoseconds <= newest.monotonicNanoseconds ? .withinAnchors : .afterLastAnchor
        return Mapping(frame: frame, placement: placement)
    }
}

/// The capture thread's published anchor: a single-writer seqlock over two `Atomic<UInt64>`.
///
/// The writer (capture thread) takes no lock, allocates nothing and touches no reference count:
/// like `PeriodRing` this is a trivial value of one raw pointer, `allocate`d and `deallocate`d by
/// its owner, which must keep it alive while either thread uses it. Readers retry while a write is
/// in flight, so they always see a pair from one `publish`, never time from one and frame from
/// another. Ordering as in Boehm, "Can seqlocks get along with programming language memory
/// models?" (2012): relaxed data accesses bracketed by fences, sequence stored with release.
public struct SampleClockAnchor: @unchecked Sendable {
    /// [sequence, nanoseconds, frame]; the sequence is odd while a write is in progress, 0 = never.
    @usableFromInline let words: UnsafeMutablePointer<Atomic<UInt64>>

    public static func allocate() -> SampleClockAnchor {
        let words = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: 3)
        for index in 0..<3 { (words + index).initialize(to: Atomic(0)) }
        return SampleClockAnchor(words: words)
    }

    @usableFromInline init(words: UnsafeMutablePointer<Atomic<UInt64>>) { self.words = words }

    public func deallocate() {
        words.deinitialize(count: 3)
        words.deallocate()
    }

    /// Capture thread only (one writer).
    @inlinable public func publish(_ anchor: ClockAnchor) {
        let sequence = words[0].load(ordering: .relaxed)
        words[0].store(sequence &+ 1, ordering: .relaxed)
        // Orders the odd sequence before the data: a reader that sees new data sees the odd count.
        atomicMemoryFence(ordering: .releasing)
        words[1].store(anchor.monotonicNanoseconds, ordering: .relaxed)
        words[2].store(anchor.frame, ordering: .relaxed)
        words[0].store(sequence &+ 2, ordering: .releasing)
    }

    /// The latest published anchor, or nil before the first `publish`. Any thread.
    @inlinable public func read() -> ClockAnchor? {
        while true {
            let before = words[0].load(ordering: .acquiring)
            if before & 1 == 1 { continue }
            let nanoseconds = words[1].load(ordering: .relaxed)
            let frame = words[2].load(ordering: .relaxed)
            // Keeps the data loads before the re-check of the sequence.
            atomicMemoryFence(ordering: .acquiring)
            guard words[0].load(ordering: .relaxed) == before else { continue }
            return before == 0 ? nil : ClockAnchor(monotonicNanoseconds: nanoseconds, frame: frame)
        }
    }
}

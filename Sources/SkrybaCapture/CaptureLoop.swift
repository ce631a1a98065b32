import SkrybaCore

/// What the capture thread does when a line's ring is full.
public enum CapturePacing: Equatable, Sendable {
    /// A real device keeps its own clock: never wait, drop the period for that line and count it.
    case device
    /// A file-backed source (simulation, tests, bench) has no clock: wait until every ring has
    /// room, so nothing is dropped and runs are deterministic.
    case waitForConsumers
}

/// One iteration of the capture thread: read a period from the source, advance the sample clock,
/// deinterleave each line's channel into its ring.
///
/// Runs on the real-time thread, so it allocates nothing, takes no lock, logs nothing and touches
/// no reference-counted object: every field is a plain value or a raw pointer, and the source is a
/// generic parameter (a static call, not an existential). `AllocationTests` proves it.
public struct CaptureLoop<Source: CaptureSource> {
    public var source: Source
    @usableFromInline let rings: UnsafeBufferPointer<PeriodRing>
    @usableFromInline let lineChannels: UnsafeBufferPointer<Int>
    @usableFromInline let buffer: UnsafeMutablePointer<Int16>
    @usableFromInline let periodFrames: Int
    @usableFromInline let frameLimit: UInt64
    public let pacing: CapturePacing
    /// Where the stream's timestamps are published for the GPIO thread (nil: nobody needs them).
    @usableFromInline let clockAnchor: SampleClockAnchor?
    /// Frames captured since the stream started: the sample clock.
    public var position: UInt64 { capturedFrames }
    /// Overruns (xruns) and suspends recovered by alsa-lib.
    public var recoveredOverruns: UInt64 { overruns }
    @usableFromInline var capturedFrames: UInt64 = 0
    @usableFromInline var overruns: UInt64 = 0

    public enum Step: Equatable, Sendable {
        case captured(frames: Int)
        case recoveredOverrun
        /// The bounded capture reached its last frame.
        case reachedLimit
        /// `.waitForConsumers` pacing: some ring has no free slot; nothing was read.
        case waitingForConsumers
        case failed(code: Int32)
        /// The device is gone; the source is reopening it.
        case deviceUnavailable
        /// The device came back; the sample clock skipped the outage.
        case resumedAfterOutage
    }

    /// - Parameters:
    ///   - rings: one ring per line, in line order; their `periodFrames` is the read size.
    ///   - lineChannels: the capture channel of each line.
    ///   - buffer: `periodFrames × source.channels` samples of scratch, owned by the caller.
    ///   - frameLimit: stop after exactly this many frames (file sources never report their end).
    public init(source: Source, rings: UnsafeBufferPointer<PeriodRing>, lineChannels: UnsafeBufferPointer<Int>,
                buffer: UnsafeMutablePointer<Int16>, frameLimit: UInt64?, pacing: CapturePacing, clockAnchor: SampleClockAnchor? = nil) {
        precondition(rings.count == lineChannels.count && !rings.isEmpty)
        self.source = source
        self.rings = rings
        self.lineChannels = lineChannels
        self.buffer = buffer
        self.periodFrames = rings[0].periodFrames
        self.frameLimit = frameLimit ?? .max
        self.pacing = pacing
        self.clockAnchor = clockAnchor
    }

    @inlinable public mutating func step() -> Step {
        guard capturedFrames < frameLimit else { return .reachedLimit }
        if case .waitForConsumers = pacing {
            for ring in rings where !ring.hasFreeSlot { return .waitingForConsumers }
        }
        let wanted = Int(min(UInt64(periodFrames), frameLimit - capturedFrames))
        switch source.read(into: buffer, frames: wanted) {
        case .frames(let frames):
            if frames > 0 {
                distribute(frames: frames)
                if let clockAnchor, let stamp = source.streamTimestamp(position: capturedFrames) { clockAnchor.publish(stamp) }
            }
            return .captured(frames: frames)
        case .recoveredOverrun:
            overruns &+= 1
            return .recoveredOverrun
        case .failed(let code):
            return .failed(code: code)
        case .unavailable:
            return .deviceUnavailable
        case .resumed(let lostFrames):
            capturedFrames = min(frameLimit, capturedFrames &+ lostFrames)
            return .resumedAfterOutage
        }
    }

    @inlinable mutating func distribute(frames: Int) {
        let channels = source.channels
        for line in 0..<rings.count {
            let ring = rings[line]
            guard let destination = ring.reserve() else {
                ring.recordOverflow(frames: frames)
                continue
            }
            var sample = UnsafePointer(buffer) + lineChannels[line]
            for index in 0..<frames {
                destination[index] = sample.pointee
                sample += channels
            }
            ring.publish(startFrame: capturedFrames, frames: frames)
        }
        capturedFrames &+= UInt64(frames)
    }
}

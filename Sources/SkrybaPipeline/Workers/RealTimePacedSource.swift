#if canImport(Glibc)
import Glibc
#endif
import SkrybaCore

/// Makes a source that has no clock of its own (an alsa-lib `file` PCM) deliver frames no faster
/// than the sample rate, like a device: the bench's `--pace realtime` proves the pipeline keeps up
/// in real time. Sleeps to absolute deadlines on CLOCK_MONOTONIC (no drift, no allocation).
public struct RealTimePacedSource<Base: CaptureSource>: CaptureSource {
    public var base: Base
    let rate: UInt64
    var delivered: UInt64 = 0
    var start = timespec()

    /// - Parameter speed: 1 for real time; 10 delivers ten seconds of audio per second.
    public init(_ base: Base, rate: Int, speed: Double = 1) {
        precondition(speed > 0)
        self.base = base
        self.rate = UInt64((Double(rate) * speed).rounded())
    }

    public var channels: Int { base.channels }

    public func streamTimestamp(position: UInt64) -> ClockAnchor? { base.streamTimestamp(position: position) }

    public mutating func read(into buffer: UnsafeMutablePointer<Int16>, frames: Int) -> CaptureReadResult {
        if delivered == 0 && start.tv_sec == 0 && start.tv_nsec == 0 { clock_gettime(CLOCK_MONOTONIC, &start) }
        // A device hands a period over once its last frame was sampled.
        // Whole seconds first: (frames × 10⁹) alone overflows after 26 days at 8 kHz (37 minutes at --speed 1000).
        let total = delivered + UInt64(frames)
        let due = total / rate * 1_000_000_000 + total % rate * 1_000_000_000 / rate
        var deadline = start
        let nanoseconds = UInt64(deadline.tv_nsec) + due
        deadline.tv_sec += Int(nanoseconds / 1_000_000_000)
        deadline.tv_nsec = Int(nanoseconds % 1_000_000_000)
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil) == EINTR {}
        let result = base.read(into: buffer, frames: frames)
        if case .frames(let count) = result { delivered += UInt64(count) }
        if case .resumed(let lost) = result { delivered += lost }  // the outage's frames are due already
        return result
    }
}

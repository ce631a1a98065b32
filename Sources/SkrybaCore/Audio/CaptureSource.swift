/// The outcome of one read from a capture device, without allocation (used on the capture thread).
public enum CaptureReadResult: Equatable, Sendable {
    /// `frames` interleaved frames were written to the buffer.
    case frames(Int)
    /// An overrun (or a suspend) happened and the stream was recovered; nothing was read this time.
    case recoveredOverrun
    /// The device failed and could not be recovered (`code` is a negative errno, e.g. -ENODEV
    /// when the USB interface is unplugged).
    case failed(code: Int32)
    /// The device is gone and the source is opening it again (with back-off); nothing was read.
    case unavailable
    /// The device is back after an outage this many frames long: the sample clock moves on by
    /// that much, so every recording in progress gets the outage as a gap.
    case resumed(lostFrames: UInt64)
}

/// The hardware boundary of the capture path: something that delivers interleaved S16 frames.
///
/// On the board and in tests this is real alsa-lib (`SkrybaALSA.PCMReader`); tests open `type file`
/// PCMs by name. The capture loop is generic over its source so the call is static, not an
/// existential, on the real-time thread.
public protocol CaptureSource {
    /// Interleaved channels per frame.
    var channels: Int { get }
    /// Reads up to `frames` frames into `buffer` (`frames × channels` samples). Must not allocate,
    /// lock or log.
    mutating func read(into buffer: UnsafeMutablePointer<Int16>, frames: Int) -> CaptureReadResult
    /// When the device's stream reached which frame, on CLOCK_MONOTONIC, given that `position`
    /// frames have been read: what maps GPIO edges onto the sample clock. Nil when the source has
    /// no clock of its own. Must not allocate, lock or log.
    func streamTimestamp(position: UInt64) -> ClockAnchor?
}

extension CaptureSource {
    public func streamTimestamp(position: UInt64) -> ClockAnchor? { nil }
}

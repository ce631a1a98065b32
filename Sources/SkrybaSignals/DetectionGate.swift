/// Keeps the caller-ID and DTMF detectors asleep on a line where nothing can be sent (docs/signals.md,
/// "Detection only where it can matter").
///
/// An idle on-hook line is silent, and FSK and DTMF cost about 2.5 M instructions per line-second.
/// A period whose mean power reaches `thresholdDecibels` — 10 dB below the weakest FSK carrier and
/// 16 dB below the weakest DTMF tone the detectors accept — or a ring edge wakes the detectors for
/// the period and `holdSeconds` after it; the caller of `observe` then replays the look-back periods
/// it kept, so the detectors hear a signal from its first sample even when the period it began in
/// was too little of it to open the gate.
public struct DetectionGate: Sendable {
    /// Mean power, dBFS (0 dBFS = full-scale sine). The FSK decoder needs −48, each DTMF tone −42;
    /// an idle PSTN channel is about −65 dBm0 (−62 dBFS), the simulator's line noise −64 dBFS.
    public static let thresholdDecibels = -58.0
    /// After the last sound or ring: longer than a ring cadence's silence (Polish 4 s), so the
    /// detectors run without a break through ringing and through a caller ID's pauses.
    public static let holdSeconds = 5
    /// Periods to replay on waking: the signal began in this period or, when it filled less than a
    /// tenth of it, the one before (and one more for the detectors' own windows to fill).
    public static let lookBackPeriods = 2

    let threshold: Double
    public let holdFrames: UInt64
    /// The first frame after the open window; 0 while asleep from the start.
    public private(set) var awakeUntil: UInt64 = 0

    public init(sampleRate: Int) {
        threshold = powerRatio(decibels: Self.thresholdDecibels) * fullScalePower
        holdFrames = UInt64(sampleRate * Self.holdSeconds)
    }

    /// Whether the samples' mean power reaches the threshold (one multiply-add per sample).
    @inline(__always) public func sounds(_ samples: UnsafeBufferPointer<Int16>) -> Bool {
        var sum: Int64 = 0
        for sample in samples { let x = Int64(sample); sum &+= x &* x }
        return Double(sum) >= threshold * Double(samples.count)
    }

    /// The period `[start, end)` went by: whether the detectors must hear it. `rang`: a ring edge fell in it.
    public mutating func observe(_ samples: UnsafeBufferPointer<Int16>, start: UInt64, end: UInt64, rang: Bool) -> Bool {
        if rang || sounds(samples) {
            awakeUntil = max(awakeUntil, end + holdFrames)
            return true
        }
        return start < awakeUntil
    }
}

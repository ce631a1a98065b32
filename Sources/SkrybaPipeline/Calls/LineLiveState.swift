import Foundation
import SkrybaCore
import Synchronization

/// What a line's worker last saw, for the control socket and the console (nothing is stored): the
/// hook, the call in progress and the peak level of the last period. Written by the line's worker
/// with relaxed atomics (no lock, no allocation), read by anyone.
public final class LineLiveState: Sendable {
    private let peakSample = Atomic<Int>(0)
    private let offHook = Atomic<Bool>(false)
    private let callStart = Atomic<UInt64>(.max)
    private let callDirection = Atomic<Int>(0)
    private let reached = Atomic<UInt64>(0)

    public init() {}

    /// The worker, after each period: its loudest sample and the frame it ended at.
    public func notePeriod(_ samples: UnsafeBufferPointer<Int16>, end: UInt64) {
        var loudest = 0
        for sample in samples { loudest = max(loudest, abs(Int(sample))) }
        peakSample.store(loudest, ordering: .relaxed)
        reached.store(end, ordering: .relaxed)
    }

    public func noteHook(offHook level: Bool) { offHook.store(level, ordering: .relaxed) }

    public func callBegan(_ direction: CallDirection, at frame: UInt64) {
        callDirection.store(CallDirection.allCases.firstIndex(of: direction) ?? 0, ordering: .relaxed)
        callStart.store(frame, ordering: .relaxed)
    }

    public func callEnded() { callStart.store(.max, ordering: .relaxed) }

    /// The peak of the last period, 0...32768.
    public var peak: Int { peakSample.load(ordering: .relaxed) }
    /// The peak in dB relative to full scale (-96 for digital silence).
    public var peakDBFS: Double {
        let value = peak
        guard value > 0 else { return -96 }
        return max(-96, 20 * log10(Double(value) / 32768))
    }
    public var isOffHook: Bool { offHook.load(ordering: .relaxed) }
    public var frame: UInt64 { reached.load(ordering: .relaxed) }
    /// The call being captured (its direction and first frame), if any.
    public var call: (direction: CallDirection, startFrame: UInt64)? {
        let start = callStart.load(ordering: .relaxed)
        guard start != .max else { return nil }
        let index = callDirection.load(ordering: .relaxed)
        return (CallDirection.allCases[min(index, CallDirection.allCases.count - 1)], start)
    }
}

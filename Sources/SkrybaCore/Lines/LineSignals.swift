/// The two supervision signals of a tapped line, as the GPIO inputs see them.
public enum LineSignal: String, Sendable, Codable, CaseIterable {
    /// Ring detect: asserted while ringing voltage is on the line (bursts with a cadence).
    case ring
    /// Loop current / off-hook: asserted while the line is off hook (a call in progress).
    case hook
}

import Synchronization

/// One level change of one signal, placed on the sample clock (DESIGN.md §1).
public struct SignalEdge: Equatable, Hashable, Sendable, Codable {
    public var frame: UInt64
    /// 1-based line id as in the configuration.
    public var line: Int
    public var signal: LineSignal
    /// The logical level after the edge (active level already applied): true = asserted.
    public var level: Bool

    public init(frame: UInt64, line: Int, signal: LineSignal, level: Bool) {
        self.frame = frame
        self.line = line
        self.signal = signal
        self.level = level
    }
}

/// The hardware boundary for ring and hook: libgpiod on the board (`SkrybaGPIO`), a replay file
/// in simulation and tests. Edges come out in frame order; the call logic asks for everything
/// before the frame its audio has reached, so audio and signals stay on one timeline.
public protocol LineSignalSource: AnyObject, Sendable {
    /// Removes and returns the edges with `frame < before`, in frame order (ties: file/arrival order).
    func takeEdges(before frame: UInt64) -> [SignalEdge]
    /// Stops any background reading; no edges arrive afterwards.
    func close()
    /// How long after an edge happens it is known (debounce plus margin), in frames at `rate`:
    /// the call logic processes audio this much behind the capture so every edge is on time.
    func decisionDelayFrames(rate: Int) -> UInt64
    /// Lets the call logic see without a lock or a call through the protocol that nothing is due
    /// (an idle line asks 50 times a second); nil: ask `takeEdges` every time.
    var watermarks: EdgeWatermarks? { get }
}

extension LineSignalSource {
    public func decisionDelayFrames(rate: Int) -> UInt64 { 0 }
    public var watermarks: EdgeWatermarks? { nil }
}

/// Two frames a signal source and its consumers share through atomics, so that the consumers'
/// common case, nothing due, costs two atomic operations.
public final class EdgeWatermarks: Sendable {
    /// The source's earliest queued edge (`UInt64.max` when none): nothing is due before it.
    /// A source lowers it when it queues an edge, before it reads `requestedBefore`.
    public let earliestQueued = Atomic<UInt64>(.max)
    /// The highest `before` any consumer has asked for: an edge queued for an earlier frame is late.
    /// A consumer raises it before it reads `earliestQueued` (with the source's order above, one of
    /// the two always sees the other).
    public let requestedBefore = Atomic<UInt64>(0)

    public init() {}

    /// Whether an edge may be due before `frame`; records that a consumer has reached `frame`.
    @inline(__always) public func mayHaveEdges(before frame: UInt64) -> Bool {
        requestedBefore.max(frame, ordering: .sequentiallyConsistent)
        return earliestQueued.load(ordering: .sequentiallyConsistent) < frame
    }
}

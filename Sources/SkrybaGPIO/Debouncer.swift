/// Debounces one input: a level change is accepted only once the new level has held for
/// `debounceNanoseconds`, and then it is dated at the edge that began that stable run (the real
/// transition, not transition + debounce). Anything shorter than the debounce vanishes.
///
/// A plain value driven by timestamps alone (the kernel's, or a test's), so outcomes are exact.
/// Contact bounce is a run of short glitches, so a bouncing change is dated at its last bounce:
/// within the bounce time (a few ms) of the first contact.
public struct Debouncer: Equatable, Sendable {
    public let debounceNanoseconds: UInt64
    /// The accepted level.
    public private(set) var level: Bool
    /// The latest raw level and the timestamp of the edge that began it.
    public private(set) var rawLevel: Bool
    public private(set) var rawSince: UInt64

    public init(level: Bool, debounceNanoseconds: UInt64 = 10_000_000) {
        self.debounceNanoseconds = debounceNanoseconds
        self.level = level
        self.rawLevel = level
        self.rawSince = 0
    }

    /// When the pending change will be accepted if no edge comes first; nil when none is pending.
    public var deadline: UInt64? { rawLevel == level ? nil : rawSince &+ debounceNanoseconds }

    /// Feeds one raw edge (in timestamp order). Returns the change it proves stable, if any: the
    /// pending one, now that its level has held until this edge.
    public mutating func observe(_ edge: GPIOEdge) -> GPIOEdge? {
        let accepted = settle(at: edge.timestampNanoseconds)
        // The same level twice: the v1 uAPI reports a both-edges event with the level read when the
        // interrupt is handled, so a bounce can show as the level after it (or the kernel's queue
        // overflowed). Either way the level is only known to be stable from this edge on.
        rawLevel = edge.level
        rawSince = max(edge.timestampNanoseconds, rawSince)
        return accepted
    }

    /// Accepts the pending change if its level has held until `now` (no edge up to `now` is unread).
    public mutating func settle(at now: UInt64) -> GPIOEdge? {
        guard let deadline, now >= deadline else { return nil }
        level = rawLevel
        return GPIOEdge(timestampNanoseconds: rawSince, level: rawLevel)
    }
}

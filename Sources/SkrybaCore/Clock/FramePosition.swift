/// A position on the sample clock: the number of frames captured since the capture stream started.
///
/// Every event in the appliance (GPIO edges, DTMF digits, announcement playback, recording
/// boundaries) is expressed on this one timeline (DESIGN.md §1), so simulations are deterministic
/// and tests assert exact positions instead of sleeping.
public struct FramePosition: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var frames: UInt64

    @inlinable public init(_ frames: UInt64) { self.frames = frames }

    public static let zero = FramePosition(0)

    @inlinable public static func < (lhs: FramePosition, rhs: FramePosition) -> Bool { lhs.frames < rhs.frames }

    @inlinable public func advanced(by count: Int) -> FramePosition { FramePosition(frames &+ UInt64(count)) }

    public var description: String { "frame \(frames)" }
}

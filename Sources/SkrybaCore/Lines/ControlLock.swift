import Synchronization

/// A plain mutual-exclusion lock for the control plane (never the capture thread), from the
/// standard library's `Mutex` so SkrybaCore needs no Foundation.
public final class ControlLock: Sendable {
    private let mutex = Mutex(())
    public init() {}
    public func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        try mutex.withLock { _ in try body() }
    }
}

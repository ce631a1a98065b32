#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSkrybaShims

/// A counting wake-up between threads, built on a POSIX semaphore: `sem_post` takes no lock and
/// allocates nothing, so the capture thread may signal through it (the JACK/PipeWire practice).
/// A trivial value of one pointer; `WakeSignal.make()`/`destroy()` belong to its owner.
///
/// Timeouts run on CLOCK_MONOTONIC (`sem_clockwait`): a board without an RTC steps its wall clock
/// by years at the first NTP sync, and a `sem_timedwait` deadline on CLOCK_REALTIME would then
/// wait for years (a step back) or not at all (a step forward).
public struct WakeSignal: @unchecked Sendable {
    @usableFromInline let semaphore: UnsafeMutablePointer<sem_t>

    /// The clock every timeout is measured on.
    public static let timeoutClock = CLOCK_MONOTONIC

    public static func make() -> WakeSignal {
        let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
        sem_init(semaphore, 0, 0)
        return WakeSignal(semaphore: semaphore)
    }

    @usableFromInline init(semaphore: UnsafeMutablePointer<sem_t>) { self.semaphore = semaphore }

    public func destroy() {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    @inlinable public func signal() { sem_post(semaphore) }

    /// The absolute deadline `timeoutNanoseconds` from now on `timeoutClock`: what `wait` passes to
    /// `sem_clockwait` (public so a test can check which clock it is on).
    public static func deadline(afterNanoseconds timeoutNanoseconds: Int) -> timespec {
        var deadline = timespec()
        clock_gettime(timeoutClock, &deadline)
        let total = Int(deadline.tv_nsec) + timeoutNanoseconds
        deadline.tv_sec += total / 1_000_000_000
        deadline.tv_nsec = total % 1_000_000_000
        return deadline
    }

    /// Waits for a signal (or at most `timeoutNanoseconds`, so a waiter re-checks stop flags).
    /// Returns false when the timeout passed without a signal.
    @discardableResult
    public func wait(timeoutNanoseconds: Int = 100_000_000) -> Bool {
        var deadline = Self.deadline(afterNanoseconds: timeoutNanoseconds)
        return skryba_sem_wait_monotonic(semaphore, &deadline) == 0
    }
}

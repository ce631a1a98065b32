#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A counting wake-up between threads, built on a POSIX semaphore: `sem_post` takes no lock and
/// allocates nothing, so the capture thread may signal through it (the JACK/PipeWire practice).
/// A trivial value of one pointer; `WakeSignal.make()`/`destroy()` belong to its owner.
public struct WakeSignal: @unchecked Sendable {
    @usableFromInline let semaphore: UnsafeMutablePointer<sem_t>

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

    /// Waits for a signal (or at most `timeoutNanoseconds`, so a waiter re-checks stop flags).
    public func wait(timeoutNanoseconds: Int = 100_000_000) {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let total = Int(deadline.tv_nsec) + timeoutNanoseconds
        deadline.tv_sec += total / 1_000_000_000
        deadline.tv_nsec = total % 1_000_000_000
        while sem_timedwait(semaphore, &deadline) != 0 && errno == EINTR {}
    }
}

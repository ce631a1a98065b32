#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps the daemon's memory in RAM: a capture thread that takes a page fault on swapped-out or
/// evicted text while the flash is busy misses its deadline, and the ring overflows.
public enum MemoryLock {
    /// `mlockall(MCL_CURRENT | MCL_FUTURE)`. Returns nil when memory is locked, otherwise the sentence
    /// to print: the daemon runs on without the lock (it only loses protection under memory pressure).
    public static func lockAll() -> String? {
        guard mlockall(MCL_CURRENT | MCL_FUTURE) != 0 else { return nil }
        let code = errno
        return "memory is not locked (mlockall refused: \(String(cString: strerror(code)))): under memory pressure the capture may "
            + "stall on a page fault and drop audio; grant CAP_IPC_LOCK or raise the memlock limit (systemd LimitMEMLOCK=infinity)"
    }
}

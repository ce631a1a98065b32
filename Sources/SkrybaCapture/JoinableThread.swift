#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A POSIX thread with a body and a join, optionally SCHED_FIFO. Dispatch and Swift concurrency
/// are the wrong tools for the capture path: it needs one dedicated, prioritised thread.
public final class JoinableThread: @unchecked Sendable {
    private var handle: pthread_t?
    private let body: () -> Void
    /// Whether the thread got SCHED_FIFO (needs CAP_SYS_NICE or an rtprio limit; the board image grants it).
    public private(set) var realtimeScheduling = false

    /// Starts the thread. With `fifoPriority`, asks for SCHED_FIFO and falls back to normal
    /// scheduling when the process may not have it.
    public init(name: String, fifoPriority: Int32? = nil, _ body: @escaping () -> Void) {
        self.body = body
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        if let fifoPriority, Self.spawn(&thread, context: context, fifoPriority: fifoPriority) == 0 {
            realtimeScheduling = true
        } else {
            let status = Self.spawn(&thread, context: context, fifoPriority: nil)
            precondition(status == 0, "pthread_create failed for \(name): \(status)")
        }
        handle = thread
    }

    public func join() {
        guard let thread = handle else { return }
        pthread_join(thread, nil)
        handle = nil
    }

    deinit { precondition(handle == nil, "join() a JoinableThread before releasing it") }

    private static func spawn(_ thread: inout pthread_t, context: UnsafeMutableRawPointer, fifoPriority: Int32?) -> Int32 {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        if let fifoPriority {
            pthread_attr_setinheritsched(&attributes, Int32(PTHREAD_EXPLICIT_SCHED))
            pthread_attr_setschedpolicy(&attributes, SCHED_FIFO)
            var parameter = sched_param()
            parameter.sched_priority = fifoPriority
            pthread_attr_setschedparam(&attributes, &parameter)
        }
        return pthread_create(&thread, &attributes, { context in
            let thread = Unmanaged<JoinableThread>.fromOpaque(context!).takeRetainedValue()
            thread.body()
            return nil
        }, context)
    }
}

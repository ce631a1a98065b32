#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSkrybaShims

/// A thread that could not be started: the process is out of threads (RLIMIT_NPROC), memory for
/// its stack, or was refused the attributes. The daemon reports it and exits; it never traps.
public struct ThreadStartError: Error, Equatable, CustomStringConvertible {
    public let name: String
    public let code: Int32
    public var description: String {
        "cannot start the thread '\(name)': pthread_create failed: \(String(cString: strerror(code))) (errno \(code))"
            + (code == EAGAIN ? "; the process may have reached its thread limit (ulimit -u, systemd TasksMax) or be out of memory" : "")
    }
}

/// A POSIX thread with a body and a join, optionally SCHED_FIFO, named as `ps -L`, `top -H` and
/// gdb show it. Dispatch and Swift concurrency are the wrong tools for the capture path: it needs
/// one dedicated, prioritised thread.
public final class JoinableThread: @unchecked Sendable {
    /// Linux keeps 15 bytes of a thread's name; longer names are cut there.
    public static let maximumNameBytes = 15

    private var handle: pthread_t?
    private let body: () -> Void
    public let name: String
    /// Whether the thread got SCHED_FIFO (needs CAP_SYS_NICE or an rtprio limit; the board image grants it).
    public private(set) var realtimeScheduling = false

    /// Starts the thread. With `fifoPriority`, asks for SCHED_FIFO and falls back to normal
    /// scheduling when the process may not have it.
    /// - Parameter stackBytes: the stack to ask for (nil: the system default).
    /// - Throws: `ThreadStartError` when the thread cannot be created.
    public init(name: String, fifoPriority: Int32? = nil, stackBytes: Int? = nil, _ body: @escaping () -> Void) throws(ThreadStartError) {
        self.name = Self.truncated(name)
        self.body = body
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        if let fifoPriority, Self.spawn(&thread, context: context, fifoPriority: fifoPriority, stackBytes: stackBytes) == 0 {
            realtimeScheduling = true
        } else {
            let status = Self.spawn(&thread, context: context, fifoPriority: nil, stackBytes: stackBytes)
            guard status == 0 else {
                Unmanaged<JoinableThread>.fromOpaque(context).release()  // the thread that would have taken it never ran
                throw ThreadStartError(name: self.name, code: status)
            }
        }
        handle = thread
    }

    public func join() {
        guard let thread = handle else { return }
        pthread_join(thread, nil)
        handle = nil
    }

    deinit { precondition(handle == nil, "join() a JoinableThread before releasing it") }

    /// Names the calling thread (any thread, e.g. one Dispatch or Foundation started), cut to 15 bytes.
    public static func nameCurrentThread(_ name: String) {
        _ = skryba_thread_set_name(truncated(name))
    }

    /// The calling thread's name as the kernel holds it.
    public static var currentThreadName: String {
        var buffer = [CChar](repeating: 0, count: maximumNameBytes + 1)
        guard skryba_thread_get_name(&buffer, Int32(buffer.count)) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// At most 15 bytes, cut on a character boundary.
    static func truncated(_ name: String) -> String {
        var result = ""
        for character in name {
            guard result.utf8.count + String(character).utf8.count <= maximumNameBytes else { break }
            result.append(character)
        }
        return result
    }

    private static func spawn(_ thread: inout pthread_t, context: UnsafeMutableRawPointer, fifoPriority: Int32?, stackBytes: Int?) -> Int32 {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        if let stackBytes {
            let status = pthread_attr_setstacksize(&attributes, stackBytes)
            if status != 0 { return status }
        }
        if let fifoPriority {
            pthread_attr_setinheritsched(&attributes, Int32(PTHREAD_EXPLICIT_SCHED))
            pthread_attr_setschedpolicy(&attributes, SCHED_FIFO)
            var parameter = sched_param()
            parameter.sched_priority = fifoPriority
            pthread_attr_setschedparam(&attributes, &parameter)
        }
        return pthread_create(&thread, &attributes, { context in
            let thread = Unmanaged<JoinableThread>.fromOpaque(context!).takeRetainedValue()
            _ = skryba_thread_set_name(thread.name)
            thread.body()
            return nil
        }, context)
    }
}

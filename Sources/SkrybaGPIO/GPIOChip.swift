#if canImport(Glibc)
import Glibc
#endif
import CGPIOD

/// A failed libgpiod call: the function, the chip/line it was about, and errno.
public struct GPIOError: Error, Equatable, CustomStringConvertible {
    public let function: String
    public let target: String
    public let errno: Int32

    public init(function: String, target: String, errno: Int32) {
        self.function = function
        self.target = target
        self.errno = errno
    }

    public var description: String { "GPIO \(target): \(function) failed: \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// Electrical settings of an input line (libgpiod 1.6 request flags).
public struct GPIOInputSettings: Equatable, Sendable {
    public enum Bias: String, Sendable { case asIs = "as-is", disabled, pullUp = "pull-up", pullDown = "pull-down" }
    /// The signal is asserted at low voltage (typical for opto-isolated ring and loop-current detectors).
    public var activeLow: Bool
    public var bias: Bias

    public init(activeLow: Bool = false, bias: Bias = .asIs) {
        self.activeLow = activeLow
        self.bias = bias
    }

    var requestFlags: Int32 {
        var flags: Int32 = 0
        if activeLow { flags |= Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) }
        switch bias {
        case .asIs: break
        case .disabled: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE)
        case .pullUp: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
        case .pullDown: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
        }
        return flags
    }
}

/// One edge as the kernel timestamped it (CLOCK_MONOTONIC, nanoseconds).
public struct GPIOEdge: Equatable, Sendable {
    public var timestampNanoseconds: UInt64
    /// The logical level after the edge (active-low already applied).
    public var level: Bool

    public init(timestampNanoseconds: UInt64, level: Bool) {
        self.timestampNanoseconds = timestampNanoseconds
        self.level = level
    }
}

/// An open GPIO character device (`/dev/gpiochipN`), libgpiod 1.6. Owns the `gpiod_chip`.
public final class GPIOChip {
    public let name: String
    let handle: OpaquePointer

    /// - Parameter name: `gpiochip0`, `/dev/gpiochip0`, the chip's label or its number.
    public init(name: String) throws(GPIOError) {
        guard let handle = gpiod_chip_open_lookup(name) else {
            throw GPIOError(function: "gpiod_chip_open_lookup", target: "chip '\(name)'", errno: errno)
        }
        self.name = name
        self.handle = handle
    }

    deinit { gpiod_chip_close(handle) }

    public var lineCount: Int { Int(gpiod_chip_num_lines(handle)) }

    /// Requests edge events on both edges of `offset` for `consumer` (shown by `gpioinfo`).
    public func requestEdges(offset: Int, consumer: String, settings: GPIOInputSettings) throws(GPIOError) -> GPIOEdgeStream {
        let target = "\(name) line \(offset)"
        guard let line = gpiod_chip_get_line(handle, UInt32(offset)) else {
            throw GPIOError(function: "gpiod_chip_get_line", target: target, errno: errno)
        }
        guard gpiod_line_request_both_edges_events_flags(line, consumer, settings.requestFlags) == 0 else {
            throw GPIOError(function: "gpiod_line_request_both_edges_events_flags", target: target, errno: errno)
        }
        return GPIOEdgeStream(chip: self, line: line, target: target)
    }
}

/// Edge events of one requested line. Releases the line on deinit; keeps its chip open.
public final class GPIOEdgeStream {
    public let target: String
    let chip: GPIOChip
    let line: OpaquePointer

    init(chip: GPIOChip, line: OpaquePointer, target: String) {
        self.chip = chip
        self.line = line
        self.target = target
    }

    deinit { gpiod_line_release(line) }

    /// The file descriptor to poll(2) for readability alongside other lines.
    public var fileDescriptor: Int32 { gpiod_line_event_get_fd(line) }

    /// The current logical level.
    public func level() throws(GPIOError) -> Bool {
        let value = gpiod_line_get_value(line)
        guard value >= 0 else { throw GPIOError(function: "gpiod_line_get_value", target: target, errno: errno) }
        return value == 1
    }

    /// Waits up to `timeoutNanoseconds` for an edge; nil on timeout.
    public func nextEdge(timeoutNanoseconds: Int) throws(GPIOError) -> GPIOEdge? {
        var timeout = timespec(tv_sec: timeoutNanoseconds / 1_000_000_000, tv_nsec: timeoutNanoseconds % 1_000_000_000)
        let ready = gpiod_line_event_wait(line, &timeout)
        guard ready >= 0 else { throw GPIOError(function: "gpiod_line_event_wait", target: target, errno: errno) }
        guard ready == 1 else { return nil }
        var event = gpiod_line_event()
        guard gpiod_line_event_read(line, &event) == 0 else {
            throw GPIOError(function: "gpiod_line_event_read", target: target, errno: errno)
        }
        let nanoseconds = UInt64(event.ts.tv_sec) * 1_000_000_000 + UInt64(event.ts.tv_nsec)
        return GPIOEdge(timestampNanoseconds: nanoseconds, level: event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE))
    }
}

/// libgpiod's version string (e.g. "1.6.3").
public var libgpiodVersion: String { String(cString: gpiod_version_string()) }

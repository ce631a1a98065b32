#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// systemd's notification protocol (sd_notify(3)), written here: one datagram of `KEY=value` lines to
/// the Unix socket named by `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace). It is a
/// dozen lines, so the board needs no libsystemd and tests can receive the datagrams on a socket of
/// their own (docs/service.md).
public final class ServiceNotifier: @unchecked Sendable {
    private let socket: Int32
    private var address: sockaddr_un
    private let addressLength: socklen_t
    private let lock = NSLock()
    /// `$WATCHDOG_USEC` when it is meant for this process (`$WATCHDOG_PID` unset or ours).
    public let watchdogMicroseconds: UInt64?

    /// Nil when the process was not started by systemd with `Type=notify` (no `$NOTIFY_SOCKET`) or
    /// the socket cannot be made (then nothing is sent and nothing fails).
    public init?(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return nil }
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        guard bytes.count < capacity, bytes.first == UInt8(ascii: "/") || bytes.first == UInt8(ascii: "@") else { return nil }
        let made = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard made >= 0 else { return nil }
        socket = made
        var target = sockaddr_un()
        target.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &target.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
            if bytes.first == UInt8(ascii: "@") { raw[0] = 0 }  // the abstract namespace: a leading NUL
        }
        address = target
        // An abstract name's length counts exactly its bytes; a path's includes its NUL.
        addressLength = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == UInt8(ascii: "@") ? 0 : 1))
        let pidMatches = environment["WATCHDOG_PID"].map { $0 == "\(getpid())" } ?? true
        watchdogMicroseconds = pidMatches ? environment["WATCHDOG_USEC"].flatMap(UInt64.init).flatMap { $0 > 0 ? $0 : nil } : nil
    }

    deinit { close(socket) }

    /// Sends `fields` as one datagram (`READY=1`, `STATUS=…`, `WATCHDOG=1`, `STOPPING=1`); false if
    /// systemd did not take it (the caller has nothing to do about it but may say so once).
    @discardableResult
    public func send(_ fields: [String]) -> Bool {
        let message = Array(fields.joined(separator: "\n").utf8)
        return lock.withLock {
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    message.withUnsafeBytes { sendto(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, addressLength) }
                }
            } == message.count
        }
    }

    /// A status line for `systemctl status` (one line: newlines would start new fields).
    public static func status(_ text: String) -> String { "STATUS=" + text.replacingOccurrences(of: "\n", with: " ") }
}

import Foundation
import SkrybaSystem
#if canImport(Glibc)
import Glibc
#endif

/// A real `skrybad` whose standard output and error are collected as they come, so a test waits
/// for what the daemon says (with a deadline) instead of sleeping.
final class RunningDaemon: @unchecked Sendable {
    let process = Process()
    private let condition = NSCondition()
    private var out = ""
    private var err = ""
    private var closed = 0

    init(arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: Tool.product("skrybad"))
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"] where environment[key] == nil { merged[key] = nil }
        process.environment = merged
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        collect(output.fileHandleForReading, isError: false)
        collect(errors.fileHandleForReading, isError: true)
    }

    private func collect(_ handle: FileHandle, isError: Bool) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                condition.lock()
                if chunk.isEmpty { closed += 1 } else if isError { err += String(decoding: chunk, as: UTF8.self) } else { out += String(decoding: chunk, as: UTF8.self) }
                condition.broadcast()
                condition.unlock()
                if chunk.isEmpty { return }
            }
        }
    }

    var stdout: String { condition.withLock { out } }
    var stderr: String { condition.withLock { err } }

    /// Waits until `predicate(stdout, stderr)` holds or `seconds` pass; false on the deadline.
    @discardableResult
    func wait(seconds: Double = 30, for predicate: (String, String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(out, err) {
            if closed == 2 { return predicate(out, err) }
            guard condition.wait(until: deadline) else { return predicate(out, err) }
        }
        return true
    }

    /// SIGTERM, then the exit status once both pipes closed (the daemon's last words are in).
    func terminate() -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        return waitForExit()
    }

    func waitForExit() -> Int32 {
        process.waitUntilExit()
        wait(seconds: 10) { _, _ in false }
        return process.terminationStatus
    }

    func killIfRunning() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// A stand-in for systemd's notification socket: receives the daemon's datagrams.
final class NotifySocket {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (index, byte) in path.utf8.enumerated() { raw[index] = byte } }
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard status == 0 else { throw ToolFailure("cannot bind \(path): \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// The next datagram, or nil when none came within `seconds`.
    func next(within seconds: Double) -> String? {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(seconds * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }

    /// Datagrams until one satisfies `predicate` (returned with those before it), or nil at the deadline.
    func until(within seconds: Double, _ predicate: (String) -> Bool) -> [String]? {
        let deadline = Date().addingTimeInterval(seconds)
        var seen: [String] = []
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0, let datagram = next(within: left) else { return nil }
            seen.append(datagram)
            if predicate(datagram) { return seen }
        }
    }
}

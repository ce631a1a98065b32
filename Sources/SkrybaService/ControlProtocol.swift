#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import SkrybaStore

/// The control socket's protocol (docs/control-socket.md): one JSON object per line each way.
/// A request names a `command`; the answer has `ok` and either the command's field or `error`.
public struct ControlRequest: Codable, Sendable, Equatable {
    public var command: String
    /// The line a command is about (`announcement-test`).
    public var line: Int?
    /// A retention period as the config takes it (`retention-preview`): `30d`, `6m`, `capacity`.
    public var period: String?
    /// How many entries (`log`, 1…500).
    public var count: Int?
    public init(command: String, line: Int? = nil, period: String? = nil, count: Int? = nil) {
        self.command = command
        self.line = line
        self.period = period
        self.count = count
    }
}

public struct ControlResponse: Codable, Sendable, Equatable {
    public struct Alarms: Codable, Sendable, Equatable {
        public var active: [LiveStatus.Alarm]
        /// The latest from the audit log's alarm history, oldest first.
        public var history: [AlarmRecord]

        public init(active: [LiveStatus.Alarm], history: [AlarmRecord]) {
            self.active = active
            self.history = history
        }
    }
    public struct Level: Codable, Sendable, Equatable {
        public var line: Int
        public var name: String
        public var state: String
        public var levelDBFS: Double
    }

    /// `announcement-test`: what skrybad scheduled on the line's output.
    public struct AnnouncementTest: Codable, Sendable, Equatable {
        public var line: Int
        public var announcementID: String
        public var seconds: Double
        /// The capture's sample clock: the playback stream's frame the announcement starts at.
        public var startFrame: UInt64
        public var channel: Int
    }

    /// `retention-preview`: what the period would do to the catalog now, nothing changed.
    public struct RetentionPreview: Codable, Sendable, Equatable {
        public var period: String
        /// Recordings the period would delete at once (held and secured ones never count).
        public var dueNow: Int
        /// Recordings whose deadline it would move.
        public var rescheduled: Int
    }

    public var ok: Bool
    public var error: String?
    public var status: LiveStatus?
    public var alarms: Alarms?
    public var levels: [Level]?
    public var reload: ApplianceRuntime.Reload?
    public var announcementTest: AnnouncementTest?
    public var retentionPreview: RetentionPreview?
    public var log: [TechnicianLogEntry]?

    public init(ok: Bool, error: String? = nil) {
        self.ok = ok
        self.error = error
    }

    public static func failure(_ message: String) -> ControlResponse { ControlResponse(ok: false, error: message) }

    /// One line of the protocol (keys sorted, so answers are stable to read and compare).
    public func encodedLine() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = (try? encoder.encode(self)) ?? Data(#"{"error":"the answer could not be encoded","ok":false}"#.utf8)
        data.append(0x0A)
        return data
    }
}

/// Why the control socket could not be used, in a sentence.
public struct ControlSocketError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// `skryba status`, `skryba alarms`: one request on a connection of its own.
public enum ControlClient {
    public static let defaultPath = "/run/skryba/control.sock"

    public static func request(_ command: String, path: String = defaultPath, timeoutSeconds: Int = 10) throws -> ControlResponse {
        try request(ControlRequest(command: command), path: path, timeoutSeconds: timeoutSeconds)
    }

    public static func request(_ request: ControlRequest, path: String = defaultPath, timeoutSeconds: Int = 10) throws -> ControlResponse {
        let command = request.command
        let fd = try UnixSocket.connect(path: path)
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var line = try JSONEncoder().encode(request)
        line.append(0x0A)
        try UnixSocket.writeAll(fd, line)
        guard let answer = try UnixSocket.readLine(fd, limit: 4 << 20) else {
            throw ControlSocketError("skrybad closed the control socket \(path) without answering '\(command)'")
        }
        do { return try JSONDecoder().decode(ControlResponse.self, from: answer) } catch {
            throw ControlSocketError("skrybad's answer on \(path) is not the control protocol (docs/control-socket.md)")
        }
    }
}

/// The few socket calls both ends need.
enum UnixSocket {
    static func address(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ControlSocketError("the control socket path \(path) is too long for a Unix socket (at most 107 bytes)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (index, byte) in bytes.enumerated() { raw[index] = byte } }
        return address
    }

    static func withAddress<T>(_ address: inout sockaddr_un, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    static func connect(path: String) throws -> Int32 {
        var address = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlSocketError("cannot make a Unix socket: \(String(cString: strerror(errno)))") }
        let status = withAddress(&address) { Glibc.connect(fd, $0, $1) }
        guard status == 0 else {
            let code = errno
            close(fd)
            let reason = switch code {
            case ENOENT, ECONNREFUSED: "skrybad is not running (or not as a service with its control socket)"
            case EACCES, EPERM: "permission denied: the socket is for root and the service's admin group (docs/control-socket.md)"
            default: String(cString: strerror(code))
            }
            throw ControlSocketError("cannot reach skrybad on \(path): \(reason)")
        }
        return fd
    }

    static func writeAll(_ fd: Int32, _ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { throw ControlSocketError("the control socket closed while writing: \(String(cString: strerror(errno)))") }
                offset += written
            }
        }
    }

    /// One line without its newline; nil at end of stream before any byte.
    static func readLine(_ fd: Int32, limit: Int) throws -> Data? {
        var line = Data()
        var byte: UInt8 = 0
        while true {
            let count = recv(fd, &byte, 1, 0)
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw ControlSocketError("no answer on the control socket: \(String(cString: strerror(errno)))") }
            if count == 0 { return line.isEmpty ? nil : line }
            if byte == 0x0A { return line }
            line.append(byte)
            guard line.count <= limit else { throw ControlSocketError("a line on the control socket is longer than \(limit) bytes") }
        }
    }
}

import Foundation
import SkrybaStore
#if canImport(Glibc)
import Glibc
#endif

// What the console needs from the running skrybad, and the one client that asks it over the
// control socket. The protocol is skrybad's, documented in docs/control-socket.md; everything
// the console knows about it is in this file.

// These mirror skrybad's answers field for field (SkrybaService's LiveStatus, AlarmRecord,
// ControlResponse.Level, ApplianceRuntime.Reload); the console does not link the service module.

/// One line as the daemon sees it now.
public struct LineSnapshot: Codable, Equatable, Sendable {
    public var id: Int
    public var name: String
    /// `on-hook`, `off-hook`, or `starting` before the capture delivered its first period.
    public var state: String
    /// The loudest sample of the last period, dBFS (-96 = silence).
    public var levelDBFS: Double
    public var call: CallSnapshot?
}

/// A call in progress.
public struct CallSnapshot: Codable, Equatable, Sendable {
    public var line: Int
    public var direction: String
    public var seconds: Double
}

/// An alarm: in force (with `count`) or from the history (with `clearedUTC`, `clearReason`).
public struct AlarmSnapshot: Codable, Equatable, Sendable {
    public var kind: String
    public var line: Int
    public var message: String
    public var raisedUTC: String
    public var count: Int?
    public var clearedUTC: String?
    public var clearReason: String?
}

public struct StorageSnapshot: Codable, Equatable, Sendable {
    public var dataDirectory: String
    public var totalBytes: Int64
    public var freeBytes: Int64
    /// At the rate the disk filled since skrybad started; nil when not measurable yet.
    public var daysLeft: Double?
    public var pending: Int
}

public struct ClockSnapshot: Codable, Equatable, Sendable {
    public var utc: String
    public var synchronised: Bool
    public var reason: String
}

public struct StatusSnapshot: Codable, Equatable, Sendable {
    public var version: String
    /// `starting`, `recording`, `stopping`.
    public var state: String
    public var startedUTC: String
    public var lines: [LineSnapshot]
    public var calls: [CallSnapshot]
    public var alarms: [AlarmSnapshot]
    public var storage: StorageSnapshot
    public var clock: ClockSnapshot
    public var deviceKeyFingerprint: String
    public var callsInProgress: Int
}

public struct LevelSnapshot: Codable, Equatable, Sendable {
    public var line: Int
    public var name: String
    public var state: String
    public var levelDBFS: Double
}

public struct AlarmList: Codable, Equatable, Sendable {
    public var active: [AlarmSnapshot]
    public var history: [AlarmSnapshot]
}

/// What a reload applied at once and what waits for a restart of skrybad.
public struct ReloadResult: Codable, Equatable, Sendable {
    public var applied: [String]
    public var needsRestart: [String]
}

/// Why the daemon could not be asked.
public enum LinkError: Error, Equatable, CustomStringConvertible {
    /// No daemon answers at the socket (not started, not configured yet, stopped).
    case notRunning(String)
    /// It answered, with a refusal or something the console does not understand.
    case refused(String)

    public var description: String {
        switch self {
        case .notRunning(let why), .refused(let why): why
        }
    }
}

/// What skrybad scheduled for `announcement test N`.
public struct AnnouncementTestResult: Codable, Equatable, Sendable {
    public var line: Int
    public var announcementID: String
    public var seconds: Double
    public var startFrame: UInt64
    public var channel: Int
}

/// What skrybad worked out for `set retention VALUE` before the file is written.
public struct RetentionPreviewResult: Codable, Equatable, Sendable {
    public var period: String
    public var dueNow: Int
    public var rescheduled: Int
}

/// What the console asks of the running daemon.
public protocol ApplianceLink {
    func status() throws(LinkError) -> StatusSnapshot
    func levels() throws(LinkError) -> [LevelSnapshot]
    func alarms() throws(LinkError) -> AlarmList
    /// Re-read the (already validated and written) configuration without dropping calls in
    /// progress. skrybad audits it (`config-changed`, the peer's login from SO_PEERCRED).
    func reload() throws(LinkError) -> ReloadResult
    /// Plays line `line`'s announcement into its output (idle lines only); skrybad audits it.
    func testAnnouncement(line: Int) throws(LinkError) -> AnnouncementTestResult
    /// How many recordings `period` in place of today's would delete at once (nothing changes).
    func retentionPreview(period: String) throws(LinkError) -> RetentionPreviewResult
    /// The latest audit entries as a technician may see them.
    func log(last count: Int) throws(LinkError) -> [TechnicianLogEntry]
}

/// The control socket: a Unix stream socket; each request is one JSON object on one line, each
/// answer one JSON object on one line, `{"ok": true, …}` or `{"ok": false, "error": "…"}`.
public struct ControlSocketLink: ApplianceLink {
    public static let defaultPath = "/run/skryba/control.sock"
    public let path: String
    /// An answer taking longer than this means the daemon is stuck, not that the console should hang.
    public var timeoutSeconds: Int = 5

    public init(path: String = ControlSocketLink.defaultPath) { self.path = path }

    public func status() throws(LinkError) -> StatusSnapshot {
        try decode(StatusSnapshot.self, from: request(["command": "status"]), field: "status")
    }

    public func levels() throws(LinkError) -> [LevelSnapshot] {
        try decode([LevelSnapshot].self, from: request(["command": "levels"]), field: "levels")
    }

    public func alarms() throws(LinkError) -> AlarmList {
        try decode(AlarmList.self, from: request(["command": "alarms"]), field: "alarms")
    }

    public func reload() throws(LinkError) -> ReloadResult {
        try decode(ReloadResult.self, from: request(["command": "reload"]), field: "reload")
    }

    public func testAnnouncement(line: Int) throws(LinkError) -> AnnouncementTestResult {
        try decode(AnnouncementTestResult.self, from: request(["command": "announcement-test", "line": line]), field: "announcementTest")
    }

    public func retentionPreview(period: String) throws(LinkError) -> RetentionPreviewResult {
        try decode(RetentionPreviewResult.self, from: request(["command": "retention-preview", "period": period]), field: "retentionPreview")
    }

    public func log(last count: Int) throws(LinkError) -> [TechnicianLogEntry] {
        try decode([TechnicianLogEntry].self, from: request(["command": "log", "count": count]), field: "log")
    }

    /// Sends one request, reads one answer line; `ok: false` becomes `.refused(error)`.
    func request(_ message: [String: Any]) throws(LinkError) -> [String: Any] {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw .notRunning("cannot make a socket: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw .notRunning("the socket path \(path) is too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let reason = errno == ENOENT ? "no socket at \(path)" : errno == ECONNREFUSED ? "nothing listens on \(path)"
                : "\(path): \(String(cString: strerror(errno)))"
            throw .notRunning(reason)
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        guard let body = try? JSONSerialization.data(withJSONObject: message, options: [.sortedKeys]) else {
            throw .refused("cannot encode the request")
        }
        var bytes = Array(body) + [UInt8(ascii: "\n")]
        var sent = 0
        while sent < bytes.count {
            let written = bytes.withUnsafeMutableBytes { send(descriptor, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { throw .notRunning("\(path): the daemon closed the connection (\(String(cString: strerror(errno))))") }
            sent += written
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !answer.contains(UInt8(ascii: "\n")) {
            let got = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if got < 0, errno == EINTR { continue }
            if got < 0, errno == EAGAIN || errno == EWOULDBLOCK { throw .refused("skrybad did not answer within \(timeoutSeconds) s") }
            guard got > 0 else { break }
            answer += chunk[0..<got]
            if answer.count > 1 << 20 { throw .refused("the answer is larger than 1 MiB") }
        }
        let line = answer.prefix { $0 != UInt8(ascii: "\n") }
        guard !line.isEmpty, let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
            throw .refused("skrybad's answer is not a JSON object")
        }
        guard object["ok"] as? Bool == true else {
            throw .refused(object["error"] as? String ?? "skrybad refused without saying why")
        }
        return object
    }

    private func decode<T: Decodable>(_ type: T.Type, from answer: [String: Any], field: String) throws(LinkError) -> T {
        guard let value = answer[field] else { throw .refused("skrybad's answer has no \"\(field)\"") }
        do {
            let data = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw .refused("skrybad's \"\(field)\" is not what the console expects (\(Self.reason(error)))")
        }
    }

    private static func reason(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?: "missing \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .dataCorrupted(let context)?:
            "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "unreadable"
        }
    }
}

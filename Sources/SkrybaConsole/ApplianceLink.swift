import Foundation
#if canImport(Glibc)
import Glibc
#endif

// What the console needs from the running skrybad, and the one client that asks it over the
// control socket. The message shapes are documented in docs/console.md ("The control socket");
// everything the console knows about the daemon's protocol is in this file.

/// One line as the daemon sees it now.
public struct LineSnapshot: Codable, Equatable, Sendable {
    public struct Call: Codable, Equatable, Sendable {
        public var direction: String
        /// UTC ISO 8601.
        public var since: String
        public var recording: String?
    }
    public var id: Int
    public var name: String
    /// "idle", "ringing", "announcing", "recording", "off-hook", "not-recorded", "dead", …
    public var state: String
    /// Last period's level in dBFS (nil: no audio yet).
    public var level_dbfs: Double?
    public var call: Call?
}

public struct AlarmSnapshot: Codable, Equatable, Sendable {
    public var kind: String
    public var line: Int?
    public var message: String
    /// UTC ISO 8601.
    public var raised: String
    public var cleared: String?
}

public struct StorageSnapshot: Codable, Equatable, Sendable {
    public var total_bytes: Int64
    public var available_bytes: Int64
    /// At the current recording rate; nil when nothing has been recorded yet.
    public var days_left: Double?
}

public struct StatusSnapshot: Codable, Equatable, Sendable {
    public var version: String
    public var configured: Bool
    public var lines: [LineSnapshot]
    public var storage: StorageSnapshot?
    public var clock_synchronised: Bool?
    public var alarms: [AlarmSnapshot]
    public var device_key_fingerprint: String?
}

public struct LevelSnapshot: Codable, Equatable, Sendable {
    public var line: Int
    public var dbfs: Double?
    public var peak_dbfs: Double?
}

public struct AlarmList: Codable, Equatable, Sendable {
    public var active: [AlarmSnapshot]
    public var history: [AlarmSnapshot]
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

/// What the console asks of the running daemon.
public protocol ApplianceLink {
    func status() throws(LinkError) -> StatusSnapshot
    func levels() throws(LinkError) -> [LevelSnapshot]
    func alarms() throws(LinkError) -> AlarmList
    /// Re-read the (already validated and written) configuration without dropping calls in
    /// progress; returns the daemon's one-line account of what it applied.
    func reload(configPath: String, actor: String) throws(LinkError) -> String
    /// Play line `line`'s announcement into its output now (the daemon owns the playback PCM).
    func playAnnouncement(line: Int, actor: String) throws(LinkError) -> String
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
        let answer = try request(["command": "alarms"])
        return AlarmList(active: try decode([AlarmSnapshot].self, from: answer, field: "active"),
                         history: try decode([AlarmSnapshot].self, from: answer, field: "history"))
    }

    public func reload(configPath: String, actor: String) throws(LinkError) -> String {
        let answer = try request(["command": "reload", "config": configPath, "actor": actor])
        return answer["message"] as? String ?? ""
    }

    public func playAnnouncement(line: Int, actor: String) throws(LinkError) -> String {
        let answer = try request(["command": "play-announcement", "line": line, "actor": actor])
        return answer["message"] as? String ?? ""
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

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import SkrybaStore
import SkrybaConfig
import Logging
import SkrybaPipeline

/// The control socket: a Unix stream socket, mode 0660, owned by the service's user and admin group,
/// through which `skryba` reads live state and asks for changes (docs/control-socket.md). Requests
/// are answered on a thread per connection, so a slow client never holds the others up.
public final class ControlSocketServer: @unchecked Sendable {
    public static let defaultGroup = "skryba"
    public let path: String
    private let responder: any ControlResponder
    private let listener: Int32
    private let stopPipe: (read: Int32, write: Int32)
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    /// Binds and listens. `group`: the admin group that may connect (its members run `skryba status`);
    /// when it does not exist the socket stays root's alone, and that is logged.
    public init(path: String, group: String, responder: any ControlResponder) throws {
        self.path = path
        self.responder = responder
        let directory = (path as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        var address = try UnixSocket.address(path)
        // A socket file left by a daemon that died is stale: nobody can be listening, we hold the data directory's lock.
        if unlink(path) != 0 && errno != ENOENT {
            throw ControlSocketError("cannot remove the old control socket \(path): \(String(cString: strerror(errno)))")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlSocketError("cannot make the control socket: \(String(cString: strerror(errno)))") }
        // Made 0660 from the start: there is no moment when anyone else could connect.
        let mask = umask(0o117)
        let bound = UnixSocket.withAddress(&address) { bind(fd, $0, $1) }
        let bindError = errno
        umask(mask)
        guard bound == 0 else {
            close(fd)
            throw ControlSocketError("cannot bind the control socket \(path): \(String(cString: strerror(bindError)))")
        }
        if let entry = getgrnam(group) {
            // Owned by the service's user (root, or skryba under the unit) and the admin group.
            if chown(path, geteuid(), entry.pointee.gr_gid) != 0 {
                responder.logger.warning("cannot give the control socket \(path) to group \(group): \(String(cString: strerror(errno)))")
            }
        } else {
            responder.logger.warning("the admin group '\(group)' does not exist: the control socket \(path) is the service user's alone (make the group, or give skrybad --admin-group)")
        }
        chmod(path, 0o660)
        guard listen(fd, 16) == 0 else {
            close(fd)
            throw ControlSocketError("cannot listen on the control socket \(path): \(String(cString: strerror(errno)))")
        }
        listener = fd
        var pipes: [Int32] = [0, 0]
        guard pipe(&pipes) == 0 else {
            close(fd)
            throw ControlSocketError("cannot make the control socket's stop pipe: \(String(cString: strerror(errno)))")
        }
        stopPipe = (pipes[0], pipes[1])
        for end in pipes { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    }

    deinit {
        close(listener)
        close(stopPipe.read)
        close(stopPipe.write)
    }

    public func start() {
        let thread = Thread { [self] in
            acceptLoop()
            finished.signal()
        }
        thread.name = "control"
        self.thread = thread
        thread.start()
    }

    /// Stops accepting, removes the socket file and waits for the accept thread.
    public func stop() {
        var byte: UInt8 = 1
        _ = write(stopPipe.write, &byte, 1)
        if thread != nil { finished.wait() }
        thread = nil
        unlink(path)
    }

    private func acceptLoop() {
        while true {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, -1)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 || fds[1].revents != 0 { return }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            DispatchQueue.global().async { [self] in serve(client) }
        }
    }

    /// Who is on the other end (the audit log's actor for a change).
    private func peer(_ fd: Int32) -> String {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } (Glibc's module does not export the type).
        var credentials: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 else { return "control socket" }
        let name = getpwuid(credentials.uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(credentials.uid)"
        return "control:\(name)"
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        let actor = peer(fd)
        while let line = try? UnixSocket.readLine(fd, limit: 64 << 10) {
            let response: ControlResponse
            if let request = try? JSONDecoder().decode(ControlRequest.self, from: line) {
                response = responder.answer(request, actor: actor)
            } else {
                response = .failure("not a request: send one JSON object per line, e.g. {\"command\":\"status\"} (docs/control-socket.md)")
            }
            guard (try? UnixSocket.writeAll(fd, response.encodedLine())) != nil else { return }
        }
    }

}

/// What answers the control socket's requests: the running appliance, or a not-configured skrybad.
public protocol ControlResponder: Sendable {
    var logger: Logger { get }
    func answer(_ request: ControlRequest, actor: String) -> ControlResponse
}

/// The answers both responders read from the catalog the same way.
extension ControlResponse {
    static func alarms(active: [LiveStatus.Alarm], catalog: Catalog) -> ControlResponse {
        do {
            var response = ControlResponse(ok: true)
            response.alarms = Alarms(active: active, history: Array(AlarmRecord.history(try catalog.audit.entries()).suffix(100)))
            return response
        } catch {
            return .failure("cannot read the alarm history from the audit log: \(error)")
        }
    }

    static func log(_ request: ControlRequest, catalog: Catalog) -> ControlResponse {
        guard let count = request.count, (1...500).contains(count) else { return .failure("log needs \"count\": 1 to 500 entries") }
        do {
            var response = ControlResponse(ok: true)
            response.log = try catalog.audit.technicianView(last: count)
            return response
        } catch {
            return .failure("cannot read the audit log: \(error)")
        }
    }
}

extension ApplianceRuntime: ControlResponder {
    /// The commands (docs/control-socket.md). Reads: status, alarms, levels; changes: reload;
    /// actions: announcement-test (with `line`); catalog reads: retention-preview (with `period`),
    /// log (with `count`, the technician's view).
    public static let commands = ["status", "alarms", "levels", "reload", "announcement-test", "retention-preview", "log"]

    public func answer(_ request: ControlRequest, actor: String) -> ControlResponse {
        var response = ControlResponse(ok: true)
        switch request.command {
        case "status":
            response.status = status()
        case "alarms":
            return .alarms(active: appliance.recorder.alarms.active.map(LiveStatus.Alarm.init), catalog: appliance.catalog)
        case "levels":
            response.levels = status().lines.map { ControlResponse.Level(line: $0.id, name: $0.name, state: $0.state, levelDBFS: $0.levelDBFS) }
        case "reload":
            do { response.reload = try reloadConfiguration(actor: actor) } catch {
                return .failure("the configuration was not reloaded; the one in force stays:\n\(error)")
            }
        case "announcement-test":
            guard let line = request.line else { return .failure("announcement-test needs \"line\": the line's number") }
            switch testAnnouncement(line: line, actor: actor) {
            case .success(let test): response.announcementTest = test
            case .failure(let refusal): return .failure(refusal.description)
            }
        case "retention-preview":
            guard let text = request.period, let period = RetentionConfiguration.Period.parse(text) else {
                return .failure("retention-preview needs \"period\": 1d…3650d, 1m…120m or capacity")
            }
            do { response.retentionPreview = try retentionPreview(period) } catch {
                return .failure("cannot work out what the new retention would delete: \(error)")
            }
        case "log":
            return .log(request, catalog: appliance.catalog)
        default:
            return .failure("unknown command '\(request.command)'; the commands are \(Self.commands.joined(separator: ", "))")
        }
        return response
    }
}

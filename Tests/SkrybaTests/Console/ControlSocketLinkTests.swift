import Foundation
import SkrybaConsole
import SkrybaStore
import SkrybaSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The console's one client of skrybad's control socket, against a real Unix socket served here
/// with skrybad's answers byte for byte as docs/control-socket.md documents them (ConsoleDaemonTests
/// runs the console against the real daemon).
@Suite struct ControlSocketLinkTests {
    /// Answers each connection's one request line with `answer(request)`; records the requests.
    final class Server: @unchecked Sendable {
        let path: String
        private let descriptor: Int32
        private let lock = NSLock()
        private var received: [[String: Any]] = []
        private var thread: Thread?
        private let acceptEnded = DispatchSemaphore(value: 0)

        init(path: String, answer: @escaping @Sendable ([String: Any]) -> String) throws {
            self.path = path
            descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: Array(path.utf8))
                raw[path.utf8.count] = 0
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0, listen(descriptor, 8) == 0 else { throw ToolFailure("cannot listen on \(path)") }
            let listening = descriptor
            thread = Thread { [self] in
                while true {
                    let client = accept(listening, nil, nil)
                    guard client >= 0 else {
                        acceptEnded.signal()
                        return
                    }
                    var line: [UInt8] = []
                    var byte: UInt8 = 0
                    while read(client, &byte, 1) == 1, byte != UInt8(ascii: "\n") { line.append(byte) }
                    let request = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] ?? [:]
                    lock.withLock { received.append(request) }
                    let reply = Array((answer(request) + "\n").utf8)
                    _ = reply.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                    close(client)
                }
            }
            thread?.start()
        }

        var requests: [[String: Any]] { lock.withLock { received } }

        /// Closes the listener only once its thread left accept(): a descriptor number closed under it
        /// could be reused by another test's socket, whose connections it would then take.
        func stop() {
            shutdown(descriptor, Int32(SHUT_RDWR))
            acceptEnded.wait()
            close(descriptor)
            unlink(path)
        }
    }

    /// Answers as skrybad writes them (ControlResponse.encodedLine: sorted keys, camelCase).
    static let status = """
        {"ok":true,"status":{"alarmCount":1,"alarms":[{"count":1,"kind":"storage-nearly-full","line":0,"message":"41 days of recording left",\
        "raisedUTC":"2026-12-02T08:00:00Z"}],"calls":[{"direction":"incoming","line":1,"seconds":75.5}],"callsInProgress":1,\
        "clock":{"reason":"NTP synchronised","synchronised":true,"utc":"2026-12-02T09:16:15Z"},"deviceKeyFingerprint":"0123456789abcdef",\
        "lines":[{"call":{"direction":"incoming","line":1,"seconds":75.5},"id":1,"levelDBFS":-23.4,"name":"Sekretariat","state":"off-hook"},\
        {"id":2,"levelDBFS":-96,"name":"Biuro podawcze","state":"on-hook"}],"sampleClock":612000,"startedUTC":"2026-12-02T09:00:00Z",\
        "state":"recording","storage":{"dataDirectory":"/var/lib/skryba","daysLeft":41.6,"freeBytes":536870912,"pending":0,"totalBytes":1073741824},\
        "version":"0.1.0"}}
        """

    static func answer(_ request: [String: Any]) -> String {
        switch request["command"] as? String {
        case "status": status
        case "levels":
            #"{"levels":[{"levelDBFS":-23.4,"line":1,"name":"Sekretariat","state":"off-hook"},{"levelDBFS":-96,"line":2,"name":"Biuro podawcze","state":"on-hook"}],"ok":true}"#
        case "alarms":
            #"{"alarms":{"active":[],"history":[{"clearReason":"space freed","clearedUTC":"2026-12-02T08:30:00Z","kind":"storage-nearly-full","line":0,"message":"41 days of recording left","raisedUTC":"2026-12-02T08:00:00Z"}]},"ok":true}"#
        case "reload": #"{"ok":true,"reload":{"applied":["retention"],"needsRestart":["audio"]}}"#
        case "retention-preview" where request["period"] as? String == "6m":
            #"{"ok":true,"retentionPreview":{"dueNow":3,"period":"6m","rescheduled":12}}"#
        default: #"{"error":"unknown command 'x'; the commands are status, alarms, levels, reload","ok":false}"#
        }
    }

    @Test func theClientDecodesTheDaemonsAnswers() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-control")
        let server = try Server(path: "\(directory)/control.sock", answer: Self.answer)
        defer { server.stop() }
        let link = ControlSocketLink(path: server.path)
        let status = try link.status()
        #expect(status.lines.map { $0.name } == ["Sekretariat", "Biuro podawcze"])
        #expect(status.lines.map { $0.state } == ["off-hook", "on-hook"])
        #expect(status.lines[0].call?.direction == "incoming" && status.lines[0].call?.seconds == 75.5 && status.lines[1].call == nil && status.storage.daysLeft == 41.6)
        #expect(status.clock.synchronised && status.callsInProgress == 1 && status.alarms.first?.count == 1)
        #expect(try link.levels().map { $0.levelDBFS } == [-23.4, -96])
        let alarms = try link.alarms()
        #expect(alarms.active.isEmpty && alarms.history.map(\.clearReason) == ["space freed"])
        let reload = try link.reload()
        #expect(reload.applied == ["retention"] && reload.needsRestart == ["audio"])
        // The request is the command alone: skrybad reads its own file and takes the actor from SO_PEERCRED.
        #expect(server.requests.map { $0.keys.sorted() } == [["command"], ["command"], ["command"], ["command"]])
        #expect(server.requests.map { $0["command"] as? String } == ["status", "levels", "alarms", "reload"])
    }

    @Test func withoutADaemonItSaysSo() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-control-none")
        #expect(throws: LinkError.notRunning("no socket at \(directory)/control.sock")) { try ControlSocketLink(path: "\(directory)/control.sock").status() }
        // A socket file nobody listens on (skrybad was killed).
        let stale = try Server(path: "\(directory)/stale.sock", answer: Self.answer)
        stale.stop()
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array("\(directory)/stale.sock".utf8) + [0]) }
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(throws: LinkError.notRunning("nothing listens on \(directory)/stale.sock")) { try ControlSocketLink(path: "\(directory)/stale.sock").status() }
    }

    @Test func theConsoleShowsTheLiveStatus() throws {
        let fixture = try ConsoleFixture("live")
        let server = try Server(path: fixture.socketPath, answer: Self.answer)
        defer { server.stop() }
        let (_, text) = try fixture.scripted("status\nlevels\nset retention 6m\nno\nset retention 6m\nyes\n")
        #expect(text.contains("skrybad: running\n"), "\(text)")
        #expect(text.contains("  1  Sekretariat     off-hook  -23 dBFS  incoming call, 75 s\n"), "\(text)")
        #expect(text.contains("  2  Biuro podawcze  on-hook   -96 dBFS\n"), "\(text)")
        #expect(text.contains("Calls in progress: 1\nStorage: 512.0 MiB used, 512.0 MiB free, 42 days of recording left\n"))
        #expect(text.contains("Alarms: 1 active\n  storage-nearly-full: 41 days of recording left (raised 2026-12-02 09:00:00 CET)\n"))
        #expect(text.contains("Device key fingerprint: 0123456789abcdef\n"))
        #expect(text.contains("  1  Sekretariat      [############........] -23 dBFS\n"), "\(text)")
        // skrybad previewed it: the catalog here is empty, so only skrybad's 3 make the console ask (no, then yes).
        #expect(text.contains("\nNothing changed.\n"), "\(text)")
        #expect(text.contains("retention.period: 30d → 6m. Saved and audited.\nskrybad applied retention and audited the change; audio take effect when skrybad restarts.\n"), "\(text)")
        // skrybad audited it: the console wrote nothing to the audit log.
        #expect(try fixture.catalog().audit.entries().filter { $0.kind == AuditKind.configChanged.rawValue }.isEmpty)
        #expect(server.requests.suffix(3).map { $0["command"] as? String } == ["retention-preview", "retention-preview", "reload"])
        #expect(server.requests.suffix(3).first?["period"] as? String == "6m")
    }
}

import Foundation
import SkrybaConsole
import SkrybaSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The console's one client of skrybad's control socket, against a real Unix socket served here
/// with the message shapes docs/console.md documents.
@Suite struct ControlSocketLinkTests {
    /// Answers each connection's one request line with `answer(request)`; records the requests.
    final class Server: @unchecked Sendable {
        let path: String
        private let descriptor: Int32
        private let lock = NSLock()
        private var received: [[String: Any]] = []
        private var thread: Thread?

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
                    guard client >= 0 else { return }
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

        func stop() {
            shutdown(descriptor, Int32(SHUT_RDWR))
            close(descriptor)
            unlink(path)
        }
    }

    static let status = """
        {"ok":true,"status":{"version":"0.1.0","configured":true,"clock_synchronised":true,"device_key_fingerprint":"0123456789abcdef",\
        "storage":{"total_bytes":1073741824,"available_bytes":536870912,"days_left":41.6},\
        "lines":[{"id":1,"name":"Sekretariat","state":"recording","level_dbfs":-23.4,\
        "call":{"direction":"incoming","since":"2026-12-02T09:15:00.000Z","recording":"R000012"}},\
        {"id":2,"name":"Biuro podawcze","state":"idle","level_dbfs":null,"call":null}],\
        "alarms":[{"kind":"storage-nearly-full","line":null,"message":"41 days of recording left","raised":"2026-12-02T08:00:00.000Z","cleared":null}]}}
        """

    static func answer(_ request: [String: Any]) -> String {
        switch request["command"] as? String {
        case "status": status
        case "levels": #"{"ok":true,"levels":[{"line":1,"dbfs":-23.4,"peak_dbfs":-12.0},{"line":2,"dbfs":null,"peak_dbfs":null}]}"#
        case "reload": #"{"ok":true,"message":"retention policy applied; 1 call in progress kept"}"#
        case "play-announcement": #"{"ok":false,"error":"line 1 is in a call"}"#
        default: #"{"ok":false,"error":"unknown command"}"#
        }
    }

    @Test func theClientDecodesTheDaemonsAnswers() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-control")
        let server = try Server(path: "\(directory)/control.sock", answer: Self.answer)
        defer { server.stop() }
        let link = ControlSocketLink(path: server.path)
        let status = try link.status()
        #expect(status.lines.map { $0.name } == ["Sekretariat", "Biuro podawcze"])
        #expect(status.lines[0].call?.recording == "R000012" && status.storage?.days_left == 41.6)
        let levels: [Double?] = try link.levels().map { $0.dbfs }
        #expect(levels == [-23.4, nil])
        #expect(try link.reload(configPath: "/etc/skryba/skryba.toml", actor: "console:jan") == "retention policy applied; 1 call in progress kept")
        #expect(throws: LinkError.refused("line 1 is in a call")) { try link.playAnnouncement(line: 1, actor: "console:jan") }
        #expect(throws: LinkError.refused("unknown command")) { try link.alarms() }
        let reload = server.requests[2]
        #expect(reload["command"] as? String == "reload" && reload["config"] as? String == "/etc/skryba/skryba.toml"
                && reload["actor"] as? String == "console:jan")
        #expect(server.requests[3]["line"] as? Int == 1)
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tool.product("skryba"))
        process.arguments = ["console", "--config", fixture.configPath, "--control-socket", fixture.socketPath]
        process.environment = ["SUDO_USER": "jan.kowalski", "PATH": "/usr/bin:/bin"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data("status\nlevels\nset retention 6m\n".utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.contains("skrybad: running\n"), "\(text)")
        #expect(text.contains("  1  Sekretariat     recording  -23 dBFS  incoming call since 2026-12-02 10:15:00 CET, R000012\n"), "\(text)")
        #expect(text.contains("  2  Biuro podawcze  idle       -\n"))
        #expect(text.contains("Calls in progress: 1\nStorage: 512.0 MiB used, 512.0 MiB free, 42 days of recording left\n"))
        #expect(text.contains("Alarms: 1 active\n  storage-nearly-full: 41 days of recording left (raised 2026-12-02 09:00:00 CET)\n"))
        #expect(text.contains("Device key fingerprint: 0123456789abcdef\n"))
        #expect(text.contains("  1  Sekretariat      [############........] -23 dBFS (peak -12)\n"), "\(text)")
        #expect(text.contains("retention.period: 30d → 6m. Saved and audited.\nskrybad applied it: retention policy applied; 1 call in progress kept\n"))
        #expect(server.requests.last?["command"] as? String == "reload")
    }
}

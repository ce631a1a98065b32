import Foundation
import Logging
import Testing
import SkrybaALSA
import SkrybaCore
import SkrybaPipeline
import SkrybaSeal
import SkrybaService
import SkrybaStore
import SkrybaSystem
#if canImport(Glibc)
import Glibc
#endif

/// skrybad as a systemd service (issue 10, items 1 to 3): SIGTERM during a call, the notify
/// protocol and the watchdog fed by real progress, the control socket, alarms with a start and an end.
@Suite struct ServiceTests {
    static let identity = AgeIdentity()

    /// Renders `scenario` and writes its configuration; the daemon's arguments for it.
    func office(_ scenario: Scenario, _ name: String) throws -> (rendered: ScenarioRenderer.Output, config: String, data: String) {
        let directory = try makeTemporaryDirectory(prefix: "skryba-service-\(name)")
        let rendered = try ScenarioRenderer(scenario: scenario, directory: directory).render()
        let data = "\(directory)/data", config = "\(directory)/skryba.toml"
        try Simulator.configuration(for: scenario, recipients: [Self.identity.recipient], dataDirectory: data)
            .write(toFile: config, atomically: true, encoding: .utf8)
        return (rendered, config, data)
    }

    static let oneCall = Scenario(
        announcement: "Rozmowa jest nagrywana.",
        lines: [Scenario.Line(id: 1, name: "Sekretariat")],
        calls: [Scenario.Call(line: 1, direction: .incoming, at: 0.5, rings: 1, callerID: "221234567",
                              talk: ["Dzień dobry, dzwonię w sprawie dowodu osobistego."], hangUpAfter: 30)])

    /// SIGTERM while a call is being recorded: the call ends there, its last record is written, the
    /// row is complete and the file decodes to exactly its frames. Meanwhile the control socket (mode
    /// 0660, the admin group) answers status with the real line, its state and the call in progress,
    /// and a configuration reload renames the line without dropping the call; the journal gets one
    /// line per call started and ended with no caller number.
    @Test func sigtermDuringACallLeavesACompleteRecordingAndTheSocketShowsTheCall() throws {
        let (rendered, config, data) = try office(Self.oneCall, "sigterm")
        let socketDirectory = "\(rendered.directory)/run"
        try FileManager.default.createDirectory(atPath: socketDirectory, withIntermediateDirectories: true)
        chmod(rendered.directory, 0o755)
        let socket = "\(socketDirectory)/control.sock"
        let group = getgrnam("audio") != nil ? "audio" : "root"
        let daemon = try RunningDaemon(
            arguments: ["--config", config, "--assume-clock-synchronised", "--pacing", "simulation", "--speed", "4", "--progress",
                        "--control-socket", socket, "--admin-group", group],
            environment: ["ALSA_CONFIG_PATH": rendered.alsaConfiguration, "JOURNAL_STREAM": "8:1234"])
        defer { daemon.killIfRunning() }
        try #require(daemon.wait { out, _ in out.contains("{\"durable\":") }, "no durable record: \(daemon.stderr)")

        var info = stat()
        #expect(stat(socket, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o660)
        #expect(info.st_gid == getgrnam(group)!.pointee.gr_gid)
        let status = try #require(try ControlClient.request("status", path: socket).status)
        #expect(status.state == "recording")
        #expect(status.lines.map(\.name) == ["Sekretariat"])
        #expect(status.lines.map(\.state) == ["off-hook"])
        #expect(status.callsInProgress == 1 && status.calls.map(\.direction) == ["incoming"])
        #expect(status.deviceKeyFingerprint == (try DeviceKey.load(path: "\(data)/\(DataLayout.deviceKey)")).fingerprint)
        #expect(status.lines[0].levelDBFS <= 0 && status.lines[0].levelDBFS >= -96)
        let levels = try #require(try ControlClient.request("levels", path: socket).levels)
        #expect(levels.map(\.name) == ["Sekretariat"])
        let unknown = try ControlClient.request("format-disk", path: socket)
        #expect(!unknown.ok && unknown.error == "unknown command 'format-disk'; the commands are status, alarms, levels, reload, announcement-test, retention-preview, log")
        // `skryba status` prints the same for a person: a header row and the line by its name.
        let printed = try Tool.run(Tool.product("skryba"), ["status", "--socket", socket])
        #expect(printed.status == 0, "\(printed.output)")
        #expect(printed.output.contains("line  name         state     level"), "\(printed.output)")
        #expect(printed.output.contains("Calls in progress: 1"))
        // Nobody outside the admin group may connect.
        let stranger = try Tool.run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Tool.product("skryba"), "status", "--socket", socket])
        #expect(stranger.status == 1)
        #expect(stranger.output.contains("permission denied"), "\(stranger.output)")

        // A change through the socket while the call goes on: a file with a problem is refused and
        // nothing changes; a good one renames the line and takes new retention rules at once.
        let original = try String(contentsOfFile: config, encoding: .utf8)
        try original.replacingOccurrences(of: "rate = 8000", with: "rate = 44100").write(toFile: config, atomically: true, encoding: .utf8)
        let refused = try ControlClient.request("reload", path: socket)
        #expect(!refused.ok && refused.error?.hasPrefix("the configuration was not reloaded; the one in force stays:\n\(config):") == true, "\(refused)")
        #expect(refused.error?.contains("audio.rate") == true)
        try (original.replacingOccurrences(of: "name = \"Sekretariat\"", with: "name = \"Sekretariat gminy\"") + "\n[retention]\nperiod = \"6m\"\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let reload = try #require(try ControlClient.request("reload", path: socket).reload)
        #expect(reload.applied == ["retention", "line names"] && reload.needsRestart.isEmpty, "\(reload)")
        #expect(try ControlClient.request("status", path: socket).status?.lines.map(\.name) == ["Sekretariat gminy"])
        let changes = try Catalog(dataDirectory: data).audit.entries().filter { $0.kind == AuditKind.configChanged.rawValue }
        #expect(changes.last?.actor == "control:root" && changes.last?.details.contains("\"retention\":\"6m\"") == true, "\(changes)")

        #expect(daemon.terminate() == 0, "\(daemon.stderr)")
        #expect(!FileManager.default.fileExists(atPath: socket), "the socket goes with the daemon")
        let rows = try Catalog(dataDirectory: data).recordings()
        let row = try #require(rows.first)
        #expect(rows.count == 1 && row.status == .complete)
        let onHook = try #require(rendered.callFrames[0].onHook)
        let end = try #require(row.endFrame)
        #expect(end > row.startFrame && end < onHook, "the call ended at the stop, before its on-hook")
        let opened = try SealedRecordingReader.open([UInt8](FileManager.default.contents(atPath: "\(data)/\(row.filePath!)")!), identities: [Self.identity])
        #expect(opened.problem == nil)
        let path = "\(rendered.directory)/stopped.opus"
        try Data(opened.plaintext).write(to: URL(fileURLWithPath: path))
        #expect(try Tool.opusdec(path).count == Int(end - row.startFrame), "the file holds the call up to the stop")

        let log = daemon.stderr
        #expect(log.contains("<6>skrybad: call started: line 1 (Sekretariat), incoming, recording \(row.id)\n"), "\(log)")
        let seconds = Int((Double(end - row.startFrame) / 8000).rounded())
        let duration = seconds >= 60 ? "\(seconds / 60) min \(seconds % 60) s" : "\(seconds) s"
        #expect(log.contains("<6>skrybad: call ended: line 1 (Sekretariat gminy), incoming, \(duration), recording \(row.id), complete\n"), "\(log)")
        #expect(!log.contains("221234567"), "no caller number in the journal")
    }

    /// The systemd notify protocol: READY once the capture runs, WATCHDOG=1 while it moves; a capture
    /// that stops delivering (a FIFO-backed file PCM nobody writes to) stops the pings and says why
    /// in STATUS; when audio comes again the pings come back.
    @Test func theWatchdogIsFedOnlyWhileTheCaptureMoves() throws {
        var scenario = Scenario(announcement: "Rozmowa jest nagrywana.", lines: [Scenario.Line(id: 1, name: "Sekretariat")], calls: [])
        scenario.tailSeconds = 1
        let (rendered, config, _) = try office(scenario, "watchdog")
        let fifo = "\(rendered.directory)/tap.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        // Read-write: opening never blocks, and the daemon's reads block (not end) once it is empty.
        let writer = open(fifo, O_RDWR)
        try #require(writer >= 0)
        defer { close(writer) }
        try (FilePCMDefinition.capture(name: "skryba_sim_tap", infile: fifo)
             + FilePCMDefinition.playback(name: "skryba_sim_line_out", outfile: rendered.playbackFile))
            .write(toFile: rendered.alsaConfiguration, atomically: true, encoding: .utf8)
        func feed(seconds: Int) {
            // Whole periods (160 frames = 320 bytes), 10 per write: below PIPE_BUF, so never split.
            let chunk = [UInt8](repeating: 0, count: 3200)
            for _ in 0..<(seconds * 5) { _ = chunk.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) } }
        }
        feed(seconds: 2)
        let notify = try NotifySocket(path: "\(rendered.directory)/notify.sock")
        let daemon = try RunningDaemon(
            arguments: ["--config", config, "--assume-clock-synchronised", "--pacing", "simulation", "--speed", "1"],
            environment: ["ALSA_CONFIG_PATH": rendered.alsaConfiguration, "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000"])
        defer { daemon.killIfRunning() }

        let first = try #require(notify.until(within: 30) { $0.contains("READY=1") }, "no READY: \(daemon.stderr)")
        #expect(first.last == "READY=1\nSTATUS=recording 1 line, 0 calls in progress, 0 alarms\nWATCHDOG=1")
        try #require(notify.until(within: 5) { $0.hasSuffix("WATCHDOG=1") } != nil)
        // The two seconds run out: the capture blocks in its read, and the pings stop.
        let stalled = try #require(notify.until(within: 10) { $0.contains("not healthy") }, "the pings went on: \(daemon.stderr)")
        #expect(stalled.last?.hasPrefix("STATUS=not healthy: the capture is stuck at frame ") == true, "\(stalled)")
        #expect(stalled.last?.contains("WATCHDOG=1") == false)
        var quiet: [String] = []
        while let datagram = notify.next(within: 1) {
            quiet.append(datagram)
            if quiet.count == 5 { break }
        }
        #expect(quiet.count == 5, "the health check goes on saying its status")
        #expect(!quiet.contains { $0.contains("WATCHDOG=1") }, "\(quiet)")
        #expect(daemon.stderr.contains("the watchdog is no longer fed"))
        // Audio again: the pings come back.
        feed(seconds: 3)
        let resumed = try #require(notify.until(within: 10) { $0.contains("WATCHDOG=1") })
        #expect(resumed.last?.hasPrefix("STATUS=recording 1 line") == true)
        #expect(daemon.wait { _, err in err.contains("healthy again") })
        #expect(daemon.terminate() == 0, "\(daemon.stderr)")
        let last = notify.until(within: 5) { $0.contains("STOPPING=1") }
        #expect(last != nil, "STOPPING=1 at SIGTERM")
    }

    /// Alarms have a start and an end, kept in the audit log's history: the clock alarm raised by an
    /// implausible date and cleared by a good one, an event alarm cleared after its hold time; `skryba
    /// alarms` prints the history from the audit log when no daemon answers.
    @Test func alarmsAreRaisedClearedAndKeptInTheAuditLog() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-alarms")
        let catalog = try Catalog(dataDirectory: directory)
        let board = AlarmBoard()
        let journal = AlarmJournal(board: board, audit: catalog.audit, logger: Logger(label: "skrybad"))
        let monitor = RetentionMonitor(alarms: board, clock: AssumedSynchronisedClock())
        #expect(!monitor.clockTrust(at: Date(timeIntervalSince1970: 600)).isTrusted)
        #expect(board.active.map(\.alarm.kind) == [.clockNotSynchronised])
        #expect(monitor.clockTrust(at: Date()).isTrusted)
        #expect(board.active.isEmpty)

        let start = Date()
        board.raise(Alarm(kind: .recordingGap, line: 2, frame: 800, message: "0.50 s of audio never reached the call's recording"), at: start)
        board.clearQuietEvents(at: start.addingTimeInterval(AlarmBoard.eventHoldSeconds - 1))
        #expect(board.isInForce(.recordingGap, line: 2))
        board.clearQuietEvents(at: start.addingTimeInterval(AlarmBoard.eventHoldSeconds))
        #expect(!board.isInForce(.recordingGap, line: 2))
        journal.drain()

        let entries = try catalog.audit.entries().filter { $0.kind.hasPrefix("alarm-") }
        #expect(entries.map { "\($0.kind) \($0.subject ?? "")" } == [
            "alarm-raised clock-not-synchronised", "alarm-cleared clock-not-synchronised",
            "alarm-raised recording-gap", "alarm-cleared recording-gap",
        ])
        let history = AlarmRecord.history(try catalog.audit.entries())
        #expect(history.map(\.kind) == ["clock-not-synchronised", "recording-gap"])
        #expect(history[0].clearReason == "the system clock is synchronised")
        #expect(history.allSatisfy { $0.clearedUTC != nil })
        #expect(try catalog.audit.verify().isIntact)

        let printed = try Tool.run(Tool.product("skryba"), ["alarms", "--data-dir", directory, "--socket", "\(directory)/none.sock"])
        #expect(printed.status == 0, "\(printed.output)")
        #expect(printed.output.contains("skrybad is not running (no answer on \(directory)/none.sock): the history below is from the audit log."))
        #expect(printed.output.contains("No alarm in force."))
        let lines = printed.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = try #require(lines.firstIndex(of: "History:")).advanced(by: 1)
        #expect(lines[header].split(separator: " ") == ["raised", "cleared", "alarm", "line", "what"], "\(printed.output)")
        // Warsaw time with its zone (CET in winter, CEST in summer).
        #expect(lines[header + 1].range(of: #"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CES?T  "#, options: .regularExpression) != nil, "\(lines[header + 1])")
        #expect(printed.output.contains("(cleared: the system clock is synchronised)"))
    }
}

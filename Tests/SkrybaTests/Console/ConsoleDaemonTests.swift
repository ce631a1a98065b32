import Foundation
import SkrybaPipeline
import SkrybaSeal
import SkrybaService
import SkrybaStore
import SkrybaSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real `skryba console` against a real skrybad on a simulated office, over the control socket
/// as docs/control-socket.md defines it: one protocol, both ends.
@Suite struct ConsoleDaemonTests {
    static let office = Scenario(
        announcement: "Rozmowa jest nagrywana.",
        lines: [Scenario.Line(id: 1, name: "Sekretariat"), Scenario.Line(id: 2, name: "Biuro podawcze")],
        calls: [Scenario.Call(line: 1, direction: .incoming, at: 0.5, rings: 1, callerID: "221234567",
                              talk: ["Dzień dobry, dzwonię w sprawie dowodu osobistego."], hangUpAfter: 40)])

    /// `skryba console` from a pipe, as a technician would script it.
    /// `asNobody`: as a login that cannot open the catalog, like `technician` on the image.
    static func console(_ input: String, config: String, socket: String, asNobody: Bool = false, adminGroup: Int? = nil) throws -> String {
        let (status, text) = try ConsoleFixture.scripted(input, config: config, socket: socket, asNobody: asNobody, adminGroup: adminGroup)
        #expect(status == 0, "\(text)")
        return text
    }

    /// While line 1 records a call: `status` shows the configured names and the daemon's live states,
    /// `line 1 name …` is written to the TOML, applied by skrybad's reload and audited by skrybad
    /// (the console's peer, not the console itself); `announcement test` is refused on the line in a
    /// call and played by skrybad into the idle line's output, audited with the frame it started at,
    /// and it is in the playback stream there; the call goes on and its recording is complete, ended
    /// under the new name.
    /// With skrybad stopped, a login that cannot open the catalog still changes the file, told that
    /// skrybad audits it when it starts, and it does.
    @Test func theConsoleReadsAndChangesTheRunningDaemonDuringACall() throws {
        let (rendered, config, data) = try ServiceTests().office(Self.office, "console")
        let socket = "\(rendered.directory)/control.sock"
        // The technician's console in English (the office's default is Polish).
        let simulated = try String(contentsOfFile: config, encoding: .utf8)
        try simulated.replacingOccurrences(of: "recorder_id = \"simulated-office\"\n", with: "recorder_id = \"simulated-office\"\nlanguage = \"en\"\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try RunningDaemon(
            arguments: ["--config", config, "--assume-clock-synchronised", "--pacing", "simulation", "--speed", "4", "--progress",
                        "--control-socket", socket, "--admin-group", "root"],
            environment: ["ALSA_CONFIG_PATH": rendered.alsaConfiguration, "JOURNAL_STREAM": "8:1234"])
        defer { daemon.killIfRunning() }
        try #require(daemon.wait { out, _ in out.contains("{\"durable\":") }, "no durable record: \(daemon.stderr)")

        let text = try Self.console("status\nline 1 name \"Sekretariat gminy\"\nannouncement test 1\nannouncement test 2\n", config: config, socket: socket)
        #expect(text.contains("skrybad: running\n"), "\(text)")
        let row1 = try #require(text.split(separator: "\n").first { $0.hasPrefix("  1  Sekretariat ") }, "\(text)")
        #expect(row1.contains(" off-hook ") && row1.contains("incoming call, "), "\(row1)")
        let row2 = try #require(text.split(separator: "\n").first { $0.hasPrefix("  2  Biuro podawcze ") }, "\(text)")
        #expect(row2.contains(" on-hook "), "\(row2)")
        #expect(text.contains("Calls in progress: 1\n"), "\(text)")
        #expect(text.contains("lines[1].name: Sekretariat → Sekretariat gminy. Saved and audited.\n"
                              + "skrybad applied line names and audited the change; calls in progress go on.\n"), "\(text)")
        #expect(text.contains("The announcement was not played: line 1 is busy (off hook, a call in progress, or its announcement playing): nothing was played\n"), "\(text)")
        #expect(text.contains("skrybad is playing line 2's announcement ogolny-2026-11 ("), "\(text)")

        #expect(try String(contentsOfFile: config, encoding: .utf8).contains("name = \"Sekretariat gminy\""))
        #expect(try ControlClient.request("status", path: socket).status?.lines.map(\.name) == ["Sekretariat gminy", "Biuro podawcze"])
        let changes = try Catalog(dataDirectory: data).audit.entries().filter { $0.kind == AuditKind.configChanged.rawValue }
        #expect(changes.last?.actor == "control:root" && changes.last?.details.contains("\"sha256\"") == true, "\(changes)")
        #expect(!changes.contains { $0.actor.hasPrefix("console:") }, "skrybad audits the change, not the console: \(changes)")

        // A login in the socket's group that cannot open the catalog (technician on the image): skrybad
        // previews the retention change, the console writes it, skrybad applies and audits it.
        // The catalog is skryba's alone (0700) as on the image; the configuration the technician's.
        chmod(rendered.directory, 0o755)
        chmod(data, 0o700)
        chown(rendered.directory, 65534, 65534)
        chown(config, 65534, 65534)
        let retention = try Self.console("set retention 6m\nlog 10\n", config: config, socket: socket, asNobody: true, adminGroup: 0)
        #expect(retention.contains(" → 6m. Saved and audited.\n") && !retention.contains("cannot work out"), "\(retention)")
        // `log` too comes from skrybad: the last entry is the change just made, by this login, with its details.
        let logRows = retention.split(separator: "\n").filter { $0.contains("  config-changed  ") || $0.contains("  announcement-tested  ") }
        #expect(logRows.contains { $0.contains("  control:nobody  ") && $0.contains("retention=6m") }, "\(retention)")
        #expect(logRows.contains { $0.contains("  announcement-tested  ") && $0.contains("line=2") }, "\(retention)")
        #expect(try String(contentsOfFile: config, encoding: .utf8).contains("period = \"6m\""))

        try #require(daemon.wait(seconds: 60) { _, err in err.contains("call ended: line 1") }, "\(daemon.stderr)")
        #expect(daemon.terminate() == 0, "\(daemon.stderr)")
        // The test on line 2: audited by skrybad with its first frame, and there in line 2's playback channel.
        let tests = try Catalog(dataDirectory: data).audit.entries().filter { $0.kind == AuditKind.announcementTested.rawValue }
        let test = try #require(tests.first, "no announcement-tested entry")
        #expect(tests.count == 1 && test.actor == "control:root" && test.details.contains("\"line\":\"2\""), "\(tests)")
        let start = try #require(test.decodedDetails?["start_frame"].flatMap { Int($0) }, "\(test.details)")
        let announcement = try WAVFile.read(path: rendered.announcementFile).samples
        let raw = [UInt8](FileManager.default.contents(atPath: rendered.playbackFile)!)
        let line2 = stride(from: 2, to: raw.count, by: 4).map { Int16(bitPattern: UInt16(raw[$0]) | UInt16(raw[$0 + 1]) << 8) }
        #expect(Array(line2[start..<start + announcement.count]) == announcement, "line 2 plays the announcement from frame \(start)")
        #expect(line2[..<start].allSatisfy { $0 == 0 }, "and nothing before it")

        let rows = try Catalog(dataDirectory: data).recordings()
        let row = try #require(rows.first)
        #expect(rows.count == 1 && row.status == .complete, "\(rows)")
        #expect(daemon.stderr.contains("call ended: line 1 (Sekretariat gminy), incoming, "), "\(daemon.stderr)")
        let end = try #require(row.endFrame)
        let onHook = try #require(rendered.callFrames[0].onHook)
        #expect(end > row.startFrame && end <= onHook + 8000, "the call ran to its on-hook")
        let opened = try SealedRecordingReader.open([UInt8](FileManager.default.contents(atPath: "\(data)/\(row.filePath!)")!),
                                                    identities: [ServiceTests.identity])
        #expect(opened.problem == nil)
        let path = "\(rendered.directory)/call.opus"
        try Data(opened.plaintext).write(to: URL(fileURLWithPath: path))
        #expect(try Tool.opusdec(path).count == Int(end - row.startFrame), "the file holds the whole call")

        // skrybad stopped; the same login, outside the socket's group.
        let auditedBefore = try Catalog(dataDirectory: data).audit.entries().filter { $0.kind == AuditKind.configChanged.rawValue }.count
        let offline = try Self.console("line 2 name \"Kancelaria\"\n", config: config, socket: socket, asNobody: true)
        #expect(offline.contains("lines[2].name: Biuro podawcze → Kancelaria. Saved; skrybad audits it when it starts.\n"
                                 + "skrybad is not running (no socket at \(socket)); it applies the change when it starts.\n"), "\(offline)")
        #expect(try String(contentsOfFile: config, encoding: .utf8).contains("name = \"Kancelaria\""))
        let restarted = try RunningDaemon(
            arguments: ["--config", config, "--assume-clock-synchronised", "--pacing", "simulation", "--speed", "4", "--progress"],
            environment: ["ALSA_CONFIG_PATH": rendered.alsaConfiguration, "JOURNAL_STREAM": "8:1234"])
        defer { restarted.killIfRunning() }
        try #require(restarted.wait { out, _ in out.contains("{\"durable\":") }, "\(restarted.stderr)")
        #expect(restarted.terminate() == 0, "\(restarted.stderr)")
        let audited = try Catalog(dataDirectory: data).audit.entries().filter { $0.kind == AuditKind.configChanged.rawValue }
        #expect(audited.count == auditedBefore + 1, "the changed file is audited at the start: \(audited)")
        #expect(!audited.contains { $0.actor.hasPrefix("console:") })
    }
}

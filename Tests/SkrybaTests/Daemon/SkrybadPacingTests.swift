import Foundation
import Testing
import SkrybaCapture
import SkrybaPipeline
import SkrybaSeal
import SkrybaStore
import SkrybaSystem

/// `skrybad --config` chooses its pacing from what alsa-lib opened, and says when audio was lost
/// (issue 9, item 5). The office's capture is an alsa-lib `type file` PCM, as in the simulator.
@Suite struct SkrybadPacingTests {
    static let identity = AgeIdentity()

    struct Run {
        var status: Int32
        var report: CallRunReport
        var stderr: String
        var rendered: ScenarioRenderer.Output
        var dataDirectory: String
    }

    /// The office: 8 lines, overlapping calls, the capture a file PCM.
    static var eightLines: Scenario {
        var scenario = Scenario(announcement: "Rozmowy są nagrywane.", lines: (1...8).map { Scenario.Line(id: $0, name: "Linia \($0)") }, calls: [])
        for line in 1...8 {
            scenario.calls.append(Scenario.Call(line: line, direction: line % 2 == 1 ? .incoming : .outgoing, at: 0.3 * Double(line), rings: 1,
                                                dial: line % 2 == 1 ? nil : "12\(line)", hangUpAfter: 6 + Double(line)))
        }
        return scenario
    }

    func run(_ scenario: Scenario, _ name: String, extra: [String]) throws -> Run {
        let directory = try makeTemporaryDirectory(prefix: "skryba-pacing-\(name)")
        let rendered = try ScenarioRenderer(scenario: scenario, directory: directory).render()
        try Simulator.configuration(for: scenario, recipients: [Self.identity.recipient], dataDirectory: "\(directory)/data")
            .write(toFile: "\(directory)/skryba.toml", atomically: true, encoding: .utf8)
        let daemon = try Simulator.runDaemon(Tool.product("skrybad"), configurationFile: "\(directory)/skryba.toml", rendered: rendered, arguments: extra)
        let report = try JSONDecoder().decode(CallRunReport.self, from: daemon.report)
        return Run(status: daemon.status, report: report, stderr: daemon.log, rendered: rendered, dataDirectory: "\(directory)/data")
    }

    /// Without a flag the file PCM is paced by the consumer: nothing is dropped and every call is
    /// kept whole (before, device pacing dropped 915,360 of 960,000 frames on line 1 and kept 1 of 9
    /// calls, with no alarm and exit status 0).
    @Test func anEightLineOfficeOnAFilePCMWithoutAPacingFlagLosesNothing() throws {
        let scenario = Self.eightLines
        let result = try run(scenario, "auto", extra: [])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("skrybad: capture skryba_sim_tap is an alsa-lib file PCM with no clock of its own: "
                                       + "paced by the consumer (no audio is dropped); --pacing device overrides\n"))
        #expect(result.report.ringOverflows.count == 8)
        #expect(result.report.ringOverflows.allSatisfy { $0 == RingOverflow(periods: 0, frames: 0) })
        #expect(result.report.recoveredOverruns == 0)
        #expect(result.report.framesCaptured == result.rendered.frames)
        #expect(result.report.alarms.isEmpty)
        let rows = try Catalog(dataDirectory: result.dataDirectory).recordings()
        #expect(rows.count == 8 && rows.allSatisfy { $0.status == .complete })
        for (index, call) in scenario.calls.enumerated() {
            let row = try #require(rows.first { $0.line == call.line })
            #expect(row.startFrame == result.rendered.callFrames[index].offHook && row.endFrame == result.rendered.callFrames[index].onHook)
        }
    }

    /// Forced device pacing on the same file PCM drops audio (the capture outruns the encoders):
    /// each line that lost audio gets an alarm naming it and the seconds lost, in the report and on
    /// standard error, and the bounded run exits with status 3.
    @Test func audioDroppedUnderDevicePacingIsAlarmedAndFailsTheBoundedRun() throws {
        let result = try run(Self.eightLines, "device", extra: ["--pacing", "device"])
        #expect(result.stderr.contains("skrybad: capture skryba_sim_tap is an alsa-lib file PCM with no clock of its own: "
                                       + "paced by the device (a full ring drops audio, which is counted and alarmed) as --pacing device asks\n"))
        let lossy = result.report.ringOverflows.enumerated().filter { $0.element.frames > 0 }
        try #require(!lossy.isEmpty, "a file PCM read as fast as it goes outruns eight encoders")
        #expect(result.status == 3)
        let alarms = result.report.alarms.filter { $0.kind == .audioLost }
        #expect(alarms.map(\.line) == lossy.map { $0.offset + 1 })
        for (index, overflow) in lossy {
            let seconds = String(format: "%.3f s", Double(overflow.frames) / 8000)
            let message = "line \(index + 1) lost \(seconds) of audio (\(overflow.frames) frames in \(overflow.periods) dropped periods): "
                + "its ring was full because the line worker fell behind the capture"
            #expect(alarms.contains { $0.line == index + 1 && $0.message == message && $0.frame == result.report.framesCaptured })
            #expect(result.stderr.contains("skrybad: ALARM: ALARM audio-lost line \(index + 1) at frame \(result.report.framesCaptured): \(message)\n"))
        }
    }

    /// mlockall refused (no CAP_IPC_LOCK, a memlock limit of 0): one sentence, and the daemon runs on.
    @Test func refusedMemoryLockingIsSaidOnceAndTheDaemonRunsOn() throws {
        _ = ALSAFixture.shared
        let directory = try makeTemporaryDirectory(prefix: "skryba-mlock")
        let arguments = ["--capture", "skryba_test_speech2", "--channels", "2", "--data-dir", directory, "--recipient", Self.identity.recipient.description,
                         "--stop-at-frame", "1600"]
        let refused = try Tool.run("setpriv", ["--bounding-set", "-ipc_lock", "--inh-caps", "-ipc_lock", "prlimit", "--memlock=0:0",
                                               Tool.product("skrybad")] + arguments)
        #expect(refused.status == 0, "\(refused.output)")
        let lines = refused.output.split(separator: "\n").filter { $0.contains("memory is not locked") }
        #expect(lines == ["skrybad: memory is not locked (mlockall refused: Operation not permitted): under memory pressure the capture may "
                          + "stall on a page fault and drop audio; grant CAP_IPC_LOCK or raise the memlock limit (systemd LimitMEMLOCK=infinity)"])
        let locked = try Tool.run(Tool.product("skrybad"), arguments)
        #expect(locked.status == 0, "\(locked.output)")
        #expect(!locked.output.contains("memory is not locked"), "root may lock its memory")
    }
}

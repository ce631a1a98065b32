import Foundation
import Testing
import SkrybaPipeline
import SkrybaSeal
import SkrybaSystem

/// Flags and scenario files that used to trap or never finish (issue 8, item 16): each is now a clear
/// error naming what is wrong, given before anything is started or written.
@Suite struct HostileFlagsTests {
    @Test func skrybadRefusesSpeedsThatAreNotAPositiveFiniteRate() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-speed")
        for speed in ["0", "-1", "nan", "inf", "1e300"] {
            let result = try Tool.run(Tool.product("skrybad"), ["--capture", "x", "--channels", "1", "--data-dir", "\(directory)/data",
                                                                "--speed=\(speed)"])
            #expect(result.status == 64, "--speed \(speed): \(result.output)")
            #expect(result.output.contains("must be a number from 0.01 to 1000.0 (times real time)"), "--speed \(speed): \(result.output)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/data"), "nothing was started")
    }

    @Test func wholeLineModeRefusesChannelAndLineCountsOutOfRange() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-channels")
        for (arguments, message) in [(["--channels", "100000"], "--channels 100000 must be between 1 and 64"),
                                     (["--channels", "0"], "--channels 0 must be between 1 and 64"),
                                     (["--channels", "2", "--lines=-1"], "--lines -1 must be between 1 and --channels (2)"),
                                     (["--channels", "2", "--lines", "3"], "--lines 3 must be between 1 and --channels (2)")] {
            let result = try Tool.run(Tool.product("skrybad"), ["--capture", "x", "--data-dir", "\(directory)/data"] + arguments)
            #expect(result.status == 64 && result.output.contains(message), "\(arguments): \(result.output)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/data"))
    }

    static let lines = """
        announcement = "Rozmowy są nagrywane."
        [[lines]]
        id = 1
        name = "A"

        """

    func problems(_ text: String) -> String {
        do {
            _ = try Scenario.parse(text, path: "s.toml")
            return ""
        } catch { return "\(error)" }
    }

    @Test func scenarioNumbersThatTrappedAreRefusedWithTheirLine() {
        let call = "[[calls]]\nline = 1\ndirection = \"incoming\"\n"
        #expect(problems("rate = inf\n" + Self.lines) == "s.toml:1: rate: inf is not a line rate (8000 or 16000)")
        #expect(problems(Self.lines + call + "at = 1e20\nhang_up_after = 5\n") == "s.toml:8: calls[1].at: 1e+20 is outside 0...86400 seconds")
        #expect(problems(Self.lines + call + "at = 1\nhang_up_after = -3\n") == "s.toml:9: calls[1].hang_up_after: -3 is outside 0...86400 seconds")
        #expect(problems(Self.lines + call + "at = nan\nhang_up_after = 5\n") == "s.toml:8: calls[1].at: nan is outside 0...86400 seconds")
        #expect(problems(Self.lines + call + "at = 1\nhang_up_after = 5\nrings = 9223372036854775807\n")
                == "s.toml:10: calls[1].rings: 9223372036854775807 is outside 0...20")
        #expect(problems(Self.lines + call + "at = 1\nhang_up_after = 5\ncaller_id = \"\(String(repeating: "1", count: 300))\"\n")
                .contains("s.toml:10: calls[1].caller_id: "))
        #expect(problems(Self.lines + "[[lines]]\nid = 1\nname = \"B\"\n") == "s.toml:6: lines[2].id: 1 is already the id of lines[1]")
        #expect(problems(Self.lines + "[[lines]]\nid = 1e30\nname = \"B\"\n") == "s.toml:6: lines[2].id: must be a whole number, found a float")
    }

    @Test func aRenderThatWouldNotFitIsRefusedBeforeAnythingIsWritten() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-huge")
        var scenario = Scenario(announcement: "x", lines: (1...8).map { Scenario.Line(id: $0, name: "L\($0)") }, calls: [])
        scenario.calls = [Scenario.Call(line: 1, direction: .outgoing, at: 0, hangUpAfter: 86_400)]
        #expect(throws: ScenarioError.self) { try ScenarioRenderer(scenario: scenario, directory: directory).render() }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "nothing was rendered")
        do { _ = try ScenarioRenderer(scenario: scenario, directory: directory).plannedCaptureBytes() } catch {
            #expect("\(error)" == "the scenario would render up to 10548 MiB of capture audio (86416 s on 8 lines), "
                + "more than the 256 MiB a simulation may use: shorten the calls or use fewer lines")
        }
        // Duplicate line ids built in code (not from a file) are refused too, not a trap.
        var twice = Scenario(announcement: "x", lines: [Scenario.Line(id: 3, name: "A"), Scenario.Line(id: 3, name: "B")], calls: [])
        twice.tailSeconds = .infinity
        #expect(throws: ScenarioError.self) { try ScenarioRenderer(scenario: twice, directory: directory).plannedCaptureBytes() }
    }

    /// Within the cap but beyond the free space: a 4 MiB tmpfs for a render of about 6 MiB.
    @Test func aRenderLargerThanTheFreeSpaceIsRefused() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-small-disk")
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=4m", "tmpfs", directory]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "tests run as root and may mount a tmpfs")
        defer {
            let unmount = Process()
            unmount.executableURL = URL(fileURLWithPath: "/bin/umount")
            unmount.arguments = [directory]
            try? unmount.run()
            unmount.waitUntilExit()
        }
        var scenario = Scenario(announcement: "x", lines: [Scenario.Line(id: 1, name: "A")], calls: [])
        scenario.calls = [Scenario.Call(line: 1, direction: .outgoing, at: 0, hangUpAfter: 180)]
        do {
            _ = try ScenarioRenderer(scenario: scenario, directory: directory).render()
            Issue.record("a render that cannot fit was started")
        } catch {
            #expect("\(error)".contains("but only 4 MiB are free"), "\(error)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test func skrybaSimulateReportsAHostileScenarioAsAnError() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-sim-hostile")
        try (Self.lines + "[[calls]]\nline = 1\ndirection = \"outgoing\"\nat = inf\nhang_up_after = 1\n")
            .write(toFile: "\(directory)/s.toml", atomically: true, encoding: .utf8)
        let result = try Tool.run(Tool.product("skryba"), ["simulate", "\(directory)/s.toml", "--out", "\(directory)/out"])
        #expect(result.status == 1 && result.output.contains("\(directory)/s.toml:8: calls[1].at: inf is outside 0...86400 seconds"), "\(result.output)")
        let notOurs = try Tool.run(Tool.product("skryba"), ["simulate", "--out", directory])
        #expect(notOurs.status != 0 && notOurs.output.contains("is not empty and is not an earlier simulation's work directory"), "\(notOurs.output)")
        #expect(FileManager.default.fileExists(atPath: "\(directory)/s.toml"), "a directory it did not make is never emptied")
    }
}

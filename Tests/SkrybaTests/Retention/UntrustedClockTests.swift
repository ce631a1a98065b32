import CKernelClock
import Foundation
import SkrybaPipeline
import SkrybaSeal
import SkrybaSystem
import Testing
@testable import SkrybaStore

extension RetentionTests {
    /// Issue 8 item 5: a board without a clock records in 1970; retention must never delete such a
    /// recording on its date (docs/retention.md, "An untrusted clock").
    @Suite struct UntrustedClockTests {
        static let thirtyDays = RetentionPolicy(default: .days(30))

        @Test func aRecordingMadeIn1970IsKeptByARunAtTheRightTimeWhichSaysWhy() throws {
            let fixture = try RetentionFixture("1970")
            let unset = try fixture.record(start: utc("1970-01-01T00:05:00.000Z"), clockUntrusted: true)
            let dated = try fixture.record(start: utc("2026-01-05T09:00:00.000Z"))
            let engine = fixture.engine(Self.thirtyDays)
            let report = try engine.run(at: utc("2026-03-01T10:00:00.000Z"))
            #expect(report.clock.isTrusted)
            #expect(report.deleted.map(\.recording) == [dated], "only the recording with a trusted date is past its 30 days")
            #expect(report.keptUntrustedDate == [unset])
            #expect(report.untrustedDateStatus == "1 recording(s) kept because their date is untrusted (recorded before the clock was "
                    + "synchronised); retention will not delete them: see skryba retention untrusted")
            #expect(try fixture.fileExists(unset))
            let row = try #require(try fixture.catalog.recording(unset))
            #expect(row.clockUntrusted && !row.isDeleted)
            let said = try fixture.entries(kind: .retentionDateUntrusted)
            #expect(said.map(\.details) == [#"{"count":"1","reason":"recorded while the system clock was not synchronised; retention does not delete on such a date","recordings":"R000001"}"#])
            let started = try #require(try fixture.entries(kind: .recordingStarted).first { $0.subject == unset.description })
            #expect(started.decodedDetails?["clock_untrusted"] == "true")

            // Later runs keep it and do not repeat the entry; capacity does not take it either.
            let later = fixture.engine(RetentionPolicy(default: .untilCapacity, capacity: CapacityRule(minimumFreeBytes: Int64.max / 2)))
            let squeezed = try later.run(at: utc("2027-03-01T10:00:00.000Z"))
            #expect(squeezed.deleted == [] && squeezed.keptUntrustedDate == [unset] && squeezed.nothingDeletable)
            #expect(try fixture.entries(kind: .retentionDateUntrusted).count == 1)
            #expect(try fixture.fileExists(unset))
        }

        @Test func nothingIsDeletedByDateWhileTheClockItselfIsUntrusted() throws {
            let fixture = try RetentionFixture("clock-jump")
            let id = try fixture.record(start: utc("2026-01-05T09:00:00.000Z"))
            let unsynchronised = FixedClockStatus(.untrusted("the kernel reports the clock unsynchronised"))
            // The clock jumped to 2099: every deadline seems past, but the time is not believed.
            let jumped = try fixture.engine(Self.thirtyDays, clock: unsynchronised).run(at: utc("2099-01-01T00:00:00.000Z"))
            #expect(jumped.deleted == [] && !jumped.clock.isTrusted)
            #expect(try fixture.fileExists(id))
            let synchronised = try fixture.engine(Self.thirtyDays).run(at: utc("2026-02-04T09:00:00.000Z"))
            #expect(synchronised.deleted.map(\.recording) == [id])
        }

        @Test func theKernelStatusIsAdjtimexAndAClockBefore2026IsNeverTrusted() throws {
            var state = timex()
            let result = adjtimex(&state)
            let kernelSays = result != -1 && result != TIME_ERROR && state.status & STA_UNSYNC == 0
            let missingFlag = try makeTemporaryDirectory(prefix: "skryba-timesync") + "/synchronized"
            let kernel = KernelClockStatus(timesyncFlagFile: missingFlag).trust(at: Date())
            #expect(kernel.isTrusted == kernelSays, "\(kernel.reason)")
            // systemd-timesyncd's flag counts as synchronised.
            #expect(FileManager.default.createFile(atPath: missingFlag, contents: Data()))
            #expect(KernelClockStatus(timesyncFlagFile: missingFlag).trust(at: Date()).isTrusted)
            let in1970 = KernelClockStatus(timesyncFlagFile: missingFlag).trust(at: utc("1970-01-01T00:10:00.000Z"))
            #expect(in1970 == .untrusted("the system clock reads 1970-01-01T00:10:00Z, before this firmware was made (2026-01-01): it has not been set"))
            #expect(!AssumedSynchronisedClock().trust(at: utc("2025-12-31T23:59:59.000Z")).isTrusted)
            #expect(AssumedSynchronisedClock().trust(at: utc("2026-01-01T00:00:00.000Z")).isTrusted)
        }

        /// The real daemon under the real faketime, started in 1970 (the board before chrony has set
        /// the clock), then again at the right time: its start-up retention run deletes nothing and says why.
        @Test func aDaemonStartedIn1970KeepsItsRecordingsWhenTheClockIsRight() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-1970-daemon")
            var scenario = Scenario(announcement: "Rozmowy są nagrywane.", lines: [Scenario.Line(id: 1, name: "Sekretariat")], calls: [])
            scenario.calls = [Scenario.Call(line: 1, direction: .incoming, at: 0.2, rings: 1, callerID: "221234567", hangUpAfter: 3),
                              Scenario.Call(line: 1, direction: .outgoing, at: 6, dial: "600", hangUpAfter: 2)]
            let rendered = try ScenarioRenderer(scenario: scenario, directory: directory).render()
            let config = "\(directory)/skryba.toml", data = "\(directory)/data"
            try Simulator.configuration(for: scenario, recipients: [AgeIdentity().recipient], dataDirectory: data)
                .write(toFile: config, atomically: true, encoding: .utf8)
            let daemon = [Tool.product("skrybad"), "--config", config, "--stop-at-frame", "\(rendered.frames)", "--pacing", "simulation",
                          "--assume-clock-synchronised"]
            let alsa = "ALSA_CONFIG_PATH=\(rendered.alsaConfiguration)"

            let in1970 = try Tool.run(alsa, ["FAKETIME_DONT_FAKE_MONOTONIC=1", "faketime", "-f", "@1970-01-01 00:10:00"] + daemon)
            #expect(in1970.status == 0, "\(in1970.output)")
            #expect(in1970.output.contains("skrybad: ALARM: ALARM clock-not-synchronised line 0 at frame 0: the system clock reads 1970-01-01T00:10:"),
                    "\(in1970.output)")
            let made = try Catalog(dataDirectory: data).recordings()
            #expect(made.count == 2 && made.allSatisfy { $0.clockUntrusted && $0.status == .complete }, "\(made)")
            #expect(made.allSatisfy { $0.startUTC < utc("1970-01-02T00:00:00.000Z") })

            let now = try Tool.run(alsa, daemon)
            #expect(now.status == 0, "\(now.output)")
            #expect(now.output.contains("skrybad: retention: 2 recording(s) kept because their date is untrusted"), "\(now.output)")
            #expect(!now.output.contains("clock-not-synchronised"), "\(now.output)")
            let catalog = try Catalog(dataDirectory: data)
            let rows = try catalog.recordings()
            #expect(rows.count == 4 && rows.filter(\.clockUntrusted).map(\.id) == made.map(\.id))
            #expect(rows.allSatisfy { !$0.isDeleted && FileManager.default.fileExists(atPath: "\(data)/\($0.filePath ?? "-")") })
            #expect(try catalog.audit.entries().filter { $0.kind == AuditKind.recordingDeleted.rawValue }.isEmpty)
            #expect(try catalog.audit.verify().isIntact)

            let listed = try Tool.run(Tool.product("skryba"), ["retention", "untrusted", "--config", config])
            #expect(listed.status == 0, "\(listed.output)")
            let lines = listed.output.split(separator: "\n")
            #expect(lines.first == "2 recording(s) dated on an untrusted clock")
            #expect(lines.dropFirst(2).map { $0.split(separator: "\t").first.map(String.init) } == ["R000001", "R000002"])
        }
    }
}

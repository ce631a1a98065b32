import Foundation
import Testing
import SkrybaConfig
import SkrybaCore
import SkrybaPipeline
import SkrybaSeal
import SkrybaStore
import SkrybaSystem

/// The appliance end to end: scenarios rendered into real alsa-lib file PCMs and replay files, run
/// through the real `skrybad --config`, checked in the catalog, the audit log, the sealed files and
/// the playback stream.
@Suite struct ApplianceTests {
    static let identity = AgeIdentity()

    func simulate(_ scenario: Scenario, _ name: String) throws -> Simulator.Result {
        let directory = try makeTemporaryDirectory(prefix: "skryba-sim-\(name)")
        return try Simulator.run(scenario, directory: directory, recipients: [Self.identity.recipient], skrybad: Tool.product("skrybad"))
    }

    func playbackChannel(_ result: Simulator.Result, channel: Int, channels: Int) throws -> [Int16] {
        let raw = [UInt8](FileManager.default.contents(atPath: result.rendered.playbackFile)!)
        return stride(from: channel * 2, to: raw.count, by: channels * 2).map { Int16(bitPattern: UInt16(raw[$0]) | UInt16(raw[$0 + 1]) << 8) }
    }

    @Test func theOfficeIsRecordedWithExactFramesConsentAndCallerIDs() throws {
        let scenario = Scenario.office
        let result = try simulate(scenario, "office")
        let catalog = try Catalog(dataDirectory: result.dataDirectory)
        let rows = try catalog.recordings()
        let byLineAndStart = Dictionary(uniqueKeysWithValues: rows.map { ("\($0.line)@\($0.startFrame)", $0) })
        let announcement = try WAVFile.read(path: result.rendered.announcementFile).samples

        let expectations: [(status: RecordingStatus, consent: Consent, caller: String?, digits: String?, completed: Bool?)] = [
            (.complete, .given, "221234567", nil, true),        // FSK MDMF caller ID
            (.complete, .notAsked, nil, "600700800", nil),      // outgoing, dialled digits
            (.discarded, .hungUp, nil, nil, false),             // hung up during the announcement (DTMF CLIP number not kept)
            (.discarded, .objected, nil, nil, false),           // pressed 9
            (.complete, .given, "587654321", nil, true),        // DTMF caller ID
        ]
        #expect(rows.count == scenario.calls.count)
        for (index, call) in scenario.calls.enumerated() {
            let frames = result.rendered.callFrames[index]
            let row = try #require(byLineAndStart["\(call.line)@\(frames.offHook!)"], "call \(index + 1) starts at its off-hook frame")
            let expected = expectations[index]
            // An objection ends the recording there; the call itself goes on unrecorded until on-hook.
            let end = expected.consent == .objected ? frames.offHook! + UInt64(call.presses[0].after * 8000) : frames.onHook!
            #expect(row.endFrame == end, "call \(index + 1) ends at its on-hook (or objection) frame")
            #expect(row.status == expected.status && row.consent == expected.consent, "call \(index + 1)")
            #expect(row.callerNumber == expected.caller, "call \(index + 1)")
            #expect(row.dialedDigits == expected.digits, "call \(index + 1)")
            #expect(row.announcement?.completed == expected.completed, "call \(index + 1)")
            if call.direction == .incoming {
                #expect(row.announcement?.id == "ogolny-2026-11")
                // The announcement goes into the line's playback channel from the off-hook frame, cut at hang-up or objection.
                let played = try playbackChannel(result, channel: call.line - 1, channels: scenario.lines.count)
                let start = Int(frames.offHook!)
                let heard = min(announcement.count, Int(row.endFrame!) - start)
                if expected.consent != .objected {
                    #expect(Array(played[start..<start + heard]) == Array(announcement[0..<heard]), "call \(index + 1)")
                }
                #expect(played[start - 200..<start].allSatisfy { $0 == 0 }, "nothing before the off-hook frame")
            }
            if row.status == .complete {
                let sealed = [UInt8](FileManager.default.contents(atPath: "\(result.dataDirectory)/\(row.filePath!)")!)
                let opened = try SealedRecordingReader.open(sealed, identities: [Self.identity])
                #expect(opened.problem == nil)
                let path = "\(result.rendered.directory)/call\(index + 1).opus"
                try Data(opened.plaintext).write(to: URL(fileURLWithPath: path))
                #expect(try Tool.opusdec(path).count == Int(frames.onHook! - frames.offHook!), "exactly off-hook to on-hook")
            } else {
                #expect(row.filePath == nil)
            }
        }
        let changes = try catalog.audit.entries().filter { $0.kind == "config-changed" }
        #expect(changes.count == 1 && changes[0].details.contains("\"retention\":\"30d\""), "the first start records its configuration")
        // Discarded calls: nothing on flash, exactly one audit entry each, no personal data in it.
        let files = Directory.files(under: "\(result.dataDirectory)/recordings")
        #expect(files.count == 3)
        for row in rows where row.status == .discarded {
            let entries = try catalog.audit.entries().filter { $0.subject == row.id.description }
            #expect(entries.map(\.kind) == ["recording-discarded"])
            #expect(!entries[0].details.contains("587654321") && !entries[0].details.contains("123456789"))
        }
        #expect(try catalog.audit.verify().isIntact)
        #expect(result.report.alarms.isEmpty)

        // `skryba recordings list --json` with the appliance's configuration file.
        let listed = try Tool.run(Tool.product("skryba"), ["recordings", "list", "--config", result.configurationFile, "--json"])
        #expect(listed.status == 0, "\(listed.output)")
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]])
        #expect(objects.count == rows.count)
        let keys: Set<String> = ["id", "line", "direction", "start", "start_frame", "end_frame", "duration_ms", "status", "caller_number",
                                 "dialed_digits", "announcement", "consent", "file", "file_size", "file_sha256", "hold_refs",
                                 "retention_deadline", "deleted", "deletion_rule", "restricted", "gaps"]
        #expect(objects.allSatisfy { Set($0.keys) == keys })
        let first = try #require(objects.first { $0["caller_number"] as? String == "221234567" })
        #expect(first["start_frame"] as? Int == Int(result.rendered.callFrames[0].offHook!))
        #expect(first["consent"] as? String == "given" && first["direction"] as? String == "incoming")
        let announced = try #require(first["announcement"] as? [String: Any])
        #expect(announced["id"] as? String == "ogolny-2026-11" && announced["completed"] as? Bool == true)
        #expect((announced["sha256"] as? String)?.count == 64)
        #expect((first["start"] as? String)?.hasSuffix("Z") == true)
    }

    /// skrybad's standard output and error go to the journal under systemd, outside retention and
    /// erasure: caller numbers and dialled digits must reach only the catalog.
    @Test func theDaemonsReportAndLogNameNoCallerNumbersOrDialledDigits() throws {
        var scenario = Scenario(announcement: "Rozmowy są nagrywane.", lines: [Scenario.Line(id: 1, name: "A"), Scenario.Line(id: 2, name: "B")], calls: [])
        scenario.calls = [Scenario.Call(line: 1, direction: .incoming, at: 0.3, rings: 1, callerID: "221000111", hangUpAfter: 4),
                          Scenario.Call(line: 2, direction: .outgoing, at: 0.5, dial: "601234567", hangUpAfter: 5)]
        let result = try simulate(scenario, "journal")
        let rows = try Catalog(dataDirectory: result.dataDirectory).recordings()
        #expect(rows.first { $0.line == 1 }?.callerNumber == "221000111", "the catalog keeps the caller number")
        #expect(rows.first { $0.line == 2 }?.dialedDigits == "601234567", "the catalog keeps the dialled digits")
        #expect(result.report.calls.count == 2 && result.reportText.contains(rows[0].id.description), "the report names recordings by id")
        for number in ["221000111", "601234567"] {
            #expect(!result.reportText.contains(number), "standard output (the report) must not contain \(number)")
            #expect(!result.daemonLog.contains(number), "standard error must not contain \(number)")
        }
    }

    @Test func eightLinesWithOverlappingCallsEachGetTheirOwnExactRecording() throws {
        var scenario = Scenario(announcement: "Rozmowy są nagrywane.", lines: (1...8).map { Scenario.Line(id: $0, name: "Linia \($0)") }, calls: [])
        for line in 1...8 {
            let incoming = line % 2 == 1
            scenario.calls.append(Scenario.Call(line: line, direction: incoming ? .incoming : .outgoing, at: 0.3 * Double(line), rings: 1,
                                                callerID: incoming ? "60000000\(line)" : nil,
                                                callerIDFormat: [.fskMDMF, .fskSDMF, .dtmf][line % 3], dial: incoming ? nil : "12\(line)",
                                                hangUpAfter: 6 + Double(line)))
        }
        let result = try simulate(scenario, "eight")
        let rows = try Catalog(dataDirectory: result.dataDirectory).recordings()
        #expect(rows.count == 8)
        for (index, call) in scenario.calls.enumerated() {
            let frames = result.rendered.callFrames[index]
            let row = try #require(rows.first { $0.line == call.line })
            #expect(row.status == .complete)
            #expect(row.startFrame == frames.offHook && row.endFrame == frames.onHook, "line \(call.line)")
            #expect(row.callerNumber == call.callerID, "line \(call.line)")
            #expect(row.dialedDigits == call.dial, "line \(call.line)")
            let opened = try SealedRecordingReader.open([UInt8](FileManager.default.contents(atPath: "\(result.dataDirectory)/\(row.filePath!)")!),
                                                        identities: [Self.identity])
            #expect(opened.problem == nil)
        }
    }

    /// Caller ID before the first ring (DTMF CLIP usually is; FSK after a polarity reversal) and
    /// between the first and second ring, on lines whose detectors have long been asleep behind the
    /// energy gate, at the stream's very first frame, and twice on one line (asleep again in between).
    @Test func callerIDBeforeTheFirstRingAndBetweenRingsIsKept() throws {
        var scenario = Scenario(announcement: "Rozmowy są nagrywane.", lines: (1...4).map { Scenario.Line(id: $0, name: "Linia \($0)") }, calls: [])
        func call(_ line: Int, at: Double, rings: Int, _ number: String, _ format: SignalSynthesis.CallerIDFormat, beforeRing: Bool) -> Scenario.Call {
            var call = Scenario.Call(line: line, direction: .incoming, at: at, rings: rings, callerID: number, callerIDFormat: format,
                                     hangUpAfter: 4)
            call.callerIDBeforeRing = beforeRing
            return call
        }
        scenario.calls = [
            call(2, at: 0, rings: 1, "221000002", .fskMDMF, beforeRing: true),
            call(3, at: 6, rings: 2, "221000003", .fskSDMF, beforeRing: false),
            call(4, at: 9, rings: 2, "221000004", .dtmf, beforeRing: false),
            call(1, at: 12.37, rings: 2, "221000001", .dtmf, beforeRing: true),
            call(4, at: 33.01, rings: 1, "221000014", .fskSDMF, beforeRing: true),
            call(3, at: 35, rings: 1, "221000013", .dtmf, beforeRing: true),
        ]
        let result = try simulate(scenario, "early-clip")
        let rows = try Catalog(dataDirectory: result.dataDirectory).recordings()
        #expect(rows.count == scenario.calls.count)
        for (index, call) in scenario.calls.enumerated() {
            let frames = result.rendered.callFrames[index]
            let row = try #require(rows.first { $0.line == call.line && $0.startFrame == frames.offHook }, "call \(index + 1)")
            #expect(row.status == .complete && row.endFrame == frames.onHook, "call \(index + 1)")
            #expect(row.callerNumber == call.callerID, "call \(index + 1) on line \(call.line)")
        }
    }

    @Test func aBrokenConfigurationIsRefusedWithOneMessagePerProblem() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-badconfig")
        let config = """
            data_dir = "\(directory)/data"
            recipients = []
            [audio]
            capture = "skryba_test_speech2"
            rate = 44100
            channels = 1
            [gpio]
            backend = "replay"
            [[lines]]
            id = 1
            name = "Sekretariat"
            capture_channel = 0
            record = ["incoming", "sideways"]
            consent = "opt-out-key"
            """
        try config.write(toFile: "\(directory)/skryba.toml", atomically: true, encoding: .utf8)
        let result = try Tool.run(Tool.product("skrybad"), ["--config", "\(directory)/skryba.toml"])
        #expect(result.status == 2, "no recipient: the appliance refuses to record")
        let problems = result.output.split(separator: "\n").filter { $0.hasPrefix("\(directory)/skryba.toml:") }
        #expect(problems.count >= 5, "\(result.output)")
        for fragment in [":2: recipients", ":5: audio.rate", ":13: lines[1].record", "gpio", "opt_out_key"] {
            #expect(problems.contains { $0.contains(fragment) }, "\(fragment) in \(result.output)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/data"), "nothing was started")
    }

    @Test func wiringFaultsRaiseAlarms() throws {
        var scenario = Scenario(announcement: "Rozmowy są nagrywane.", lines: [
            Scenario.Line(id: 1, name: "Zawieszona"), Scenario.Line(id: 2, name: "Bez podniesienia"), Scenario.Line(id: 3, name: "Martwa"),
        ], calls: [])
        scenario.lines[2].deadChannel = true
        scenario.calls.append(Scenario.Call(line: 1, direction: .outgoing, at: 0.5, hangUpAfter: 120))  // never hangs up within the run
        for ring in 0..<3 { scenario.calls.append(Scenario.Call(line: 2, direction: .incoming, at: 1 + Double(ring) * 20, rings: 0, hangUpAfter: 0)) }
        scenario.tailSeconds = 0
        let directory = try makeTemporaryDirectory(prefix: "skryba-alarms")
        let rendered = try ScenarioRenderer(scenario: scenario, directory: directory).render()
        try Simulator.configuration(for: scenario, recipients: [Self.identity.recipient], dataDirectory: "\(directory)/data")
            .write(toFile: "\(directory)/skryba.toml", atomically: true, encoding: .utf8)
        var options = Appliance.Options()
        options.stopAtFrame = 8000 * 70
        options.simulation = true
        options.alsaConfigurationFile = rendered.alsaConfiguration
        options.clock = AssumedSynchronisedClock()  // this machine may have no time daemon; the alarms under test are the wiring's
        options.limits = { rate in
            LineHealthLimits(stuckOffHookFrames: UInt64(rate) * 60, unansweredRingingEpisodes: 3, noSignalFrames: UInt64(rate) * 30, silenceAmplitude: 2)
        }
        let appliance = try Appliance(configuration: try ConfigurationLoader.load(path: "\(directory)/skryba.toml"), options: options)
        let report = try appliance.recorder.run()
        #expect(report.alarms.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.noCaptureSignal, .ringWithoutOffHook, .stuckOffHook])
        #expect(report.alarms.first { $0.kind == .stuckOffHook }?.line == 1)
        // Off hook at 0.5 s (frame 4000); the alarm comes at the end of the period in which 60 s have passed.
        let stuckAt: UInt64 = 4000 + 8000 * 60
        #expect(report.alarms.first { $0.kind == .stuckOffHook }?.frame == stuckAt + (160 - stuckAt % 160) % 160)
        #expect(report.alarms.first { $0.kind == .ringWithoutOffHook }?.line == 2)
        #expect(report.alarms.first { $0.kind == .noCaptureSignal }?.line == 3)
        #expect(report.alarms.first { $0.kind == .noCaptureSignal }?.frame == 8000 * 30)
    }

    /// On the board an edge is known only after its debounce: the line workers then run that far
    /// behind the capture. The recordings must still start and end at the exact edge frames.
    @Test func workingBehindTheCaptureKeepsEveryFrameExact() throws {
        var scenario = Scenario(announcement: "Rozmowy są nagrywane.", lines: [Scenario.Line(id: 1, name: "A"), Scenario.Line(id: 2, name: "B")], calls: [])
        scenario.calls = [Scenario.Call(line: 1, direction: .incoming, at: 0.3, rings: 1, callerID: "221000111", hangUpAfter: 7.013),
                          Scenario.Call(line: 2, direction: .outgoing, at: 0.777, dial: "42", hangUpAfter: 5.5)]
        let directory = try makeTemporaryDirectory(prefix: "skryba-lag")
        let rendered = try ScenarioRenderer(scenario: scenario, directory: directory).render()
        try Simulator.configuration(for: scenario, recipients: [Self.identity.recipient], dataDirectory: "\(directory)/data")
            .write(toFile: "\(directory)/skryba.toml", atomically: true, encoding: .utf8)
        var options = Appliance.Options()
        options.stopAtFrame = rendered.frames
        options.simulation = true
        options.alsaConfigurationFile = rendered.alsaConfiguration
        options.replayDecisionDelayFrames = 8 * 12  // 12 ms: the 10 ms debounce plus margin
        let appliance = try Appliance(configuration: try ConfigurationLoader.load(path: "\(directory)/skryba.toml"), options: options)
        let report = try appliance.recorder.run()
        #expect(report.calls.count == 2)
        for (index, call) in report.calls.sorted(by: { $0.line < $1.line }).enumerated() {
            #expect(call.startFrame == rendered.callFrames[index].offHook && call.endFrame == rendered.callFrames[index].onHook)
            #expect(call.outcome == "complete")
        }
        let rows = try appliance.catalog.recordings()
        #expect(rows.first { $0.line == 1 }?.callerNumber == "221000111")
        #expect(rows.first { $0.line == 2 }?.dialedDigits == "42")
        #expect(report.playbackFramesWritten == rendered.frames)
    }

    @Test func aChangedConfigurationIsAuditedOnceAtStart() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-config-audit")
        let scenario = Scenario(announcement: "Rozmowy są nagrywane.", lines: [Scenario.Line(id: 1, name: "A")], calls: [])
        _ = try ScenarioRenderer(scenario: scenario, directory: directory).render()
        let path = "\(directory)/skryba.toml"
        let text = Simulator.configuration(for: scenario, recipients: [Self.identity.recipient], dataDirectory: "\(directory)/data")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        for _ in 0..<2 { _ = try Appliance(configuration: try ConfigurationLoader.load(path: path), options: Appliance.Options()) }
        try (text + "\n[retention]\nperiod = \"12m\"\n").write(toFile: path, atomically: true, encoding: .utf8)
        _ = try Appliance(configuration: try ConfigurationLoader.load(path: path), options: Appliance.Options())
        let changes = try Catalog(dataDirectory: "\(directory)/data").audit.entries().filter { $0.kind == "config-changed" }
        #expect(changes.count == 2, "the same file twice is one entry; the edited file is a second")
        #expect(changes.last?.details.contains("\"retention\":\"12m\"") == true)
    }
}

import Foundation
import SkrybaConfig
import SkrybaCore
import SkrybaOpus
import SkrybaPipeline
import SkrybaSeal
import Testing

extension ConfigTests {
    /// skryba.toml → `SkrybaConfiguration`: the product spec's example and the documented one parse
    /// to exact models; broken files yield exactly the expected messages, every one located.
    @Suite struct ConfigurationTests {
        /// The example from the product spec, with a real recipient and a real announcement file.
        static func specExample(recipient: String, announcement: String) -> String {
            """
            data_dir = "/var/lib/skryba"
            recipients = ["\(recipient)"]
            [audio]
            capture = "hw:CARD=Tap"        # ALSA PCM names
            playback = "hw:CARD=Tap"
            rate = 8000
            channels = 2
            [opus]
            bitrate = 16000
            complexity = 5
            [gpio]
            backend = "gpiod"              # or "replay"
            replay = "events.tsv"          # replay backend only
            [[lines]]
            id = 1
            name = "Sekretariat"
            capture_channel = 0
            playback_channel = 0
            ring = { chip = "gpiochip0", line = 17 }
            hook = { chip = "gpiochip0", line = 27 }
            record = ["incoming", "outgoing"]
            announcement = "\(announcement)"
            consent = "continue"           # or "opt-out-key"
            opt_out_key = "9"

            """
        }

        @Test func theSpecExampleParsesToTheExactModel() throws {
            let fixture = try ConfigFixture("spec")
            let identity = AgeIdentity()
            let announcement = try fixture.wav("announcement.wav")
            let configuration = try fixture.load(Self.specExample(recipient: identity.recipient.description, announcement: announcement))
            let expected = SkrybaConfiguration(
                path: fixture.configPath,
                dataDirectory: "/var/lib/skryba",
                recipients: [identity.recipient],
                recorderID: ConfigurationLoader.hostName(),
                audio: AudioConfiguration(capture: "hw:CARD=Tap", playback: "hw:CARD=Tap", rate: 8000, channels: 2, playbackChannels: 2, periodMs: 20),
                opus: OpusSettings(bitrate: 16000, complexity: 5),
                flushIntervalMs: 1000,
                gpio: GPIOConfiguration(backend: .gpiod, debounceMs: 10),
                lines: [
                    LineConfiguration(
                        id: 1, name: "Sekretariat", captureChannel: 0, playbackChannel: 0,
                        ring: GPIOPin(chip: "gpiochip0", line: 17, activeLow: false, bias: .asIs),
                        hook: GPIOPin(chip: "gpiochip0", line: 27, activeLow: false, bias: .asIs),
                        record: [.incoming, .outgoing], announcement: announcement, announcementID: "announcement.wav",
                        consent: .continueMeansConsent, optOutWindowMs: 3000, outgoingNotice: nil, purpose: nil, legalBasis: nil),
                ])
            #expect(configuration == expected)
            #expect(configuration.packetsPerFlush == 50)
            #expect(configuration.audio.periodFrames == 160)
            #expect(try configuration.lineLayout() == LineLayout(rate: 8000, channels: 2, captureChannels: [0]))
            #expect(configuration.lines[0].consentMode(rate: 8000) == .continueMeansConsent)
        }

        /// docs/configuration.md's annotated two-line example, exactly as printed there.
        @Test func documentedExampleParses() throws {
            let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docs/configuration.md")
            let markdown = try String(contentsOf: docs, encoding: .utf8)
            let begin = try #require(markdown.range(of: "<!-- example:begin -->\n```toml\n"))
            let end = try #require(markdown.range(of: "```\n<!-- example:end -->"))
            let example = String(markdown[begin.upperBound..<end.lowerBound])

            let fixture = try ConfigFixture("docs")
            let announcement = try fixture.wav("zapowiedz-2024-01.wav", frames: 8000 * 6)
            let beep = try fixture.wav("sygnal.wav", frames: 4000)
            let configuration = try fixture.load(example)
            let pin = { (line: Int) in GPIOPin(chip: "gpiochip0", line: line, activeLow: true, bias: .pullUp) }
            var expected = SkrybaConfiguration(
                path: fixture.configPath,
                dataDirectory: "/var/lib/skryba",
                recipients: [try AgeRecipient(parsing: ConfigKeys.specRecipient)],
                recorderID: "ug-halinow-1",
                audio: AudioConfiguration(capture: "hw:CARD=Tap", playback: "hw:CARD=Tap", rate: 8000, channels: 2),
                opus: OpusSettings(bitrate: 14000, complexity: 5),
                flushIntervalMs: 1000,
                gpio: GPIOConfiguration(backend: .gpiod, debounceMs: 10),
                lines: [
                    LineConfiguration(
                        id: 1, name: "Sekretariat", captureChannel: 0, playbackChannel: 0, ring: pin(17), hook: pin(27),
                        record: [.incoming], announcement: announcement, announcementID: "zapowiedź 2024-01 (Zarządzenie 12/2024)",
                        consent: .optOutKey("9"), optOutWindowMs: 3000,
                        purpose: "Obsługa zgłoszeń telefonicznych mieszkańców", legalBasis: "art. 6 ust. 1 lit. e RODO",
                        informationClause: "Rozmowy są nagrywane; administratorem danych jest Burmistrz Miasta i Gminy Piaseczno (klauzula: bip.piaseczno.eu/rodo)."),
                    LineConfiguration(
                        id: 2, name: "Ośrodek Pomocy Społecznej", captureChannel: 1, playbackChannel: 1, ring: pin(22), hook: pin(23),
                        record: [.incoming, .outgoing], announcement: announcement, announcementID: "zapowiedz-2024-01.wav",
                        consent: .continueMeansConsent, optOutWindowMs: 3000, outgoingNotice: beep,
                        purpose: "Obsługa spraw podopiecznych ośrodka", legalBasis: "art. 6 ust. 1 lit. c RODO"),
                ])
            expected.office = OfficeConfiguration(name: "Urząd Miasta i Gminy Piaseczno", address: ["ul. Kościuszki 5", "05-500 Piaseczno"],
                                                  town: "Piaseczno", dataProtectionOfficer: "iod@piaseczno.eu")
            #expect(configuration == expected)
            #expect(configuration.lines[0].consentMode(rate: 8000) == .optOutKey("9", windowFrames: 24000))
            #expect(configuration.line(id: 2)?.name == "Ośrodek Pomocy Społecznej")
        }

        @Test func defaultsFillEverythingOptional() throws {
            let fixture = try ConfigFixture("defaults")
            try fixture.wav("a.wav", rate: 16000)
            let configuration = try ConfigurationLoader.parse("""
                recipients = ["\(ConfigKeys.specRecipient)"]
                [audio]
                capture = "tap"
                rate = 16000
                channels = 4
                [[lines]]
                id = 7
                name = "Kadry"
                capture_channel = 3
                ring = { chip = "gpiochip1", line = 0 }
                hook = { chip = "gpiochip1", line = 1 }
                record = ["incoming"]
                announcement = "a.wav"
                """, path: fixture.configPath, hostName: "skryba-test")
            #expect(configuration.dataDirectory == SkrybaConfiguration.defaultDataDirectory)
            #expect(configuration.recorderID == "skryba-test")
            #expect(configuration.flushIntervalMs == 1000)
            #expect(configuration.audio == AudioConfiguration(capture: "tap", playback: "tap", rate: 16000, channels: 4, playbackChannels: 4, periodMs: 20))
            #expect(configuration.opus == OpusSettings(bitrate: OpusSettings.defaultBitrate, complexity: OpusSettings.defaultComplexity))
            #expect(configuration.opus == OpusSettings(bitrate: 14000, complexity: 5))
            #expect(configuration.gpio == GPIOConfiguration(backend: .gpiod, debounceMs: 10))
            let line = try #require(configuration.lines.first)
            #expect(line.playbackChannel == 3)
            #expect(line.announcement == "\(fixture.directory)/a.wav")
            #expect(line.announcementID == "a.wav")
            #expect(line.consent == .continueMeansConsent)
            #expect(line.optOutWindowMs == 3000)
            #expect(line.outgoingNotice == nil)
            #expect(line.purpose == nil && line.legalBasis == nil)
            #expect(line.ring == GPIOPin(chip: "gpiochip1", line: 0))
        }

        /// One file with many problems: every one is reported, in file order, with its line and key.
        @Test func aBrokenFileYieldsEveryProblemWithItsLine() throws {
            let fixture = try ConfigFixture("broken")
            try fixture.wav("stereo.wav", rate: 16000, channels: 2)
            let problems = fixture.problems("""
                data_dir = "/var/lib/skryba"
                recipients = ["age1notakey", "\(ConfigKeys.specRecipient)"]
                flush_interval_ms = 1010
                [audio]
                capture = "hw:CARD=Tap"
                rte = 8000
                rate = 44100
                channels = 1
                [opus]
                bitrate = 100
                complexity = "5"
                [gpio]
                backend = "replay"
                [[lines]]
                id = 1
                name = "Sekretariat"
                capture_channel = 0
                record = ["incoming", "both"]
                announcement = "stereo.wav"
                consent = "opt-out-key"
                [[lines]]
                id = 1
                nmae = "Kadry"
                capture_channel = 0
                playback_channel = 5
                record = ["outgoing"]
                opt_out_key = "X"
                """)
            #expect(problems == [
                "DIR/skryba.toml:2: recipients[1]: 'age1notakey' is not a usable age recipient: it is not valid Bech32",
                "DIR/skryba.toml:3: flush_interval_ms: 1010 must be a multiple of 20 between 20 and 5000 (milliseconds of audio per sealed record)",
                "DIR/skryba.toml:6: audio.rte: unknown key in [audio] (did you mean 'rate'?)",
                "DIR/skryba.toml:7: audio.rate: 44100 is not supported (8000 or 16000)",
                "DIR/skryba.toml:8: audio.channels: 1 channel but 2 lines are configured (each line needs its own capture channel)",
                "DIR/skryba.toml:10: opus.bitrate: bitrate 100 bit/s is outside 6000...64000 (speech needs at least 6000)",
                "DIR/skryba.toml:11: opus.complexity: expected an integer, found a string (remove the quotes)",
                "DIR/skryba.toml:13: gpio.replay: required with backend = \"replay\" (the file of recorded ring and hook edges)",
                "DIR/skryba.toml:18: lines[1].record: \"both\" is not a call direction (\"incoming\" or \"outgoing\")",
                "DIR/skryba.toml:19: lines[1].announcement: 'DIR/stereo.wav' is 16-bit PCM stereo at 16000 Hz; it must be 16-bit PCM mono "
                    + "(convert with: sox IN -r 8000 -c 1 -b 16 -e signed-integer OUT.wav)",
                "DIR/skryba.toml:20: lines[1].opt_out_key: required with consent = \"opt-out-key\" (the key a caller presses to object, e.g. \"9\")",
                "DIR/skryba.toml:21: lines[2].name: required key missing from [[lines]] (what the office calls the line)",
                "DIR/skryba.toml:22: lines[2].id: 1 is already the id of lines[1] (line 15)",
                "DIR/skryba.toml:23: lines[2].nmae: unknown key in [[lines]] (did you mean 'name'?)",
                "DIR/skryba.toml:24: lines[2].capture_channel: channel 0 is already used by lines[1] (line 17)",
                "DIR/skryba.toml:25: lines[2].playback_channel: 5 is out of range (the playback device has 1 channel: 0)",
                "DIR/skryba.toml:27: lines[2].opt_out_key: \"X\" is not a telephone key (one of 0-9, *, #, A-D)",
            ])
        }

        @Test func anEmptyFileNamesEveryRequiredPart() throws {
            let fixture = try ConfigFixture("empty")
            #expect(fixture.problems("# nothing yet\n") == [
                "DIR/skryba.toml:1: recipients: required key missing: the appliance refuses to record without a recipient "
                    + "(add the organisation's age1… public key, as age-keygen prints it)",
                "DIR/skryba.toml:1: audio: required table [audio] is missing (it names the audio interface: capture, channels)",
                "DIR/skryba.toml:1: lines: no [[lines]] table: configure at least one line",
            ])
        }

        @Test func missingKeysAreReportedAtTheirTable() throws {
            let fixture = try ConfigFixture("missing")
            #expect(fixture.problems("""
                recipients = []

                [audio]
                rate = 8000

                [gpio]
                backend = "gpiod"

                [[lines]]
                announcement = "nowhere.wav"
                ring = { line = 4 }
                """) == [
                "DIR/skryba.toml:1: recipients: empty: the appliance refuses to record without a recipient "
                    + "(add the organisation's age1… public key, as age-keygen prints it)",
                "DIR/skryba.toml:3: audio.capture: required key missing from [audio] (the ALSA capture PCM, e.g. \"hw:CARD=Tap\")",
                "DIR/skryba.toml:3: audio.channels: required key missing from [audio] (how many channels the capture device delivers)",
                "DIR/skryba.toml:9: lines[1].id: required key missing from [[lines]] (the line's number: 1, 2, …)",
                "DIR/skryba.toml:9: lines[1].name: required key missing from [[lines]] (what the office calls the line)",
                "DIR/skryba.toml:9: lines[1].capture_channel: required key missing from [[lines]] (the zero-based capture channel of this line)",
                "DIR/skryba.toml:9: lines[1].hook: required with [gpio] backend = \"gpiod\" (for example hook = { chip = \"gpiochip0\", line = 27 })",
                "DIR/skryba.toml:9: lines[1].record: required key missing from [[lines]] (write record = [\"incoming\"] or [\"incoming\", \"outgoing\"])",
                "DIR/skryba.toml:10: lines[1].announcement: 'DIR/nowhere.wav' cannot be read: No such file or directory",
                "DIR/skryba.toml:11: lines[1].ring.chip: required key missing from the ring table (the GPIO chip, e.g. \"gpiochip0\")",
            ])
        }

        @Test func wrongTypesSayWhatWasExpectedAndHowToFixIt() throws {
            let fixture = try ConfigFixture("types")
            #expect(fixture.problems("""
                recipients = "\(ConfigKeys.specRecipient)"
                recorder_id = 12
                [audio]
                capture = "tap"
                channels = "2"
                rate = 8000.0
                [[lines]]
                id = 1
                name = "A"
                capture_channel = 0
                ring = "gpiochip0:17"
                hook = { chip = "gpiochip0", line = 27, active_low = "true", bias = "pullup" }
                record = "incoming"
                announcement = 5
                opt_out_key = 9
                [audio.extra]
                """) == [
                "DIR/skryba.toml:1: recipients: expected an array of age1… strings, found a string (write [\"\(ConfigKeys.specRecipient)\"])",
                "DIR/skryba.toml:2: recorder_id: expected a string, found an integer (put it in quotes: \"12\")",
                "DIR/skryba.toml:5: audio.channels: expected an integer, found a string (remove the quotes)",
                "DIR/skryba.toml:6: audio.rate: expected an integer, found a float",
                "DIR/skryba.toml:11: lines[1].ring: expected a table such as { chip = \"gpiochip0\", line = 17 }, found a string",
                "DIR/skryba.toml:12: lines[1].hook.active_low: expected true or false, found a string (remove the quotes)",
                "DIR/skryba.toml:12: lines[1].hook.bias: \"pullup\" is not a bias (\"as-is\", \"disabled\", \"pull-up\" or \"pull-down\")",
                "DIR/skryba.toml:13: lines[1].record: expected an array of strings, found a string (write [\"incoming\"])",
                "DIR/skryba.toml:14: lines[1].announcement: expected a string, found an integer (put it in quotes: \"5\")",
                "DIR/skryba.toml:15: lines[1].opt_out_key: expected a string, found an integer (put it in quotes: \"9\")",
                "DIR/skryba.toml:16: audio.extra: unknown table [audio.extra]",
            ])
        }

        @Test func unknownKeysSuggestTheIntendedKeyOrWhereItBelongs() throws {
            let fixture = try ConfigFixture("unknown")
            try fixture.wav("a.wav")
            #expect(fixture.problems("""
                recipients = ["\(ConfigKeys.specRecipient)"]
                rate = 8000
                [audo]
                capture = "x"
                [audio]
                capture = "tap"
                channels = 1
                flush_interval_ms = 1000
                [opus]
                Bitrate = 16000
                [gpio]
                back-end = "replay"
                [[lines]]
                id = 1
                name = "A"
                capture-channel = 0
                capture_channel = 0
                ring = { chip = "gpiochip0", line = 17, pull = "up" }
                hook = { chip = "gpiochip0", line = 27, activelow = true }
                record = ["incoming"]
                announcement = "a.wav"
                announcment_id = "v1"
                colour = "red"
                [[line]]
                """) == [
                "DIR/skryba.toml:2: rate: unknown key at the top level (rate belongs in [audio])",
                "DIR/skryba.toml:3: audo: unknown table [audo] (did you mean [audio]?)",
                "DIR/skryba.toml:8: audio.flush_interval_ms: unknown key in [audio] (flush_interval_ms belongs at the top of the file, before the first [table])",
                "DIR/skryba.toml:10: opus.Bitrate: unknown key in [opus] (did you mean 'bitrate'?)",
                "DIR/skryba.toml:12: gpio.back-end: unknown key in [gpio] (did you mean 'backend'?)",
                "DIR/skryba.toml:16: lines[1].capture-channel: unknown key in [[lines]] (did you mean 'capture_channel'?)",
                "DIR/skryba.toml:18: lines[1].ring.pull: unknown key in the ring table",
                "DIR/skryba.toml:19: lines[1].hook.activelow: unknown key in the hook table (did you mean 'active_low'?)",
                "DIR/skryba.toml:22: lines[1].announcment_id: unknown key in [[lines]] (did you mean 'announcement_id'?)",
                "DIR/skryba.toml:23: lines[1].colour: unknown key in [[lines]]",
                "DIR/skryba.toml:24: line: unknown table [[line]] (did you mean [[lines]]?)",
            ])
        }

        @Test func channelsAndGPIOInputsAreCheckedAcrossLines() throws {
            let fixture = try ConfigFixture("channels")
            #expect(fixture.problems("""
                recipients = ["\(ConfigKeys.specRecipient)"]
                [audio]
                capture = "tap"
                channels = 2
                playback_channels = 1
                [[lines]]
                id = 1
                name = "A"
                capture_channel = 0
                ring = { chip = "gpiochip0", line = 17 }
                hook = { chip = "gpiochip0", line = 17 }
                record = ["outgoing"]
                [[lines]]
                id = 0
                name = " "
                capture_channel = 2
                playback_channel = -1
                ring = { chip = "gpiochip0", line = -3 }
                hook = { chip = "gpiochip0", line = 27 }
                record = []
                [[lines]]
                id = 3
                name = "C"
                capture_channel = 1
                ring = { chip = "gpiochip0", line = 18 }
                hook = { chip = "gpiochip0", line = 27 }
                record = ["outgoing", "outgoing"]
                """) == [
                "DIR/skryba.toml:4: audio.channels: 2 channels but 3 lines are configured (each line needs its own capture channel)",
                "DIR/skryba.toml:11: lines[1].hook: gpiochip0 line 17 is already used by lines[1].ring (line 10)",
                "DIR/skryba.toml:14: lines[2].id: 0 is not a line id (1...999)",
                "DIR/skryba.toml:15: lines[2].name: must not be empty",
                "DIR/skryba.toml:16: lines[2].capture_channel: 2 is out of range (the capture device has 2 channels: 0...1)",
                "DIR/skryba.toml:17: lines[2].playback_channel: -1 is out of range (the playback device has 1 channel: 0)",
                "DIR/skryba.toml:18: lines[2].ring.line: -3 is not a GPIO line offset (0...65535)",
                "DIR/skryba.toml:20: lines[2].record: empty: list \"incoming\", \"outgoing\" or both (to stop recording a line, remove its [[lines]] table)",
                "DIR/skryba.toml:24: lines[3].playback_channel: defaults to capture_channel 1, which is out of range "
                    + "(the playback device has 1 channel: 0); set playback_channel",
                "DIR/skryba.toml:26: lines[3].hook: gpiochip0 line 27 is already used by lines[2].hook (line 19)",
                "DIR/skryba.toml:27: lines[3].record: \"outgoing\" is listed twice",
            ])
        }

        @Test func sharedPlaybackChannelsAreRefused() throws {
            let fixture = try ConfigFixture("playback")
            #expect(fixture.problems("""
                recipients = ["\(ConfigKeys.specRecipient)"]
                [audio]
                capture = "tap"
                channels = 2
                [gpio]
                backend = "replay"
                replay = "events.tsv"
                [[lines]]
                id = 1
                name = "A"
                capture_channel = 0
                playback_channel = 1
                record = ["outgoing"]
                [[lines]]
                id = 2
                name = "B"
                capture_channel = 1
                record = ["outgoing"]
                """) == [
                "DIR/skryba.toml:7: gpio.replay: 'DIR/events.tsv' cannot be read: No such file or directory",
                "DIR/skryba.toml:17: lines[2].playback_channel: channel 1 is already used by lines[1] (line 12); "
                    + "playback_channel defaults to capture_channel, set it",
            ])
        }

        @Test func announcementsMustBe16BitMonoAtTheAudioRate() throws {
            let fixture = try ConfigFixture("wav")
            try fixture.wav("ok.wav")
            try fixture.wav("fast.wav", rate: 16000)
            try fixture.wav("empty.wav", frames: 0)
            try fixture.write("not audio", to: "text.wav")
            var float = WAVFile(sampleRate: 8000, channels: 1, samples: [0, 0]).encoded()
            float[20] = 3  // format tag 3: IEEE float
            float[34] = 32
            try Data(float).write(to: URL(fileURLWithPath: "\(fixture.directory)/float.wav"))
            try FileManager.default.createDirectory(atPath: "\(fixture.directory)/folder.wav", withIntermediateDirectories: false)
            func line(_ id: Int, _ announcement: String, notice: String? = nil) -> String {
                """
                [[lines]]
                id = \(id)
                name = "L\(id)"
                capture_channel = \(id - 1)
                record = ["incoming", "outgoing"]
                announcement = "\(announcement)"
                \(notice.map { "outgoing_notice = \"\($0)\"" } ?? "")
                """
            }
            let text = """
                recipients = ["\(ConfigKeys.specRecipient)"]
                [audio]
                capture = "tap"
                channels = 6
                [gpio]
                backend = "replay"
                replay = "ok.wav"
                \(line(1, "ok.wav", notice: "sub/../ok.wav"))
                \(line(2, "fast.wav", notice: "fast.wav"))
                \(line(3, "empty.wav"))
                \(line(4, "text.wav"))
                \(line(5, "float.wav"))
                \(line(6, "folder.wav"))
                """
            #expect(fixture.problems(text) == [
                "DIR/skryba.toml:20: lines[2].announcement: 'DIR/fast.wav' is 16-bit PCM mono at 16000 Hz; it must be 16-bit PCM mono at 8000 Hz "
                    + "(convert with: sox IN -r 8000 -c 1 -b 16 -e signed-integer OUT.wav)",
                "DIR/skryba.toml:21: lines[2].outgoing_notice: 'DIR/fast.wav' is 16-bit PCM mono at 16000 Hz; it must be 16-bit PCM mono at 8000 Hz "
                    + "(convert with: sox IN -r 8000 -c 1 -b 16 -e signed-integer OUT.wav)",
                "DIR/skryba.toml:27: lines[3].announcement: 'DIR/empty.wav' holds no audio (its data chunk is empty)",
                "DIR/skryba.toml:34: lines[4].announcement: 'DIR/text.wav' is not a WAV file (no RIFF/WAVE header)",
                "DIR/skryba.toml:41: lines[5].announcement: 'DIR/float.wav' is 32-bit float mono at 8000 Hz; it must be 16-bit PCM mono at 8000 Hz "
                    + "(convert with: sox IN -r 8000 -c 1 -b 16 -e signed-integer OUT.wav)",
                "DIR/skryba.toml:48: lines[6].announcement: 'DIR/folder.wav' is not a regular file",
            ])
        }

        @Test func keysOfTheOtherModeAreCheckedButIgnored() throws {
            let fixture = try ConfigFixture("modes")
            try Data("0\t1\tring\t1\n".utf8).write(to: URL(fileURLWithPath: "\(fixture.directory)/events.tsv"))
            try fixture.wav("a.wav")
            let configuration = try fixture.load("""
                recipients = ["\(ConfigKeys.specRecipient)", "\(ConfigKeys.otherRecipient)"]
                [audio]
                capture = "tap"
                channels = 2
                [gpio]
                backend = "replay"
                replay = "./events.tsv"
                [[lines]]
                id = 1
                name = "Outgoing only"
                capture_channel = 0
                record = ["outgoing"]
                announcement = "missing.wav"
                consent = "opt-out-key"
                opt_out_key = "#"
                [[lines]]
                id = 2
                name = "Incoming only"
                capture_channel = 1
                ring = { chip = "gpiochip0", line = 5 }
                record = ["incoming"]
                announcement = "a.wav"
                announcement_id = "v2"
                outgoing_notice = "missing.wav"
                consent = "continue"
                opt_out_key = "*"
                opt_out_window_ms = 5000
                """)
            #expect(configuration.recipients.map(\.description) == [ConfigKeys.specRecipient, ConfigKeys.otherRecipient])
            #expect(configuration.gpio.backend == .replay(path: "\(fixture.directory)/events.tsv"))
            #expect(configuration.lines[0].announcement == nil)
            #expect(configuration.lines[0].announcementID == nil)
            #expect(configuration.lines[0].consent == .optOutKey("#"))
            #expect(configuration.lines[0].ring == nil && configuration.lines[0].hook == nil)
            #expect(configuration.lines[1].ring == GPIOPin(chip: "gpiochip0", line: 5))
            #expect(configuration.lines[1].announcementID == "v2")
            #expect(configuration.lines[1].outgoingNotice == nil)
            #expect(configuration.lines[1].consent == .continueMeansConsent)
            #expect(configuration.lines[1].optOutWindowMs == 5000)
            #expect(configuration.lines[1].consentMode(rate: 8000) == .continueMeansConsent)

            // Their form is still checked.
            #expect(fixture.problems("""
                recipients = ["\(ConfigKeys.specRecipient)"]
                [audio]
                capture = "tap"
                channels = 1
                [gpio]
                backend = "replay"
                replay = "events.tsv"
                [[lines]]
                id = 1
                name = "A"
                capture_channel = 0
                record = ["outgoing"]
                consent = "opt_out"
                opt_out_key = "10"
                opt_out_window_ms = 90000
                """) == [
                "DIR/skryba.toml:13: lines[1].consent: \"opt_out\" is not a consent mode (\"continue\" or \"opt-out-key\")",
                "DIR/skryba.toml:14: lines[1].opt_out_key: \"10\" is not a telephone key (one of 0-9, *, #, A-D)",
                "DIR/skryba.toml:15: lines[1].opt_out_window_ms: 90000 is outside 0...60000 (milliseconds after the announcement ends)",
            ])
        }

        @Test func recipientsAreParsedWithAgeRecipientsOwnMessages() throws {
            let fixture = try ConfigFixture("recipients")
            var typo = Array(ConfigKeys.specRecipient)
            typo[10] = typo[10] == "q" ? "p" : "q"
            #expect(fixture.problems("""
                recipients = [
                  "\(String(typo))",
                  "AGE-SECRET-KEY-1QQQ",
                  "\(ConfigKeys.otherRecipient)",
                  "\(ConfigKeys.otherRecipient)",
                  42,
                ]
                recorder_id = "sala obrad"
                data_dir = ""
                [audio]
                capture = ""
                channels = 0
                playback_channels = 0
                period_ms = 30
                [opus]
                complexity = 11
                [gpio]
                backend = "sysfs"
                debounce_ms = 5000
                [[lines]]
                id = 1
                name = "A"
                capture_channel = 0
                record = ["outgoing"]
                """) == [
                "DIR/skryba.toml:2: recipients[1]: '\(String(typo))' is not a usable age recipient: its checksum is wrong (a character was mistyped or lost)",
                "DIR/skryba.toml:3: recipients[2]: this is an age secret key (AGE-SECRET-KEY-1…), not a recipient, so it is not shown here; "
                    + "it must be treated as exposed: make a new pair with 'age-keygen -o org.key' on IT's workstation, give the appliance "
                    + "only the public key 'age-keygen -y org.key' prints (age1…), and keep the new key file offline",
                "DIR/skryba.toml:5: recipients[4]: the same recipient as recipients[3]",
                "DIR/skryba.toml:6: recipients[5]: expected a string (an age1… recipient), found an integer",
                "DIR/skryba.toml:8: recorder_id: \"sala obrad\" is not a usable recorder id (1 to 64 letters, digits, '.', '_' or '-')",
                "DIR/skryba.toml:9: data_dir: must not be empty",
                "DIR/skryba.toml:11: audio.capture: must not be empty",
                "DIR/skryba.toml:12: audio.channels: 0 must be between 1 and 64 (interleaved capture channels)",
                "DIR/skryba.toml:13: audio.playback_channels: 0 must be between 1 and 64 (interleaved playback channels)",
                "DIR/skryba.toml:14: audio.period_ms: 30 is not supported (5, 10, 20, 40, 60, 80 or 100: a divisor or a multiple of the 20 ms Opus frame)",
                "DIR/skryba.toml:16: opus.complexity: complexity 11 is outside 0...10",
                "DIR/skryba.toml:18: gpio.backend: \"sysfs\" is not a GPIO backend (\"gpiod\" or \"replay\")",
                "DIR/skryba.toml:19: gpio.debounce_ms: 5000 is outside 0...1000 (milliseconds)",
            ])
        }

        @Test func syntaxErrorsAndDuplicatesAreLocatedInTheFile() throws {
            let fixture = try ConfigFixture("syntax")
            #expect(fixture.problems("recipients = []\n[audio]\nrate 8000\n") == ["DIR/skryba.toml:3: expected '=' after key 'rate'"])
            // Duplicates do not stop reading: validation still reports the rest.
            #expect(fixture.problems("""
                recipients = ["\(ConfigKeys.specRecipient)"]
                [audio]
                capture = "tap"
                capture = "tap2"
                channels = 1
                [audio]
                [[lines]]
                """).prefix(3) == [
                "DIR/skryba.toml:4: audio.capture: duplicate key (first set on line 3)",
                "DIR/skryba.toml:6: audio: table defined twice (first on line 2)",
                "DIR/skryba.toml:7: lines[1].id: required key missing from [[lines]] (the line's number: 1, 2, …)",
            ])
            let error = #expect(throws: ConfigurationError.self) {
                try ConfigurationLoader.parse("[audio]\nrate = 8000 16000\n", path: "skryba.toml")
            }
            #expect(error?.description == "skryba.toml:2: expected the end of the line after the value of 'rate', found '16000'")
            #expect(error?.problems == [ConfigProblem(file: "skryba.toml", line: 2, key: "",
                                                      message: "expected the end of the line after the value of 'rate', found '16000'")])
        }

        @Test func crlfFilesLoadWithTheirLineNumbers() throws {
            let fixture = try ConfigFixture("crlf")
            let text = "recipients = [\"\(ConfigKeys.specRecipient)\"]\r\n[audio]\r\ncapture = \"tap\"\r\nchannels = 1\r\nrate = 44100\r\n"
            #expect(fixture.problems(text) == [
                "DIR/skryba.toml:1: lines: no [[lines]] table: configure at least one line",
                "DIR/skryba.toml:5: audio.rate: 44100 is not supported (8000 or 16000)",
            ])
        }

        @Test func theFileItselfCanBeUnreadableOrNotUTF8() throws {
            let fixture = try ConfigFixture("file")
            let missing = "\(fixture.directory)/none.toml"
            let error = #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(path: missing) }
            #expect(error?.description == "\(missing): cannot read the configuration file: No such file or directory")
            #expect(error?.problems.first?.line == nil)

            try Data([0x61, 0x20, 0x3D, 0x20, 0x31, 0x0A, 0x62, 0x20, 0x3D, 0x20, 0x22, 0xC5, 0x22, 0x0A]).write(to: URL(fileURLWithPath: fixture.configPath))
            let latin = #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(path: fixture.configPath) }
            #expect(latin?.description == "\(fixture.configPath):2: this line is not valid UTF-8 (save the file as UTF-8)")
        }

        @Test func relativePathsAreResolvedAgainstTheFilesDirectory() throws {
            let fixture = try ConfigFixture("paths")
            try FileManager.default.createDirectory(atPath: "\(fixture.directory)/etc/sounds", withIntermediateDirectories: true)
            try fixture.wav("etc/sounds/a.wav")
            try fixture.write("x\n", to: "events.tsv")
            let text = """
                data_dir = "../data"
                recipients = ["\(ConfigKeys.specRecipient)"]
                [audio]
                capture = "tap"
                channels = 1
                [gpio]
                backend = "replay"
                replay = "../events.tsv"
                [[lines]]
                id = 1
                name = "A"
                capture_channel = 0
                record = ["incoming"]
                announcement = "sounds/./a.wav"
                """
            let configuration = try ConfigurationLoader.parse(text, path: "\(fixture.directory)/etc/skryba.toml")
            #expect(configuration.dataDirectory == "\(fixture.directory)/data")
            #expect(configuration.gpio.backend == .replay(path: "\(fixture.directory)/events.tsv"))
            #expect(configuration.lines[0].announcement == "\(fixture.directory)/etc/sounds/a.wav")
            #expect(configuration.lines[0].announcementID == "a.wav")
        }

        @Test func pinsMayBeSubTablesOrDottedKeys() throws {
            let fixture = try ConfigFixture("pins")
            try fixture.wav("a.wav")
            let configuration = try fixture.load("""
                recipients = ["\(ConfigKeys.specRecipient)"]
                [audio]
                capture = "tap"
                channels = 1
                [[lines]]
                id = 1
                name = "A"
                capture_channel = 0
                record = ["incoming"]
                announcement = "a.wav"
                hook.chip = "gpiochip2"
                hook.line = 3
                hook.bias = "pull-down"
                [lines.ring]
                chip = "gpiochip2"
                line = 4
                active_low = true
                """)
            #expect(configuration.lines[0].ring == GPIOPin(chip: "gpiochip2", line: 4, activeLow: true, bias: .asIs))
            #expect(configuration.lines[0].hook == GPIOPin(chip: "gpiochip2", line: 3, activeLow: false, bias: .pullDown))
        }

        @Test func tablesWrittenWithTheWrongBrackets() throws {
            let fixture = try ConfigFixture("brackets")
            #expect(fixture.problems("""
                recipients = ["\(ConfigKeys.specRecipient)"]
                [[audio]]
                capture = "tap"
                [lines]
                id = 1
                """) == [
                "DIR/skryba.toml:2: audio: expected one [audio] table, found [[audio]]: write [audio] once",
                "DIR/skryba.toml:4: lines: expected [[lines]] (double brackets, one table per line), found [lines]",
            ])
            #expect(fixture.problems("recipients = [\"\(ConfigKeys.specRecipient)\"]\nlines = 3\n[audio]\ncapture = \"x\"\nchannels = 1") == [
                "DIR/skryba.toml:2: lines: expected [[lines]] tables, found an integer",
            ])
            let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
            #expect(fixture.problems("x = \(deep)") == ["DIR/skryba.toml:1: arrays and inline tables are nested more than 32 deep"])
        }

        @Test func problemDescriptions() {
            #expect(ConfigProblem(file: "skryba.toml", line: 12, key: "audio.rate", message: "44100 is not supported (8000 or 16000)").description
                == "skryba.toml:12: audio.rate: 44100 is not supported (8000 or 16000)")
            #expect(ConfigProblem(file: "skryba.toml", line: 12, key: "", message: "expected '=' after key 'rate'").description
                == "skryba.toml:12: expected '=' after key 'rate'")
            #expect(ConfigProblem(file: "skryba.toml", line: nil, key: "", message: "cannot read").description == "skryba.toml: cannot read")
            let error = ConfigurationError(problems: [
                ConfigProblem(file: "a", line: 1, key: "k", message: "m"),
                ConfigProblem(file: "a", line: 2, key: "", message: "n"),
            ])
            #expect(error.description == "a:1: k: m\na:2: n")
        }
    }
}

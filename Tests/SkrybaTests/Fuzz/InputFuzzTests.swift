import Foundation
import Testing
import SkrybaConfig
import SkrybaCore
import SkrybaPipeline
import SkrybaSystem

/// Hostile input files: the configuration, the replay file of ring/hook edges and scenario files.
/// Mutations of valid files and random bytes, with a fixed seed, in the normal test run. Each case
/// must end in a value or a thrown error: a trap (overflow, stack exhaustion, a bad index) would kill
/// this test process, so the run finishing is itself the proof. `SKRYBA_FUZZ_CASES=20000` runs more.
@Suite struct InputFuzzTests {
    static let cases = ProcessInfo.processInfo.environment["SKRYBA_FUZZ_CASES"].flatMap(Int.init) ?? 1000

    /// Edits a parser is likely to get wrong: numbers at and past every limit, quotes, brackets,
    /// dotted keys, deep nesting, control characters, very long runs.
    static let tokens = [
        "[", "]", "[[", "]]", "{", "}", "=", "\"", "'", "\"\"\"", ".", ",", "#", "\n", "\r", "\t", "\u{0}", "\u{1B}[2J", "\\", "\\u0000",
        "0", "-1", "1e999", "-1e999", "inf", "-inf", "nan", "1e20", "-0.0", "4294967296", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "0x7fffffffffffffff", "0xffffffffffffffff", "1_000", "07:32", "2026-11-31", "true", "é", "\u{FEFF}",
        "[[lines]]\n", "[audio]\n", "a.b.c.d.e.f.g.h = 1\n", String(repeating: "[", count: 40), String(repeating: "{a=", count: 40),
        String(repeating: "x.", count: 100) + "y = 1\n", String(repeating: "9", count: 400), "\t1\tring\t1\n", "18446744073709551615",
    ]

    static func mutate(_ text: String, using generator: inout SplitMix64) -> String {
        var bytes = Array(text.utf8)
        for _ in 0..<Int.random(in: 1...6, using: &generator) {
            let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<7, using: &generator) {
            case 0 where !bytes.isEmpty: bytes[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &generator)
            case 1: bytes.insert(contentsOf: Array(tokens.randomElement(using: &generator)!.utf8), at: at)
            case 2 where !bytes.isEmpty: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...40, using: &generator)))
            case 3 where !bytes.isEmpty:
                let slice = bytes[at..<min(bytes.count, at + Int.random(in: 1...200, using: &generator))]
                bytes.insert(contentsOf: Array(repeating: Array(slice), count: Int.random(in: 1...20, using: &generator)).joined(), at: at)
            case 4 where !bytes.isEmpty: bytes = Array(bytes[..<at])
            case 5: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: at)
            default:
                // Replace a number with one at or past a limit.
                if let digit = bytes[at...].firstIndex(where: { (48...57).contains($0) }) {
                    let end = bytes[digit...].firstIndex { !(48...57).contains($0) } ?? bytes.count
                    bytes.replaceSubrange(digit..<end, with: Array(["0", "65", "4294967296", "1e20", "99999999999999999999", "-7"]
                        .randomElement(using: &generator)!.utf8))
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func randomText(using generator: inout SplitMix64) -> String {
        if Bool.random(using: &generator) {
            return String(decoding: (0..<Int.random(in: 0...600, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }, as: UTF8.self)
        }
        return (0..<Int.random(in: 0...60, using: &generator)).map { _ in tokens.randomElement(using: &generator)! }.joined()
    }

    static func inputs(_ corpus: [String], seed: UInt64, _ body: (String) -> Void) {
        var generator = SplitMix64(seed: seed)
        for index in 0..<cases {
            let text = index % 5 == 4 ? randomText(using: &generator) : mutate(corpus[index % corpus.count], using: &generator)
            body(text)
        }
    }

    @Test func theConfigurationParserAndValidatorEndInAModelOrProblemsForEveryInput() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-fuzz-config")
        for name in ["a.wav", "beep.wav"] {
            try WAVFile(sampleRate: 8000, channels: 1, samples: [Int16](repeating: 100, count: 800)).write(path: "\(directory)/\(name)")
        }
        try Data("0\t1\thook\t1\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/events.tsv"))
        let corpus = [
            ConfigTests.ConfigurationTests.specExample(recipient: ConfigKeys.specRecipient, announcement: "a.wav"),
            Simulator.configuration(for: .office, recipients: [], dataDirectory: "\(directory)/data")
                .replacingOccurrences(of: "recipients = []", with: "recipients = [\"\(ConfigKeys.specRecipient)\"]")
                .replacingOccurrences(of: "announcement.wav", with: "a.wav") + "\n[retention]\nperiod = \"12m\"\nkeep_free = \"10%\"\n",
        ]
        // Both seeds are valid: the mutations start from files that load.
        for text in corpus {
            #expect(throws: Never.self) { try ConfigurationLoader.parse(text, path: "\(directory)/skryba.toml", hostName: "fuzz") }
        }
        var outcomes = (loaded: 0, refused: 0)
        Self.inputs(corpus, seed: 0xC0F1_6000) { text in
            do {
                _ = try ConfigurationLoader.parse(text, path: "\(directory)/skryba.toml", hostName: "fuzz")
                outcomes.loaded += 1
            } catch let error as ConfigurationError {
                outcomes.refused += 1
                #expect(error.problems.allSatisfy { $0.file.hasSuffix("skryba.toml") && !$0.message.isEmpty })
            } catch {
                Issue.record("not a ConfigurationError: \(error)")
            }
        }
        #expect(outcomes.loaded + outcomes.refused == Self.cases)
        #expect(outcomes.refused > 0)
    }

    @Test func theReplayFileParserEndsInEdgesOrProblemsForEveryInput() {
        let corpus = [
            "# a call on line 2\n8000\t2\tring\t1\n16000\t2\tring\t0\n\n20000\t2\thook\t1\r\n20000\t1\thook\t1\n90000\t2\thook\t0\n",
            "0\t1\thook\t1\n18446744073709551615\t1\thook\t0\n",
        ]
        var outcomes = (parsed: 0, refused: 0)
        Self.inputs(corpus, seed: 0x5E_9A1) { text in
            do {
                let replay = try ReplayLineSignals.parse(text, name: "events.tsv", lines: [1, 2])
                let edges = replay.takeEdges(before: .max)
                #expect(zip(edges, edges.dropFirst()).allSatisfy { $0.frame <= $1.frame }, "frames never go backwards")
                outcomes.parsed += 1
            } catch let error as ReplayError {
                #expect(error.problems.allSatisfy { $0.hasPrefix("events.tsv:") })
                outcomes.refused += 1
            } catch {
                Issue.record("not a ReplayError: \(error)")
            }
        }
        #expect(outcomes.parsed > 0 && outcomes.refused > 0)
    }

    static let scenarioSeed = """
        announcement = "Rozmowy są nagrywane."
        rate = 8000

        [[lines]]
        id = 1
        name = "Sekretariat"
        consent = "opt-out-key"
        opt_out_key = "9"

        [[lines]]
        id = 2
        name = "Podatki"
        record = ["incoming"]
        outgoing_beep = true

        [[calls]]
        line = 1
        direction = "incoming"
        at = 0.5
        rings = 2
        caller_id = "221234567"
        caller_id_format = "fsk-sdmf"
        talk = ["Dzień dobry."]
        presses = [{ key = "9", after = 3.0 }]
        hang_up_after = 12

        [[calls]]
        line = 2
        direction = "outgoing"
        at = 2
        dial = "600700800"
        hang_up_after = 5.5

        """

    @Test func scenarioFilesEndInAPlannedRenderOrProblemsForEveryInput() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-fuzz-scenario")
        let path = "\(directory)/scenario.toml"
        #expect(try ScenarioRenderer(scenario: try Scenario.parse(Self.scenarioSeed, path: path), directory: directory).plannedCaptureBytes() > 0)
        var outcomes = (planned: 0, refused: 0)
        Self.inputs([Self.scenarioSeed], seed: 0x5CE7_A210) { text in
            do {
                let scenario = try Scenario.parse(text, path: path)
                let bytes = try ScenarioRenderer(scenario: scenario, directory: directory).plannedCaptureBytes()
                #expect(bytes > 0 && bytes <= ScenarioLimits.maximumCaptureBytes)
                outcomes.planned += 1
            } catch {
                #expect(!"\(error)".isEmpty)
                outcomes.refused += 1
            }
        }
        #expect(outcomes.planned > 0 && outcomes.refused > 0)
    }
}

import Foundation
import SkrybaConfig
import Testing

extension ConfigTests {
    /// Hostile configurations (issue 8, item 16): each is refused with a located message instead of
    /// a stack overflow, a trap after validation, or seconds of work.
    @Suite struct ConfigurationBoundsTests {
        static let head = ConfigKeys.minimalHead

        func fixture(_ name: String) throws -> ConfigFixture {
            let fixture = try ConfigFixture(name)
            try fixture.write("", to: "events.tsv")
            return fixture
        }

        @Test func aDottedKeyOfTwentyThousandPartsIsASyntaxErrorNotAStackOverflow() throws {
            let fixture = try fixture("dotted")
            let key = Array(repeating: "a", count: 20_000).joined(separator: ".")
            #expect(fixture.problems(Self.head + key + " = 1\n") == ["DIR/skryba.toml:8: a key has more than 32 dotted parts"])
            // Nesting through a header, dotted keys and inline tables together is bounded too.
            let header = "[" + Array(repeating: "t", count: 20).joined(separator: ".") + "]\n"
            let nested = Array(repeating: "k", count: 8).joined(separator: ".") + " = { " + Array(repeating: "m", count: 8).joined(separator: ".") + " = 1 }\n"
            #expect(fixture.problems(Self.head + header + nested) == [
                "DIR/skryba.toml:9: 'm.m.m.m.m.m.m.m' nests tables more than 32 deep (with its table and the inline tables around it)",
            ])
        }

        @Test func channelCountsThatWouldTrapLaterAreRefusedAtValidation() throws {
            let fixture = try fixture("channels")
            let line = "[[lines]]\nid = 1\nname = \"A\"\ncapture_channel = 0\nrecord = [\"outgoing\"]\n"
            #expect(fixture.problems(Self.head.replacingOccurrences(of: "channels = 2", with: "channels = 4294967296") + line) == [
                "DIR/skryba.toml:4: audio.channels: 4294967296 must be between 1 and 64 (interleaved capture channels)",
            ])
            #expect(fixture.problems(Self.head.replacingOccurrences(of: "channels = 2", with: "channels = 2\nplayback_channels = 4294967296") + line) == [
                "DIR/skryba.toml:5: audio.playback_channels: 4294967296 must be between 1 and 64 (interleaved playback channels)",
            ])
        }

        @Test func lineIDsAndGPIOOffsetsAreBounded() throws {
            let fixture = try fixture("ids")
            let text = Self.head.replacingOccurrences(of: "backend = \"replay\"\nreplay = \"events.tsv\"", with: "backend = \"gpiod\"") + """
                [[lines]]
                id = 9223372036854775807
                name = "A"
                capture_channel = 0
                record = ["outgoing"]
                ring = { chip = "gpiochip0", line = 4294967296 }
                hook = { chip = "gpiochip0", line = -1 }
                """
            #expect(fixture.problems(text) == [
                "DIR/skryba.toml:8: lines[1].id: 9223372036854775807 is not a line id (1...999)",
                "DIR/skryba.toml:12: lines[1].ring.line: 4294967296 is not a GPIO line offset (0...65535)",
                "DIR/skryba.toml:13: lines[1].hook.line: -1 is not a GPIO line offset (0...65535)",
            ])
        }

        /// 20,000 empty [[lines]] took 11 s to answer with 100,000 messages: now one message, at once.
        @Test func twentyThousandEmptyLinesAreOneProblem() throws {
            let fixture = try fixture("many-lines")
            #expect(fixture.problems(Self.head + String(repeating: "[[lines]]\n", count: 20_000)) == [
                "DIR/skryba.toml:8: lines: 20000 [[lines]] tables: the appliance records at most 64 lines",
            ])
        }

        @Test func aFileOfThousandsOfMistakesListsTheFirstHundredAndCountsTheRest() throws {
            let fixture = try fixture("mistakes")
            let keys = (0..<5000).map { "unknown_\($0) = 1\n" }.joined()
            let problems = fixture.problems(Self.head + "[[lines]]\nid = 1\nname = \"A\"\ncapture_channel = 0\nrecord = [\"outgoing\"]\n" + keys)
            #expect(problems.count == ConfigurationLoader.maximumProblems + 1)
            #expect(problems.first == "DIR/skryba.toml:13: lines[1].unknown_0: unknown key in [[lines]]")
            #expect(problems.last == "DIR/skryba.toml: 4900 more problem(s) not listed; fix the ones above first")
        }
    }
}

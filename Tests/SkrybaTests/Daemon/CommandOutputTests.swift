import Foundation
import SkrybaSystem
import Testing

/// What `skryba` and `skryba-tools` print for a person (issue 10, item 6): failures as one sentence with
/// the documented exit status and no usage banner; help paragraphs wrapped by the parser, not by hand.
@Suite struct CommandOutputTests {
    @Test func anUnusableDataDirectoryIsAConfigurationFailureWithoutTheUsage() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-no-catalog")
        let result = try Tool.run(Tool.product("skryba"), ["fsck", "--data-dir", directory])
        #expect(result.status == 2, "\(result.output)")
        #expect(result.output == "skryba: \(directory) holds no catalog.sqlite: is --data-dir right?\n")
    }

    @Test func anUnreadableInputIsAFailureWithoutTheUsage() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-tools-missing")
        let result = try Tool.run(Tool.product("skryba-tools"), ["inspect", "\(directory)/none.skryba"])
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output == "skryba-tools: \(directory)/none.skryba: cannot read the file\n")
    }

    @Test func anArgumentMistakeStillShowsTheUsage() throws {
        let result = try Tool.run(Tool.product("skryba"), ["recordings", "erase", "R000001", "--by", "DPO", "--reason", "x", "--data-dir", "/nonexistent", "--bogus"])
        #expect(result.status == 64 && result.output.contains("Usage:"), "\(result.output)")
    }

    /// Each paragraph of the discussion is one source line, so the parser fills every line but a
    /// paragraph's last; a hand break would leave a short line in mid-sentence.
    @Test func helpParagraphsAreFilledByTheParser() throws {
        for (tool, paragraph) in [("skryba", "Exit status: 0 done;"), ("skryba-tools", "Keys are made with stock age-keygen"), ("skryba-tools", "Exit status: 0")] {
            let help = try Tool.run(Tool.product(tool), ["--help"]).output
            let lines = help.components(separatedBy: "\n")
            let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix(paragraph) }, "\(tool): \(help)")
            let end = try #require(lines[start...].firstIndex { $0.trimmingCharacters(in: .whitespaces).isEmpty })
            #expect(end - start >= 2, "\(tool): the paragraph is long enough to wrap")
            for line in lines[start..<(end - 1)] {
                #expect(line.count >= 60, "\(tool): a short line in mid-paragraph: '\(line)'\n\(help)")
            }
        }
    }
}

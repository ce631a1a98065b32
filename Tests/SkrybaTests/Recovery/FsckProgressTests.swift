import Foundation
import Testing
import SkrybaSeal
import SkrybaStore
import SkrybaSystem

/// `skryba fsck` shows its progress on a terminal only (TerminalProgress): a single line on stderr
/// redrawn with a carriage return and cleared at the end; piped, stdout and stderr are as without it.
@Suite struct FsckProgressTests {
    static func dataDirectory() throws -> String {
        let data = try makeTemporaryDirectory(prefix: "skryba-progress")
        let catalog = try Catalog(dataDirectory: data, actor: "test")
        for line in 1...3 {
            _ = try catalog.insert(NewRecording(line: line, direction: .incoming, startUTC: Date().addingTimeInterval(-3600), startFrame: 0,
                                                recipients: [AgeIdentity().recipient.description]), at: Date())
        }
        return data
    }

    @Test func pipedOutputHasNoProgressLine() throws {
        let fsck = try Tool.run(Tool.product("skryba"), ["fsck", "--data-dir", try Self.dataDirectory()])
        #expect(fsck.output.contains("checked 3 recording(s) and 0 file(s): 3 finding(s)"), "\(fsck.output)")
        #expect(!fsck.output.contains("\r") && !fsck.output.contains("fsck: "), "\(fsck.output)")
    }

    @Test func aTerminalShowsOneSelfOverwritingLine() throws {
        let command = "\(Tool.product("skryba")) fsck --data-dir \(try Self.dataDirectory())"
        // script(1) gives skryba a pseudo-terminal for stdout and stderr.
        let fsck = try Tool.run("script", ["-qec", command, "/dev/null"])
        #expect(fsck.output.contains("\rfsck: 3/3 recording(s)"), "\(fsck.output.debugDescription)")
        // Cleared before the summary: the summary starts on a fresh line of its own.
        #expect(fsck.output.contains("\r" + String(repeating: " ", count: "fsck: 3/3 recording(s)".count) + "\r"), "\(fsck.output.debugDescription)")
        #expect(fsck.output.contains("checked 3 recording(s) and 0 file(s): 3 finding(s)"), "\(fsck.output.debugDescription)")
    }
}

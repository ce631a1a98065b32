import Foundation
import Testing
import SkrybaPipeline
import SkrybaSeal
import SkrybaStore
import SkrybaSystem

/// Holds, secured copies and data-subject rights through `skryba`, on the data a simulated office left.
@Suite struct RetentionCommandsTests {
    @Test func aDataProtectionOfficersDay() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-dpo")
        var scenario = Scenario(announcement: "Rozmowy są nagrywane.", lines: [Scenario.Line(id: 1, name: "Sekretariat")], calls: [])
        scenario.calls = [Scenario.Call(line: 1, direction: .incoming, at: 0.2, rings: 1, callerID: "221234567", hangUpAfter: 4),
                          Scenario.Call(line: 1, direction: .outgoing, at: 8, dial: "600", hangUpAfter: 3)]
        let result = try Simulator.run(scenario, directory: directory, recipients: [AgeIdentity().recipient], skrybad: Tool.product("skrybad"))
        let config = result.configurationFile
        func skryba(_ arguments: [String]) throws -> ToolResult { try Tool.run(Tool.product("skryba"), arguments + ["--config", config]) }

        let missing = try skryba(["hold", "add", "--recording", "R000099", "--case", "II K 12/26", "--reason", "evidence"])
        #expect(missing.status == 1, "a refusal is a failure, not a usage error: \(missing.output)")
        #expect(missing.output == "skryba: recording R000099 does not exist; nothing was held\n", "one sentence, no usage banner: \(missing.output)")

        let held = try skryba(["hold", "add", "--recording", "R000001", "--case", "II K 12/26", "--reason", "evidence in proceedings"])
        #expect(held.status == 0, "\(held.output)")
        let refused = try skryba(["recordings", "erase", "R000001", "--reason", "request 7/2026", "--by", "DPO"])
        #expect(refused.status == 1)
        #expect(refused.output.hasPrefix("skryba: ") && refused.output.contains("II K 12/26"), "the refusal names the hold: \(refused.output)")
        #expect(!refused.output.contains("Usage:"), "\(refused.output)")

        let secured = try skryba(["copies", "add", "--recording", "R000002", "--called-number", "22 100 20 30", "--made-by", "Anna Nowak"])
        #expect(secured.status == 0, "\(secured.output)")
        #expect(secured.output.hasPrefix("secured copy 1 of R000002"))
        let register = try skryba(["copies", "list", "--csv"])
        #expect(register.output.split(separator: "\n").count == 2, "header and one entry: \(register.output)")
        #expect(register.output.contains("Anna Nowak") && register.output.contains("22 100 20 30"))
        let table = try skryba(["copies", "list"]).output.split(separator: "\n")
        #expect(table.count == 2 && table[0].hasPrefix("copy  recording  period ") && table[1].hasPrefix("1     R000002    "), "\(table)")

        let late = try skryba(["copies", "add", "--recording", "R000001", "--called-number", "22 100 20 30", "--made-by", "Anna Nowak",
                               "--requested", "2099-01-01T00:00:00Z"])
        #expect(late.status != 0, "a request dated in the future (or after 14 days) is refused: \(late.output)")

        #expect(try skryba(["hold", "release", "II K 12/26", "--reason", "proceedings ended"]).status == 0)
        let erased = try skryba(["recordings", "erase", "R000001", "--reason", "request 7/2026", "--by", "DPO"])
        #expect(erased.status == 0, "\(erased.output)")
        #expect(erased.output.wholeMatch(of: /R000001 erased \(rule "erasure: request 7\/2026", [1-9][0-9]* bytes freed\); signed deletion receipt: audit entry [1-9][0-9]*\n/) != nil,
                "one sentence, not a value dump: \(erased.output)")
        let rows = try Catalog(dataDirectory: result.dataDirectory).recordings(status: nil, includeDeleted: true, includeRestricted: true)
        let erasedRow = try #require(rows.first { $0.id.description == "R000001" })
        #expect(erasedRow.filePath.map { !FileManager.default.fileExists(atPath: "\(result.dataDirectory)/\($0)") } ?? true)
        #expect(erasedRow.callerNumber == nil)

        let audit = try skryba(["audit", "verify"])
        #expect(audit.status == 0 && audit.output.contains("chain intact"), "\(audit.output)")

        // The DPO checks the signed deletion receipt on a copy of the catalog, with the pinned device key.
        let publicKey = try #require(try skryba(["device-key"]).output.split(separator: "\n").first?.split(separator: " ").last.map(String.init))
        let copy = "\(directory)/catalog-copy.sqlite"
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: "\(result.dataDirectory)/catalog.sqlite\(suffix)") {
            try FileManager.default.copyItem(atPath: "\(result.dataDirectory)/catalog.sqlite\(suffix)", toPath: copy + suffix)
        }
        let receipts = try Tool.run(Tool.product("skryba-tools"), ["verify-receipts", "--catalog", copy, "--public-key", publicKey])
        #expect(receipts.status == 0, "\(receipts.output)")
        #expect(receipts.output.contains("1 valid receipt(s), 0 invalid"), "\(receipts.output)")
        let stranger = String(repeating: "ab", count: 32)
        #expect(try Tool.run(Tool.product("skryba-tools"), ["verify-receipts", "--catalog", copy, "--public-key", stranger]).status != 0)
    }
}

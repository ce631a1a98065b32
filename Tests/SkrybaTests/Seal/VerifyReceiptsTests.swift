import Foundation
import Testing
import SkrybaPipeline
import GRDB
@testable import SkrybaStore
import SkrybaSystem

/// Issue 8 item 15: `skryba-tools verify-receipts` opens the catalog it is given read-only, refuses
/// a missing, empty or foreign file, and prints every receipt's items for the DPO's file.
@Suite struct VerifyReceiptsTests {
    let tools = Tool.product("skryba-tools")

    @Test func aMissingOrEmptyCatalogIsRefusedAndNothingIsCreated() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-receipts-missing")
        let key = String(repeating: "ab", count: 32)
        let missing = "\(directory)/catalog.sqlite"
        let result = try Tool.run(tools, ["verify-receipts", "--catalog", missing, "--public-key", key])
        #expect(result.status != 0)
        #expect(result.output.contains("\(missing): no such file; give the copy of the appliance's catalog.sqlite (and its -wal file beside it)"),
                "\(result.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "no catalog, -wal or -shm was created")

        FileManager.default.createFile(atPath: missing, contents: Data())
        let empty = try Tool.run(tools, ["verify-receipts", "--catalog", missing, "--public-key", key])
        #expect(empty.status != 0)
        #expect(empty.output.contains("\(missing): the file is empty, so it is not a catalog"), "\(empty.output)")
        #expect(FileManager.default.contents(atPath: missing) == Data(), "still empty")

        let foreign = "\(directory)/other.sqlite"
        try RawSQLite(path: foreign).execute("CREATE TABLE notes (text TEXT)")
        let notCatalog = try Tool.run(tools, ["verify-receipts", "--catalog", foreign, "--public-key", key])
        #expect(notCatalog.status != 0)
        #expect(notCatalog.output.contains("\(foreign): an SQLite file, but not a Skryba catalog"), "\(notCatalog.output)")
    }

    @Test func receiptsArePrintedAsATableFromAReadOnlyCatalog() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-receipts-table")
        let catalog = try Catalog(dataDirectory: directory, actor: "test")
        let signer = try DeviceKey.loadOrCreate(dataDirectory: directory, audit: catalog.audit, at: Date(timeIntervalSince1970: 1_780_000_000))
        let items = [
            DeletedItem(subject: "R000012", recording: RecordingID(rawValue: 12), rule: "retention 30 days",
                        deadlineUTC: Date(timeIntervalSince1970: 1_780_000_000), deletedUTC: Date(timeIntervalSince1970: 1_780_003_600),
                        fileSHA256: String(repeating: "01", count: 32), bytesFreed: 6208),
            DeletedItem(subject: "secured copy 3 of R000010", recording: RecordingID(rawValue: 10), rule: "erasure: request 7/2026",
                        deadlineUTC: nil, deletedUTC: Date(timeIntervalSince1970: 1_780_003_600), fileSHA256: nil, bytesFreed: 0),
        ]
        try catalog.appendDeletionReceipt(items, signer: signer, actor: "test", at: Date(timeIntervalSince1970: 1_780_003_600))
        let path = "\(directory)/\(DataLayout.catalog)"
        let before = [path, path + "-wal"].map { FileManager.default.contents(atPath: $0) }

        let result = try Tool.run(tools, ["verify-receipts", "--catalog", path, "--public-key", signer.publicKeyHex])
        #expect(result.status == 0, "\(result.output)")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("receipt at entry ") && $0.hasSuffix("(2026-05-28 23:26:40 CEST): signature valid, 2 item(s)") }, "\(result.output)")
        let expectedRows = [
            "  ID                         RULE                     DEADLINE                  DELETED                   SHA-256 OF THE DELETED FILE",
            "  R000012                    retention 30 days        2026-05-28 22:26:40 CEST  2026-05-28 23:26:40 CEST  \(String(repeating: "01", count: 32))",
            "  secured copy 3 of R000010  erasure: request 7/2026  -                         2026-05-28 23:26:40 CEST  -",
        ]
        for row in expectedRows { #expect(lines.contains(row), "\(row)\n\(result.output)") }
        #expect(result.output.contains("1 valid receipt(s), 0 invalid"))
        #expect([path, path + "-wal"].map { FileManager.default.contents(atPath: $0) } == before, "the catalog is not written")
    }
}

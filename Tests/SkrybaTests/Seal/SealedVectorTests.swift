import Crypto
import Foundation
import Testing
@testable import SkrybaSeal
import SkrybaPipeline
import SkrybaSystem

/// The test vector published in docs/sealed-format.md: fixed file key, nonce and ephemeral secret,
/// sealed to the age spec's example identity. The writer must reproduce it byte for byte and the
/// reader must open it.
@Suite struct SealedVectorTests {
    static let identity = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
    static let fileKey = SymmetricKey(data: (1...16).map { UInt8($0) })
    static let nonce = [UInt8](repeating: 0xA5, count: 16)
    static let ephemeral = [UInt8](repeating: 0x37, count: 32)
    static var fixture: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/sealed-vector-1.hex").path
    }

    @Test func theWriterReproducesThePublishedVector() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-vector")
        let path = "\(directory)/vector.skryba"
        let recipient = try AgeIdentity(parsing: Self.identity).recipient
        let writer = try SealedRecordingWriter(path: path, recipients: [recipient], syncEachRecord: true,
                                               fileKey: Self.fileKey, nonce: Self.nonce, ephemeralSecrets: [Self.ephemeral])
        try writer.append(Array("hello ".utf8), position: 960, final: false)
        try writer.append(Array("world".utf8), position: 1920, final: true)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let published = try String(contentsOfFile: Self.fixture, encoding: .utf8).filter(\.isHexDigit)
        #expect(hex == published, "vector written to \(path)")
    }

    @Test func thePublishedVectorOpens() throws {
        let hex = Array(try String(contentsOfFile: Self.fixture, encoding: .utf8).filter(\.isHexDigit))
        let bytes = stride(from: 0, to: hex.count, by: 2).map { UInt8(String(hex[$0...$0 + 1]), radix: 16)! }
        let opened = try SealedRecordingReader.open(bytes, identities: [try AgeIdentity(parsing: Self.identity)])
        #expect(opened.problem == nil)
        #expect(String(decoding: opened.plaintext, as: UTF8.self) == "hello world")
        #expect(opened.layout.records.map(\.position) == [960, 1920])
    }
}

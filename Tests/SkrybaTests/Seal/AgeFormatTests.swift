import Crypto
import Foundation
import Testing
@testable import SkrybaSeal
import SkrybaPipeline
import SkrybaSystem

/// The age pieces, against the spec's own examples and the real `age`/`age-keygen` binaries.
@Suite struct AgeFormatTests {
    @Test func bech32MatchesTheSpecExamples() throws {
        // c2sp.org/age: the identity with all bytes 0x42... and its recipient.
        let identity = try AgeIdentity(parsing: "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX")
        #expect(identity.recipient.description == "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj")
        #expect(identity.encoded == "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX")
        #expect(throws: AgeKeyError.notARecipient("age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwq",
                                                  "its checksum is wrong (a character was mistyped or lost)")) {
            try AgeRecipient(parsing: "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwq")
        }
        #expect(throws: AgeKeyError.notARecipient("ssh-ed25519", "an age recipient starts with 'age1' (make one with age-keygen)")) {
            try AgeRecipient(parsing: "ssh-ed25519")
        }
    }

    @Test func base64IsStrictlyCanonical() {
        #expect(UnpaddedBase64.encode(Array("foob".utf8)) == "Zm9vYg")
        #expect(UnpaddedBase64.decode("Zm9vYg") == Array("foob".utf8))
        #expect(UnpaddedBase64.decode("Zm9vYh") == nil, "non-zero trailing bits")
        #expect(UnpaddedBase64.decode("Zm9vYg==") == nil, "padding")
        #expect(UnpaddedBase64.decode("Zm9vY") == nil, "impossible length")
    }

    @Test func crc32cCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func aKeyFromAgeKeygenSealsAndOurAgeFilesOpenWithStockAge() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-age")
        let keygen = try Tool.run("age-keygen", ["-o", "\(directory)/key.txt"])
        #expect(keygen.status == 0, "\(keygen.output)")
        let identities = try AgeIdentity.load(identityFile: "\(directory)/key.txt")  // comments included
        #expect(identities.count == 1)
        let recipientLine = try Tool.run("age-keygen", ["-y", "\(directory)/key.txt"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(identities[0].recipient.description == recipientLine)

        // Ours → stock age, sizes around the 64 KiB chunk boundary.
        for size in [0, 1, 65536, 65537, 200_000] {
            let plaintext = (0..<size).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
            let sealed = try AgePayload.encryptFile(plaintext, to: [try AgeRecipient(parsing: recipientLine)])
            try Data(sealed).write(to: URL(fileURLWithPath: "\(directory)/ours.age"))
            let opened = try Tool.run("age", ["-d", "-i", "\(directory)/key.txt", "-o", "\(directory)/ours.out", "\(directory)/ours.age"])
            #expect(opened.status == 0, "size \(size): \(opened.output)")
            // age creates its output lazily: an empty plaintext leaves no file.
            let out = FileManager.default.contents(atPath: "\(directory)/ours.out").map { [UInt8]($0) } ?? []
            #expect(out == plaintext, "size \(size)")
            try? FileManager.default.removeItem(atPath: "\(directory)/ours.out")
        }
    }

    @Test func stockAgeFilesOpenWithOurCode() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-age-in")
        _ = try Tool.run("age-keygen", ["-o", "\(directory)/key.txt"])
        let other = AgeIdentity()
        let recipient = try Tool.run("age-keygen", ["-y", "\(directory)/key.txt"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        for size in [0, 5, 65536, 131_073] {
            let plaintext = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try Data(plaintext).write(to: URL(fileURLWithPath: "\(directory)/in.bin"))
            // Two recipients: the stanza order must not matter.
            let sealed = try Tool.run("age", ["-r", other.recipient.description, "-r", recipient, "-o", "\(directory)/theirs.age", "\(directory)/in.bin"])
            #expect(sealed.status == 0, "\(sealed.output)")
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/theirs.age")))
            let (header, length) = try AgeHeader.parse(bytes)
            #expect(header.encoded == Array(bytes[0..<length]), "our serialisation is byte-identical to age's")
            let fileKey = try header.unwrap(with: try AgeIdentity.load(identityFile: "\(directory)/key.txt"))
            #expect(try AgePayload.decrypt(bytes[length...], fileKey: fileKey) == plaintext)
        }
    }

    @Test func aWrongIdentityIsToldSo() throws {
        let sealed = try AgePayload.encryptFile([1, 2, 3], to: [AgeIdentity().recipient])
        let (header, _) = try AgeHeader.parse(sealed)
        let stranger = AgeIdentity()
        #expect(throws: AgeHeaderError.noMatchingIdentity(stanzas: 1, identities: [stranger.recipient.description])) {
            try header.unwrap(with: [stranger])
        }
    }
}

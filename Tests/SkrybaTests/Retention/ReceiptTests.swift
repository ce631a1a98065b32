import Foundation
import SkrybaSystem
import Testing
@testable import SkrybaStore

extension RetentionTests {
    /// Deletion receipts: the documented canonical text, signed by the device key, verifiable with
    /// the pinned public key by `DeletionReceipt.verify` and by OpenSSL; any change is caught.
    @Suite struct ReceiptTests {
        /// RFC 8032 §7.1 test 1 as PKCS #8 PEM: deterministic signatures for the documented example.
        static let rfc8032PEM = """
            -----BEGIN PRIVATE KEY-----
            MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
            -----END PRIVATE KEY-----

            """

        static func rfc8032Key() throws -> DeviceKey {
            let directory = try makeTemporaryDirectory(prefix: "skryba-receipt-key")
            let path = "\(directory)/device-ed25519.key"
            #expect(FileManager.default.createFile(atPath: path, contents: Data(rfc8032PEM.utf8), attributes: [.posixPermissions: 0o600]))
            return try DeviceKey.load(path: path)
        }

        static let items = [
            DeletedItem(subject: "secured copy 3 of R000010", recording: RecordingID(rawValue: 10),
                        rule: "lapsed: kept 4 months without renewal (until 2026-02-04T08:00:00.000Z)",
                        deadlineUTC: utc("2026-02-04T08:00:00.000Z"), deletedUTC: utc("2026-02-04T10:00:00.000Z"),
                        fileSHA256: String(repeating: "ab", count: 32), bytesFreed: 6208),
            DeletedItem(subject: "R000012", recording: RecordingID(rawValue: 12), rule: "retention 30 days",
                        deadlineUTC: utc("2026-02-04T09:15:00.000Z"), deletedUTC: utc("2026-02-04T10:00:00.000Z"),
                        fileSHA256: String(repeating: "01", count: 32), bytesFreed: 6208),
            DeletedItem(subject: "R000013", recording: RecordingID(rawValue: 13), rule: "erasure: art. 17\trequest", deadlineUTC: nil,
                        deletedUTC: utc("2026-02-04T10:00:00.000Z"), fileSHA256: nil, bytesFreed: 0),
        ]

        static let message = """
            skryba-deletion-receipt/v1
            device 21fe31dfa154a261
            time 2026-02-04T10:00:00.000Z
            items 3
            secured copy 3 of R000010\tlapsed: kept 4 months without renewal (until 2026-02-04T08:00:00.000Z)\t2026-02-04T08:00:00.000Z\t2026-02-04T10:00:00.000Z\t\(String(repeating: "ab", count: 32))
            R000012\tretention 30 days\t2026-02-04T09:15:00.000Z\t2026-02-04T10:00:00.000Z\t\(String(repeating: "01", count: 32))
            R000013\terasure: art. 17 request\t-\t2026-02-04T10:00:00.000Z\t-

            """

        static func entry(_ details: [String: String], time: String = "2026-02-04T10:00:00.000Z") -> AuditEntry {
            AuditEntry(seq: 7, timeUTC: time, kind: "deletion-receipt", subject: nil, actor: "skrybad",
                       details: AuditEntry.encodeDetails(details), prevHash: Data(count: 32), hash: Data(count: 32))
        }

        @Test func theSignedTextIsTheDocumentedOne() throws {
            let key = try Self.rfc8032Key()
            let details = DeletionReceipt.details(items: Self.items, signer: key, timeUTC: "2026-02-04T10:00:00.000Z")
            #expect(details["receipt"] == Self.message)
            #expect(details["items"] == "3")
            #expect(details["fingerprint"] == "21fe31dfa154a261")
            #expect(details["public_key"] == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
            #expect(details["signature"] == Self.signature)
            let entry = Self.entry(details)
            #expect(DeletionReceipt.verify(entry: entry, publicKey: key.publicKey))
            let parsed = try #require(DeletionReceipt(entry: entry))
            #expect(parsed.items.map(\.subject) == ["secured copy 3 of R000010", "R000012", "R000013"])
            #expect(parsed.items.map(\.fileSHA256) == [String(repeating: "ab", count: 32), String(repeating: "01", count: 32), nil])
            #expect(parsed.items[2].rule == "erasure: art. 17 request")
        }

        static let signature = "5649b56b7e62cfbc84b7f0d18016949a24cdf11f6947edf224d6168a73b5680d29e8510b799f62cf227e34d08dac420cff5b6a8ba1e60bfe658d6c7514dfd70b"

        @Test func anyChangeOrAnotherKeyFailsVerification() throws {
            let key = try Self.rfc8032Key()
            let details = DeletionReceipt.details(items: Self.items, signer: key, timeUTC: "2026-02-04T10:00:00.000Z")
            let other = try RetentionFixture("receipt-other").key
            #expect(!DeletionReceipt.verify(entry: Self.entry(details), publicKey: other.publicKey))
            var changed = details
            changed["receipt"] = Self.message.replacingOccurrences(of: "retention 30 days", with: "retention 1 month")
            #expect(!DeletionReceipt.verify(entry: Self.entry(changed), publicKey: key.publicKey))
            changed = details
            changed["receipt"] = Self.message.replacingOccurrences(of: "items 3", with: "items 2")
                .replacingOccurrences(of: "R000013\terasure: art. 17 request\t-\t2026-02-04T10:00:00.000Z\t-\n", with: "")
            #expect(!DeletionReceipt.verify(entry: Self.entry(changed), publicKey: key.publicKey))
            #expect(!DeletionReceipt.verify(entry: Self.entry(details, time: "2026-02-04T10:00:00.001Z"), publicKey: key.publicKey))
            // Re-signed by another key that claims to be the device: caught by the pinned key.
            let forged = DeletionReceipt.details(items: Self.items, signer: other, timeUTC: "2026-02-04T10:00:00.000Z")
            #expect(!DeletionReceipt.verify(entry: Self.entry(forged), publicKey: key.publicKey))
            #expect(DeletionReceipt.verify(entry: Self.entry(forged), publicKey: other.publicKey))
        }

        /// The data-protection officer's way (docs/retention.md): OpenSSL and the pinned key, no Skryba code.
        @Test func openSSLVerifiesAReceiptFromARealRun() throws {
            let fixture = try RetentionFixture("receipt-openssl")
            try fixture.record(start: utc("2026-01-05T09:15:00.000Z"))
            let report = try fixture.engine(RetentionPolicy(default: .days(30))).run(at: utc("2026-02-04T10:00:00.000Z"))
            let entry = try #require(report.receipt)
            let details = try #require(entry.decodedDetails)
            let directory = try makeTemporaryDirectory(prefix: "skryba-receipt-openssl")
            try Data(try #require(details["receipt"]).utf8).write(to: URL(fileURLWithPath: "\(directory)/receipt.msg"))
            try Data(hex: try #require(details["signature"]))!.write(to: URL(fileURLWithPath: "\(directory)/receipt.sig"))
            let publicPEM = try Tool.run("openssl", ["pkey", "-in", fixture.key.path, "-pubout", "-out", "\(directory)/device.pub.pem"])
            #expect(publicPEM.status == 0, "\(publicPEM.output)")
            let verified = try Tool.run("openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", "\(directory)/device.pub.pem", "-rawin",
                                                    "-in", "\(directory)/receipt.msg", "-sigfile", "\(directory)/receipt.sig"])
            #expect(verified.status == 0)
            #expect(verified.output.contains("Signature Verified Successfully"))
            // One changed byte and OpenSSL refuses too.
            try Data(try #require(details["receipt"]).replacingOccurrences(of: "30 days", with: "31 days").utf8)
                .write(to: URL(fileURLWithPath: "\(directory)/receipt.msg"))
            let refused = try Tool.run("openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", "\(directory)/device.pub.pem", "-rawin",
                                                   "-in", "\(directory)/receipt.msg", "-sigfile", "\(directory)/receipt.sig"])
            #expect(refused.status != 0)
        }
    }
}

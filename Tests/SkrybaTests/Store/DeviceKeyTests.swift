import Crypto
import Foundation
import Testing
import SkrybaPipeline
import SkrybaSystem
import SkrybaStore

extension StoreTests {
    /// The device's Ed25519 key: made once with private modes, refused when others can read it, and
    /// interoperable with the RFC 8032 vectors (and so with OpenSSL, which reads the same PEM).
    @Suite struct DeviceKeyTests {
        /// RFC 8032 §7.1 test 1, as PKCS #8 PEM (what `openssl genpkey -algorithm ed25519` writes).
        static let rfc8032PEM = """
            -----BEGIN PRIVATE KEY-----
            MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
            -----END PRIVATE KEY-----

            """
        static let rfc8032PublicKey = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"

        static func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
        }

        @Test func firstStartMakesAPrivateKeyOnceAndLogsIt() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-key")
            let catalog = try Catalog(dataDirectory: directory)
            let key = try DeviceKey.loadOrCreate(dataDirectory: directory, audit: catalog.audit, at: StoreTime.t0)
            #expect(key.path == "\(directory)/keys/device-ed25519.key")
            #expect(try Self.mode("\(directory)/keys") == 0o700)
            #expect(try Self.mode(key.path) == 0o600)
            #expect(!FileManager.default.fileExists(atPath: key.path + ".tmp"))
            let pem = try String(contentsOfFile: key.path, encoding: .utf8)
            #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI"))
            #expect(pem.hasSuffix("\n-----END PRIVATE KEY-----\n"))

            #expect(key.publicKey.count == 32)
            #expect(key.publicKeyHex == key.publicKey.hexString)
            #expect(key.fingerprint == String(Data(SHA256.hash(data: key.publicKey)).hexString.prefix(16)))

            let again = try DeviceKey.loadOrCreate(dataDirectory: directory, audit: catalog.audit, at: StoreTime.at(60))
            #expect(again.publicKey == key.publicKey)
            let entries = try catalog.audit.entries()
            #expect(entries.map(\.kind) == ["device-key-created"])
            #expect(entries[0].decodedDetails == ["public_key": key.publicKeyHex, "fingerprint": key.fingerprint,
                                                  "path": "keys/device-ed25519.key"])
        }

        @Test func aKeyOthersCanReadIsRefused() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-key-mode")
            let key = try DeviceKey.loadOrCreate(dataDirectory: directory, audit: nil, at: StoreTime.t0)
            try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: key.path)
            let error = #expect(throws: DeviceKeyError.insecureMode(path: key.path, mode: 0o640)) {
                try DeviceKey.loadOrCreate(dataDirectory: directory, audit: nil, at: StoreTime.t0)
            }
            #expect(error?.description == "device key \(key.path) has mode 0640, readable by group or others; "
                + "refusing to use it (run: chmod 600 \(key.path), and consider the key exposed)")
            try FileManager.default.setAttributes([.posixPermissions: 0o604], ofItemAtPath: key.path)
            #expect(throws: DeviceKeyError.insecureMode(path: key.path, mode: 0o604)) { try DeviceKey.load(path: key.path) }
            try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: key.path)
            #expect(try DeviceKey.load(path: key.path).publicKey == key.publicKey)
        }

        @Test func theRFC8032KeyLoadsSignsAndVerifies() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-key-rfc")
            let path = "\(directory)/device-ed25519.key"
            #expect(FileManager.default.createFile(atPath: path, contents: Data(Self.rfc8032PEM.utf8), attributes: [.posixPermissions: 0o600]))
            let key = try DeviceKey.load(path: path)
            #expect(key.publicKeyHex == Self.rfc8032PublicKey)
            #expect(key.fingerprint == "21fe31dfa154a261")
            // RFC 8032 §7.1 test 1: the signature of the empty message.
            let rfcSignature = Data(hex: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
            #expect(DeviceKey.verify(signature: rfcSignature, message: Data(), publicKey: key.publicKey))

            // docs/storage.md's checkpoint example: entry 2 of the entry-hash example, signed with this key.
            let message = AuditCheckpoint.message(seq: 2, hash: Data(hex: "472896d11f16c1af019bdafa29f54cf5f5cc8f15b3c43d7d2670e164c28e0feb"))
            let documented = Data(hex: "8d2d219cd8bb368f9eb5f76c540b81bd49f037638237ce64dec7f247e4b7df8d793961e6a0fce7d645fe6e11db3f0c4f7da8808210944f7fc90c932ec7323100")
            #expect(DeviceKey.verify(signature: documented, message: message, publicKey: key.publicKey))
            let signature = key.sign(message)
            #expect(signature.count == 64)
            #expect(DeviceKey.verify(signature: signature, message: message, publicKey: key.publicKey))
            var altered = message
            altered[altered.count - 1] ^= 1
            #expect(!DeviceKey.verify(signature: signature, message: altered, publicKey: key.publicKey))
            #expect(!DeviceKey.verify(signature: signature, message: message, publicKey: Data(count: 31)))
        }

        @Test func aFileThatIsNotAKeyIsNamed() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-key-malformed")
            let path = "\(directory)/device-ed25519.key"
            let cases: [(String, String)] = [
                ("hello", "no '-----BEGIN PRIVATE KEY-----' … '-----END PRIVATE KEY-----' block"),
                ("-----BEGIN PRIVATE KEY-----\n%%%\n-----END PRIVATE KEY-----\n", "the PEM body is not base64"),
                // An X25519 key: right shape, wrong algorithm.
                ("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VuBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n",
                 "not an Ed25519 PKCS #8 private key (48 bytes of DER)"),
            ]
            for (contents, reason) in cases {
                #expect(FileManager.default.createFile(atPath: path, contents: Data(contents.utf8), attributes: [.posixPermissions: 0o600]))
                let error = #expect(throws: DeviceKeyError.malformed(path: path, reason: reason)) { try DeviceKey.load(path: path) }
                #expect(error?.description == "device key \(path) is not a Skryba device key: \(reason)")
            }
            #expect(throws: DeviceKeyError.self) { try DeviceKey.load(path: "\(directory)/absent.key") }
        }
    }
}

extension Data {
    init(hex: String) {
        let digits = Array(hex.utf8)
        self.init(stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)! })
    }
}

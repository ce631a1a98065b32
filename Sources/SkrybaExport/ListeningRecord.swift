import Crypto
import Foundation
import SkrybaStore

/// Who listened to a bundle's recordings on IT's workstation, who was present and when
/// (`skryba-tools listen`), signed with the listener's Ed25519 key; imported back into the
/// appliance's register with `skryba requests listened --record FILE`. The appliance never holds
/// audio it can open, yet knows who listened (docs/disclosure.md, "Listening").
public struct ListeningRecord: Codable, Equatable, Sendable {
    public static let format = "skryba-listening/1"
    static let signatureDomain = "skryba-listening-record/v1\n"

    public struct Body: Codable, Equatable, Sendable {
        public var format: String
        public var request: String
        /// SHA-256 of the bundle's manifest.json: which export was heard.
        public var manifestSHA256: String
        public var recordings: [String]
        public var listenedBy: String
        public var present: [String]
        public var started: String
        public var ended: String

        public init(format: String, request: String, manifestSHA256: String, recordings: [String], listenedBy: String, present: [String],
                    started: String, ended: String) {
            (self.format, self.request, self.manifestSHA256, self.recordings) = (format, request, manifestSHA256, recordings)
            (self.listenedBy, self.present, self.started, self.ended) = (listenedBy, present, started, ended)
        }

        enum CodingKeys: String, CodingKey {
            case format, request, recordings, present, started = "started_utc", ended = "ended_utc"
            case manifestSHA256 = "manifest_sha256", listenedBy = "listened_by"
        }
    }

    /// The body exactly as signed (JSON text).
    public var body: String
    public var publicKey: String
    public var signature: String

    enum CodingKeys: String, CodingKey { case body, publicKey = "public_key", signature }

    public static func make(_ body: Body, signer: DeviceKey) -> ListeningRecord {
        let text = String(decoding: BundleManifest.json(body), as: UTF8.self)
        return ListeningRecord(body: text, publicKey: signer.publicKeyHex,
                               signature: signer.sign(Data(Array(signatureDomain.utf8) + Array(text.utf8))).base64EncodedString())
    }

    public func encoded() -> [UInt8] { Array(BundleManifest.json(self)) + [0x0A] }

    /// Parses and checks the signature; the body and the signer's fingerprint.
    public static func open(_ bytes: [UInt8], path: String) throws(BundleProblem) -> (Body, signer: String) {
        let decoder = JSONDecoder()
        guard let record = try? decoder.decode(ListeningRecord.self, from: Data(bytes)) else {
            throw BundleProblem("\(path) is not a listening record (skryba-tools listen writes them)")
        }
        guard let key = Data(hexString: record.publicKey), key.count == 32, let signature = Data(base64Encoded: record.signature),
              DeviceKey.verify(signature: signature, message: Data(Array(signatureDomain.utf8) + Array(record.body.utf8)), publicKey: key) else {
            throw BundleProblem("\(path): the listening record's signature does not verify: it was altered after it was signed")
        }
        guard let body = try? decoder.decode(Body.self, from: Data(record.body.utf8)), body.format == format else {
            throw BundleProblem("\(path): the signed body is not a \(format) listening record")
        }
        return (body, DeviceKey.fingerprint(of: key))
    }
}

import Crypto
import Foundation
import SkrybaStore

/// `manifest.json` of an export bundle (docs/disclosure.md, "The bundle"): what is in it, why, and
/// who pulled it. Signed by the device key in `manifest.sig`.
public struct BundleManifest: Codable, Equatable, Sendable {
    public static let format = "skryba-export/1"
    public static let fileName = "manifest.json"
    public static let signatureName = "manifest.sig"
    public static let excerptName = "audit-excerpt.json"
    static let signatureDomain = "skryba-export-manifest/v1\n"

    public struct Device: Codable, Equatable, Sendable {
        public var publicKey: String
        public var fingerprint: String
        enum CodingKeys: String, CodingKey { case publicKey = "public_key", fingerprint }
    }

    public struct Request: Codable, Equatable, Sendable {
        public var reference: String
        public var kind: String
        public var received: String
        public var decision: String
        public var decidedBy: String
        public var decided: String
        public var reason: String
        public var includesRestricted: Bool
        public var authority: String?
        public var legalBasis: String?
        public var approver: String?
        public var caseReference: String?
        public var opinions: [Opinion]

        public struct Opinion: Codable, Equatable, Sendable {
            public var role: String
            public var by: String
            public var at: String
            public var text: String
        }

        enum CodingKeys: String, CodingKey {
            case reference, kind, received, decision, reason, authority, approver, opinions
            case decidedBy = "decided_by", decided = "decided_utc", includesRestricted = "includes_restricted"
            case legalBasis = "legal_basis", caseReference = "case_reference"
        }
    }

    public struct Recording: Codable, Equatable, Sendable {
        public var id: String
        public var file: String
        public var size: UInt64
        public var sha256: String
        public var line: Int
        public var lineNumber: String?
        public var direction: String
        public var start: String
        public var durationMs: Int64?
        public var status: String
        public var callerNumber: String?
        public var calledNumber: String?
        public var announcementID: String?
        public var announcementSHA256: String?
        public var announcementCompleted: Bool?
        public var consent: String?
        public var restricted: Bool
        public var gaps: Int

        enum CodingKeys: String, CodingKey {
            case id, file, size, sha256, line, direction, status, consent, restricted, gaps
            case lineNumber = "line_number", start = "start_utc", durationMs = "duration_ms", callerNumber = "caller_number"
            case calledNumber = "called_number", announcementID = "announcement_id", announcementSHA256 = "announcement_sha256"
            case announcementCompleted = "announcement_completed"
        }
    }

    public struct Excluded: Codable, Equatable, Sendable {
        public var id: String
        public var reason: String
    }

    public struct Excerpt: Codable, Equatable, Sendable {
        public var file: String
        public var sha256: String
        public var firstSeq: Int64
        public var lastSeq: Int64
        enum CodingKeys: String, CodingKey { case file, sha256, firstSeq = "first_seq", lastSeq = "last_seq" }
    }

    public var format: String
    public var kind: String
    public var export: Int64
    public var created: String
    public var device: Device
    public var request: Request?
    public var pulledBy: ExportClient
    public var recordings: [Recording]
    public var excluded: [Excluded]
    public var auditExcerpt: Excerpt

    enum CodingKeys: String, CodingKey {
        case format, kind, export, device, request, recordings, excluded
        case created = "created_utc", pulledBy = "pulled_by", auditExcerpt = "audit_excerpt"
    }

    public func encoded() -> [UInt8] { Array(Self.json(self)) }

    static func json<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dataEncodingStrategy = .base64
        // Encoding these plain structs cannot fail.
        return try! encoder.encode(value)
    }

    public static func signedMessage(_ manifest: [UInt8]) -> Data { Data(Array(signatureDomain.utf8) + manifest) }

    /// "R000012" → "recordings/R000012.skryba".
    public static func memberName(_ id: RecordingID) -> String { "recordings/\(id).skryba" }
}

extension ExportClient {
    /// OpenSSH's SHA256 fingerprint ("SHA256:" + unpadded base64) of a public key line or blob.
    public static func fingerprint(ofKeyBlob blob: Data) -> String {
        "SHA256:" + Data(SHA256.hash(data: blob)).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// The key sshd says authenticated the session, from the file `ExposeAuthInfo yes` names in
    /// SSH_USER_AUTH ("publickey ssh-ed25519 AAAA…" lines; the last one is the key that succeeded).
    public static func fingerprint(fromUserAuth text: String) -> String? {
        let keys = text.split(separator: "\n").compactMap { line -> Data? in
            let fields = line.split(separator: " ")
            guard fields.count >= 3, fields[0] == "publickey" else { return nil }
            return Data(base64Encoded: String(fields[2]))
        }
        return keys.last.map(fingerprint(ofKeyBlob:))
    }
}

func hex(_ digest: some Sequence<UInt8>) -> String { digest.map { String(format: "%02x", $0) }.joined() }

public func sha256Hex(_ bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }

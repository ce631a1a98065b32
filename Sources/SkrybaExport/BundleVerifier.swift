import Crypto
import Foundation
import SkrybaStore

/// Checks an export bundle as IT receives it (docs/disclosure.md, "Verifying a bundle"): the
/// manifest's signature by the pinned device key, every file's size and SHA-256 against the manifest,
/// and the audit excerpt — every entry's hash, the chain from its first entry to a checkpoint signed
/// by the same key, and that it records the recordings and the decision the manifest claims.
/// The first problem found is thrown with its exact reason.
public enum BundleVerifier {
    public struct Verified {
        public var manifest: BundleManifest
        public var manifestBytes: [UInt8]
        public var excerpt: AuditExcerpt
        public var manifestSHA256: String { hex(SHA256.hash(data: manifestBytes)) }
    }

    /// Bundles are tar files: "ustar" at offset 257 of the first header.
    public static func isBundle(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let start = try? handle.read(upToCount: 263), start.count == 263 else { return false }
        return Array(start[257..<262]) == Array("ustar".utf8)
    }

    /// `pinned`: the device key IT pinned, as its 16-hex-digit fingerprint or its 64-hex-digit key;
    /// nil checks everything against the key the manifest names (and says so).
    public static func verify(_ path: String, pinned: String?) throws(BundleProblem) -> Verified {
        var files: [String: (size: UInt64, sha256: String)] = [:]
        var manifestBytes: [UInt8]?, signatureBytes: [UInt8]?, excerptBytes: [UInt8]?
        do {
            var reader = try TarReader(path: path)
            while let member = try reader.next() {
                guard files[member.name] == nil, !(member.name == BundleManifest.fileName && manifestBytes != nil) else {
                    throw BundleProblem("\(member.name) appears twice in the bundle")
                }
                switch member.name {
                case BundleManifest.fileName: manifestBytes = try reader.contents(member, limit: 64 << 20)
                case BundleManifest.signatureName: signatureBytes = try reader.contents(member, limit: 4096)
                case BundleManifest.excerptName: excerptBytes = try reader.contents(member, limit: 1 << 30)
                case let name where name.hasPrefix("recordings/") && name.hasSuffix(".skryba") && !name.contains(".."):
                    var hasher = SHA256()
                    while let piece = try reader.chunk() { hasher.update(data: piece) }
                    files[name] = (member.size, hex(hasher.finalize()))
                default:
                    throw BundleProblem("\(member.name) is not part of a Skryba bundle")
                }
            }
        } catch let problem as BundleProblem {
            throw problem
        } catch {
            throw BundleProblem("\(path): \(error)")
        }
        guard let manifestBytes else { throw BundleProblem("\(path) has no \(BundleManifest.fileName): it is not a Skryba bundle, or it is cut short") }
        guard let signatureBytes else { throw BundleProblem("\(path) has no \(BundleManifest.signatureName): the manifest is not signed") }
        guard let excerptBytes else { throw BundleProblem("\(path) has no \(BundleManifest.excerptName)") }

        let decoder = JSONDecoder()
        let manifest: BundleManifest
        do { manifest = try decoder.decode(BundleManifest.self, from: Data(manifestBytes)) } catch {
            throw BundleProblem("\(BundleManifest.fileName) is not a Skryba manifest: \(error.localizedDescription)")
        }
        guard manifest.format == BundleManifest.format else {
            throw BundleProblem("\(BundleManifest.fileName) is format '\(manifest.format)'; this tool reads \(BundleManifest.format)")
        }
        guard let publicKey = Data(hexString: manifest.device.publicKey), publicKey.count == 32 else {
            throw BundleProblem("\(BundleManifest.fileName): device.public_key is not 64 hex digits")
        }
        let fingerprint = DeviceKey.fingerprint(of: publicKey)
        if let pinned = pinned?.lowercased() {
            guard pinned == fingerprint || pinned == publicKey.hexString else {
                throw BundleProblem("the bundle is signed by device key \(fingerprint), not by the pinned \(pinned): it does not come from the pinned appliance")
            }
        }
        let signatureText = String(decoding: signatureBytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let signature = Data(base64Encoded: signatureText), signature.count == 64 else {
            throw BundleProblem("\(BundleManifest.signatureName) is not a base64 Ed25519 signature")
        }
        guard DeviceKey.verify(signature: signature, message: BundleManifest.signedMessage(manifestBytes), publicKey: publicKey) else {
            throw BundleProblem("\(BundleManifest.signatureName): the signature does not verify with device key \(fingerprint): \(BundleManifest.fileName) or its signature was altered")
        }

        for recording in manifest.recordings {
            guard let file = files.removeValue(forKey: recording.file) else {
                throw BundleProblem("\(recording.file) (recording \(recording.id)) is in the manifest but not in the bundle")
            }
            guard file.size == recording.size else {
                throw BundleProblem("\(recording.file): \(file.size) bytes, the manifest says \(recording.size): the file was altered")
            }
            guard file.sha256 == recording.sha256 else {
                throw BundleProblem("\(recording.file): SHA-256 \(file.sha256), the manifest says \(recording.sha256): the file was altered")
            }
        }
        if let stray = files.keys.sorted().first { throw BundleProblem("\(stray) is in the bundle but not in the signed manifest") }

        let excerpt: AuditExcerpt
        do { excerpt = try decoder.decode(AuditExcerpt.self, from: Data(excerptBytes)) } catch {
            throw BundleProblem("\(BundleManifest.excerptName) is not an audit excerpt: \(error.localizedDescription)")
        }
        try checkExcerpt(excerpt, publicKey: publicKey, fingerprint: fingerprint)
        let excerptHash = hex(SHA256.hash(data: excerptBytes))
        guard excerptHash == manifest.auditExcerpt.sha256 else {
            throw BundleProblem("\(BundleManifest.excerptName): SHA-256 \(excerptHash), the manifest says \(manifest.auditExcerpt.sha256): the audit excerpt was altered")
        }
        try checkExcerptRecords(manifest, excerpt)
        return Verified(manifest: manifest, manifestBytes: manifestBytes, excerpt: excerpt)
    }

    static func checkExcerpt(_ excerpt: AuditExcerpt, publicKey: Data, fingerprint: String) throws(BundleProblem) {
        let name = BundleManifest.excerptName
        guard let first = excerpt.entries.first, let last = excerpt.entries.last else { throw BundleProblem("\(name) holds no entries") }
        var previous: AuditEntry?
        for entry in excerpt.entries {
            if let previous {
                guard entry.seq == previous.seq + 1 else {
                    throw BundleProblem("\(name): entry \(entry.seq) follows entry \(previous.seq): entries are missing from the excerpt")
                }
                guard entry.prevHash == previous.hash else {
                    throw BundleProblem("\(name): entry \(entry.seq)'s prev_hash is not entry \(previous.seq)'s hash: the chain is broken")
                }
            }
            guard entry.recomputedHash == entry.hash else {
                throw BundleProblem("\(name): entry \(entry.seq) (\(entry.kind)) does not match its hash: the entry was altered")
            }
            previous = entry
        }
        guard let checkpoint = excerpt.checkpoints.first(where: { $0.seq == last.seq }) else {
            throw BundleProblem("\(name): its last entry \(last.seq) is not a signed checkpoint, so entries \(first.seq)–\(last.seq) cannot be authenticated")
        }
        guard checkpoint.hash == last.hash else {
            throw BundleProblem("\(name): the checkpoint at entry \(last.seq) signs another hash than the entry's")
        }
        guard checkpoint.publicKey == publicKey else {
            throw BundleProblem("\(name): the checkpoint at entry \(last.seq) is signed by device key \(DeviceKey.fingerprint(of: checkpoint.publicKey)), not \(fingerprint)")
        }
        guard checkpoint.isSignatureValid else {
            throw BundleProblem("\(name): the checkpoint signature at entry \(last.seq) does not verify with device key \(fingerprint)")
        }
    }

    /// What the manifest claims must be what the log recorded: each recording's file hash when it
    /// was finished, the request's grant, and the export's start.
    static func checkExcerptRecords(_ manifest: BundleManifest, _ excerpt: AuditExcerpt) throws(BundleProblem) {
        let name = BundleManifest.excerptName
        for recording in manifest.recordings {
            let about = excerpt.entries.filter { $0.subject == recording.id }
            guard !about.isEmpty else { throw BundleProblem("\(name) records nothing about recording \(recording.id)") }
            if let hashed = about.last(where: { $0.decodedDetails?["file_sha256"] != nil }), let logged = hashed.decodedDetails?["file_sha256"],
               logged != recording.sha256 {
                throw BundleProblem("\(recording.file): SHA-256 \(recording.sha256), but the audit log recorded \(logged) when the recording was finished (entry \(hashed.seq))")
            }
        }
        if let request = manifest.request {
            guard excerpt.entries.contains(where: { $0.subject == request.reference && $0.kind == AuditKind.requestDecided.rawValue
                                                    && $0.decodedDetails?["decision"] == "granted" }) else {
                throw BundleProblem("\(name) does not record that request \(request.reference) was granted")
            }
        }
        let started = manifest.kind == "backup" ? AuditKind.backupExportStarted : AuditKind.exportStarted
        guard excerpt.entries.contains(where: { $0.kind == started.rawValue && $0.decodedDetails?["export"] == String(manifest.export) }) else {
            throw BundleProblem("\(name) does not record the start of export \(manifest.export)")
        }
    }

    /// The recordings' sealed bytes, one at a time, for `decrypt` (after `verify`).
    public static func forEachRecording(_ path: String, _ body: (String, [UInt8]) throws -> Void) throws {
        var reader = try TarReader(path: path)
        while let member = try reader.next() {
            guard member.name.hasPrefix("recordings/") else { continue }
            try body(member.name, try reader.contents(member, limit: 4 << 30))
        }
    }
}

extension Data {
    init?(hexString: String) {
        guard hexString.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = hexString.startIndex
        while index < hexString.endIndex {
            let next = hexString.index(index, offsetBy: 2)
            guard let byte = UInt8(hexString[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }

    var hexString: String { hex(self) }
}

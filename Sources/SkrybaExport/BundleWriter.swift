import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SkrybaStore

/// Streams an export bundle: each sealed file as stored (never decrypted), read and written in
/// 64 KiB pieces and hashed as it goes; then the audit excerpt, the manifest with the hashes, and
/// its signature. Memory stays constant whatever the recordings weigh; nothing is copied to disk.
public struct BundleWriter {
    public struct Result {
        public var bytes: UInt64
        public var manifestSHA256: String
    }

    /// Why the stream stopped, with the bytes that had gone out.
    public struct Interrupted: Error, CustomStringConvertible {
        public var bytes: UInt64
        public var description: String
    }

    public let dataDirectory: String
    public let signer: DeviceKey

    public init(dataDirectory: String, signer: DeviceKey) {
        self.dataDirectory = dataDirectory
        self.signer = signer
    }

    /// Writes the bundle to file descriptor `output` (stdout for `export-serve`).
    public func write(_ plan: ExportPlan, exportID: Int64, client: ExportClient, excerpt: AuditExcerpt, lineNumbers: [RecordingID: String],
                      to output: Int32, at now: Date) throws(Interrupted) -> Result {
        var tar = TarWriter { bytes in try Self.writeAll(output, bytes) }
        do {
            // Every file is opened before the first byte goes out: a missing one refuses the export whole.
            var files: [(ExportItem, Int32, UInt64)] = []
            defer { for file in files { close(file.1) } }
            for item in plan.items {
                let path = "\(dataDirectory)/\(item.filePath)"
                let descriptor = open(path, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else { throw BundleProblem("\(item.filePath) (recording \(item.recording.id)) cannot be opened: \(String(cString: strerror(errno)))") }
                var status = stat()
                fstat(descriptor, &status)
                files.append((item, descriptor, UInt64(status.st_size)))
            }
            var recordings: [BundleManifest.Recording] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            for (item, descriptor, size) in files {
                let row = item.recording
                let name = BundleManifest.memberName(row.id)
                try tar.beginFile(name: name, size: size, modificationTime: row.updatedUTC)
                var hasher = SHA256()
                var left = size
                while left > 0 {
                    let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, min($0.count, Int(clamping: left))) }
                    guard count > 0 else { throw BundleProblem("\(item.filePath) became shorter while it was being sent") }
                    try buffer.withUnsafeBytes { raw in
                        let piece = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                        hasher.update(bufferPointer: piece)
                        try tar.content(piece)
                    }
                    left -= UInt64(count)
                }
                let candidate = Candidate(recording: row, lineNumber: lineNumbers[row.id])
                recordings.append(BundleManifest.Recording(
                    id: row.id.description, file: name, size: size, sha256: hex(hasher.finalize()), line: row.line,
                    lineNumber: lineNumbers[row.id], direction: row.direction.rawValue, start: UTCTimestamp.string(from: row.startUTC),
                    durationMs: row.durationMs, status: row.status.rawValue, callerNumber: candidate.callingNumber,
                    calledNumber: candidate.calledNumber, announcementID: row.announcement?.id,
                    announcementSHA256: row.announcement?.sha256, announcementCompleted: row.announcement?.completed,
                    consent: row.consent?.rawValue, restricted: row.isRestricted, gaps: row.gaps.count))
            }
            let excerptBytes = Array(BundleManifest.json(excerpt))
            try tar.file(name: BundleManifest.excerptName, bytes: excerptBytes, modificationTime: now)
            let manifest = BundleManifest(
                format: BundleManifest.format, kind: plan.kind.rawValue, export: exportID, created: UTCTimestamp.string(from: now),
                device: .init(publicKey: signer.publicKeyHex, fingerprint: signer.fingerprint),
                request: plan.request.map(Self.describe), pulledBy: client, recordings: recordings,
                excluded: plan.excluded.map { .init(id: $0.0.description, reason: $0.1) },
                auditExcerpt: .init(file: BundleManifest.excerptName, sha256: hex(SHA256.hash(data: excerptBytes)),
                                    firstSeq: excerpt.entries.first?.seq ?? 0, lastSeq: excerpt.entries.last?.seq ?? 0))
            let manifestBytes = manifest.encoded()
            try tar.file(name: BundleManifest.fileName, bytes: manifestBytes, modificationTime: now)
            let signature = signer.sign(BundleManifest.signedMessage(manifestBytes)).base64EncodedString() + "\n"
            try tar.file(name: BundleManifest.signatureName, bytes: Array(signature.utf8), modificationTime: now)
            try tar.finish()
            return Result(bytes: tar.bytesWritten, manifestSHA256: hex(SHA256.hash(data: manifestBytes)))
        } catch {
            throw Interrupted(bytes: tar.bytesWritten, description: "\(error)")
        }
    }

    static func describe(_ request: DisclosureRequest) -> BundleManifest.Request {
        BundleManifest.Request(
            reference: request.reference, kind: request.kind.rawValue, received: UTCTimestamp.string(from: request.receivedUTC),
            decision: request.decision?.rawValue ?? "", decidedBy: request.decidedBy ?? "",
            decided: request.decidedUTC.map(UTCTimestamp.string(from:)) ?? "", reason: request.decisionReason ?? "",
            includesRestricted: request.includesRestricted, authority: request.authority?.rawValue, legalBasis: request.legalBasis,
            approver: request.approver?.rawValue, caseReference: request.caseReference,
            opinions: request.opinions.map { .init(role: $0.role.rawValue, by: $0.by, at: UTCTimestamp.string(from: $0.atUTC), text: $0.text) })
    }

    /// A broken connection shows here as EPIPE (SIGPIPE is ignored by export-serve).
    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw BundleProblem(errno == EPIPE ? "the connection was closed by the other side (EPIPE)" : "writing failed: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }
}

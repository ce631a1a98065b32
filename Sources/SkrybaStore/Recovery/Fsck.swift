import Crypto
import Foundation
import SkrybaSeal
import SkrybaSystem

/// One thing recovery found, and what (if anything) it did about it.
public struct FsckFinding: Equatable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        /// A recording cut by a crash or power loss, closed as `interrupted` with its surviving audio.
        case closedInterrupted = "closed-interrupted"
        /// A recording whose final record was durable but whose row was not updated: closed as `complete`.
        case closedComplete = "closed-complete"
        /// A torn tail cut back to the last whole record.
        case truncatedTornTail = "truncated-torn-tail"
        /// Damage in the middle of a file; left untouched for IT (`skryba-tools verify`).
        case damagedFile = "damaged-file"
        case rowWithoutFile = "row-without-file"
        case fileWithoutRow = "file-without-row"
        /// A finished recording whose file no longer has the size (or hash) the catalog recorded.
        case fileChanged = "file-changed"
        /// A deletion cut short by a crash, finished: file removed (if still there), row marked deleted.
        case finishedDeletion = "finished-deletion"
        /// A file still present for a recording the catalog says was deleted: removed.
        case deletedFileRemoved = "deleted-file-removed"
        /// A secured copy whose copying was cut short: copied again and entered as made.
        case finishedSecuredCopy = "finished-secured-copy"
        /// A secured copy the register says was destroyed, whose file was still there: removed.
        case destroyedCopyRemoved = "destroyed-copy-removed"
    }

    public var kind: Kind
    /// The recording id, or the path for a file without a row.
    public var subject: String
    public var message: String

    public var description: String { "\(subject): \(message)" }
}

public struct FsckReport: Sendable, Codable {
    public var findings: [FsckFinding]
    public var recordingsChecked: Int
    public var filesChecked: Int
}

/// Reconciles the catalog with the sealed files after a crash or power loss, without any key
/// (docs/storage.md, "Recovery"). It truncates torn tails to the last whole record, closes rows
/// left in `recording`, and reports files without rows and rows without files. It never deletes a
/// file and never changes one it cannot explain: a file damaged in the middle is only reported.
/// Every finding is also an `fsck-finding` audit entry.
public enum Fsck {
    /// - Parameter deep: also re-hash every finished file against the catalog (reads all audio).
    /// - Parameter signer: when given, deletions recovery finished get a signed `deletion-receipt`.
    /// - Parameter progress: called with (recordings checked, recordings in all) as the check goes.
    public static func run(dataDirectory: String, catalog: Catalog, deep: Bool = false, signer: DeviceKey? = nil,
                           at now: Date, progress: (Int, Int) -> Void = { _, _ in }) throws -> FsckReport {
        var findings = try finishInterruptedDeletions(dataDirectory: dataDirectory, catalog: catalog, signer: signer, at: now)
        let rows = try catalog.recordings()
        var referenced = Set<String>()
        for (index, row) in rows.enumerated() {
            defer { progress(index + 1, rows.count) }
            if let path = row.filePath { referenced.insert(path) }
            if row.isDeleted { continue }  // settled above
            let finding: FsckFinding? = switch row.status {
            case .recording: try close(row, dataDirectory: dataDirectory, catalog: catalog, at: now)
            case .complete, .interrupted: try check(row, dataDirectory: dataDirectory, deep: deep)
            case .discarded, .failed: nil
            }
            if let finding { findings.append(finding) }
        }
        let recordings = "\(dataDirectory)/\(DataLayout.recordingsDirectory)"
        let files = Directory.files(under: recordings)
        for file in files {
            let relative = String(file.dropFirst(dataDirectory.count + 1))
            if !referenced.contains(relative) {
                findings.append(FsckFinding(kind: .fileWithoutRow, subject: relative,
                                            message: "no catalog row refers to this file; kept as it is"))
            }
        }
        for finding in findings {
            try catalog.audit.append(.fsckFinding, subject: finding.subject,
                                     details: ["kind": finding.kind.rawValue, "message": finding.message], at: now)
        }
        return FsckReport(findings: findings, recordingsChecked: rows.count, filesChecked: files.count)
    }

    /// Retention's crash-safe deletion and secured copies, settled before anything else
    /// (docs/retention.md, "Crash-safe deletion"): a deletion whose intent was committed is finished
    /// (the intent is the decision; only its execution was cut short), a file left behind by a
    /// deleted row or a destroyed copy is removed, and a copy cut short while copying is made again.
    static func finishInterruptedDeletions(dataDirectory: String, catalog: Catalog, signer: DeviceKey?,
                                           at now: Date) throws -> [FsckFinding] {
        var findings: [FsckFinding] = []
        var finished: [DeletedItem] = []
        for row in try Deletion.unfinished(catalog) {
            let present = row.filePath.map { FileManager.default.fileExists(atPath: "\(dataDirectory)/\($0)") } ?? false
            let item = try Deletion.finish(row, dataDirectory: dataDirectory, actor: catalog.audit.actor, at: now, catalog: catalog)
            finished.append(item)
            let started = row.deletionStartedUTC.map(UTCTimestamp.string(from:)) ?? "?"
            let file = row.filePath.map { present ? "removed \($0)" : "\($0) was already gone" } ?? "it had no file"
            findings.append(FsckFinding(kind: .finishedDeletion, subject: "\(row.id)",
                                        message: "deletion (\(row.deletionRule ?? "")) begun at \(started) was cut short; \(file); marked deleted"))
        }
        for row in try catalog.recordings() where row.deletedUTC != nil {
            guard let relative = row.filePath, FileManager.default.fileExists(atPath: "\(dataDirectory)/\(relative)") else { continue }
            try Deletion.removeDurably("\(dataDirectory)/\(relative)")
            findings.append(FsckFinding(kind: .deletedFileRemoved, subject: "\(row.id)",
                                        message: "deleted at \(row.deletedUTC.map(UTCTimestamp.string(from:)) ?? "?") (\(row.deletionRule ?? "")) but \(relative) was back; removed"))
        }
        if let signer, !finished.isEmpty {
            try catalog.appendDeletionReceipt(finished, signer: signer, actor: catalog.audit.actor, at: now)
        }
        let copies = SecuredCopies(catalog: catalog, dataDirectory: dataDirectory)
        for path in try copies.sweepDestroyed() {
            findings.append(FsckFinding(kind: .destroyedCopyRemoved, subject: path,
                                        message: "the register says this secured copy was destroyed, but the file was still there; removed"))
        }
        for copy in try copies.unfinished() {
            let made = try copies.makeFile(of: copy, actor: catalog.audit.actor, at: now)
            findings.append(FsckFinding(kind: .finishedSecuredCopy, subject: "secured copy \(copy.sequence)",
                                        message: "copying \(copy.recording) was cut short; copied again to \(made.filePath)"))
        }
        let registered = Set(try copies.register().map(\.filePath))
        for file in Directory.files(under: "\(dataDirectory)/\(SecuredCopies.directory)") {
            let relative = String(file.dropFirst(dataDirectory.count + 1))
            if !registered.contains(relative) {
                findings.append(FsckFinding(kind: .fileWithoutRow, subject: relative,
                                            message: "no entry of the secured-copies register refers to this file; kept as it is"))
            }
        }
        for copy in try copies.register() where copy.madeUTC != nil && !copy.isDestroyed {
            if !FileManager.default.fileExists(atPath: "\(dataDirectory)/\(copy.filePath)") {
                findings.append(FsckFinding(kind: .rowWithoutFile, subject: "secured copy \(copy.sequence)",
                                            message: "the register lists \(copy.filePath), but it is missing"))
            }
        }
        return findings
    }

    /// A row still `recording`: the writer never finished. Settle it from what the file holds.
    static func close(_ row: RecordingRow, dataDirectory: String, catalog: Catalog, at now: Date) throws -> FsckFinding {
        let id = row.id
        guard let relative = row.filePath else {
            try catalog.finish(id, status: .interrupted, endFrame: nil, durationMs: 0, fileSize: nil, fileSHA256: nil,
                               reason: "the recording stopped before its file was created", at: now)
            return FsckFinding(kind: .rowWithoutFile, subject: "\(id)",
                               message: "was recording but no file was ever created; closed as interrupted with no audio")
        }
        let path = "\(dataDirectory)/\(relative)"
        guard let bytes = try? FileDescriptor.open(path, .readOnly).readingAll(path: path) else {
            try catalog.finish(id, status: .interrupted, endFrame: nil, durationMs: 0, fileSize: nil, fileSHA256: nil,
                               reason: "its file \(relative) is missing", at: now)
            return FsckFinding(kind: .rowWithoutFile, subject: "\(id)", message: "was recording but \(relative) is missing; closed as interrupted")
        }
        let layout: SealedFileLayout
        do { layout = try SealedRecordingReader.scan(bytes) } catch {
            // Not even the header survived: nothing to keep, but the file is left for inspection.
            try catalog.finish(id, status: .interrupted, endFrame: nil, durationMs: 0, fileSize: Int64(bytes.count),
                               fileSHA256: sha256(bytes[...]), reason: "\(relative): \(error)", at: now)
            return FsckFinding(kind: .closedInterrupted, subject: "\(id)", message: "\(relative): \(error); closed as interrupted with no audio")
        }
        var kept = bytes[...]
        var note = ""
        switch layout.tail {
        case .torn(let offset, let reason):
            let file = try FileDescriptor.open(path, .readWrite)
            defer { try? file.close() }
            try file.truncateDurably(to: Int64(offset), path: path)
            kept = bytes[0..<offset]
            note = "; torn tail cut at byte \(offset) (\(reason))"
        case .corrupted(_, let reason):
            note = "; damaged in the middle, left untouched (\(reason))"
        case .trailingData(let offset):
            note = "; bytes after the final record from byte \(offset), left untouched"
        case .closed, .interrupted:
            break
        }
        // The granule counts 48 kHz samples including the encoder's pre-skip (6.5 ms): an upper bound.
        let durationMs = Int64(layout.position / 48)
        let complete = layout.tail == .closed
        try catalog.finish(id, status: complete ? .complete : .interrupted, endFrame: nil, durationMs: durationMs,
                           fileSize: Int64(kept.count), fileSHA256: sha256(kept),
                           reason: complete ? "closed by recovery: the final record was on disk" : "cut by a crash or power loss\(note)", at: now)
        return FsckFinding(kind: complete ? .closedComplete : .closedInterrupted, subject: "\(id)",
                           message: (complete ? "final record found; closed as complete" : "closed as interrupted with \(layout.records.count) whole record(s), \(durationMs) ms of audio")
                               + note)
    }

    /// A finished row: its file must be there, as it was finished.
    static func check(_ row: RecordingRow, dataDirectory: String, deep: Bool) throws -> FsckFinding? {
        guard let relative = row.filePath else { return nil }
        let path = "\(dataDirectory)/\(relative)"
        guard let file = try? FileDescriptor.open(path, .readOnly) else {
            return FsckFinding(kind: .rowWithoutFile, subject: "\(row.id)", message: "\(row.status.rawValue) but \(relative) is missing")
        }
        defer { try? file.close() }
        let size = try file.size(path: path)
        if let expected = row.fileSize, expected != size {
            return FsckFinding(kind: .fileChanged, subject: "\(row.id)",
                               message: "\(relative) is \(size) bytes but the catalog recorded \(expected); left untouched")
        }
        if deep, let expected = row.fileSHA256, sha256(try file.readAll(path: path)[...]) != expected {
            return FsckFinding(kind: .fileChanged, subject: "\(row.id)",
                               message: "\(relative) no longer has the SHA-256 the catalog recorded; left untouched")
        }
        return nil
    }

    static func sha256(_ bytes: ArraySlice<UInt8>) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }
}

extension FileDescriptor {
    /// Reads the whole file and closes it.
    func readingAll(path: String) throws(FileError) -> [UInt8] {
        defer { try? close() }
        return try readAll(path: path)
    }
}

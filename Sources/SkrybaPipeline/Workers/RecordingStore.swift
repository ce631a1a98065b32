import Foundation
import SkrybaSeal
import SkrybaStore
import SkrybaSystem

/// Plain Ogg Opus files `DIR/PREFIX-NN.opus` (the unsealed bench, encoder experiments): a storage
/// service destination. With `syncOnFlush`, every record (flush interval) is fsync'ed.
public final class PlainFileStore: RecordingDestination {
    public let directory: String
    public let prefix: String
    public let syncOnFlush: Bool

    public init(directory: String, prefix: String = "line", syncOnFlush: Bool = false) {
        self.directory = directory
        self.prefix = prefix
        self.syncOnFlush = syncOnFlush
    }

    public func open(_ call: CallRecord) throws -> OpenedRecording {
        let path = "\(directory)/\(prefix)-\(String(format: "%02d", call.line)).opus"
        return OpenedRecording(id: path, path: path, writer: try PlainRecordWriter(path: path, syncEachRecord: syncOnFlush))
    }

    public func finish(_ recording: OpenedRecording, call: CallRecord, endFrame: UInt64, durationMs: Int64, failure: String?, gaps: [RecordingGap]) {
        recording.writer.abandon()
    }

    public func discarded(_ call: CallRecord, endFrame: UInt64, durationMs: Int64, reason: String) throws -> String? { nil }
}

/// Sealed recordings `DIR/PREFIX-NN.skryba`, not catalogued (the bench). Unlike the appliance's
/// store it replaces a file left by an earlier run of its own (the writer itself never overwrites).
public final class SealedFileStore: RecordingDestination {
    public let directory: String
    public let prefix: String
    public let recipients: [AgeRecipient]
    public let syncEachRecord: Bool

    public init(directory: String, prefix: String = "line", recipients: [AgeRecipient], syncEachRecord: Bool = true) {
        self.directory = directory
        self.prefix = prefix
        self.recipients = recipients
        self.syncEachRecord = syncEachRecord
    }

    public func open(_ call: CallRecord) throws -> OpenedRecording {
        let path = "\(directory)/\(prefix)-\(String(format: "%02d", call.line)).skryba"
        if unlink(path) != 0 && errno != ENOENT { throw FileError(operation: "unlink", path: path, errno: errno) }
        return OpenedRecording(id: path, path: path, writer: try SealedRecordingWriter(path: path, recipients: recipients, syncEachRecord: syncEachRecord))
    }

    public func finish(_ recording: OpenedRecording, call: CallRecord, endFrame: UInt64, durationMs: Int64, failure: String?, gaps: [RecordingGap]) {
        recording.writer.abandon()
    }

    public func discarded(_ call: CallRecord, endFrame: UInt64, durationMs: Int64, reason: String) throws -> String? { nil }
}

/// Appends each record's Ogg pages to a plain file (created or truncated, mode 0640).
final class PlainRecordWriter: RecordWriter {
    let path: String
    private let syncEachRecord: Bool
    private var file: FileDescriptor?
    private(set) var bytesWritten: Int64 = 0

    init(path: String, syncEachRecord: Bool) throws(FileError) {
        file = try .open(path, .truncate(permissions: 0o640))
        self.path = path
        self.syncEachRecord = syncEachRecord
    }

    func append(_ plaintext: UnsafeRawBufferPointer, position: UInt64, final: Bool) throws {
        guard let file else { return }
        try file.writeAll(plaintext, path: path)
        bytesWritten += Int64(plaintext.count)
        if syncEachRecord { try file.sync(path: path) }
    }

    func abandon() {
        try? file?.close(path: path)
        file = nil
    }
}

import Foundation
import SkrybaOgg
import SkrybaSeal
import SkrybaSystem

/// Where a line's recording goes: the file (and, on the appliance, its catalog row) is opened when
/// the line starts and settled when it ends.
public protocol RecordingStore: AnyObject {
    associatedtype Sink: OggPageSink
    /// Opens storage for `line` (1-based); returns the sink and the path for reports.
    func open(line: Int, startUTC: Date, startFrame: UInt64) throws -> (sink: Sink, path: String)
    /// Called once per line from its worker thread, after the stream ended (cleanly or not).
    func finish(_ completion: LineCompletion<Sink>, sampleRate: Int)
}

/// Plain Ogg Opus files `DIR/PREFIX-NN.opus` (the unsealed bench, encoder experiments).
public final class PlainFileStore: RecordingStore {
    public let directory: String
    public let prefix: String
    public let syncOnFlush: Bool

    public init(directory: String, prefix: String = "line", syncOnFlush: Bool = false) {
        self.directory = directory
        self.prefix = prefix
        self.syncOnFlush = syncOnFlush
    }

    public func open(line: Int, startUTC: Date, startFrame: UInt64) throws -> (sink: FileSink, path: String) {
        let path = "\(directory)/\(prefix)-\(String(format: "%02d", line)).opus"
        return (try FileSink(path: path, syncOnFlush: syncOnFlush), path)
    }

    public func finish(_ completion: LineCompletion<FileSink>, sampleRate: Int) { try? completion.sink.close() }
}

/// Sealed recordings `DIR/PREFIX-NN.skryba`, not catalogued (the bench). Unlike the appliance's
/// store it replaces a file left by an earlier run of its own (the writer itself never overwrites).
public final class SealedFileStore: RecordingStore {
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

    public func open(line: Int, startUTC: Date, startFrame: UInt64) throws -> (sink: SealedSink, path: String) {
        let path = "\(directory)/\(prefix)-\(String(format: "%02d", line)).skryba"
        if unlink(path) != 0 && errno != ENOENT { throw FileError(operation: "unlink", path: path, errno: errno) }
        return (SealedSink(writer: try SealedRecordingWriter(path: path, recipients: recipients, syncEachRecord: syncEachRecord)), path)
    }

    public func finish(_ completion: LineCompletion<SealedSink>, sampleRate: Int) { completion.sink.writer.abandon() }
}

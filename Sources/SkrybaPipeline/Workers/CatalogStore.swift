import Foundation
import SkrybaSeal
import SkrybaStore
import SkrybaSystem

/// The appliance's store: each recording gets its catalog row first (status `recording`, audited),
/// then its sealed file at `recordings/YYYY/MM/DD/<id>.skryba`; when the line ends the row becomes
/// `complete` (with size and SHA-256 of the sealed file) or `interrupted` (with what is durable).
/// A crash in between is settled by `Fsck` at the next start.
public final class CatalogStore: RecordingStore, @unchecked Sendable {
    public let dataDirectory: String
    public let catalog: Catalog
    public let recipients: [AgeRecipient]
    /// Told after every durable record: (recording id, records, stream position).
    public var onDurable: ((RecordingID, UInt64, UInt64) -> Void)?
    private var identifiers: [Int: RecordingID] = [:]
    private let lock = NSLock()

    public init(dataDirectory: String, catalog: Catalog, recipients: [AgeRecipient]) throws {
        guard !recipients.isEmpty else { throw SealedWriterError.noRecipients }
        self.dataDirectory = dataDirectory
        self.catalog = catalog
        self.recipients = recipients
    }

    public func open(line: Int, startUTC: Date, startFrame: UInt64) throws -> (sink: SealedSink, path: String) {
        let id = try catalog.insert(NewRecording(line: line, direction: .line, startUTC: startUTC, startFrame: startFrame,
                                                 recipients: recipients.map(\.description)), at: Date())
        let relative = DataLayout.recordingPath(id, startUTC: startUTC)
        let path = "\(dataDirectory)/\(relative)"
        try Directory.create((path as NSString).deletingLastPathComponent)
        let writer = try SealedRecordingWriter(path: path, recipients: recipients)
        try catalog.setFile(id, relativePath: relative, at: Date())
        if let onDurable { writer.onDurable = { records, position in onDurable(id, records, position) } }
        lock.withLock { identifiers[line] = id }
        return (SealedSink(writer: writer), path)
    }

    public func finish(_ completion: LineCompletion<SealedSink>, sampleRate: Int) {
        guard let id = lock.withLock({ identifiers[completion.line] }) else { return }
        let writer = completion.sink.writer
        let clean = completion.failure == nil && writer.isFinished
        writer.abandon()
        do {
            try catalog.finish(id, status: clean ? .complete : .interrupted, endFrame: completion.endFrame,
                               durationMs: completion.capturedSamples * 1000 / Int64(sampleRate),
                               fileSize: writer.bytesWritten, fileSHA256: writer.sha256,
                               reason: completion.failure, at: Date())
        } catch {
            // The row stays `recording`; recovery settles it from the file at the next start.
            FileHandle.standardError.write(Data("skrybad: cannot finish \(id) in the catalog: \(error)\n".utf8))
        }
    }

    /// The recording ids this store opened, by line.
    public var recordingIDs: [Int: RecordingID] { lock.withLock { identifiers } }
}

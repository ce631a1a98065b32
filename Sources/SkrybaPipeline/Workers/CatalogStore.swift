import Foundation
import SkrybaSeal
import SkrybaStore
import SkrybaSystem

/// The appliance's store: each recording gets its catalog row first (status `recording`, audited),
/// then its sealed file at `recordings/YYYY/MM/DD/<id>.skryba`; when the line ends the row becomes
/// `complete` (with size and SHA-256 of the sealed file) or `interrupted` (with what is durable).
/// A crash in between is settled by `Fsck` at the next start.
public final class CatalogStore: RecordingStore, @unchecked Sendable {
    public let calls: CallStore
    /// Told after every durable record: (recording id, records, stream position).
    public var onDurable: ((RecordingID, UInt64, UInt64) -> Void)? {
        get { calls.onDurable }
        set { calls.onDurable = newValue }
    }
    private var identifiers: [Int: RecordingID] = [:]
    private let lock = NSLock()

    public init(dataDirectory: String, catalog: Catalog, recipients: [AgeRecipient]) throws {
        calls = try CallStore(dataDirectory: dataDirectory, catalog: catalog, recipients: recipients)
    }

    public func open(line: Int, startUTC: Date, startFrame: UInt64) throws -> (sink: SealedSink, path: String) {
        let started = try calls.open(NewRecording(line: line, direction: .line, startUTC: startUTC, startFrame: startFrame,
                                                  recipients: calls.recipients.map(\.description)))
        lock.withLock { identifiers[line] = started.id }
        return (SealedSink(writer: started.writer), started.writer.path)
    }

    public func finish(_ completion: LineCompletion<SealedSink>, sampleRate: Int) {
        guard let id = lock.withLock({ identifiers[completion.line] }) else { return }
        calls.finish(CallStore.Started(id: id, writer: completion.sink.writer), call: nil, endFrame: completion.endFrame,
                     durationMs: completion.capturedSamples * 1000 / Int64(sampleRate), failure: completion.failure, gaps: completion.gaps)
    }
}

import Foundation
import SkrybaSeal
import SkrybaStore
import SkrybaSystem

/// The appliance's store for the whole-line mode: each line's recording goes through the storage
/// service into `CallStore` as calls do — its catalog row first (status `recording`, audited, direction
/// `line`), then its sealed file at `recordings/YYYY/MM/DD/<id>.skryba`; when the line ends the row
/// becomes `complete` or `interrupted` (with what is durable). A crash in between is settled by `Fsck`.
public final class CatalogStore: RecordingDestination, @unchecked Sendable {
    public let calls: CallStore
    /// Told after every durable record: (recording id, records, stream position).
    public var onDurable: ((RecordingID, UInt64, UInt64) -> Void)? {
        get { calls.onDurable }
        set { calls.onDurable = newValue }
    }

    public init(dataDirectory: String, catalog: Catalog, recipients: [AgeRecipient]) throws {
        calls = try CallStore(dataDirectory: dataDirectory, catalog: catalog, recipients: recipients)
    }

    public func open(_ call: CallRecord) throws -> OpenedRecording { try calls.open(call) }

    public func finish(_ recording: OpenedRecording, call: CallRecord, endFrame: UInt64, durationMs: Int64, failure: String?, gaps: [RecordingGap]) {
        calls.finish(recording, call: call, endFrame: endFrame, durationMs: durationMs, failure: failure, gaps: gaps)
    }

    public func discarded(_ call: CallRecord, endFrame: UInt64, durationMs: Int64, reason: String) throws -> String? {
        try calls.discarded(call, endFrame: endFrame, durationMs: durationMs, reason: reason) as String?
    }
}

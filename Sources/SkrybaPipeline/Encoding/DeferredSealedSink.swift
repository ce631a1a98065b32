import SkrybaOgg
import SkrybaSeal
import SkrybaSystem

/// An Ogg page sink for a call whose consent is not settled yet: pages stay in memory, grouped by
/// flush interval, until the call is handed to the storage service (`handOver`; its storage thread
/// then seals the groups with `commit`, each as one record, as if it had been written live, and every
/// later flush interval goes through the line's `StorageQueue`) — or `discard` wipes them, and
/// nothing of the call ever reached flash.
public struct DeferredSealedSink: OggPageSink {
    public final class Storage: @unchecked Sendable {
        fileprivate var groups: [(plaintext: [UInt8], position: UInt64)] = []
        fileprivate var pending: [UInt8] = []
        fileprivate var granule: UInt64 = 0
        public fileprivate(set) var writer: SealedRecordingWriter?
        public fileprivate(set) var isDiscarded = false
        /// Set by the line's worker when the call is handed to the storage service: from then on each
        /// flush interval is queued as one record (the storage thread writes the backlog first).
        public fileprivate(set) var queue: StorageQueue?
        /// Records the queue had no room for (the worker's gating keeps this at zero; a bug otherwise).
        public fileprivate(set) var unqueuedRecords = 0

        /// Worker thread: the storage service takes over; `groups` now belong to its `.open` job.
        public func handOver(to queue: StorageQueue) {
            precondition(self.queue == nil && writer == nil && !isDiscarded)
            self.queue = queue
            // Sized once for a whole flush interval, so a running call never grows it.
            pending.reserveCapacity(queue.buffering.recordBytes)
        }

        /// Storage thread, after the hand-over: seals everything buffered as records.
        public func commit(to writer: SealedRecordingWriter) throws {
            precondition(self.writer == nil && !isDiscarded)
            self.writer = writer
            for group in groups { try writer.append(group.plaintext, position: group.position, final: false) }
            wipe(&groups)
        }

        /// Destroys the buffered audio (overwritten, then released).
        public func discard() {
            isDiscarded = true
            wipe(&groups)
            SecureWipe.wipe(&pending)
        }

        private func wipe(_ groups: inout [(plaintext: [UInt8], position: UInt64)]) {
            for index in groups.indices {
                SecureWipe.wipe(&groups[index].plaintext)
            }
            groups = []
        }
    }

    public let storage = Storage()

    public init() {}

    public mutating func write(page: UnsafeRawBufferPointer) throws {
        guard !storage.isDiscarded else { return }
        storage.pending.append(contentsOf: page)
        let pageGranule = page.loadUnaligned(fromByteOffset: 6, as: UInt64.self).littleEndian
        if pageGranule != UInt64.max { storage.granule = max(storage.granule, pageGranule) }
    }

    public mutating func flush(isFinal: Bool) throws {
        guard !storage.isDiscarded, !storage.pending.isEmpty || isFinal else { return }
        if let queue = storage.queue {
            let granule = storage.granule
            if !storage.pending.withUnsafeBytes({ queue.push(record: $0, position: granule, final: isFinal) }) { storage.unqueuedRecords += 1 }
        } else {
            precondition(!isFinal, "a call is committed before it is finished")
            storage.groups.append((storage.pending, storage.granule))
        }
        storage.pending.removeAll(keepingCapacity: true)
    }

    /// Nothing is written from the worker: before the hand-over the call is in memory, after it the
    /// storage thread owns the writer (the catalog has the file's size).
    public var bytesWritten: Int { 0 }
}

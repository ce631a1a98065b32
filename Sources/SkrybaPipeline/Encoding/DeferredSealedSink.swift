import SkrybaOgg
import SkrybaSeal

/// An Ogg page sink for a call whose consent is not settled yet: pages stay in memory, grouped by
/// flush interval, until `commit` hands them to a sealed writer (each group becomes one record, as if
/// it had been written live) — or `discard` wipes them, and nothing of the call ever reached flash.
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
        }

        /// Seals everything buffered as records and writes through from now on.
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
            for index in pending.indices { pending[index] = 0 }
            pending = []
        }

        private func wipe(_ groups: inout [(plaintext: [UInt8], position: UInt64)]) {
            for index in groups.indices {
                for byte in groups[index].plaintext.indices { groups[index].plaintext[byte] = 0 }
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
        } else if let writer = storage.writer {
            try writer.append(storage.pending, position: storage.granule, final: isFinal)
        } else {
            precondition(!isFinal, "a call is committed before it is finished")
            storage.groups.append((storage.pending, storage.granule))
        }
        storage.pending.removeAll(keepingCapacity: true)
    }

    /// Zero once queued: the storage thread owns the writer then.
    public var bytesWritten: Int { storage.queue == nil ? Int(storage.writer?.bytesWritten ?? 0) : 0 }
}

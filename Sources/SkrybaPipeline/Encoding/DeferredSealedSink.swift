import SkrybaOgg
import SkrybaSeal
import SkrybaSystem

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
        if let writer = storage.writer {
            try writer.append(storage.pending, position: storage.granule, final: isFinal)
        } else {
            precondition(!isFinal, "a call is committed before it is finished")
            storage.groups.append((storage.pending, storage.granule))
        }
        storage.pending.removeAll(keepingCapacity: true)
    }

    public var bytesWritten: Int { Int(storage.writer?.bytesWritten ?? 0) }
}

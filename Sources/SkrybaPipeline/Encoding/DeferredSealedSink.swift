import SkrybaOgg
import SkrybaSeal
import SkrybaSystem

/// An Ogg page sink for a call whose consent is not settled yet: pages stay in memory, grouped by
/// flush interval, until the call is handed to the storage service (`handOver`; its storage thread
/// then seals the groups with `commit`, each as one record, as if it had been written live, and every
/// later flush interval goes through the line's `StorageQueue`) — or `discard` wipes them, and
/// nothing of the call ever reached flash. A whole line's recording (no consent to wait for) is
/// handed over at once: the one sink every recording path uses.
///
/// The plaintext lives in buffers of fixed capacity allocated with the sink (sized for the longest
/// wait for consent the line's policy allows, `Capacity.awaitingConsent`), never grown or moved, so
/// `explicit_bzero` on discard (or when the sink goes away) reaches every copy there ever was.
public struct DeferredSealedSink: OggPageSink {
    /// How much plaintext the sink can hold.
    public struct Capacity: Equatable, Sendable {
        /// Bytes of pages before the hand-over (every group and the interval being filled).
        public var bytes: Int
        /// Flush intervals before the hand-over.
        public var groups: Int
        /// Bytes of one flush interval after the hand-over (the storage queue's record size).
        public var recordBytes: Int

        public init(bytes: Int, groups: Int, recordBytes: Int) {
            self.bytes = max(bytes, 1)
            self.groups = max(groups, 1)
            self.recordBytes = max(recordBytes, 1)
        }

        /// Room for `frames` of audio awaiting consent plus one flush interval, at four times the
        /// nominal bitrate (VBR peaks, Ogg overhead) and the headers: the storage queue's margin.
        public static func awaitingConsent(frames: UInt64, rate: Int, bitrate: Int, flushFrames: Int) -> Capacity {
            let rate = max(rate, 1), flushFrames = max(flushFrames, 1)
            let frames = Int(clamping: frames) + 2 * flushFrames
            let recordBytes = bitrate / 8 * flushFrames / rate * 4 + 2048
            return Capacity(bytes: bitrate / 8 * frames / rate * 4 + 8192, groups: frames / flushFrames + 2, recordBytes: recordBytes)
        }
    }

    /// The audio awaiting consent outgrew the sink (a policy longer than it was sized for).
    public struct Overflow: Error, CustomStringConvertible {
        public let capacity: Int
        public var description: String {
            "the audio awaiting the caller's consent outgrew its \(capacity)-byte buffer; the call is not recorded further"
        }
    }

    public final class Storage: @unchecked Sendable {
        public let capacity: Capacity
        /// Groups, then the interval being filled: `groupEnds[i]` is where group i ends.
        private let plaintext: UnsafeMutableRawBufferPointer
        private let groupEnds: UnsafeMutableBufferPointer<Int>
        private let groupPositions: UnsafeMutableBufferPointer<UInt64>
        fileprivate var groupCount = 0
        /// Bytes in use in `plaintext` (groups and the interval being filled) before the hand-over.
        fileprivate var used = 0
        /// After the hand-over, the interval being filled, `recordUsed` bytes of it.
        private let record: UnsafeMutableRawBufferPointer
        fileprivate var recordUsed = 0
        fileprivate var granule: UInt64 = 0
        public fileprivate(set) var writer: (any RecordWriter)?
        public fileprivate(set) var isDiscarded = false
        /// Set by the line's worker when the call is handed to the storage service: from then on each
        /// flush interval is queued as one record (the storage thread writes the backlog first).
        public fileprivate(set) var queue: StorageQueue?
        /// Records the queue had no room for (the worker's gating keeps this at zero; a bug otherwise).
        public fileprivate(set) var unqueuedRecords = 0

        init(capacity: Capacity) {
            self.capacity = capacity
            plaintext = .allocate(byteCount: capacity.bytes, alignment: 16)
            plaintext.initializeMemory(as: UInt8.self, repeating: 0)
            record = .allocate(byteCount: capacity.recordBytes, alignment: 16)
            record.initializeMemory(as: UInt8.self, repeating: 0)
            groupEnds = .allocate(capacity: capacity.groups)
            groupEnds.initialize(repeating: 0)
            groupPositions = .allocate(capacity: capacity.groups)
            groupPositions.initialize(repeating: 0)
        }

        deinit {
            wipe()
            SecureWipe.wipe(record)
            plaintext.deallocate()
            record.deallocate()
            groupEnds.deallocate()
            groupPositions.deallocate()
        }

        /// Tests: the fixed buffers themselves (where the plaintext is, and stays).
        var buffers: (plaintext: UnsafeRawBufferPointer, record: UnsafeRawBufferPointer, used: Int) {
            (UnsafeRawBufferPointer(plaintext), UnsafeRawBufferPointer(record), used)
        }

        /// Worker thread: the storage service takes over; the groups now belong to its `.open` job, and
        /// the interval being filled moves to the record buffer (the queue takes it at the next flush).
        public func handOver(to queue: StorageQueue) throws(Overflow) {
            precondition(self.queue == nil && writer == nil && !isDiscarded)
            let groupsEnd = groupCount == 0 ? 0 : groupEnds[groupCount - 1]
            let partial = UnsafeMutableRawBufferPointer(rebasing: plaintext[groupsEnd..<used])
            guard partial.count <= record.count else { throw Overflow(capacity: record.count) }
            if let base = partial.baseAddress { record.baseAddress!.copyMemory(from: base, byteCount: partial.count) }
            recordUsed = partial.count
            SecureWipe.wipe(partial)
            used = groupsEnd
            self.queue = queue
        }

        /// Storage thread, after the hand-over: seals everything buffered as records.
        public func commit(to writer: any RecordWriter) throws {
            precondition(self.writer == nil && !isDiscarded)
            self.writer = writer
            var start = 0
            for group in 0..<groupCount {
                let bytes = UnsafeRawBufferPointer(rebasing: plaintext[start..<groupEnds[group]])
                try writer.append(bytes, position: groupPositions[group], final: false)
                start = groupEnds[group]
            }
            SecureWipe.wipe(UnsafeMutableRawBufferPointer(rebasing: plaintext[0..<start]))
            groupCount = 0
        }

        /// Destroys the buffered audio (overwritten with `explicit_bzero`; the buffers never moved).
        public func discard() {
            isDiscarded = true
            wipe()
        }

        private func wipe() {
            SecureWipe.wipe(UnsafeMutableRawBufferPointer(rebasing: plaintext[0..<used]))
            SecureWipe.wipe(UnsafeMutableRawBufferPointer(rebasing: record[0..<recordUsed]))
            used = 0
            recordUsed = 0
            groupCount = 0
        }

        fileprivate func append(_ page: UnsafeRawBufferPointer) throws(Overflow) {
            if queue == nil {
                guard used + page.count <= plaintext.count else { throw Overflow(capacity: plaintext.count) }
                if let base = page.baseAddress { (plaintext.baseAddress! + used).copyMemory(from: base, byteCount: page.count) }
                used += page.count
            } else {
                // A flush interval larger than a queue record could not be queued either.
                guard recordUsed + page.count <= record.count else { throw Overflow(capacity: record.count) }
                if let base = page.baseAddress { (record.baseAddress! + recordUsed).copyMemory(from: base, byteCount: page.count) }
                recordUsed += page.count
            }
        }

        fileprivate func flush(isFinal: Bool) throws(Overflow) {
            if let queue {
                guard recordUsed > 0 || isFinal else { return }
                // Consented audio: the queue copies it, and the buffer is wiped when the sink goes.
                if !queue.push(record: UnsafeRawBufferPointer(rebasing: record[0..<recordUsed]), position: granule, final: isFinal) {
                    unqueuedRecords += 1
                }
                recordUsed = 0
            } else {
                precondition(!isFinal, "a call is committed before it is finished")
                let start = groupCount == 0 ? 0 : groupEnds[groupCount - 1]
                guard used > start else { return }
                guard groupCount < groupEnds.count else { throw Overflow(capacity: plaintext.count) }
                groupEnds[groupCount] = used
                groupPositions[groupCount] = granule
                groupCount += 1
            }
        }
    }

    public let storage: Storage

    public init(capacity: Capacity) { storage = Storage(capacity: capacity) }

    public mutating func write(page: UnsafeRawBufferPointer) throws {
        guard !storage.isDiscarded else { return }
        try storage.append(page)
        let pageGranule = page.loadUnaligned(fromByteOffset: 6, as: UInt64.self).littleEndian
        if pageGranule != UInt64.max { storage.granule = max(storage.granule, pageGranule) }
    }

    public mutating func flush(isFinal: Bool) throws {
        guard !storage.isDiscarded else { return }
        try storage.flush(isFinal: isFinal)
    }

    /// Nothing is written from the worker: before the hand-over the call is in memory, after it the
    /// storage thread owns the writer (the catalog has the file's size).
    public var bytesWritten: Int { 0 }
}

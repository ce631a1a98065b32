import SkrybaOgg
import SkrybaSeal

/// An Ogg page sink that seals: pages gathered during one flush interval become one authenticated
/// record, written and fsync'ed before the next interval starts. The record's cleartext position is
/// the granule of its last page, so recovery knows how much audio survived without any key.
public struct SealedSink: OggPageSink {
    public let writer: SealedRecordingWriter
    private var pending: [UInt8] = []
    private var granule: UInt64 = 0

    public init(writer: SealedRecordingWriter) {
        self.writer = writer
        pending.reserveCapacity(8192)
    }

    public mutating func write(page: UnsafeRawBufferPointer) throws {
        pending.append(contentsOf: page)
        // Bytes 6..13 of an Ogg page header: the granule position (little endian).
        let pageGranule = page.loadUnaligned(fromByteOffset: 6, as: UInt64.self).littleEndian
        if pageGranule != UInt64.max { granule = max(granule, pageGranule) }
    }

    public var bytesWritten: Int { Int(writer.bytesWritten) }

    public mutating func flush(isFinal: Bool) throws {
        guard !pending.isEmpty || isFinal else { return }
        try writer.append(pending, position: granule, final: isFinal)
        pending.removeAll(keepingCapacity: true)
    }
}

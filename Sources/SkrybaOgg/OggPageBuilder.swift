/// Assembles the pages of one logical Ogg bitstream (RFC 3533) in buffers reserved up front, so
/// building a page allocates nothing once the stream is running.
///
/// Packets never span pages here: an Opus packet is at most 1275 bytes, so a page is finished
/// before a packet that would not fit, and the continuation flag is never needed.
public struct OggPageBuilder {
    public static let headerBytes = 27
    public static let maximumSegments = 255

    public let serialNumber: UInt32
    public private(set) var pageSequence: UInt32 = 0
    private var segments: [UInt8] = []
    private var body: [UInt8] = []
    private var page: [UInt8] = []
    private var granulePosition: Int64 = -1
    public private(set) var packetsOnPage = 0

    public init(serialNumber: UInt32) {
        self.serialNumber = serialNumber
        segments.reserveCapacity(Self.maximumSegments)
        body.reserveCapacity(Self.maximumSegments * 255)
        page.reserveCapacity(Self.headerBytes + Self.maximumSegments + Self.maximumSegments * 255)
    }

    /// Whether a packet of `length` bytes still fits on the current page.
    public func canAppend(packetLength length: Int) -> Bool {
        segments.count + length / 255 + 1 <= Self.maximumSegments
    }

    /// Adds a whole packet; `granulePosition` is the stream position after it (codec-defined units).
    public mutating func append(packet: UnsafeRawBufferPointer, granulePosition: Int64) {
        precondition(canAppend(packetLength: packet.count), "finish the page before appending a packet that does not fit")
        var remaining = packet.count
        while remaining >= 255 {
            segments.append(255)
            remaining -= 255
        }
        segments.append(UInt8(remaining))  // a 0 lacing value ends a packet whose length is a multiple of 255
        body.append(contentsOf: packet)
        self.granulePosition = granulePosition
        packetsOnPage += 1
    }

    /// Sets the granule position the next finished page carries (end trimming on the last page).
    public mutating func setGranulePosition(_ position: Int64) { granulePosition = position }

    /// Builds the page from the packets appended since the last one, and passes its bytes to `body`
    /// (valid only during the call).
    public mutating func finishPage<Result>(
        endOfStream: Bool, _ deliver: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result {
        var flags: UInt8 = 0
        if pageSequence == 0 { flags |= 0x02 }  // beginning of stream
        if endOfStream { flags |= 0x04 }
        page.removeAll(keepingCapacity: true)
        // "OggS", version 0, flags: byte by byte (an array literal here would allocate on every page).
        page.append(0x4F)
        page.append(0x67)
        page.append(0x67)
        page.append(0x53)
        page.append(0)
        page.append(flags)
        appendLittleEndian(UInt64(bitPattern: granulePosition), to: &page)
        appendLittleEndian(serialNumber, to: &page)
        appendLittleEndian(pageSequence, to: &page)
        appendLittleEndian(UInt32(0), to: &page)  // CRC, filled below
        page.append(UInt8(segments.count))
        page.append(contentsOf: segments)
        page.append(contentsOf: body)
        let crc = page.withUnsafeBytes { OggCRC.checksum($0) }
        page.withUnsafeMutableBytes { $0.storeBytes(of: crc.littleEndian, toByteOffset: 22, as: UInt32.self) }
        pageSequence += 1
        segments.removeAll(keepingCapacity: true)
        body.removeAll(keepingCapacity: true)
        packetsOnPage = 0
        return try page.withUnsafeBytes(deliver)
    }
}

@inline(__always)
func appendLittleEndian<Integer: FixedWidthInteger>(_ value: Integer, to bytes: inout [UInt8]) {
    var value = value.littleEndian
    withUnsafeBytes(of: &value) { bytes.append(contentsOf: $0) }
}

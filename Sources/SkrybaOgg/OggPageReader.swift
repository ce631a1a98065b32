/// One parsed Ogg page.
public struct OggPage: Equatable, Sendable {
    public var offset: Int
    public var isContinuation: Bool
    public var isBeginningOfStream: Bool
    public var isEndOfStream: Bool
    public var granulePosition: Int64
    public var serialNumber: UInt32
    public var sequenceNumber: UInt32
    /// Lengths of the packets (or packet pieces) on the page, from the lacing values.
    public var segments: [UInt8]
    public var body: [UInt8]
    /// Whether the last packet on the page continues on the next one.
    public var endsWithPartialPacket: Bool { segments.last == 255 }
}

public enum OggParseError: Error, Equatable, CustomStringConvertible {
    case notOgg(offset: Int)
    case unsupportedVersion(offset: Int, version: UInt8)
    case truncatedPage(offset: Int)
    case checksumMismatch(offset: Int, stored: UInt32, computed: UInt32)

    public var description: String {
        switch self {
        case .notOgg(let offset): "byte \(offset): expected an Ogg page (\"OggS\")"
        case .unsupportedVersion(let offset, let version): "byte \(offset): Ogg stream structure version \(version) is not 0"
        case .truncatedPage(let offset): "byte \(offset): the page is cut short (the file ends inside it)"
        case .checksumMismatch(let offset, let stored, let computed):
            "byte \(offset): page checksum is 0x\(String(stored, radix: 16)) but the page hashes to 0x\(String(computed, radix: 16))"
        }
    }
}

/// Parses a whole Ogg file into pages (and packets), checking every page's CRC.
public enum OggReader {
    public static func pages(in bytes: [UInt8]) throws(OggParseError) -> [OggPage] {
        var pages: [OggPage] = []
        var offset = 0
        while offset < bytes.count {
            let page = try page(in: bytes, at: offset)
            offset += OggPageBuilder.headerBytes + page.segments.count + page.body.count
            pages.append(page)
        }
        return pages
    }

    public static func page(in bytes: [UInt8], at offset: Int) throws(OggParseError) -> OggPage {
        let header = OggPageBuilder.headerBytes
        guard bytes.count - offset >= header else { throw .truncatedPage(offset: offset) }
        guard bytes[offset..<offset + 4].elementsEqual("OggS".utf8) else { throw .notOgg(offset: offset) }
        guard bytes[offset + 4] == 0 else { throw .unsupportedVersion(offset: offset, version: bytes[offset + 4]) }
        let segmentCount = Int(bytes[offset + 26])
        guard bytes.count - offset >= header + segmentCount else { throw .truncatedPage(offset: offset) }
        let segments = Array(bytes[offset + header..<offset + header + segmentCount])
        let bodyLength = segments.reduce(0) { $0 + Int($1) }
        let end = offset + header + segmentCount + bodyLength
        guard end <= bytes.count else { throw .truncatedPage(offset: offset) }
        let stored = littleEndian(UInt32.self, bytes, offset + 22)
        var copy = Array(bytes[offset..<end])
        copy[22] = 0; copy[23] = 0; copy[24] = 0; copy[25] = 0
        let computed = copy.withUnsafeBytes { OggCRC.checksum($0) }
        guard stored == computed else { throw .checksumMismatch(offset: offset, stored: stored, computed: computed) }
        let flags = bytes[offset + 5]
        return OggPage(offset: offset, isContinuation: flags & 1 != 0, isBeginningOfStream: flags & 2 != 0,
                       isEndOfStream: flags & 4 != 0,
                       granulePosition: Int64(bitPattern: littleEndian(UInt64.self, bytes, offset + 6)),
                       serialNumber: littleEndian(UInt32.self, bytes, offset + 14),
                       sequenceNumber: littleEndian(UInt32.self, bytes, offset + 18),
                       segments: segments, body: Array(bytes[offset + header + segmentCount..<end]))
    }

    /// Reassembles packets across pages (for one logical stream).
    public static func packets(in pages: [OggPage]) -> [[UInt8]] {
        var packets: [[UInt8]] = []
        var current: [UInt8] = []
        for page in pages {
            var cursor = 0
            for lacing in page.segments {
                current += page.body[cursor..<cursor + Int(lacing)]
                cursor += Int(lacing)
                if lacing < 255 {
                    packets.append(current)
                    current = []
                }
            }
        }
        return packets
    }

    static func littleEndian<Integer: FixedWidthInteger>(_: Integer.Type, _ bytes: [UInt8], _ offset: Int) -> Integer {
        var value = Integer.zero
        for index in (0..<MemoryLayout<Integer>.size).reversed() { value = value << 8 | Integer(bytes[offset + index]) }
        return value
    }
}

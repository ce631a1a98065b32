import Foundation

/// The metrics of a TrueType font that a PDF needs, read from the font's own tables (head, hhea,
/// hmtx, cmap format 4, post, OS/2): advance widths measure text for line wrapping, the rest fills
/// the PDF font descriptor. The file's bytes are embedded unchanged (FontFile2).
public struct TrueTypeFont: Sendable {
    public let path: String
    public let bytes: [UInt8]
    /// The PostScript-style name used as /BaseFont: the file's name without extension ("DejaVuSans-Bold").
    public let postScriptName: String
    public let unitsPerEm: Int
    public let boundingBox: (xMin: Int, yMin: Int, xMax: Int, yMax: Int)
    public let ascender: Int
    public let descender: Int
    public let capHeight: Int
    public let italicAngle: Double
    public let isFixedPitch: Bool
    let advances: [UInt16]
    let unicodeToGlyph: [UInt32: UInt16]

    public init(path: String) throws(DocumentError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .fontMissing(path: path) }
        try self.init(bytes: [UInt8](data), path: path)
    }

    init(bytes: [UInt8], path: String) throws(DocumentError) {
        self.path = path
        self.bytes = bytes
        let reader = FontReader(bytes: bytes, path: path)
        postScriptName = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let tables = try reader.tableDirectory()
        func table(_ tag: String) throws(DocumentError) -> Int {
            guard let offset = tables[tag] else { throw .badFont(path: path, "it has no '\(tag)' table") }
            return offset
        }
        let head = try table("head")
        unitsPerEm = Int(try reader.u16(head + 18))
        guard unitsPerEm > 0 else { throw .badFont(path: path, "its head table gives 0 units per em") }
        boundingBox = (Int(try reader.i16(head + 36)), Int(try reader.i16(head + 38)), Int(try reader.i16(head + 40)), Int(try reader.i16(head + 42)))

        let hhea = try table("hhea")
        ascender = Int(try reader.i16(hhea + 4))
        descender = Int(try reader.i16(hhea + 6))
        let metricsCount = Int(try reader.u16(hhea + 34))
        guard metricsCount > 0 else { throw .badFont(path: path, "its hhea table lists no horizontal metrics") }
        let hmtx = try table("hmtx")
        var advances: [UInt16] = []
        advances.reserveCapacity(metricsCount)
        for index in 0..<metricsCount { advances.append(try reader.u16(hmtx + 4 * index)) }
        self.advances = advances

        let post = try table("post")
        italicAngle = Double(try reader.i32(post + 4)) / 65536
        isFixedPitch = try reader.u32(post + 12) != 0

        if let os2 = tables["OS/2"], try reader.u16(os2) >= 2 {
            capHeight = Int(try reader.i16(os2 + 88))
        } else {
            capHeight = ascender * 7 / 10
        }
        unicodeToGlyph = try reader.unicodeCmap(at: try table("cmap"))
    }

    /// The glyph for `scalar`, nil when the font has none.
    public func glyph(for scalar: Unicode.Scalar) -> UInt16? { unicodeToGlyph[scalar.value] }

    /// Advance width of `scalar` in 1/1000 em (PDF glyph space); 0 when the font lacks it.
    public func width(of scalar: Unicode.Scalar) -> Double {
        guard let glyph = glyph(for: scalar) else { return 0 }
        let advance = advances[min(Int(glyph), advances.count - 1)]  // the last advance repeats (hmtx)
        return Double(advance) * 1000 / Double(unitsPerEm)
    }

    /// Scales font units to 1/1000 em.
    func scaled(_ units: Int) -> Int { units * 1000 / unitsPerEm }
}

/// Big-endian reads with bounds checks: a truncated or foreign file is a sentence, not a crash.
struct FontReader {
    let bytes: [UInt8]
    let path: String

    func u8(_ offset: Int) throws(DocumentError) -> UInt8 {
        guard offset >= 0, offset < bytes.count else { throw .badFont(path: path, "it ends before byte \(offset) (truncated?)") }
        return bytes[offset]
    }
    func u16(_ offset: Int) throws(DocumentError) -> UInt16 { UInt16(try u8(offset)) << 8 | UInt16(try u8(offset + 1)) }
    func i16(_ offset: Int) throws(DocumentError) -> Int16 { Int16(bitPattern: try u16(offset)) }
    func u32(_ offset: Int) throws(DocumentError) -> UInt32 { UInt32(try u16(offset)) << 16 | UInt32(try u16(offset + 2)) }
    func i32(_ offset: Int) throws(DocumentError) -> Int32 { Int32(bitPattern: try u32(offset)) }

    /// Tag → offset of each table.
    func tableDirectory() throws(DocumentError) -> [String: Int] {
        try tableRecords().mapValues(\.offset)
    }

    /// Tag → offset and length of each table.
    func tableRecords() throws(DocumentError) -> [String: (offset: Int, length: Int)] {
        let version = try u32(0)
        guard version == 0x0001_0000 || version == 0x7472_7565 else {  // 1.0 or 'true'
            throw .badFont(path: path, "it is not a TrueType font (sfnt version 0x\(String(version, radix: 16)))")
        }
        var tables: [String: (offset: Int, length: Int)] = [:]
        for index in 0..<Int(try u16(4)) {
            let record = 12 + 16 * index
            var tag = ""
            for byte in 0..<4 { tag.append(Character(Unicode.Scalar(try u8(record + byte)))) }
            let offset = Int(try u32(record + 8)), length = Int(try u32(record + 12))
            guard offset + length <= bytes.count else { throw .badFont(path: path, "its '\(tag)' table runs past the end of the file") }
            tables[tag] = (offset, length)
        }
        return tables
    }

    /// The Unicode BMP mapping of the (3,1) or (0,x) subtable in format 4.
    func unicodeCmap(at cmap: Int) throws(DocumentError) -> [UInt32: UInt16] {
        var subtable: Int?
        for index in 0..<Int(try u16(cmap + 2)) {
            let record = cmap + 4 + 8 * index
            let platform = try u16(record), encoding = try u16(record + 2)
            let offset = cmap + Int(try u32(record + 4))
            guard try u16(offset) == 4 else { continue }
            if platform == 3 && encoding == 1 { subtable = offset; break }
            if platform == 0 && subtable == nil { subtable = offset }
        }
        guard let table = subtable else { throw .badFont(path: path, "its cmap has no Unicode subtable in format 4") }
        let segments = Int(try u16(table + 6)) / 2
        let ends = table + 14, starts = ends + 2 * segments + 2, deltas = starts + 2 * segments, rangeOffsets = deltas + 2 * segments
        var map: [UInt32: UInt16] = [:]
        for segment in 0..<segments {
            let end = try u16(ends + 2 * segment), start = try u16(starts + 2 * segment)
            let delta = try u16(deltas + 2 * segment)
            let rangeOffsetAt = rangeOffsets + 2 * segment
            let rangeOffset = Int(try u16(rangeOffsetAt))
            guard start <= end, start != 0xFFFF else { continue }
            for code in UInt32(start)...UInt32(end) {
                var glyph: UInt16
                if rangeOffset == 0 {
                    glyph = UInt16(truncatingIfNeeded: code &+ UInt32(delta))
                } else {
                    // idRangeOffset counts bytes from its own position into glyphIdArray.
                    glyph = try u16(rangeOffsetAt + rangeOffset + 2 * Int(code - UInt32(start)))
                    if glyph != 0 { glyph = glyph &+ delta }
                }
                if glyph != 0 { map[code] = glyph }
            }
        }
        return map
    }
}

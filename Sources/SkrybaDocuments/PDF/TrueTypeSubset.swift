/// A subset of a TrueType font for embedding: the glyphs of `PDFEncoding` (and the components of
/// composite glyphs) keep their outlines, every other glyph becomes empty, the tables a PDF viewer
/// does not use (layout, kerning, names) are left out and `post` loses its glyph names (format 3).
/// Glyph numbers do not change, so cmap and hmtx are kept as they are. DejaVu Sans goes from 742 KB
/// to about 70 KB.
enum TrueTypeSubset {
    /// What a viewer needs to draw a simple TrueType font (ISO 32000-1 §9.9), with the Unicode cmap
    /// through which it finds the glyphs the /Encoding names (Adobe Glyph List → Unicode → glyph).
    static let keptTables: Set<String> = ["cmap", "cvt ", "fpgm", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "OS/2", "post", "prep"]

    static func subset(_ font: TrueTypeFont, keeping scalars: [Unicode.Scalar]) throws(DocumentError) -> [UInt8] {
        let reader = FontReader(bytes: font.bytes, path: font.path)
        let tables = try reader.tableRecords()
        guard let head = tables["head"], let loca = tables["loca"], let glyf = tables["glyf"], let maxp = tables["maxp"] else {
            throw .badFont(path: font.path, "it has no glyph outlines (head, loca, glyf, maxp)")
        }
        let longOffsets = try reader.i16(head.offset + 50) == 1
        let glyphCount = Int(try reader.u16(maxp.offset + 4))
        func location(_ glyph: Int) throws(DocumentError) -> Int {
            longOffsets ? Int(try reader.u32(loca.offset + 4 * glyph)) : 2 * Int(try reader.u16(loca.offset + 2 * glyph))
        }

        // Glyph 0 (.notdef), the encoding's glyphs, then every component they are built of.
        var wanted: Set<Int> = []
        var pending = [0] + scalars.compactMap { font.glyph(for: $0).map(Int.init) }
        while let glyph = pending.popLast() {
            guard glyph < glyphCount, wanted.insert(glyph).inserted else { continue }
            let start = try location(glyph), end = try location(glyph + 1)
            guard end > start, try reader.i16(glyf.offset + start) < 0 else { continue }
            var component = glyf.offset + start + 10
            while true {
                let flags = try reader.u16(component)
                pending.append(Int(try reader.u16(component + 2)))
                component += 4 + (flags & 0x0001 != 0 ? 4 : 2)
                if flags & 0x0008 != 0 { component += 2 } else if flags & 0x0040 != 0 { component += 4 } else if flags & 0x0080 != 0 { component += 8 }
                if flags & 0x0020 == 0 { break }
            }
        }

        var outlines: [UInt8] = [], offsets: [Int] = []
        for glyph in 0..<glyphCount {
            offsets.append(outlines.count)
            guard wanted.contains(glyph) else { continue }
            let start = try location(glyph), end = try location(glyph + 1)
            guard end >= start, glyf.offset + end <= font.bytes.count else {
                throw .badFont(path: font.path, "glyph \(glyph)'s outline lies outside its glyf table")
            }
            outlines += font.bytes[(glyf.offset + start)..<(glyf.offset + end)]
            while outlines.count % 4 != 0 { outlines.append(0) }
        }
        offsets.append(outlines.count)
        if !longOffsets, outlines.count / 2 > Int(UInt16.max) {
            throw .badFont(path: font.path, "its subset does not fit the short loca format")
        }
        var locations: [UInt8] = []
        for offset in offsets {
            if longOffsets { append32(UInt32(offset), to: &locations) } else { append16(UInt16(offset / 2), to: &locations) }
        }

        var contents: [String: [UInt8]] = [:]
        for (tag, record) in tables where keptTables.contains(tag) {
            contents[tag] = Array(font.bytes[record.offset..<(record.offset + record.length)])
        }
        // post format 3: the header (italic angle, underline, fixed pitch) without glyph names.
        if let post = contents["post"], post.count >= 32 { contents["post"] = [0, 3, 0, 0] + post[4..<32] }
        contents["glyf"] = outlines
        contents["loca"] = locations
        // checkSumAdjustment is computed over the whole file with this field zero.
        contents["head"]?.replaceSubrange(8..<12, with: [0, 0, 0, 0])
        var file = assemble(contents)
        let adjustment = 0xB1B0_AFBA &- checksum(file)
        if let headOffset = headTableOffset(in: file) {
            file.replaceSubrange((headOffset + 8)..<(headOffset + 12), with: bigEndian(adjustment))
        }
        return file
    }

    /// An sfnt file: the offset table, the table records (sorted by tag), the tables 4-byte aligned.
    static func assemble(_ contents: [String: [UInt8]]) -> [UInt8] {
        let tags = contents.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var power = 1, exponent = 0
        while power * 2 <= tags.count { power *= 2; exponent += 1 }
        var file: [UInt8] = []
        append32(0x0001_0000, to: &file)
        for value in [tags.count, power * 16, exponent, tags.count * 16 - power * 16] { append16(UInt16(value), to: &file) }
        var offset = 12 + 16 * tags.count
        var body: [UInt8] = []
        for tag in tags {
            let table = contents[tag] ?? []
            file += Array(tag.utf8)
            append32(checksum(table), to: &file)
            append32(UInt32(offset), to: &file)
            append32(UInt32(table.count), to: &file)
            body += table
            while body.count % 4 != 0 { body.append(0) }
            offset = 12 + 16 * tags.count + body.count
        }
        return file + body
    }

    static func headTableOffset(in file: [UInt8]) -> Int? {
        let count = Int(file[4]) << 8 | Int(file[5])
        for index in 0..<count where Array(file[(12 + 16 * index)..<(16 + 16 * index)]) == Array("head".utf8) {
            let record = 12 + 16 * index + 8
            return Int(file[record]) << 24 | Int(file[record + 1]) << 16 | Int(file[record + 2]) << 8 | Int(file[record + 3])
        }
        return nil
    }

    /// The sum of the big-endian 32-bit words, the last one padded with zeros.
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var sum: UInt32 = 0
        var index = 0
        while index < bytes.count {
            var word: UInt32 = 0
            for byte in 0..<4 { word = word << 8 | UInt32(index + byte < bytes.count ? bytes[index + byte] : 0) }
            sum = sum &+ word
            index += 4
        }
        return sum
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    static func append32(_ value: UInt32, to bytes: inout [UInt8]) { bytes += bigEndian(value) }
    static func append16(_ value: UInt16, to bytes: inout [UInt8]) { bytes += [UInt8(value >> 8), UInt8(value & 0xFF)] }
}

/// A PDF 1.4 file assembled object by object: numbered indirect objects, the cross-reference table
/// and the trailer (ISO 32000-1 §7.5). Nothing is compressed, so the file is plain to inspect.
struct PDFObjectFile {
    private var bodies: [[UInt8]] = []

    /// A number for an object written later (pages point to their parent before it exists).
    mutating func reserve() -> Int {
        bodies.append([])
        return bodies.count
    }

    mutating func set(_ number: Int, _ body: [UInt8]) { bodies[number - 1] = body }
    mutating func set(_ number: Int, _ body: String) { set(number, Array(body.utf8)) }

    @discardableResult
    mutating func add(_ body: String) -> Int { add(Array(body.utf8)) }

    @discardableResult
    mutating func add(_ body: [UInt8]) -> Int {
        bodies.append(body)
        return bodies.count
    }

    /// A stream object's body: `dictionary` gets its /Length.
    static func stream(_ dictionary: String, _ data: [UInt8]) -> [UInt8] {
        Array("<< \(dictionary) /Length \(data.count) >>\nstream\n".utf8) + data + Array("\nendstream".utf8)
    }

    func serialized(root: Int, info: Int) -> [UInt8] {
        // The binary comment marks the file as binary for transfer tools (§7.5.2).
        var output = Array("%PDF-1.4\n%".utf8) + [0xE2, 0xE3, 0xCF, 0xD3, 0x0A]
        var offsets: [Int] = []
        for (index, body) in bodies.enumerated() {
            offsets.append(output.count)
            output += Array("\(index + 1) 0 obj\n".utf8) + body + Array("\nendobj\n".utf8)
        }
        let xref = output.count
        var table = "xref\n0 \(bodies.count + 1)\n0000000000 65535 f \n"
        for offset in offsets {
            let digits = String(offset)
            table += String(repeating: "0", count: 10 - digits.count) + digits + " 00000 n \n"
        }
        table += "trailer\n<< /Size \(bodies.count + 1) /Root \(root) 0 R /Info \(info) 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return output + Array(table.utf8)
    }

    /// A text string for the document information dictionary: UTF-16BE with its byte-order mark, in hex.
    static func textString(_ text: String) -> String {
        "<FEFF" + text.utf16.map { PDFEncoding.hex(UInt32($0), digits: 4) }.joined() + ">"
    }
}

extension PDFObjectFile {
    /// A subset font's name starts with six capitals and "+" (§9.6.4); the subset is always the same
    /// (the glyphs of `PDFEncoding`), so is the tag.
    static let subsetTag = "SKRYBA"

    /// Embeds the subset of `font` (FontFile2, `TrueTypeSubset`) as a simple TrueType font with the Polish encoding, its
    /// widths and a /ToUnicode CMap; returns the font dictionary's object number.
    mutating func embed(_ font: TrueTypeFont) throws(DocumentError) -> Int {
        for (scalar, _) in PDFEncoding.extras where font.glyph(for: scalar) == nil {
            throw .fontLacksGlyph(path: font.path, Character(scalar))
        }
        let subset = try TrueTypeSubset.subset(font, keeping: PDFEncoding.table.map(\.scalar))
        let file = add(Self.stream("/Length1 \(subset.count)", subset))
        let box = font.boundingBox
        // Flags 32: nonsymbolic (the /Encoding's glyph names are looked up in the font's Unicode cmap).
        let descriptor = add("""
            << /Type /FontDescriptor /FontName /\(Self.subsetTag)+\(font.postScriptName) /Flags \(32 | (font.isFixedPitch ? 1 : 0))
            /FontBBox [\(font.scaled(box.xMin)) \(font.scaled(box.yMin)) \(font.scaled(box.xMax)) \(font.scaled(box.yMax))]
            /ItalicAngle \(Int(font.italicAngle)) /Ascent \(font.scaled(font.ascender)) /Descent \(font.scaled(font.descender))
            /CapHeight \(font.scaled(font.capHeight)) /StemV 80 /FontFile2 \(file) 0 R >>
            """)
        let toUnicode = add(Self.stream("", Array(PDFEncoding.toUnicodeCMap.utf8)))
        let widths = (32...Int(PDFEncoding.lastCode)).map { code in
            PDFEncoding.scalar(for: UInt8(code)).map { String(Int(font.width(of: $0).rounded())) } ?? "0"
        }
        return add("""
            << /Type /Font /Subtype /TrueType /BaseFont /\(Self.subsetTag)+\(font.postScriptName) /FirstChar 32 /LastChar \(PDFEncoding.lastCode)
            /Widths [\(widths.joined(separator: " "))]
            /Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences \(PDFEncoding.differences) >>
            /FontDescriptor \(descriptor) 0 R /ToUnicode \(toUnicode) 0 R >>
            """)
    }
}

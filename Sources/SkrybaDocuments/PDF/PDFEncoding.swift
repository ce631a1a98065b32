/// The single-byte encoding of the embedded fonts: ASCII at its own codes (WinAnsiEncoding), the
/// Polish letters and a few typographic marks from 128 on, named in /Differences by their Adobe
/// Glyph List names so viewers find the glyphs through the font's Unicode cmap. The same table
/// writes the /ToUnicode CMap, so copied or extracted text gives the Polish letters back.
enum PDFEncoding {
    static let firstExtraCode: UInt8 = 128

    /// Codes 128, 129, …: (character, glyph name).
    static let extras: [(Unicode.Scalar, String)] = [
        ("\u{0105}", "aogonek"), ("\u{0107}", "cacute"), ("\u{0119}", "eogonek"), ("\u{0142}", "lslash"), ("\u{0144}", "nacute"),
        ("\u{00F3}", "oacute"), ("\u{015B}", "sacute"), ("\u{017A}", "zacute"), ("\u{017C}", "zdotaccent"),
        ("\u{0104}", "Aogonek"), ("\u{0106}", "Cacute"), ("\u{0118}", "Eogonek"), ("\u{0141}", "Lslash"), ("\u{0143}", "Nacute"),
        ("\u{00D3}", "Oacute"), ("\u{015A}", "Sacute"), ("\u{0179}", "Zacute"), ("\u{017B}", "Zdotaccent"),
        ("\u{2013}", "endash"), ("\u{2014}", "emdash"), ("\u{201E}", "quotedblbase"), ("\u{201D}", "quotedblright"),
        ("\u{201C}", "quotedblleft"), ("\u{2019}", "quoteright"), ("\u{00A7}", "section"), ("\u{2026}", "ellipsis"),
        ("\u{2022}", "bullet"), ("\u{00D7}", "multiply"),
    ]

    /// Every code the fonts define, with its character.
    static let table: [(code: UInt8, scalar: Unicode.Scalar)] = {
        var table = (32...126).map { (UInt8($0), Unicode.Scalar(UInt8($0))) }
        for (index, extra) in extras.enumerated() { table.append((firstExtraCode + UInt8(index), extra.0)) }
        return table
    }()

    static let codes: [Unicode.Scalar: UInt8] = Dictionary(uniqueKeysWithValues: table.map { ($0.scalar, $0.code) })

    /// The byte for `scalar`: a no-break space is a space, anything else outside the table a "?"
    /// (the HTML, which has every character, is the copy of record for such text).
    static func code(for scalar: Unicode.Scalar) -> UInt8 {
        if let code = codes[scalar] { return code }
        if scalar == "\u{00A0}" || scalar == "\t" { return 32 }
        return UInt8(ascii: "?")
    }

    /// The character a byte stands for (what widths are measured with).
    static func scalar(for code: UInt8) -> Unicode.Scalar? {
        if (32...126).contains(code) { return Unicode.Scalar(code) }
        let index = Int(code) - Int(firstExtraCode)
        return extras.indices.contains(index) ? extras[index].0 : nil
    }

    static var lastCode: UInt8 { firstExtraCode + UInt8(extras.count - 1) }

    static func encode(_ text: String) -> [UInt8] { text.unicodeScalars.map(code(for:)) }

    /// `/Differences [128 /aogonek /cacute …]`.
    static var differences: String { "[\(firstExtraCode) " + extras.map { "/" + $0.1 }.joined(separator: " ") + "]" }

    /// The /ToUnicode CMap: each code to its UTF-16 value.
    static var toUnicodeCMap: String {
        var lines = [
            "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
            "/CMapName /Skryba-Polish-UCS def", "/CMapType 2 def",
            "1 begincodespacerange", "<00> <FF>", "endcodespacerange",
        ]
        // At most 100 entries per bfchar block (the CMap format's limit).
        for start in stride(from: 0, to: table.count, by: 100) {
            let chunk = table[start..<min(start + 100, table.count)]
            lines.append("\(chunk.count) beginbfchar")
            for entry in chunk { lines.append("<\(hex(UInt32(entry.code), digits: 2))> <\(hex(entry.scalar.value, digits: 4))>") }
            lines.append("endbfchar")
        }
        lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
        return lines.joined(separator: "\n") + "\n"
    }

    static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}

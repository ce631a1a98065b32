import Foundation

/// DejaVu Sans and DejaVu Sans Bold (Debian fonts-dejavu-core), embedded in every PDF.
public struct DocumentFonts: Sendable {
    public static let defaultDirectory = "/usr/share/fonts/truetype/dejavu"
    public let regular: TrueTypeFont
    public let bold: TrueTypeFont

    public static func load(directory: String = defaultDirectory) throws(DocumentError) -> DocumentFonts {
        DocumentFonts(regular: try TrueTypeFont(path: "\(directory)/DejaVuSans.ttf"),
                      bold: try TrueTypeFont(path: "\(directory)/DejaVuSans-Bold.ttf"))
    }

    func font(bold: Bool) -> TrueTypeFont { bold ? self.bold : regular }
}

/// Lays a `Document` out on A4 pages and writes the PDF: wrapped paragraphs measured with the
/// fonts' own widths, tables whose header row is repeated on each page, signature lines, and
/// "strona N z M" in every footer.
public struct PDFRenderer {
    public let fonts: DocumentFonts
    public init(fonts: DocumentFonts) { self.fonts = fonts }

    public func render(_ document: Document) throws(DocumentError) -> [UInt8] {
        var layout = PageLayout(fonts: fonts, orientation: document.orientation)
        for block in document.preamble { layout.place(block) }
        layout.title(document.title, subtitle: document.subtitle)
        for block in document.blocks { layout.place(block) }
        let pages = layout.finish(footer: document.footer)

        var file = PDFObjectFile()
        let catalog = file.reserve(), pageTree = file.reserve()
        let regular = try file.embed(fonts.regular), bold = try file.embed(fonts.bold)
        var kids: [Int] = []
        for content in pages {
            let stream = file.add(PDFObjectFile.stream("", Array(content.utf8)))
            kids.append(file.add("""
                << /Type /Page /Parent \(pageTree) 0 R /MediaBox [0 0 \(PageLayout.number(layout.width)) \(PageLayout.number(layout.height))]
                /Resources << /Font << /F1 \(regular) 0 R /F2 \(bold) 0 R >> >> /Contents \(stream) 0 R >>
                """))
        }
        file.set(pageTree, "<< /Type /Pages /Kids [\(kids.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(kids.count) >>")
        file.set(catalog, "<< /Type /Catalog /Pages \(pageTree) 0 R /Lang (pl-PL) >>")
        let info = file.add("<< /Title \(PDFObjectFile.textString(document.title)) /Producer (Skryba) >>")
        return file.serialized(root: catalog, info: info)
    }
}

/// The cursor over A4 pages. Positions are measured from the page's top (`y`) and turned into PDF
/// coordinates (from the bottom) only when drawn.
struct PageLayout {
    static let millimetre = 72 / 25.4
    let fonts: DocumentFonts
    let width: Double, height: Double
    let left = 18 * millimetre, right = 18 * millimetre, top = 18 * millimetre, bottom = 22 * millimetre
    var contentWidth: Double { width - left - right }
    var limit: Double { height - bottom }

    private var pages: [[String]] = []
    private var operations: [String] = []
    private var y: Double
    private var pageIsEmpty = true

    init(fonts: DocumentFonts, orientation: Document.Orientation) {
        self.fonts = fonts
        // A4: 210 × 297 mm.
        let (short, long) = (210 * Self.millimetre, 297 * Self.millimetre)
        (width, height) = orientation == .portrait ? (short, long) : (long, short)
        y = 18 * Self.millimetre
    }

    // MARK: Blocks

    mutating func title(_ title: String, subtitle: String?) {
        for line in wrap(title, bold: true, size: 14, width: contentWidth) { centred(line, bold: true, size: 14) }
        if let subtitle {
            y += 2
            for line in wrap(subtitle, bold: false, size: 9.5, width: contentWidth) { centred(line, bold: false, size: 9.5) }
        }
        y += 12
    }

    mutating func place(_ block: Block) {
        switch block {
        case .columns(let leftLines, let rightLines):
            let split = contentWidth * 0.55
            let leftWrapped = leftLines.flatMap { wrap($0, bold: false, size: 10, width: split - 10) }
            let rightWrapped = rightLines.flatMap { wrap($0, bold: false, size: 10, width: contentWidth - split) }
            let leading = 13.0
            ensure(Double(max(leftWrapped.count, rightWrapped.count)) * leading)
            for (index, line) in leftWrapped.enumerated() { text(line, x: left, top: y + Double(index) * leading, bold: index == 0, size: 10) }
            for (index, line) in rightWrapped.enumerated() { text(line, x: left + split, top: y + Double(index) * leading, bold: false, size: 10) }
            y += Double(max(leftWrapped.count, rightWrapped.count)) * leading + 12

        case .heading(let heading):
            // Kept with what follows: never alone at the foot of a page.
            let lines = wrap(heading, bold: true, size: 11, width: contentWidth)
            if !pageIsEmpty { y += 8 }
            ensure(Double(lines.count) * 14.5 + 50)
            for line in lines {
                text(line, x: left, top: y, bold: true, size: 11)
                y += 14.5
            }
            rule(from: left, to: left + contentWidth, at: y - 1.5, width: 0.6, gray: 0.35)
            y += 5

        case .paragraph(let paragraph):
            for line in wrap(paragraph, bold: false, size: 10, width: contentWidth) {
                ensure(13)
                text(line, x: left, top: y, bold: false, size: 10)
                y += 13
            }
            y += 5

        case .note(let note):
            for line in wrap(note, bold: false, size: 8, width: contentWidth) {
                ensure(10.5)
                text(line, x: left, top: y, bold: false, size: 8, gray: 0.3)
                y += 10.5
            }
            y += 4

        case .fields(let fields):
            let labelWidth = contentWidth * 0.34, leading = 12.5
            for field in fields {
                let labels = wrap(field.label, bold: true, size: 9.5, width: labelWidth - 8)
                let values = field.value.isEmpty ? [] : wrap(field.value, bold: false, size: 9.5, width: contentWidth - labelWidth)
                // An empty value is a line to write on, tall enough for handwriting.
                let height = max(Double(max(labels.count, values.count)) * leading, field.value.isEmpty ? 20 : 0) + 5
                ensure(height)
                for (index, line) in labels.enumerated() { text(line, x: left, top: y + 2 + Double(index) * leading, bold: true, size: 9.5) }
                for (index, line) in values.enumerated() { text(line, x: left + labelWidth, top: y + 2 + Double(index) * leading, bold: false, size: 9.5) }
                if field.value.isEmpty {
                    rule(from: left + labelWidth, to: left + contentWidth, at: y + height - 3, width: 0.5, gray: 0.2, dotted: true)
                } else {
                    rule(from: left, to: left + contentWidth, at: y + height - 1, width: 0.3, gray: 0.75)
                }
                y += height
            }
            y += 6

        case .table(let table):
            place(table)

        case .blankLines(let label, let count):
            ensure(14 + 2 * 22)
            text(label, x: left, top: y, bold: true, size: 9.5)
            y += 14
            for _ in 0..<count {
                ensure(22)
                y += 22
                rule(from: left, to: left + contentWidth, at: y, width: 0.5, gray: 0.2, dotted: true)
            }
            y += 10

        case .signatures(let signatures):
            placeSignatures(signatures)

        case .pageBreak:
            if !pageIsEmpty { newPage() }
        }
    }

    private mutating func place(_ table: Table) {
        let size = 8.0, leading = 10.0, padding = 3.0
        let total = table.columns.reduce(0) { $0 + $1.weight }
        let widths = table.columns.map { contentWidth * $0.weight / total }
        let headers = zip(table.columns, widths).map { wrap($0.0.title, bold: true, size: size, width: $0.1 - 2 * padding) }
        let headerHeight = Double(headers.map(\.count).max() ?? 1) * leading + 2 * padding

        func row(_ cells: [[String]], height: Double, bold: Bool, shaded: Bool, into layout: inout PageLayout) {
            var x = layout.left
            if shaded { layout.fill(x: x, top: layout.y, width: layout.contentWidth, height: height, gray: 0.88) }
            for (lines, width) in zip(cells, widths) {
                layout.box(x: x, top: layout.y, width: width, height: height)
                for (index, line) in lines.enumerated() {
                    layout.text(line, x: x + padding, top: layout.y + padding + Double(index) * leading, bold: bold, size: size)
                }
                x += width
            }
            layout.y += height
        }

        var bodyRows = table.rows.map { cells in
            widths.indices.map { index in wrap(index < cells.count ? cells[index] : "", bold: false, size: size, width: widths[index] - 2 * padding) }
        }
        if bodyRows.isEmpty {
            bodyRows = [[wrap(table.emptyText, bold: false, size: size, width: contentWidth - 2 * padding)] + Array(repeating: [], count: widths.count - 1)]
        }
        var headerOnThisPage = false
        for cells in bodyRows {
            let height = max(Double(cells.map(\.count).max() ?? 1) * leading + 2 * padding, table.rows.isEmpty ? 0 : table.minimumRowHeight)
            // A row taller than a page is drawn past the margin rather than pushed on forever.
            if y + (headerOnThisPage ? 0 : headerHeight) + height > limit, !(pageIsEmpty && headerOnThisPage) {
                newPage()
                headerOnThisPage = false
            }
            if !headerOnThisPage {
                row(headers, height: headerHeight, bold: true, shaded: true, into: &self)
                headerOnThisPage = true
            }
            if table.rows.isEmpty {
                // The empty text spans the table.
                box(x: left, top: y, width: contentWidth, height: height)
                text(cells[0].first ?? "", x: left + padding, top: y + padding, bold: false, size: size)
                y += height
            } else {
                row(cells, height: height, bold: false, shaded: false, into: &self)
            }
        }
        y += 10
    }

    private mutating func placeSignatures(_ signatures: [Signature]) {
        // Always a third of the width: a single signature is no wider than three side by side.
        let perRow = 3, gap = 24.0
        let boxWidth = (contentWidth - gap * Double(perRow - 1)) / Double(perRow)
        for start in stride(from: 0, to: signatures.count, by: perRow) {
            let group = signatures[start..<min(start + perRow, signatures.count)]
            ensure(112)
            y += 6
            for (index, signature) in group.enumerated() {
                let x = left + Double(index) * (boxWidth + gap)
                text(signature.caption, x: x, top: y, bold: true, size: 9.5)
                if let name = signature.name, !name.isEmpty {
                    text(fit(name, bold: false, size: 9.5, width: boxWidth), x: x, top: y + 14, bold: false, size: 9.5)
                } else {
                    rule(from: x, to: x + boxWidth, at: y + 26, width: 0.5, gray: 0.2, dotted: true)
                    text("imię i nazwisko, stanowisko", x: x, top: y + 28, bold: false, size: 7, gray: 0.35)
                }
                for (offset, label) in [(66.0, "podpis"), (98.0, "data")] {
                    rule(from: x, to: x + boxWidth, at: y + offset, width: 0.6, gray: 0)
                    text(label, x: x, top: y + offset + 2, bold: false, size: 7, gray: 0.35)
                }
            }
            y += 118
        }
    }

    /// Ends the last page and draws each page's footer: the document's footer and "strona N z M".
    mutating func finish(footer: String) -> [String] {
        pages.append(operations)
        operations = []
        let count = pages.count
        return pages.enumerated().map { index, page in
            var footerLayout = self
            footerLayout.operations = []
            let line = height - bottom + 12
            footerLayout.rule(from: left, to: left + contentWidth, at: line, width: 0.4, gray: 0.5)
            let pageLabel = "strona \(index + 1) z \(count)"
            let labelWidth = measure(pageLabel, bold: false, size: 8)
            footerLayout.text(fit(footer, bold: false, size: 8, width: contentWidth - labelWidth - 20), x: left, top: line + 4, bold: false, size: 8, gray: 0.25)
            footerLayout.text(pageLabel, x: left + contentWidth - labelWidth, top: line + 4, bold: false, size: 8, gray: 0.25)
            return (page + footerLayout.operations).joined(separator: "\n") + "\n"
        }
    }

    // MARK: Pages and drawing

    private mutating func newPage() {
        pages.append(operations)
        operations = []
        y = top
        pageIsEmpty = true
    }

    /// A new page unless `height` more fits on this one (and always room on an empty page).
    private mutating func ensure(_ height: Double) {
        if y + height > limit, !pageIsEmpty { newPage() }
    }

    private mutating func centred(_ line: String, bold: Bool, size: Double) {
        text(line, x: left + (contentWidth - measure(line, bold: bold, size: size)) / 2, top: y, bold: bold, size: size)
        y += size * 1.3
    }

    /// `line` with its top at `top`: the baseline sits 0.93 em below (DejaVu's ascender).
    private mutating func text(_ line: String, x: Double, top: Double, bold: Bool, size: Double, gray: Double = 0) {
        guard !line.isEmpty else { return }
        let baseline = height - (top + size * 0.93)
        var escaped = ""
        for byte in PDFEncoding.encode(line) {
            switch byte {
            case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"): escaped += "\\" + String(UnicodeScalar(byte))
            case 32...126: escaped.append(Character(UnicodeScalar(byte)))
            default: escaped += "\\" + String(byte, radix: 8)
            }
        }
        let colour = gray > 0 ? "\(Self.number(gray)) g " : ""
        operations.append("BT \(colour)/\(bold ? "F2" : "F1") \(Self.number(size)) Tf \(Self.number(x)) \(Self.number(baseline)) Td (\(escaped)) Tj ET" + (gray > 0 ? " 0 g" : ""))
        pageIsEmpty = false
    }

    private mutating func rule(from x1: Double, to x2: Double, at top: Double, width: Double, gray: Double, dotted: Bool = false) {
        let yPDF = Self.number(height - top)
        operations.append("\(Self.number(width)) w \(Self.number(gray)) G \(dotted ? "[1 2] 0 d " : "")\(Self.number(x1)) \(yPDF) m \(Self.number(x2)) \(yPDF) l S\(dotted ? " [] 0 d" : "") 0 G")
        pageIsEmpty = false
    }

    private mutating func box(x: Double, top: Double, width: Double, height boxHeight: Double) {
        operations.append("0.5 w 0.3 G \(Self.number(x)) \(Self.number(height - top - boxHeight)) \(Self.number(width)) \(Self.number(boxHeight)) re S 0 G")
    }

    private mutating func fill(x: Double, top: Double, width: Double, height boxHeight: Double, gray: Double) {
        operations.append("\(Self.number(gray)) g \(Self.number(x)) \(Self.number(height - top - boxHeight)) \(Self.number(width)) \(Self.number(boxHeight)) re f 0 g")
    }

    // MARK: Measuring

    func measure(_ text: String, bold: Bool, size: Double) -> Double {
        let font = fonts.font(bold: bold)
        return PDFEncoding.encode(text).reduce(0) { sum, code in sum + (PDFEncoding.scalar(for: code).map(font.width(of:)) ?? 0) } * size / 1000
    }

    /// Lines of at most `width` points: broken at spaces, and inside a word only when the word
    /// alone is wider (a SHA-256, a long e-mail address). Line breaks in `text` are kept.
    func wrap(_ text: String, bold: Bool, size: Double, width: Double) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var current = ""
            for word in paragraph.split(separator: " ") {
                let candidate = current.isEmpty ? String(word) : current + " " + word
                if measure(candidate, bold: bold, size: size) <= width {
                    current = candidate
                    continue
                }
                if !current.isEmpty { lines.append(current) }
                current = ""
                for character in word {
                    if !current.isEmpty, measure(current + String(character), bold: bold, size: size) > width {
                        lines.append(current)
                        current = ""
                    }
                    current.append(character)
                }
            }
            lines.append(current)
        }
        return lines
    }

    /// `text` cut with "…" to fit one line.
    func fit(_ text: String, bold: Bool, size: Double, width: Double) -> String {
        guard measure(text, bold: bold, size: size) > width else { return text }
        var cut = text
        while !cut.isEmpty, measure(cut + "…", bold: bold, size: size) > width { cut.removeLast() }
        return cut + "…"
    }

    static func number(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.2f", rounded)
    }
}

/// A document for the case file, described once: `HTMLRenderer` and `PDFRenderer` both draw it, so
/// the printed HTML and the PDF carry the same text. Texts are in Polish; times already formatted
/// (`WarsawTime`).
public struct Document: Equatable, Sendable {
    public enum Orientation: Equatable, Sendable { case portrait, landscape }

    public var title: String
    /// Under the title: the document's basis ("sporządzony na podstawie § 4 ust. 3 …").
    public var subtitle: String?
    /// In every page's footer, beside "strona N z M" (a request reference, a register name).
    public var footer: String
    public var orientation: Orientation
    /// Before the title: a letter's head (the office, place and date, the addressee).
    public var preamble: [Block]
    public var blocks: [Block]

    public init(title: String, subtitle: String? = nil, footer: String, orientation: Orientation = .portrait, preamble: [Block] = [],
                blocks: [Block]) {
        self.preamble = preamble
        self.title = title
        self.subtitle = subtitle
        self.footer = footer
        self.orientation = orientation
        self.blocks = blocks
    }
}

public enum Block: Equatable, Sendable {
    /// A letter's head: lines on the left (the office) and on the right (place and date, or the addressee).
    case columns(left: [String], right: [String])
    case heading(String)
    case paragraph(String)
    /// Label–value pairs; an empty value is printed as a line to fill in by hand.
    case fields([Field])
    /// Rows under a header row that is repeated on every page the table spans.
    case table(Table)
    /// A label and `count` ruled lines to write on (who was present, findings).
    case blankLines(label: String, count: Int)
    /// Places to sign side by side: each with a "podpis" and a "data" line.
    case signatures([Signature])
    /// Small print (the document's provenance, a legal notice).
    case note(String)
    case pageBreak
}

public struct Field: Equatable, Sendable {
    public var label: String
    public var value: String
    public init(_ label: String, _ value: String) {
        self.label = label
        self.value = value
    }
}

public struct Table: Equatable, Sendable {
    public struct Column: Equatable, Sendable {
        public var title: String
        /// Share of the table's width relative to the other columns.
        public var weight: Double
        public init(_ title: String, weight: Double) {
            self.title = title
            self.weight = weight
        }
    }

    public var columns: [Column]
    public var rows: [[String]]
    /// Printed as the only row when there are no rows.
    public var emptyText: String
    /// Points: room for a signature in a column (the register's g).
    public var minimumRowHeight: Double

    public init(columns: [Column], rows: [[String]], emptyText: String, minimumRowHeight: Double = 0) {
        self.columns = columns
        self.rows = rows
        self.emptyText = emptyText
        self.minimumRowHeight = minimumRowHeight
    }
}

public struct Signature: Equatable, Sendable {
    /// "Sporządził(a)", "Zatwierdził(a)".
    public var caption: String
    /// The name when it is known; else a line to write it on.
    public var name: String?
    public init(_ caption: String, name: String? = nil) {
        self.caption = caption
        self.name = name
    }
}

extension Document {
    /// Every text the document prints, in order (what the PDF encoding must cover).
    var texts: [String] {
        var texts = [title, footer] + (subtitle.map { [$0] } ?? [])
        for block in preamble + blocks {
            switch block {
            case .columns(let left, let right): texts += left + right
            case .heading(let text), .paragraph(let text), .note(let text): texts.append(text)
            case .fields(let fields): texts += fields.flatMap { [$0.label, $0.value] }
            case .table(let table): texts += table.columns.map(\.title) + table.rows.flatMap { $0 } + [table.emptyText]
            case .blankLines(let label, _): texts.append(label)
            case .signatures(let signatures): texts += signatures.flatMap { [$0.caption, $0.name ?? ""] }
            case .pageBreak: break
            }
        }
        return texts
    }

    /// Characters the PDF prints as "?" (outside ASCII, the Polish letters and the marks of
    /// `PDFEncoding`); the HTML shows them. `skryba documents` warns about them.
    public var charactersMissingFromPDF: [Character] {
        var seen: Set<Character> = [], missing: [Character] = []
        for text in texts {
            for character in text where !seen.contains(character) {
                seen.insert(character)
                if character.unicodeScalars.contains(where: { PDFEncoding.code(for: $0) == UInt8(ascii: "?") && $0 != "?" }) {
                    missing.append(character)
                }
            }
        }
        return missing
    }
}

/// What a document is rendered to.
public enum DocumentFormat: String, Sendable, CaseIterable {
    case html, pdf
}

public enum DocumentError: Error, Equatable, CustomStringConvertible {
    case fontMissing(path: String)
    case badFont(path: String, String)
    case fontLacksGlyph(path: String, Character)

    public var description: String {
        switch self {
        case .fontMissing(let path): "cannot read the font \(path): install the package fonts-dejavu-core (docs/documents.md)"
        case .badFont(let path, let why): "the font \(path) cannot be used: \(why)"
        case .fontLacksGlyph(let path, let character): "the font \(path) has no glyph for '\(character)', which the PDF encoding needs"
        }
    }
}

/// A `Document` as one self-contained HTML file (UTF-8, inline CSS, no external resources) that
/// prints on A4: @page size and margins, table headers repeated on each printed page
/// (table-header-group), rows and signature blocks kept whole, headings kept with what follows.
public enum HTMLRenderer {
    public static func render(_ document: Document) -> String {
        var body = document.preamble.map(html)
        body.append("<h1>\(escape(document.title))</h1>")
        if let subtitle = document.subtitle { body.append("<p class=\"subtitle\">\(escape(subtitle))</p>") }
        for block in document.blocks { body.append(html(block)) }
        body.append("<footer>\(escape(document.footer))</footer>")
        let size = document.orientation == .portrait ? "A4 portrait" : "A4 landscape"
        return """
            <!DOCTYPE html>
            <html lang="pl">
            <head>
            <meta charset="utf-8">
            <title>\(escape(document.title))</title>
            <style>
            @page { size: \(size); margin: 18mm 18mm 22mm 18mm;
              @bottom-right { content: "strona " counter(page) " z " counter(pages); font: 8pt "DejaVu Sans", Arial, sans-serif; } }
            html { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10pt; color: #000; }
            body { margin: 0 auto; max-width: \(document.orientation == .portrait ? "174mm" : "261mm"); }
            h1 { font-size: 14pt; text-align: center; margin: 0 0 2pt; }
            .subtitle { text-align: center; font-size: 9.5pt; margin: 0 0 12pt; }
            h2 { font-size: 11pt; border-bottom: 0.6pt solid #555; margin: 12pt 0 5pt; break-after: avoid; page-break-after: avoid; }
            p { margin: 0 0 5pt; line-height: 1.3; }
            .columns { display: flex; justify-content: space-between; margin-bottom: 12pt; }
            .columns > div { width: 45%; } .columns > div:first-child { width: 55%; }
            .columns p { margin: 0; } .columns > div:first-child p:first-child { font-weight: bold; }
            table { border-collapse: collapse; width: 100%; margin-bottom: 10pt; }
            table.fields th { text-align: left; width: 34%; font-size: 9.5pt; vertical-align: top; padding: 2pt 8pt 3pt 0; }
            table.fields td { font-size: 9.5pt; padding: 2pt 0 3pt; border-bottom: 0.3pt solid #bbb; }
            table.fields td.blank { border-bottom: 0.5pt dotted #333; height: 16pt; }
            table.grid { font-size: 8pt; }
            table.grid th, table.grid td { border: 0.5pt solid #4d4d4d; padding: 3pt; vertical-align: top; text-align: left; overflow-wrap: anywhere; }
            table.grid thead { display: table-header-group; } table.grid thead th { background: #e0e0e0; }
            tr { break-inside: avoid; page-break-inside: avoid; }
            .blank-lines { break-inside: avoid; page-break-inside: avoid; margin-bottom: 10pt; }
            .blank-lines .label { font-weight: bold; font-size: 9.5pt; margin: 0; }
            .write-line { border-bottom: 0.5pt dotted #333; height: 22pt; }
            .signatures { display: flex; gap: 24pt; break-inside: avoid; page-break-inside: avoid; margin: 6pt 0 10pt; }
            .signature { width: calc((100% - 48pt) / 3); } .signature .caption { font-weight: bold; font-size: 9.5pt; margin: 0; }
            .signature .sign-line { border-bottom: 0.6pt solid #000; height: 30pt; }
            .signature .name-line { border-bottom: 0.5pt dotted #333; height: 12pt; }
            .signature small { font-size: 7pt; color: #595959; }
            .note { font-size: 8pt; color: #4d4d4d; }
            .page-break { break-after: page; page-break-after: always; }
            footer { font-size: 8pt; color: #404040; border-top: 0.4pt solid #808080; margin-top: 14pt; padding-top: 3pt; }
            </style>
            </head>
            <body>
            \(body.joined(separator: "\n"))
            </body>
            </html>

            """
    }

    static func html(_ block: Block) -> String {
        switch block {
        case .columns(let left, let right):
            let paragraphs = { (lines: [String]) in lines.map { "<p>\(escape($0))</p>" }.joined() }
            return "<div class=\"columns\"><div>\(paragraphs(left))</div><div>\(paragraphs(right))</div></div>"
        case .heading(let text):
            return "<h2>\(escape(text))</h2>"
        case .paragraph(let text):
            return "<p>\(lines(text))</p>"
        case .note(let text):
            return "<p class=\"note\">\(lines(text))</p>"
        case .fields(let fields):
            let rows = fields.map { field in
                field.value.isEmpty ? "<tr><th>\(escape(field.label))</th><td class=\"blank\"></td></tr>"
                    : "<tr><th>\(escape(field.label))</th><td>\(lines(field.value))</td></tr>"
            }
            return "<table class=\"fields\">\n\(rows.joined(separator: "\n"))\n</table>"
        case .table(let table):
            let header = table.columns.map { "<th>\(escape($0.title))</th>" }.joined()
            let rowStyle = table.minimumRowHeight > 0 ? " style=\"height: \(PageLayout.number(table.minimumRowHeight))pt\"" : ""
            let widths = table.columns.map { "<col style=\"width: \(percent($0.weight, of: table))%\">" }.joined()
            let rows = table.rows.isEmpty
                ? ["<tr><td colspan=\"\(table.columns.count)\">\(escape(table.emptyText))</td></tr>"]
                : table.rows.map { "<tr\(rowStyle)>" + $0.map { "<td>\(lines($0))</td>" }.joined() + "</tr>" }
            return "<table class=\"grid\"><colgroup>\(widths)</colgroup>\n<thead><tr>\(header)</tr></thead>\n<tbody>\n"
                + rows.joined(separator: "\n") + "\n</tbody></table>"
        case .blankLines(let label, let count):
            return "<div class=\"blank-lines\"><p class=\"label\">\(escape(label))</p>"
                + String(repeating: "<div class=\"write-line\"></div>", count: count) + "</div>"
        case .signatures(let signatures):
            let boxes = signatures.map { signature in
                let name = signature.name.map { "<p>\(escape($0))</p>" }
                    ?? "<div class=\"name-line\"></div><small>imię i nazwisko, stanowisko</small>"
                return "<div class=\"signature\"><p class=\"caption\">\(escape(signature.caption))</p>\(name)"
                    + "<div class=\"sign-line\"></div><small>podpis</small><div class=\"sign-line\"></div><small>data</small></div>"
            }
            return "<div class=\"signatures\">\(boxes.joined())</div>"
        case .pageBreak:
            return "<div class=\"page-break\"></div>"
        }
    }

    static func percent(_ weight: Double, of table: Table) -> String {
        let total = table.columns.reduce(0) { $0 + $1.weight }
        return String(Int((weight / total * 100).rounded()))
    }

    /// Escaped text with its line breaks as <br>.
    static func lines(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { escape(String($0)) }.joined(separator: "<br>")
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

extension Document {
    /// The document as HTML or PDF bytes.
    public func rendered(as format: DocumentFormat, fonts: () throws(DocumentError) -> DocumentFonts) throws(DocumentError) -> [UInt8] {
        switch format {
        case .html: Array(HTMLRenderer.render(self).utf8)
        case .pdf: try PDFRenderer(fonts: try fonts()).render(self)
        }
    }
}

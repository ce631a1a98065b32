/// One step of a path into a TOML document: a key, or an element of an array of tables (0-based).
public enum TOMLPathStep: Equatable, Sendable, CustomStringConvertible {
    case key(String)
    case element(Int)

    public var description: String {
        switch self {
        case .key(let key): TOMLFormat.key(key)
        case .element(let index): "[\(index + 1)]"
        }
    }
}

/// Why an edit could not be made; `description` is a sentence for the technician.
public struct TOMLEditError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Changes values in a TOML text the way a person editing it would: only the bytes of the value
/// concerned change; every comment, blank line and alignment elsewhere stays byte for byte. Keys that
/// do not exist yet are inserted as a new line after the last key of their table (a missing table is
/// appended at the end). Positions come from `TOMLParser`; the text is parsed again after each edit.
public struct TOMLEditor {
    public private(set) var text: String
    private var root: TOMLTable

    /// - Throws: the text's syntax or structure problems (an edit needs a document it can trust).
    public init(_ text: String) throws(TOMLError) {
        self.text = text
        root = try TOMLParser.parse(text, name: "configuration")
    }

    /// The parsed document as it stands after the edits so far.
    public var document: TOMLTable { root }

    /// The value at `path`, if the document has one.
    public func value(at path: [TOMLPathStep]) -> TOMLValue? {
        var current = TOMLValue(.table(root), at: root.position)
        for step in path {
            switch step {
            case .key(let key):
                guard let table = current.table, let next = table[key] else { return nil }
                current = next
            case .element(let index):
                guard let array = current.array, array.indices.contains(index) else { return nil }
                current = array[index]
            }
        }
        return current
    }

    /// Sets the value at `path` to `literal` (TOML as it should be written, e.g. `"30d"` with its
    /// quotes, `["incoming"]`, `8`). The table that holds it must exist unless it is a top-level table.
    public mutating func set(_ path: [TOMLPathStep], to literal: String) throws(TOMLEditError) {
        guard case .key(let key) = path.last else { throw TOMLEditError("cannot set \(Self.show(path)): it does not name a key") }
        let parentPath = Array(path.dropLast())
        var lines = Lines(text)
        if let existing = value(at: path) {
            let start = lines.offset(of: existing.position)
            let end = Self.endOfValue(lines.scalars, from: start)
            lines.scalars.replaceSubrange(start..<end, with: literal.unicodeScalars)
        } else if let parent = value(at: parentPath) {
            guard let table = parent.table else { throw TOMLEditError("cannot set \(Self.show(path)): \(Self.show(parentPath)) is not a table") }
            switch table.style {
            case .root, .header:
                let line = insertionLine(after: table, lines: lines)
                lines.insertLine("\(TOMLFormat.key(key)) = \(literal)", after: line)
            case .implicit, .dotted, .inline:
                throw TOMLEditError("cannot add \(TOMLFormat.key(key)) to \(Self.show(parentPath)) as the file writes it (an inline table or dotted keys); "
                    + "write the table as [\(Self.show(parentPath))]")
            }
        } else if parentPath.count == 1, case .key(let table) = parentPath[0] {
            lines.appendBlock("[\(TOMLFormat.key(table))]\n\(TOMLFormat.key(key)) = \(literal)\n")
        } else {
            throw TOMLEditError("cannot set \(Self.show(path)): \(Self.show(parentPath)) does not exist")
        }
        try reparse(lines.string, after: "setting \(Self.show(path))")
    }

    /// Removes the key at `path` (its whole line when nothing else stands on it). Nothing happens if it is absent.
    public mutating func remove(_ path: [TOMLPathStep]) throws(TOMLEditError) {
        guard case .key(let key) = path.last, let parent = value(at: Array(path.dropLast()))?.table, let entry = parent.entry(key) else { return }
        var lines = Lines(text)
        let keyStart = lines.offset(of: entry.keyPosition)
        let end = Self.endOfValue(lines.scalars, from: lines.offset(of: entry.value.position))
        let lineStart = lines.lineStart(ofOffset: keyStart)
        let onlyBlankBefore = lines.scalars[lineStart..<keyStart].allSatisfy { $0 == " " || $0 == "\t" }
        var lineEnd = end
        while lineEnd < lines.scalars.count, lines.scalars[lineEnd] != "\n" { lineEnd += 1 }
        let restIsComment = lines.scalars[end..<lineEnd].drop { $0 == " " || $0 == "\t" }.first.map { $0 == "#" || $0 == "\r" } ?? true
        if onlyBlankBefore, restIsComment {
            lines.scalars.removeSubrange(lineStart..<min(lineEnd + 1, lines.scalars.count))
        } else {
            lines.scalars.removeSubrange(keyStart..<end)
        }
        try reparse(lines.string, after: "removing \(Self.show(path))")
    }

    /// Removes every `[[key]]` table, each from its header to the next header or the end (comments
    /// introducing another table stay with it), e.g. to write the lines afresh.
    public mutating func removeArrayOfTables(_ key: String) throws(TOMLEditError) {
        guard let value = root[key], value.isArrayOfTables, let elements = value.array else { return }
        var lines = Lines(text)
        let headerLines = Set(elements.map(\.position.line))
        let allHeaders = lines.headerLines()
        var remove = Set<Int>()
        for header in headerLines {
            let first = header
            let next = allHeaders.filter { $0 > header }.min() ?? lines.count + 1
            var last = next - 1
            // Comments directly above the next header introduce that table: kept unless it goes too.
            if next <= lines.count, !headerLines.contains(next) { while last > header, lines.isComment(last) { last -= 1 } }
            for line in first...last { remove.insert(line) }
        }
        lines.removeLines(remove)
        try reparse(lines.string, after: "removing the [[\(key)]] tables")
    }

    /// Appends `block` (TOML text) at the end, after a blank line.
    public mutating func append(_ block: String) throws(TOMLEditError) {
        var lines = Lines(text)
        lines.appendBlock(block)
        try reparse(lines.string, after: "appending")
    }

    private mutating func reparse(_ edited: String, after what: String) throws(TOMLEditError) {
        do {
            root = try TOMLParser.parse(edited, name: "configuration")
            text = edited
        } catch {
            throw TOMLEditError("\(what) would leave the file unreadable: \(error.diagnostics.first?.message ?? "\(error)")")
        }
    }

    /// The last line holding a key of `table` (its header line when it has none; for the document,
    /// the line before the first header's introducing comments).
    private func insertionLine(after table: TOMLTable, lines: Lines) -> Int {
        var last = table.style == .root ? 0 : table.position.line
        for entry in table.entries {
            if let child = entry.value.table, child.style == .header || child.style == .implicit { continue }
            if entry.value.isArrayOfTables { continue }
            let end = Self.endOfValue(lines.scalars, from: lines.offset(of: entry.value.position))
            last = max(last, lines.line(ofOffset: max(end - 1, 0)))
        }
        if table.style == .root, last == 0, let firstHeader = lines.headerLines().min() {
            var line = firstHeader - 1
            while line >= 1, lines.isComment(line) { line -= 1 }
            return line
        }
        return last
    }

    static func show(_ path: [TOMLPathStep]) -> String {
        var out = ""
        for step in path {
            if case .key = step, !out.isEmpty { out += "." }
            out += step.description
        }
        return out
    }

    // MARK: Where a value ends

    /// The offset just past the value that starts at `start` (a string, number, array or inline table).
    static func endOfValue(_ s: [Unicode.Scalar], from start: Int) -> Int {
        guard start < s.count else { return start }
        func has(_ text: String, at offset: Int) -> Bool {
            var index = offset
            for scalar in text.unicodeScalars {
                guard index < s.count, s[index] == scalar else { return false }
                index += 1
            }
            return true
        }
        switch s[start] {
        case "\"" where has("\"\"\"", at: start), "'" where has("'''", at: start):
            let quote = s[start]
            var i = start + 3
            while i < s.count {
                if quote == "\"", s[i] == "\\" {
                    i += 2
                    continue
                }
                if s[i] == quote, has(String(repeating: String(quote), count: 3), at: i) {
                    var end = i + 3
                    while end < s.count, s[end] == quote, end - i < 5 { end += 1 }
                    return end
                }
                i += 1
            }
            return s.count
        case "\"", "'":
            let quote = s[start]
            var i = start + 1
            while i < s.count, s[i] != "\n" {
                if quote == "\"", s[i] == "\\" {
                    i += 2
                    continue
                }
                if s[i] == quote { return i + 1 }
                i += 1
            }
            return i
        case "[", "{":
            var depth = 0
            var i = start
            while i < s.count {
                switch s[i] {
                case "[", "{":
                    depth += 1
                    i += 1
                case "]", "}":
                    depth -= 1
                    i += 1
                    if depth == 0 { return i }
                case "\"", "'":
                    i = endOfValue(s, from: i)
                case "#":
                    while i < s.count, s[i] != "\n" { i += 1 }
                default:
                    i += 1
                }
            }
            return s.count
        default:
            var i = start
            while i < s.count, !" \t\r\n,]}#".unicodeScalars.contains(s[i]) { i += 1 }
            return i
        }
    }
}

/// The text as scalars with its line starts, to turn parser positions into offsets.
private struct Lines {
    var scalars: [Unicode.Scalar]
    /// The reader drops a byte-order mark before counting columns.
    let bomOffset: Int

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
        bomOffset = scalars.first == "\u{FEFF}" ? 1 : 0
    }

    var string: String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars)
        return String(out)
    }

    var starts: [Int] {
        var starts = [0]
        for (index, scalar) in scalars.enumerated() where scalar == "\n" { starts.append(index + 1) }
        return starts
    }

    /// Lines of the text (a final newline ends the last line rather than starting an empty one).
    var count: Int {
        let all = starts.count
        return scalars.last == "\n" ? all - 1 : all
    }

    func offset(of position: TOMLPosition) -> Int {
        let lineStarts = starts
        guard position.line - 1 < lineStarts.count else { return scalars.count }
        return lineStarts[position.line - 1] + position.column - 1 + (position.line == 1 ? bomOffset : 0)
    }

    func line(ofOffset offset: Int) -> Int {
        var line = 1
        for index in 0..<min(offset, scalars.count) where scalars[index] == "\n" { line += 1 }
        return line
    }

    func lineStart(ofOffset offset: Int) -> Int {
        var index = min(offset, scalars.count)
        while index > 0, scalars[index - 1] != "\n" { index -= 1 }
        return index
    }

    func content(_ line: Int) -> Substring {
        let lineStarts = starts
        guard line >= 1, line <= lineStarts.count else { return "" }
        var end = lineStarts[line - 1]
        while end < scalars.count, scalars[end] != "\n" { end += 1 }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[lineStarts[line - 1]..<end])
        return Substring(String(view))
    }

    func trimmed(_ line: Int) -> Substring { content(line).drop { $0 == " " || $0 == "\t" } }
    func isComment(_ line: Int) -> Bool { trimmed(line).hasPrefix("#") }

    /// Lines that start a `[table]` or `[[table]]` header (outside multi-line values, which the
    /// parser's positions exclude: a header is where a table's position says).
    func headerLines() -> Set<Int> {
        guard let root = try? TOMLParser.parse(string) else { return [] }
        var lines = Set<Int>()
        func visit(_ table: TOMLTable) {
            for entry in table.entries {
                if entry.value.isArrayOfTables, let elements = entry.value.array {
                    for element in elements {
                        lines.insert(element.position.line)
                        if let child = element.table { visit(child) }
                    }
                } else if let child = entry.value.table {
                    if child.style == .header { lines.insert(child.position.line) }
                    if child.style != .inline { visit(child) }
                }
            }
        }
        visit(root)
        return lines
    }

    /// Inserts `text` as a whole line after line `after` (0: at the very top).
    mutating func insertLine(_ text: String, after line: Int) {
        let lineStarts = starts
        var at: Int
        if line <= 0 {
            at = bomOffset
        } else if line < lineStarts.count {
            at = lineStarts[line]
        } else {
            at = scalars.count
            if scalars.last != "\n", !scalars.isEmpty { scalars.append("\n"); at += 1 }
        }
        let newline: String.UnicodeScalarView = usesCRLF ? "\r\n".unicodeScalars : "\n".unicodeScalars
        scalars.insert(contentsOf: Array(text.unicodeScalars) + newline, at: at)
    }

    mutating func appendBlock(_ block: String) {
        if !scalars.isEmpty, scalars.last != "\n" { scalars.append("\n") }
        if !scalars.isEmpty, !(scalars.count >= 2 && scalars[scalars.count - 2] == "\n") { scalars.append("\n") }
        scalars.append(contentsOf: block.unicodeScalars)
        if scalars.last != "\n" { scalars.append("\n") }
    }

    mutating func removeLines(_ remove: Set<Int>) {
        let lineStarts = starts
        var kept: [Unicode.Scalar] = []
        for (index, start) in lineStarts.enumerated() where !remove.contains(index + 1) {
            let end = index + 1 < lineStarts.count ? lineStarts[index + 1] : scalars.count
            kept.append(contentsOf: scalars[start..<end])
        }
        // Do not leave two blank lines where a block went.
        scalars = kept
    }

    var usesCRLF: Bool {
        guard let newline = scalars.firstIndex(of: "\n") else { return false }
        return newline > 0 && scalars[newline - 1] == "\r"
    }
}

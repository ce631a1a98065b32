/// A strict TOML v1.0 reader that keeps the line and column of every key and value.
///
/// Supported: comments, bare/quoted/dotted keys, `[table]`, `[[array.of.tables]]`, basic strings
/// with escapes, literal strings, multi-line basic and literal strings, integers (decimal with
/// underscores, `0x`/`0o`/`0b`), floats (including `inf`/`nan`), booleans, arrays (multi-line,
/// trailing comma), inline tables. Not supported: dates and times (an error says so).
///
/// A syntax error stops reading (what follows it cannot be trusted); structural problems
/// (duplicate keys, a table defined twice) are collected and reading goes on.
public enum TOMLParser {
    /// Parses `text`; any problem throws. `name` prefixes each message (`name:line: …`).
    public static func parse(_ text: String, name: String = "input") throws(TOMLError) -> TOMLTable {
        let result = read(text)
        guard result.diagnostics.isEmpty, let root = result.root else { throw TOMLError(name: name, diagnostics: result.diagnostics) }
        return root
    }

    /// Parses `text` and returns what it could: `root` is nil after a syntax error. Diagnostics are
    /// in file order.
    public static func read(_ text: String) -> (root: TOMLTable?, diagnostics: [TOMLDiagnostic]) {
        var reader = TOMLReader(text: text)
        let root = reader.run()
        return (root, reader.diagnostics)
    }
}

// MARK: - The tree while it is being built

/// A table under construction (tables can be extended by later headers, so they are shared).
final class TableNode {
    var style: TOMLTable.Style
    var position: TOMLPosition
    var keys: [String] = []
    var slots: [String: Slot] = [:]

    init(style: TOMLTable.Style, position: TOMLPosition) {
        self.style = style
        self.position = position
    }

    func add(_ key: String, _ slot: Slot) {
        keys.append(key)
        slots[key] = slot
    }

    func frozen() -> TOMLTable {
        TOMLTable(entries: keys.map { key in
            let slot = slots[key]!
            return TOMLTable.Entry(key: key, keyPosition: slot.keyPosition, value: slot.content.frozen())
        }, style: style, position: position)
    }
}

final class TableArrayNode {
    var elements: [TableNode]
    let position: TOMLPosition

    init(first: TableNode, position: TOMLPosition) {
        elements = [first]
        self.position = position
    }
}

struct Slot {
    var keyPosition: TOMLPosition
    var content: Content

    enum Content {
        case value(TOMLValue)
        case table(TableNode)
        case tableArray(TableArrayNode)

        func frozen() -> TOMLValue {
            switch self {
            case .value(let value): value
            case .table(let node): TOMLValue(.table(node.frozen()), at: node.position)
            case .tableArray(let array):
                TOMLValue(.array(array.elements.map { TOMLValue(.table($0.frozen()), at: $0.position) }), at: array.position,
                          isArrayOfTables: true)
            }
        }
    }
}

struct SyntaxError: Error {
    var position: TOMLPosition
    var message: String
}

struct KeyPart {
    var name: String
    var position: TOMLPosition
}

// MARK: - The reader

struct TOMLReader {
    private var s: [Unicode.Scalar]
    private var i = 0
    private var line = 1
    private var lineStart = 0
    private(set) var diagnostics: [TOMLDiagnostic] = []
    private let root = TableNode(style: .root, position: TOMLPosition(line: 1, column: 1))
    private var current: TableNode
    /// Display path of `current` (`lines[2]`, `audio`), one formatted component per table.
    private var currentPath: [String] = []
    /// Arrays and inline tables open around the value being read (bounded: no stack exhaustion).
    private var depth = 0
    static let maximumDepth = 32

    init(text: String) {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            // CRLF → LF; a lone CR stays and is reported where it stands.
            if scalar == "\n", previousWasCR { scalars.removeLast() }
            previousWasCR = scalar == "\r"
            scalars.append(scalar)
        }
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }  // a byte-order mark (Windows editors)
        s = scalars
        current = root
    }

    mutating func run() -> TOMLTable? {
        do {
            while true {
                try skipBlank()
                guard let c = peek() else { break }
                if c == "[" {
                    let header = try parseHeader()
                    try expectLineEnd(after: header)
                } else {
                    let key = try parseKeyValue(into: current, path: currentPath)
                    try expectLineEnd(after: "the value of '\(key)'")
                }
            }
        } catch {
            diagnostics.append(TOMLDiagnostic(position: error.position, key: "", message: error.message, isSyntaxError: true))
            return nil
        }
        return root.frozen()
    }

    // MARK: Scanning

    private var position: TOMLPosition { TOMLPosition(line: line, column: i - lineStart + 1) }
    private func peek(_ offset: Int = 0) -> Unicode.Scalar? { i + offset < s.count ? s[i + offset] : nil }

    private mutating func advance() {
        if s[i] == "\n" {
            line += 1
            lineStart = i + 1
        }
        i += 1
    }

    private mutating func skipSpaces() {
        while let c = peek(), c == " " || c == "\t" { i += 1 }
    }

    private mutating func skipComment() throws(SyntaxError) {
        guard peek() == "#" else { return }
        while let c = peek(), c != "\n" {
            if Self.isControl(c), c != "\t" { throw fail(Self.controlMessage(c, where: "in a comment")) }
            i += 1
        }
    }

    /// Spaces, comments and newlines.
    private mutating func skipBlank() throws(SyntaxError) {
        while true {
            skipSpaces()
            try skipComment()
            guard peek() == "\n" else { return }
            advance()
        }
    }

    private mutating func expectLineEnd(after context: String) throws(SyntaxError) {
        skipSpaces()
        try skipComment()
        guard let c = peek(), c != "\n" else { return }
        throw fail("expected the end of the line after \(context), found \(describeToken())")
    }

    /// An error at the current position; a bare CR is named as the cause wherever it stops reading.
    private func fail(_ message: String) -> SyntaxError {
        if peek() == "\r" {
            return SyntaxError(position: position,
                               message: "a carriage return (CR) must be followed by a line feed (LF); save the file with LF or CRLF line endings")
        }
        return SyntaxError(position: position, message: message)
    }

    private func describe(_ c: Unicode.Scalar?) -> String {
        guard let c else { return "the end of the file" }
        if c == "\n" { return "the end of the line" }
        if Self.isControl(c) { return "control character \(Self.hex(c))" }
        return "'\(c)'"
    }

    /// The thing at the current position: a word up to the next space or delimiter, or one character.
    private func describeToken() -> String {
        var word = ""
        var j = i
        while j < s.count, word.unicodeScalars.count < 24 {
            let c = s[j]
            if c == " " || c == "\t" || c == "\n" || c == "#" || Self.isControl(c) { break }
            if !word.isEmpty, c == "," || c == "]" || c == "}" || c == "=" { break }
            word.unicodeScalars.append(c)
            j += 1
        }
        return word.isEmpty ? describe(peek()) : "'\(word)'"
    }

    static func isControl(_ c: Unicode.Scalar) -> Bool { c.value < 0x20 || c.value == 0x7F }

    static func hex(_ c: Unicode.Scalar) -> String {
        let digits = String(c.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func controlMessage(_ c: Unicode.Scalar, where place: String) -> String {
        "control character \(hex(c)) is not allowed \(place)" + (place == "in a string" ? " (write it as an escape such as \\t or \\u0007)" : "")
    }

    // MARK: Keys

    private mutating func parseKey() throws(SyntaxError) -> [KeyPart] {
        var parts: [KeyPart] = []
        while true {
            skipSpaces()
            let start = position
            guard let c = peek() else {
                throw fail(parts.isEmpty ? "expected a key, found the end of the file" : "expected a key after '\(Self.display(parts)).'")
            }
            let name: String
            if c == "\"" {
                if peek(1) == "\"", peek(2) == "\"" { throw fail("a key cannot be a multi-line string") }
                name = try parseBasicString()
            } else if c == "'" {
                if peek(1) == "'", peek(2) == "'" { throw fail("a key cannot be a multi-line string") }
                name = try parseLiteralString()
            } else if TOMLFormat.isBareKeyScalar(c) {
                var bare = ""
                while let c = peek(), TOMLFormat.isBareKeyScalar(c) {
                    bare.unicodeScalars.append(c)
                    i += 1
                }
                name = bare
            } else if parts.isEmpty {
                throw fail("expected a key, found \(describe(c))")
            } else {
                throw fail("expected a key after '\(Self.display(parts)).', found \(describe(c))")
            }
            parts.append(KeyPart(name: name, position: start))
            // Tables nest once per part and are built and read recursively: bounded, like arrays.
            guard parts.count <= Self.maximumDepth else { throw fail("a key has more than \(Self.maximumDepth) dotted parts") }
            skipSpaces()
            guard peek() == "." else { return parts }
            i += 1
        }
    }

    private static func display(_ parts: [KeyPart]) -> String { TOMLFormat.path(parts.map(\.name)) }

    /// `key = value` into `table`; returns the key as written (for messages).
    private mutating func parseKeyValue(into table: TableNode, path: [String]) throws(SyntaxError) -> String {
        let parts = try parseKey()
        let key = Self.display(parts)
        guard path.count + parts.count <= Self.maximumDepth else {
            throw fail("'\(key)' nests tables more than \(Self.maximumDepth) deep (with its table and the inline tables around it)")
        }
        skipSpaces()
        guard peek() == "=" else {
            var message = "expected '=' after key '\(key)'"
            if let c = peek(), TOMLFormat.isBareKeyScalar(c), s[i...].prefix(while: { $0 != "\n" }).contains("=") {
                message += " (a key cannot contain spaces: use '_' as in capture_channel)"
            }
            throw fail(message)
        }
        i += 1
        skipSpaces()
        let value = try parseValue(key: key, path: path + parts.map { TOMLFormat.key($0.name) })
        insert(parts, value, into: table, path: path)
        return key
    }

    private mutating func insert(_ parts: [KeyPart], _ value: TOMLValue, into table: TableNode, path: [String]) {
        var node = table
        var here = path
        for part in parts.dropLast() {
            here.append(TOMLFormat.key(part.name))
            if let slot = node.slots[part.name] {
                switch slot.content {
                case .table(let child) where child.style == .dotted:
                    node = child
                case .table(let child):
                    problem(part.position, here, "table [\(here.joined(separator: "."))] is defined on line \(child.position.line); "
                        + "dotted keys cannot add to it from elsewhere")
                    return
                case .tableArray(let array):
                    problem(part.position, here, "is an array of tables ([[…]] on line \(array.position.line)); a dotted key cannot add to it")
                    return
                case .value(let existing):
                    problem(part.position, here, "is already set to \(existing.typeDescription) on line \(slot.keyPosition.line), so it cannot hold '\(TOMLFormat.path(parts.map(\.name)))'")
                    return
                }
            } else {
                let child = TableNode(style: .dotted, position: part.position)
                node.add(part.name, Slot(keyPosition: part.position, content: .table(child)))
                node = child
            }
        }
        let last = parts[parts.count - 1]
        here.append(TOMLFormat.key(last.name))
        if let slot = node.slots[last.name] {
            problem(last.position, here, "duplicate key (first set on line \(slot.keyPosition.line))")
            return
        }
        node.add(last.name, Slot(keyPosition: last.position, content: .value(value)))
    }

    private mutating func problem(_ position: TOMLPosition, _ path: [String], _ message: String) {
        diagnostics.append(TOMLDiagnostic(position: position, key: path.joined(separator: "."), message: message, isSyntaxError: false))
    }

    // MARK: Headers

    /// `[a.b]` or `[[a.b]]`; returns the header as written.
    private mutating func parseHeader() throws(SyntaxError) -> String {
        let start = position
        i += 1
        let isArray = peek() == "["
        if isArray { i += 1 }
        let parts = try parseKey()
        let name = Self.display(parts)
        let written = isArray ? "[[\(name)]]" : "[\(name)]"
        guard peek() == "]", !isArray || peek(1) == "]" else {
            let found = describe(peek(isArray && peek() == "]" ? 1 : 0))
            throw fail("expected '\(isArray ? "]]" : "]")' to close the header \(isArray ? "[[" : "[")\(name), found \(found)")
        }
        i += isArray ? 2 : 1
        define(parts, isArray: isArray, at: start)
        return written
    }

    private mutating func define(_ parts: [KeyPart], isArray: Bool, at start: TOMLPosition) {
        var node = root
        var path: [String] = []
        let name = Self.display(parts)
        func detach(_ reader: inout TOMLReader, _ path: [String]) {
            // The block's keys are still read (and checked) but go nowhere.
            reader.current = TableNode(style: .header, position: start)
            reader.currentPath = path
        }
        for part in parts.dropLast() {
            let key = TOMLFormat.key(part.name)
            if let slot = node.slots[part.name] {
                switch slot.content {
                case .table(let child):
                    node = child
                    path.append(key)
                case .tableArray(let array):
                    node = array.elements[array.elements.count - 1]
                    path.append("\(key)[\(array.elements.count)]")
                case .value(let existing):
                    path.append(key)
                    problem(start, path, "is already set to \(existing.typeDescription) on line \(slot.keyPosition.line), so it cannot hold the table [\(name)]")
                    return detach(&self, path)
                }
            } else {
                let child = TableNode(style: .implicit, position: start)
                node.add(part.name, Slot(keyPosition: start, content: .table(child)))
                node = child
                path.append(key)
            }
        }
        let last = parts[parts.count - 1]
        let key = TOMLFormat.key(last.name)
        let slot = node.slots[last.name]
        if isArray {
            switch slot?.content {
            case nil:
                let element = TableNode(style: .header, position: start)
                node.add(last.name, Slot(keyPosition: start, content: .tableArray(TableArrayNode(first: element, position: start))))
                current = element
                currentPath = path + ["\(key)[1]"]
            case .tableArray(let array):
                let element = TableNode(style: .header, position: start)
                array.elements.append(element)
                current = element
                currentPath = path + ["\(key)[\(array.elements.count)]"]
            case .table(let table):
                problem(start, path + [key], "[[\(name)]] cannot extend the table [\(name)] defined on line \(table.position.line)")
                detach(&self, path + [key])
            case .value(let existing):
                problem(start, path + [key], "is already set to \(existing.typeDescription) on line \(slot!.keyPosition.line); [[\(name)]] cannot extend it")
                detach(&self, path + [key])
            }
        } else {
            switch slot?.content {
            case nil:
                let table = TableNode(style: .header, position: start)
                node.add(last.name, Slot(keyPosition: start, content: .table(table)))
                current = table
                currentPath = path + [key]
            case .table(let table) where table.style == .implicit:
                table.style = .header
                table.position = start
                node.slots[last.name]?.keyPosition = start
                current = table
                currentPath = path + [key]
            case .table(let table) where table.style == .dotted:
                problem(start, path + [key], "table already defined by dotted keys on line \(table.position.line)")
                detach(&self, path + [key])
            case .table(let table):
                problem(start, path + [key], "table defined twice (first on line \(table.position.line))")
                detach(&self, path + [key])
            case .tableArray(let array):
                problem(start, path + [key], "is an array of tables ([[\(name)]] on line \(array.position.line)); write [[\(name)]] for each element")
                detach(&self, path + [key])
            case .value(let existing):
                problem(start, path + [key], "is already set to \(existing.typeDescription) on line \(slot!.keyPosition.line)")
                detach(&self, path + [key])
            }
        }
    }

    // MARK: Values

    private mutating func parseValue(key: String, path: [String]) throws(SyntaxError) -> TOMLValue {
        let start = position
        guard let c = peek(), c != "\n", c != "#" else { throw fail("expected a value after '\(key) ='") }
        switch c {
        case "\"":
            if peek(1) == "\"", peek(2) == "\"" { return TOMLValue(.string(try parseMultilineString(literal: false)), at: start) }
            return TOMLValue(.string(try parseBasicString()), at: start)
        case "'":
            if peek(1) == "'", peek(2) == "'" { return TOMLValue(.string(try parseMultilineString(literal: true)), at: start) }
            return TOMLValue(.string(try parseLiteralString()), at: start)
        case "[", "{":
            guard depth < Self.maximumDepth else { throw fail("arrays and inline tables are nested more than \(Self.maximumDepth) deep") }
            depth += 1
            defer { depth -= 1 }
            return c == "[" ? try parseArray(key: key, path: path) : try parseInlineTable(key: key, path: path)
        default:
            return TOMLValue(try parseBareValue(key: key), at: start)
        }
    }

    private mutating func parseBasicString() throws(SyntaxError) -> String {
        let start = position
        i += 1
        var out = ""
        while true {
            guard let c = peek(), c != "\n" else {
                throw SyntaxError(position: start, message: "unterminated string: the closing '\"' is missing before the end of the line")
            }
            if c == "\"" {
                i += 1
                return out
            }
            if c == "\\" {
                out.unicodeScalars.append(try parseEscape())
                continue
            }
            if Self.isControl(c), c != "\t" { throw fail(Self.controlMessage(c, where: "in a string")) }
            out.unicodeScalars.append(c)
            i += 1
        }
    }

    private mutating func parseLiteralString() throws(SyntaxError) -> String {
        let start = position
        i += 1
        var out = ""
        while true {
            guard let c = peek(), c != "\n" else {
                throw SyntaxError(position: start, message: "unterminated string: the closing \"'\" is missing before the end of the line")
            }
            if c == "'" {
                i += 1
                return out
            }
            if Self.isControl(c), c != "\t" { throw fail(Self.controlMessage(c, where: "in a string")) }
            out.unicodeScalars.append(c)
            i += 1
        }
    }

    /// At a backslash in a basic string.
    private mutating func parseEscape() throws(SyntaxError) -> Unicode.Scalar {
        let start = position
        i += 1
        guard let e = peek(), e != "\n" else {
            throw SyntaxError(position: start, message: "a backslash must be followed by an escape character (write '\\\\' for a backslash)")
        }
        i += 1
        switch e {
        case "b": return "\u{08}"
        case "t": return "\t"
        case "n": return "\n"
        case "f": return "\u{0C}"
        case "r": return "\r"
        case "\"": return "\""
        case "\\": return "\\"
        case "u", "U":
            let count = e == "u" ? 4 : 8
            var digits = ""
            for _ in 0..<count {
                guard let d = peek(), d.properties.isASCIIHexDigit else {
                    throw SyntaxError(position: start, message: "'\\\(e)' must be followed by \(count) hexadecimal digits")
                }
                digits.unicodeScalars.append(d)
                i += 1
            }
            guard let value = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(value) else {
                throw SyntaxError(position: start, message: "'\\\(e)\(digits)' is not a Unicode character")
            }
            return scalar
        default:
            throw SyntaxError(position: start, message: "invalid escape '\\\(e)' in a string "
                + "(write '\\\\' for a backslash, or use a 'literal string' in single quotes)")
        }
    }

    private mutating func parseMultilineString(literal: Bool) throws(SyntaxError) -> String {
        let start = position
        let quote: Unicode.Scalar = literal ? "'" : "\""
        i += 3
        if peek() == "\n" { advance() }  // a newline right after the opening quotes is trimmed
        var out = ""
        while true {
            guard let c = peek() else {
                throw SyntaxError(position: start, message: "unterminated multi-line string: the closing \(String(repeating: String(quote), count: 3)) is missing")
            }
            if c == quote {
                var run = 0
                while peek(run) == quote { run += 1 }
                if run >= 3 {
                    guard run <= 5 else { throw fail("too many quotes: at most two may stand before the closing \(String(repeating: String(quote), count: 3))") }
                    out += String(repeating: String(quote), count: run - 3)
                    i += run
                    return out
                }
                out += String(repeating: String(quote), count: run)
                i += run
                continue
            }
            if c == "\\", !literal {
                // A backslash at the end of a line joins it to the next non-blank text.
                var j = i + 1
                while j < s.count, s[j] == " " || s[j] == "\t" { j += 1 }
                if j < s.count, s[j] == "\n" {
                    i = j
                    while let d = peek(), d == " " || d == "\t" || d == "\n" { advance() }
                    continue
                }
                out.unicodeScalars.append(try parseEscape())
                continue
            }
            if c == "\n" {
                out += "\n"
                advance()
                continue
            }
            if Self.isControl(c), c != "\t" { throw fail(Self.controlMessage(c, where: "in a string")) }
            out.unicodeScalars.append(c)
            i += 1
        }
    }

    private mutating func parseArray(key: String, path: [String]) throws(SyntaxError) -> TOMLValue {
        let start = position
        i += 1
        var items: [TOMLValue] = []
        while true {
            try skipBlank()
            guard let c = peek() else {
                throw SyntaxError(position: start, message: "unclosed array for '\(key)': the closing ']' is missing")
            }
            if c == "]" {
                i += 1
                break
            }
            var elementPath = path
            if !elementPath.isEmpty { elementPath[elementPath.count - 1] += "[\(items.count + 1)]" }
            items.append(try parseValue(key: key, path: elementPath))
            try skipBlank()
            if peek() == "," {
                i += 1
                continue
            }
            if peek() == "]" {
                i += 1
                break
            }
            if peek() == nil { throw SyntaxError(position: start, message: "unclosed array for '\(key)': the closing ']' is missing") }
            throw fail("expected ',' or ']' after an element of the array '\(key)', found \(describeToken())")
        }
        return TOMLValue(.array(items), at: start)
    }

    private mutating func parseInlineTable(key: String, path: [String]) throws(SyntaxError) -> TOMLValue {
        let start = position
        i += 1
        let node = TableNode(style: .inline, position: start)
        skipSpaces()
        if peek() == "}" {
            i += 1
            return TOMLValue(.table(node.frozen()), at: start)
        }
        while true {
            skipSpaces()
            if peek() == nil || peek() == "\n" || peek() == "#" {
                throw fail("an inline table must be on one line: the closing '}' of '\(key)' is missing")
            }
            _ = try parseKeyValue(into: node, path: path)
            skipSpaces()
            if peek() == "," {
                i += 1
                skipSpaces()
                if peek() == "}" { throw fail("no comma is allowed before the closing '}' of an inline table") }
                continue
            }
            if peek() == "}" {
                i += 1
                break
            }
            if peek() == nil || peek() == "\n" || peek() == "#" {
                throw fail("an inline table must be on one line: the closing '}' of '\(key)' is missing")
            }
            throw fail("expected ',' or '}' in the inline table '\(key)', found \(describeToken())")
        }
        return TOMLValue(.table(node.frozen()), at: start)
    }

    /// Numbers, booleans, inf/nan, and the mistakes people make instead (unquoted text, dates).
    private mutating func parseBareValue(key: String) throws(SyntaxError) -> TOMLValue.Kind {
        let start = position
        var token = ""
        while let c = peek(), Self.isNumberScalar(c) {
            token.unicodeScalars.append(c)
            i += 1
        }
        // A word that starts with a letter: text without quotes.
        if let first = (token.unicodeScalars.first ?? peek()), first.properties.isAlphabetic,
           !["true", "false", "inf", "nan"].contains(token) {
            while let c = peek(), !(c == " " || c == "\t" || c == "\n" || c == "," || c == "]" || c == "}" || c == "#" || Self.isControl(c)) {
                token.unicodeScalars.append(c)
                i += 1
            }
            throw SyntaxError(position: start, message: "expected a value for '\(key)', found '\(token)' (text needs quotes: \(TOMLFormat.quoted(token)))")
        }
        guard !token.isEmpty else { throw fail("expected a value for '\(key)', found \(describe(peek()))") }
        func invalid(_ why: String) -> SyntaxError { SyntaxError(position: start, message: why) }

        if Self.looksLikeDateOrTime(token) {
            throw invalid("dates and times are not supported; write '\(token)' in quotes if it is meant as text")
        }
        switch token {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return -.float(.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        var body = Substring(token)
        var sign = ""
        if let first = body.first, first == "+" || first == "-" {
            sign = first == "-" ? "-" : ""
            body = body.dropFirst()
        }
        for (prefix, radix, name) in [("0x", 16, "hexadecimal"), ("0o", 8, "octal"), ("0b", 2, "binary")] where body.hasPrefix(prefix) {
            guard token.first != "+", token.first != "-" else { throw invalid("a \(name) integer cannot have a sign ('\(token)')") }
            let digits = body.dropFirst(2)
            guard Self.validDigits(digits, radix: radix) else { throw invalid("'\(token)' is not a valid \(name) integer") }
            guard let value = Int(digits.filter { $0 != "_" }, radix: radix) else { throw invalid("integer '\(token)' is out of range") }
            return .integer(value)
        }
        let integerPart = body.prefix { $0.isASCII && ($0.isNumber || $0 == "_") }
        var rest = body.dropFirst(integerPart.count)
        guard !integerPart.isEmpty, Self.validDigits(integerPart, radix: 10) else { throw invalid("'\(token)' is not a valid number") }
        if integerPart.count > 1, integerPart.first == "0" { throw invalid("leading zeros are not allowed ('\(token)')") }
        if rest.isEmpty {
            guard let value = Int(sign + integerPart.filter { $0 != "_" }) else {
                throw invalid("integer '\(token)' is out of range (-9223372036854775808...9223372036854775807)")
            }
            return .integer(value)
        }
        if rest.first == "." {
            let fraction = rest.dropFirst().prefix { $0.isASCII && ($0.isNumber || $0 == "_") }
            guard Self.validDigits(fraction, radix: 10) else { throw invalid("'\(token)' is not a valid number (a digit must follow the '.')") }
            rest = rest.dropFirst(1 + fraction.count)
        }
        if let e = rest.first, e == "e" || e == "E" {
            rest = rest.dropFirst()
            if let s = rest.first, s == "+" || s == "-" { rest = rest.dropFirst() }
            let exponent = rest.prefix { $0.isASCII && ($0.isNumber || $0 == "_") }
            guard Self.validDigits(exponent, radix: 10) else { throw invalid("'\(token)' is not a valid number (bad exponent)") }
            rest = rest.dropFirst(exponent.count)
        }
        guard rest.isEmpty, let value = Double(token.filter { $0 != "_" }) else { throw invalid("'\(token)' is not a valid number") }
        return .float(value)
    }

    private static func isNumberScalar(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "+", "-", ".", ":": true
        default: false
        }
    }

    /// Digits of `radix` with single underscores between them.
    private static func validDigits(_ text: Substring, radix: Int) -> Bool {
        guard let first = text.first, let last = text.last, first != "_", last != "_", !text.contains("__") else { return false }
        return text.allSatisfy { $0 == "_" || ($0.isASCII && $0.hexDigitValue.map { $0 < radix } == true) }
    }

    private static func looksLikeDateOrTime(_ token: String) -> Bool {
        let t = Array(token.utf8)
        func digits(_ range: Range<Int>) -> Bool { range.upperBound <= t.count && range.allSatisfy { t[$0] >= 48 && t[$0] <= 57 } }
        if digits(0..<4), t.count > 4, t[4] == UInt8(ascii: "-") { return true }  // 1979-05-27
        if digits(0..<2), t.count > 2, t[2] == UInt8(ascii: ":") { return true }  // 07:32:00
        return false
    }
}

private prefix func - (kind: TOMLValue.Kind) -> TOMLValue.Kind {
    if case .float(let value) = kind { return .float(-value) }
    return kind
}

/// Where something starts in a TOML file: 1-based line and column (columns count Unicode scalars).
public struct TOMLPosition: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// A parsed TOML value and where it was written. Tables and arrays of tables remember the header
/// (or inline table, or first dotted key) that made them.
public struct TOMLValue: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case string(String)
        case integer(Int)
        case float(Double)
        case boolean(Bool)
        /// A value array (`[1, 2]`) or an array of tables (`[[lines]]`); see `isArrayOfTables`.
        case array([TOMLValue])
        case table(TOMLTable)
    }

    public var kind: Kind
    public var position: TOMLPosition
    /// True for arrays made by `[[name]]` headers.
    public var isArrayOfTables: Bool

    public init(_ kind: Kind, at position: TOMLPosition, isArrayOfTables: Bool = false) {
        self.kind = kind
        self.position = position
        self.isArrayOfTables = isArrayOfTables
    }

    public var line: Int { position.line }

    public var string: String? { if case .string(let value) = kind { value } else { nil } }
    public var integer: Int? { if case .integer(let value) = kind { value } else { nil } }
    public var float: Double? { if case .float(let value) = kind { value } else { nil } }
    public var boolean: Bool? { if case .boolean(let value) = kind { value } else { nil } }
    public var array: [TOMLValue]? { if case .array(let value) = kind { value } else { nil } }
    public var table: TOMLTable? { if case .table(let value) = kind { value } else { nil } }

    /// "a string", "an integer", "an array", "a table"… for messages.
    public var typeDescription: String {
        switch kind {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a float"
        case .boolean: "a boolean"
        case .array: isArrayOfTables ? "an array of tables" : "an array"
        case .table(let table): table.style == .inline ? "an inline table" : "a table"
        }
    }

    /// The value as TOML would write it (short scalars only; for messages).
    public var literal: String {
        switch kind {
        case .string(let value): TOMLFormat.quoted(value)
        case .integer(let value): String(value)
        case .float(let value): TOMLFormat.float(value)
        case .boolean(let value): value ? "true" : "false"
        case .array: "[…]"
        case .table: "{…}"
        }
    }
}

/// A TOML table: its keys in file order, each with the position of the key and of its value.
public struct TOMLTable: Equatable, Sendable {
    /// How the table came to exist (for messages such as "missing from [audio] (line 3)").
    public enum Style: Equatable, Sendable {
        /// The document itself.
        case root
        /// `[name]` or one `[[name]]` element.
        case header
        /// A parent named only by a longer header (`[a.b]` makes `a`) and never defined itself.
        case implicit
        /// Made by a dotted key (`a.b = 1` makes `a`).
        case dotted
        /// `{ key = value, … }`.
        case inline
    }

    public struct Entry: Equatable, Sendable {
        public var key: String
        public var keyPosition: TOMLPosition
        public var value: TOMLValue
    }

    public var entries: [Entry]
    public var style: Style
    /// The header, the opening brace, or the first dotted key that made this table.
    public var position: TOMLPosition

    public init(entries: [Entry] = [], style: Style, position: TOMLPosition) {
        self.entries = entries
        self.style = style
        self.position = position
    }

    public var keys: [String] { entries.map(\.key) }

    public func entry(_ key: String) -> Entry? { entries.first { $0.key == key } }

    public subscript(key: String) -> TOMLValue? { entry(key)?.value }
}

/// A problem found while reading TOML: a syntax error (reading stops there) or a structural one
/// such as a duplicate key (reading goes on).
public struct TOMLDiagnostic: Equatable, Sendable, CustomStringConvertible {
    public var position: TOMLPosition
    /// The dotted key path concerned (`audio.rate`, `lines[2].name`), empty for syntax errors.
    public var key: String
    public var message: String
    /// True when reading stopped here (nothing after it was read).
    public var isSyntaxError: Bool

    public var description: String {
        key.isEmpty ? "\(position.line): \(message)" : "\(position.line): \(key): \(message)"
    }
}

/// Everything wrong with a TOML text; `description` is one `name:line: message` line per problem.
public struct TOMLError: Error, Equatable, CustomStringConvertible {
    public var name: String
    public var diagnostics: [TOMLDiagnostic]

    public var description: String { diagnostics.map { "\(name):\($0)" }.joined(separator: "\n") }
}

/// Formatting of keys and values the way a TOML file spells them (used in messages).
public enum TOMLFormat {
    /// A key as written in TOML: bare when it can be, quoted otherwise.
    public static func key(_ key: String) -> String {
        let bare = !key.isEmpty && key.unicodeScalars.allSatisfy(isBareKeyScalar)
        return bare ? key : quoted(key)
    }

    /// Dotted path of keys (each quoted when needed).
    public static func path(_ keys: [String]) -> String { keys.map(key).joined(separator: ".") }

    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16, uppercase: true)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func float(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        return "\(value)"
    }

    static func isBareKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
        default: false
        }
    }
}

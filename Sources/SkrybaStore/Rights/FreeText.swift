/// Text a person types into a record (who acted, why, a case reference, a note): one line of
/// printable characters. A newline, tab, control character or terminal escape would forge lines or
/// colours wherever the audit log, holds or the register are printed, so such text is refused on
/// the way in and escaped on the way out (`printable`) for values stored before this rule.
public enum FreeText {
    /// Why `value` cannot be stored as `field` ("--by", "the reason"), or nil when it can.
    public static func problem(_ value: String, field: String) -> String? {
        if value.allSatisfy({ $0.isWhitespace }) { return "\(field) must not be empty" }
        if let bad = value.unicodeScalars.first(where: isForbidden) {
            return "\(field) must be one line of printable text: it contains \(name(bad)), which could forge lines or terminal output"
        }
        if value.count > maximumLength { return "\(field) is longer than \(maximumLength) characters" }
        return nil
    }

    public static let maximumLength = 1000

    /// `value` with every forbidden character written as a visible escape (`\n`, `\t`, `\u{1B}`), so it
    /// prints as exactly one line with nothing for the terminal to interpret.
    public static func printable(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where isForbidden(scalar): out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Control characters (C0, DEL, C1: newlines, tabs, ESC, CSI), line and paragraph separators, and
    /// the bidirectional overrides that reorder what a terminal shows.
    static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    static func name(_ scalar: Unicode.Scalar) -> String {
        let code = "U+" + String(repeating: "0", count: max(0, 4 - String(scalar.value, radix: 16).count)) + String(scalar.value, radix: 16, uppercase: true)
        switch scalar {
        case "\n": return "a newline (\(code))"
        case "\r": return "a carriage return (\(code))"
        case "\t": return "a tab (\(code))"
        case "\u{1B}": return "an escape character (\(code))"
        default: return "the control character \(code)"
        }
    }
}

/// A caller number as a person corrects it (GDPR art. 16): digits with an optional leading '+'.
public enum PhoneNumber {
    public static let digitRange = 3...15

    /// Why `value` is not a caller number, or nil when it is one.
    public static func problem(_ value: String) -> String? {
        let digits = value.hasPrefix("+") ? value.dropFirst() : Substring(value)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return "'\(FreeText.printable(value))' is not a telephone number (digits, optionally after a leading '+', e.g. +48601234567)"
        }
        guard digitRange.contains(digits.count) else {
            return "'\(value)' has \(digits.count) digits; a telephone number has \(digitRange.lowerBound) to \(digitRange.upperBound)"
        }
        return nil
    }
}

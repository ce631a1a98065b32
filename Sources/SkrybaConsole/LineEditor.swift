import Foundation

/// The console's line editor: pure state, fed one byte at a time, answering with what to draw.
///
/// It speaks to the dumbest terminal a technician may bring (picocom, minicom, screen at 115200 8N1):
/// what it writes is printable text, carriage return, backspace (BS moves left on every terminal)
/// and spaces, never an escape sequence, so a redraw is "CR, prompt, text, spaces over what was
/// there, BS back to the cursor". It understands the keys terminals send: arrows, Home/End and
/// Delete as VT100/xterm escape sequences, backspace as BS (^H) or DEL, and the emacs keys ^A ^E ^B
/// ^F ^U ^K ^W ^P ^N ^L.
public struct LineEditor {
    public enum Outcome: Equatable {
        /// Keep reading; write `output`.
        case editing(output: String)
        /// The line is complete (Enter).
        case line(String, output: String)
        /// ^C: the line is abandoned.
        case cancelled(output: String)
        /// ^D on an empty line: the technician leaves.
        case endOfInput(output: String)
        /// Tab: complete the word before the cursor (the caller asks `complete`).
        case complete
    }

    public var prompt: String
    public private(set) var buffer: [Character] = []
    public private(set) var cursor = 0
    /// Entered lines, oldest first (not including the line being edited).
    public private(set) var history: [String] = []
    private var historyIndex: Int?
    private var draft: [Character] = []
    private var escape: [UInt8]?
    private var pendingUTF8: [UInt8] = []
    /// Columns drawn after the prompt at the last redraw (to blank what a shorter line leaves).
    private var drawnWidth = 0
    public static let historyLimit = 100

    public init(prompt: String) { self.prompt = prompt }

    public var text: String { String(buffer) }

    /// Starts a new line: returns the prompt to write.
    public mutating func begin() -> String {
        buffer = []
        cursor = 0
        historyIndex = nil
        drawnWidth = 0
        escape = nil
        return prompt
    }

    public mutating func feed(_ byte: UInt8) -> Outcome {
        if var sequence = escape {
            sequence.append(byte)
            escape = sequence
            return .editing(output: handleEscape(sequence))
        }
        if !pendingUTF8.isEmpty || byte >= 0x80 {
            pendingUTF8.append(byte)
            if let scalar = String(validating: pendingUTF8, as: UTF8.self) {
                pendingUTF8 = []
                return .editing(output: insert(Array(scalar)))
            }
            if pendingUTF8.count >= 4 { pendingUTF8 = [] }
            return .editing(output: "")
        }
        switch byte {
        case 0x0D, 0x0A:  // Enter (CR from a serial terminal, LF from a pipe)
            let line = text
            if !line.trimmingCharacters(in: .whitespaces).isEmpty, history.last != line {
                history.append(line)
                if history.count > Self.historyLimit { history.removeFirst() }
            }
            let output = moveTo(buffer.count) + "\r\n"
            return .line(line, output: output)
        case 0x03:  // ^C
            return .cancelled(output: moveTo(buffer.count) + "^C\r\n")
        case 0x04:  // ^D
            if buffer.isEmpty { return .endOfInput(output: "\r\n") }
            return .editing(output: deleteForward())
        case 0x08, 0x7F: return .editing(output: backspace())
        case 0x09: return .complete
        case 0x01: return .editing(output: moveTo(0))
        case 0x05: return .editing(output: moveTo(buffer.count))
        case 0x02: return .editing(output: moveTo(cursor - 1))
        case 0x06: return .editing(output: moveTo(cursor + 1))
        case 0x15:  // ^U: the whole line before the cursor
            buffer.removeSubrange(0..<cursor)
            cursor = 0
            return .editing(output: redraw())
        case 0x0B:  // ^K: to the end
            buffer.removeSubrange(cursor...)
            return .editing(output: redraw())
        case 0x17: return .editing(output: deleteWord())
        case 0x10: return .editing(output: recall(older: true))
        case 0x0E: return .editing(output: recall(older: false))
        case 0x0C:  // ^L: draw the line again
            drawnWidth = 0
            return .editing(output: "\r\n" + redraw())
        case 0x1B:
            escape = [byte]
            return .editing(output: "")
        case 0x20..<0x7F:
            return .editing(output: insert([Character(Unicode.Scalar(byte))]))
        default:  // ^Z, ^\ and other controls do nothing (no signals: the terminal is raw)
            return .editing(output: "")
        }
    }

    /// Replaces the word before the cursor with `completion` (Tab with one match).
    public mutating func replaceWordBeforeCursor(with completion: String) -> String {
        let start = wordStart()
        buffer.replaceSubrange(start..<cursor, with: Array(completion))
        cursor = start + completion.count
        return redraw()
    }

    /// The text before the cursor (what Tab completes).
    public var textBeforeCursor: String { String(buffer[0..<cursor]) }

    /// After something else was printed (a list of completions): the prompt and line again.
    public mutating func redrawAfterOutput() -> String {
        drawnWidth = 0
        return redraw()
    }

    // MARK: Editing

    private mutating func insert(_ characters: [Character]) -> String {
        buffer.insert(contentsOf: characters, at: cursor)
        cursor += characters.count
        if cursor == buffer.count {
            drawnWidth = buffer.count
            return String(characters)  // typing at the end: just echo
        }
        return redraw()
    }

    private mutating func backspace() -> String {
        guard cursor > 0 else { return "\u{07}" }
        buffer.remove(at: cursor - 1)
        cursor -= 1
        if cursor == buffer.count {
            drawnWidth = buffer.count
            return "\u{08} \u{08}"
        }
        return redraw()
    }

    private mutating func deleteForward() -> String {
        guard cursor < buffer.count else { return "" }
        buffer.remove(at: cursor)
        return redraw()
    }

    private func wordStart() -> Int {
        var start = cursor
        while start > 0, buffer[start - 1] == " " { start -= 1 }
        while start > 0, buffer[start - 1] != " " { start -= 1 }
        return start
    }

    private mutating func deleteWord() -> String {
        let start = wordStart()
        guard start < cursor else { return "" }
        buffer.removeSubrange(start..<cursor)
        cursor = start
        return redraw()
    }

    private mutating func recall(older: Bool) -> String {
        guard !history.isEmpty else { return "" }
        if historyIndex == nil {
            guard older else { return "" }
            draft = buffer
            historyIndex = history.count
        }
        let next = historyIndex! + (older ? -1 : 1)
        guard next >= 0 else { return "\u{07}" }
        if next >= history.count {
            historyIndex = nil
            buffer = draft
        } else {
            historyIndex = next
            buffer = Array(history[next])
        }
        cursor = buffer.count
        return redraw()
    }

    private mutating func moveTo(_ target: Int) -> String {
        let clamped = min(max(target, 0), buffer.count)
        defer { cursor = clamped }
        if clamped < cursor { return String(repeating: "\u{08}", count: cursor - clamped) }
        return String(buffer[cursor..<clamped])  // moving right rewrites what is there
    }

    private mutating func handleEscape(_ sequence: [UInt8]) -> String {
        // ESC [ A … ESC [ 3 ~, ESC O H …: done when a final byte (a letter or '~') arrives.
        guard sequence.count >= 2 else { return "" }
        guard sequence[1] == UInt8(ascii: "[") || sequence[1] == UInt8(ascii: "O") else {
            escape = nil
            return ""
        }
        guard sequence.count >= 3, let last = sequence.last, (0x40...0x7E).contains(last), sequence.count > 2 else {
            if sequence.count > 8 { escape = nil }
            return ""
        }
        escape = nil
        let parameter = String(decoding: sequence[2..<(sequence.count - 1)], as: UTF8.self)
        switch (last, parameter) {
        case (UInt8(ascii: "A"), _): return recall(older: true)
        case (UInt8(ascii: "B"), _): return recall(older: false)
        case (UInt8(ascii: "C"), _): return moveTo(cursor + 1)
        case (UInt8(ascii: "D"), _): return moveTo(cursor - 1)
        case (UInt8(ascii: "H"), _), (UInt8(ascii: "~"), "1"), (UInt8(ascii: "~"), "7"): return moveTo(0)
        case (UInt8(ascii: "F"), _), (UInt8(ascii: "~"), "4"), (UInt8(ascii: "~"), "8"): return moveTo(buffer.count)
        case (UInt8(ascii: "~"), "3"): return deleteForward()
        default: return ""
        }
    }

    /// CR, prompt, the whole line, blanks over a longer previous line, backspaces to the cursor.
    private mutating func redraw() -> String {
        let blanks = max(0, drawnWidth - buffer.count)
        drawnWidth = buffer.count
        return "\r" + prompt + String(buffer) + String(repeating: " ", count: blanks)
            + String(repeating: "\u{08}", count: blanks + buffer.count - cursor)
    }
}

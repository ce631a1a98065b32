import SkrybaConsole
import Testing

/// The line editor alone: what each key does to the line, and that what it draws is only
/// printable text, CR, BS and spaces (a dumb terminal shows it right).
@Suite struct LineEditorTests {
    /// Feeds `keys`; returns the finished line (nil if Enter never came) and everything drawn.
    static func type(_ keys: String, into editor: inout LineEditor) -> (line: String?, drawn: String) {
        var drawn = editor.begin()
        for byte in keys.utf8 {
            switch editor.feed(byte) {
            case .editing(let output): drawn += output
            case .line(let line, let output): return (line, drawn + output)
            case .cancelled(let output), .endOfInput(let output): drawn += output
            case .complete: break
            }
        }
        return (nil, drawn)
    }

    @Test func editingKeys() {
        var editor = LineEditor(prompt: "> ")
        #expect(Self.type("lnes\u{1B}[D\u{1B}[D\u{1B}[Di\r", into: &editor).line == "lines")
        #expect(Self.type("helpx\u{7F}\r", into: &editor).line == "help")
        #expect(Self.type("helpx\u{08}\r", into: &editor).line == "help")
        #expect(Self.type("junk\u{15}time\r", into: &editor).line == "time")
        #expect(Self.type("line 1 junk\u{17}\r", into: &editor).line == "line 1 ")
        #expect(Self.type("ines\u{1B}[Hl\u{1B}[F!\r", into: &editor).line == "lines!")
        #expect(Self.type("ab\u{01}x\u{05}y\r", into: &editor).line == "xaby")
        #expect(Self.type("abc\u{1B}[D\u{1B}[D\u{1B}[3~\r", into: &editor).line == "ac")
        #expect(Self.type("zażółć\r", into: &editor).line == "zażółć")
        #expect(Self.type("a\u{1A}\u{1C}b\r", into: &editor).line == "ab")
    }

    @Test func historyRecallsOlderAndNewerLines() {
        var editor = LineEditor(prompt: "> ")
        for line in ["status", "lines", "time"] { _ = Self.type(line + "\r", into: &editor) }
        #expect(Self.type("\u{1B}[A\r", into: &editor).line == "time")
        #expect(Self.type("\u{1B}[A\u{1B}[A\u{1B}[A\r", into: &editor).line == "status")
        #expect(Self.type("draft\u{1B}[A\u{1B}[B\r", into: &editor).line == "draft")
        #expect(editor.history == ["status", "lines", "time", "status", "draft"])
    }

    @Test func redrawsUseNoEscapeSequences() {
        var editor = LineEditor(prompt: "> ")
        let (line, drawn) = Self.type("linesXY\u{1B}[D\u{1B}[D\u{7F}\u{1B}[A\u{05}\u{15}status\r", into: &editor)
        #expect(line == "status")
        #expect(!drawn.contains("\u{1B}"))
        #expect(drawn.unicodeScalars.allSatisfy { $0.value >= 0x20 || $0 == "\r" || $0 == "\n" || $0 == "\u{08}" || $0 == "\u{07}" })
        // Deleting in the middle: the rest of the line is drawn again, blanked by one, the cursor put back.
        var middle = LineEditor(prompt: "> ")
        let (_, redraw) = Self.type("abcd\u{1B}[D\u{1B}[D\u{7F}", into: &middle)
        #expect(redraw.hasSuffix("\r> acd \u{08}\u{08}\u{08}"))
    }
}

import SkrybaConfig
import Testing

/// The comment-preserving editor under the console's changes: only the value concerned changes.
@Suite struct TOMLEditorTests {
    static let text = """
        # top comment
        recipients = [
          "a",   # first
        ]
        flush_interval_ms = 1000   # keep

        [retention]
        period = "30d"             # the regulation
        keep_free = "10%"

        # the lines
        [[lines]]
        id = 1
        name = 'Sekretariat'       # as the office says
        ring = { chip = "c", line = 17 }

        # second line
        [[lines]]
        id = 2
        name = \"\"\"multi
        line\"\"\"

        """

    @Test func replacingAValueChangesOnlyItsBytes() throws {
        var editor = try TOMLEditor(Self.text)
        try editor.set([.key("retention"), .key("period")], to: "\"6m\"")
        #expect(editor.text == Self.text.replacingOccurrences(of: "period = \"30d\"", with: "period = \"6m\""))
        try editor.set([.key("lines"), .element(0), .key("name"), ], to: "\"Biuro\"")
        try editor.set([.key("lines"), .element(1), .key("name")], to: "\"Kancelaria\"")
        try editor.set([.key("recipients")], to: "[\"b\"]")
        #expect(editor.text == Self.text.replacingOccurrences(of: "period = \"30d\"", with: "period = \"6m\"")
            .replacingOccurrences(of: "name = 'Sekretariat'", with: "name = \"Biuro\"")
            .replacingOccurrences(of: "name = \"\"\"multi\nline\"\"\"", with: "name = \"Kancelaria\"")
            .replacingOccurrences(of: "[\n  \"a\",   # first\n]", with: "[\"b\"]"))
        #expect(editor.document["lines"]?.array?[1].table?["name"]?.string == "Kancelaria")
    }

    @Test func aMissingKeyGoesAfterTheLastKeyOfItsTable() throws {
        var editor = try TOMLEditor(Self.text)
        try editor.set([.key("lines"), .element(0), .key("consent")], to: "\"continue\"")
        try editor.set([.key("retention"), .key("incoming")], to: "\"6m\"")
        try editor.set([.key("language")], to: "\"en\"")
        try editor.set([.key("opus"), .key("bitrate")], to: "14000")
        #expect(editor.text == Self.text
            .replacingOccurrences(of: "ring = { chip = \"c\", line = 17 }\n", with: "ring = { chip = \"c\", line = 17 }\nconsent = \"continue\"\n")
            .replacingOccurrences(of: "keep_free = \"10%\"\n", with: "keep_free = \"10%\"\nincoming = \"6m\"\n")
            .replacingOccurrences(of: "flush_interval_ms = 1000   # keep\n", with: "flush_interval_ms = 1000   # keep\nlanguage = \"en\"\n")
            + "\n[opus]\nbitrate = 14000\n")
    }

    @Test func removingKeysAndArraysOfTablesKeepsTheRest() throws {
        var editor = try TOMLEditor(Self.text)
        try editor.remove([.key("retention"), .key("keep_free")])
        #expect(editor.text == Self.text.replacingOccurrences(of: "keep_free = \"10%\"\n", with: ""))
        try editor.removeArrayOfTables("lines")
        #expect(editor.text == "# top comment\nrecipients = [\n  \"a\",   # first\n]\nflush_interval_ms = 1000   # keep\n\n[retention]\n"
            + "period = \"30d\"             # the regulation\n\n# the lines\n")
        try editor.append("[[lines]]\nid = 3\n")
        #expect(editor.document["lines"]?.array?.count == 1)
        #expect(editor.text.hasSuffix("# the lines\n\n[[lines]]\nid = 3\n"))
    }

    @Test func editsThatCannotBeMadeSaySo() throws {
        var editor = try TOMLEditor(Self.text)
        #expect(throws: TOMLEditError.self) { try editor.set([.key("lines"), .element(0), .key("ring"), .key("bias")], to: "\"disabled\"") }
        #expect(throws: TOMLEditError.self) { try editor.set([.key("retention"), .key("period")], to: "\"unterminated") }
        #expect(editor.text == Self.text)
        #expect(throws: TOMLError.self) { try TOMLEditor("a = ") }
    }

    @Test func windowsLineEndingsStayWindowsLineEndings() throws {
        let text = "a = 1\r\n[t]\r\nb = 2\r\n"
        var editor = try TOMLEditor(text)
        try editor.set([.key("t"), .key("c")], to: "3")
        try editor.set([.key("a")], to: "5")
        #expect(editor.text == "a = 5\r\n[t]\r\nb = 2\r\nc = 3\r\n")
    }
}

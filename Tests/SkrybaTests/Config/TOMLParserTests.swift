import SkrybaConfig
import Testing

extension ConfigTests {
    /// The TOML reader: values with their positions, the TOML v1.0 corners config files use, and
    /// every syntax error located at its line with a message a technician can act on.
    @Suite struct TOMLParserTests {
        static func messages(_ text: String) -> [String] { TOMLParser.read(text).diagnostics.map(\.description) }

        @Test func valuesKeepTheirLineAndColumn() throws {
            let root = try TOMLParser.parse("""
                # a comment
                data_dir = "/var/lib/skryba"   # a comment after a value

                [audio]
                  rate   =   8000
                channels = 2

                """)
            #expect(root.keys == ["data_dir", "audio"])
            let dataDir = try #require(root.entry("data_dir"))
            #expect(dataDir.keyPosition == TOMLPosition(line: 2, column: 1))
            #expect(dataDir.value == TOMLValue(.string("/var/lib/skryba"), at: TOMLPosition(line: 2, column: 12)))
            let audio = try #require(root["audio"]?.table)
            #expect(audio.style == .header)
            #expect(audio.position == TOMLPosition(line: 4, column: 1))
            #expect(audio.entry("rate")?.keyPosition == TOMLPosition(line: 5, column: 3))
            #expect(audio["rate"] == TOMLValue(.integer(8000), at: TOMLPosition(line: 5, column: 14)))
            #expect(audio["channels"]?.line == 6)
        }

        @Test func stringsEscapesAndLiteralStrings() throws {
            let root = try TOMLParser.parse(#"""
                basic = "Urz\u0105d \"Gminy\"\tPiaseczno\\\n"
                long = "\U0001F4DE"
                literal = 'C:\Users\sekretariat\zapowiedz.wav'
                empty = ""
                quoted_hash = "# not a comment" # a comment
                multi = """
                first line
                second \
                    joined"""
                multi_quotes = """"quoted"""""
                raw = '''
                \n stays as written'''
                """#)
            #expect(root["basic"]?.string == "Urząd \"Gminy\"\tPiaseczno\\\n")
            #expect(root["long"]?.string == "📞")
            #expect(root["literal"]?.string == #"C:\Users\sekretariat\zapowiedz.wav"#)
            #expect(root["empty"]?.string == "")
            #expect(root["quoted_hash"]?.string == "# not a comment")
            #expect(root["multi"]?.string == "first line\nsecond joined")
            #expect(root["multi"]?.line == 6)
            #expect(root["multi_quotes"]?.string == "\"quoted\"\"")
            #expect(root["multi_quotes"]?.line == 10)
            #expect(root["raw"]?.string == #"\n stays as written"#)
            #expect(root["raw"]?.line == 11)
        }

        @Test func numbersAndBooleans() throws {
            let root = try TOMLParser.parse("""
                a = 8_000
                b = -17
                c = +3
                d = 0
                e = 0xFF
                f = 0o17
                g = 0b1010
                h = 6.02e23
                i = -0.5
                j = 1E-2
                k = inf
                l = true
                m = false
                n = 9_223_372_036_854_775_807
                """)
            #expect(root["a"]?.integer == 8000)
            #expect(root["b"]?.integer == -17)
            #expect(root["c"]?.integer == 3)
            #expect(root["d"]?.integer == 0)
            #expect(root["e"]?.integer == 255)
            #expect(root["f"]?.integer == 15)
            #expect(root["g"]?.integer == 10)
            #expect(root["h"]?.float == 6.02e23)
            #expect(root["i"]?.float == -0.5)
            #expect(root["j"]?.float == 0.01)
            #expect(root["k"]?.float == .infinity)
            #expect(root["l"]?.boolean == true)
            #expect(root["m"]?.boolean == false)
            #expect(root["n"]?.integer == Int.max)
        }

        @Test func dottedKeysQuotedKeysAndInlineTables() throws {
            let root = try TOMLParser.parse("""
                a.b.c = 1
                a . b . d = 2
                "quoted.key" = 3
                'literal key' = 4
                ring = { chip = "gpiochip0", line = 17, pin.active_low = true }
                empty = {}
                """)
            #expect(root.keys == ["a", "quoted.key", "literal key", "ring", "empty"])
            let b = try #require(root["a"]?.table?["b"]?.table)
            #expect(b.style == .dotted)
            #expect(b["c"]?.integer == 1)
            #expect(b["d"]?.integer == 2)
            #expect(b["d"]?.position == TOMLPosition(line: 2, column: 13))
            #expect(root["quoted.key"]?.integer == 3)
            #expect(root["literal key"]?.integer == 4)
            let ring = try #require(root["ring"]?.table)
            #expect(ring.style == .inline)
            #expect(root["ring"]?.position == TOMLPosition(line: 5, column: 8))
            #expect(ring["chip"]?.string == "gpiochip0")
            #expect(ring["line"]?.integer == 17)
            #expect(ring["line"]?.position == TOMLPosition(line: 5, column: 37))
            #expect(ring["pin"]?.table?["active_low"]?.boolean == true)
            #expect(root["empty"]?.table?.entries.isEmpty == true)
        }

        @Test func multiLineArraysWithCommentsAndTrailingComma() throws {
            let root = try TOMLParser.parse("""
                recipients = [
                  "age1first",   # IT
                  # a comment line
                  "age1second",
                ]
                record = ["incoming", "outgoing"]
                nested = [[1, 2], ["a"], []]
                empty = [ ]
                """)
            let recipients = try #require(root["recipients"]?.array)
            #expect(recipients.map(\.string) == ["age1first", "age1second"])
            #expect(recipients.map(\.line) == [2, 4])
            #expect(root["recipients"]?.line == 1)
            #expect(root["record"]?.array?.map(\.position.column) == [11, 23])
            #expect(root["nested"]?.array?.map { $0.array?.count } == [2, 1, 0])
            #expect(root["empty"]?.array?.isEmpty == true)
        }

        @Test func arraysOfTablesAndTheirSubTables() throws {
            let root = try TOMLParser.parse("""
                [[lines]]
                id = 1
                [lines.ring]
                chip = "gpiochip0"

                [[lines]]
                id = 2
                [[lines.notes]]
                text = "a"
                [[lines.notes]]
                text = "b"

                [audio.extra]
                x = 1
                [audio]
                rate = 8000
                """)
            let lines = try #require(root["lines"])
            #expect(lines.isArrayOfTables)
            #expect(lines.typeDescription == "an array of tables")
            let elements = try #require(lines.array)
            #expect(elements.map(\.line) == [1, 6])
            #expect(elements.map { $0.table?["id"]?.integer } == [1, 2])
            #expect(elements[0].table?["ring"]?.table?["chip"]?.string == "gpiochip0")
            #expect(elements[0].table?["ring"]?.line == 3)
            #expect(elements[1].table?["notes"]?.array?.map { $0.table?["text"]?.string } == ["a", "b"])
            // [audio.extra] first makes [audio] implicitly; [audio] may then still be defined once.
            let audio = try #require(root["audio"]?.table)
            #expect(audio.style == .header)
            #expect(audio.position.line == 15)
            #expect(root.entry("audio")?.keyPosition.line == 15)
            #expect(audio.keys == ["extra", "rate"])
        }

        @Test func crlfLineEndingsAndAByteOrderMark() throws {
            let text = "\u{FEFF}# comment\r\n[audio]\r\ncapture = \"hw:CARD=Tap\" # c\r\nrate = 8000\r\nname = \"\"\"\r\na\r\nb\"\"\"\r\nlist = [\r\n  1,\r\n]\r\n"
            let root = try TOMLParser.parse(text)
            let audio = try #require(root["audio"]?.table)
            #expect(audio.position == TOMLPosition(line: 2, column: 1))
            #expect(audio["capture"]?.string == "hw:CARD=Tap")
            #expect(audio["capture"]?.position == TOMLPosition(line: 3, column: 11))
            #expect(audio["rate"]?.line == 4)
            #expect(audio["name"]?.string == "a\nb")
            #expect(audio["list"]?.line == 8)
            #expect(audio["list"]?.array?.first?.line == 9)
        }

        /// Each syntax error stops reading and is the only message, at its own line.
        @Test(arguments: [
            ("rate 8000", "1: expected '=' after key 'rate'"),
            ("[audio]\nrate = 8000\nchannels: 2", "3: expected '=' after key 'channels'"),
            ("capture channel = 0", "1: expected '=' after key 'capture' (a key cannot contain spaces: use '_' as in capture_channel)"),
            ("= 5", "1: expected a key, found '='"),
            ("a. = 1", "1: expected a key after 'a.', found '='"),
            ("rate =", "1: expected a value after 'rate ='"),
            ("rate = # none", "1: expected a value after 'rate ='"),
            ("rate = 8000 16000", "1: expected the end of the line after the value of 'rate', found '16000'"),
            ("[audio] rate = 8000", "1: expected the end of the line after [audio], found 'rate'"),
            ("[audio", "1: expected ']' to close the header [audio, found the end of the file"),
            ("\n[[lines]\nid = 1", "2: expected ']]' to close the header [[lines, found the end of the line"),
            ("[]", "1: expected a key, found ']'"),
            ("name = \"Sekretariat\nid = 1", "1: unterminated string: the closing '\"' is missing before the end of the line"),
            ("name = 'Sekretariat", "1: unterminated string: the closing \"'\" is missing before the end of the line"),
            ("a = 1\nb = \"\"\"\nnever closed", "2: unterminated multi-line string: the closing \"\"\" is missing"),
            ("path = \"C:\\skryba\"", "1: invalid escape '\\s' in a string (write '\\\\' for a backslash, or use a 'literal string' in single quotes)"),
            ("x = \"\\u12\"", "1: '\\u' must be followed by 4 hexadecimal digits"),
            ("x = \"\\uD800\"", "1: '\\uD800' is not a Unicode character"),
            ("backend = gpiod", "1: expected a value for 'backend', found 'gpiod' (text needs quotes: \"gpiod\")"),
            ("name = Łódź", "1: expected a value for 'name', found 'Łódź' (text needs quotes: \"Łódź\")"),
            ("rate = 08000", "1: leading zeros are not allowed ('08000')"),
            ("rate = 8__000", "1: '8__000' is not a valid number"),
            ("rate = 8000Hz", "1: '8000Hz' is not a valid number"),
            ("rate = 1.", "1: '1.' is not a valid number (a digit must follow the '.')"),
            ("rate = 99999999999999999999", "1: integer '99999999999999999999' is out of range (-9223372036854775808...9223372036854775807)"),
            ("rate = -0x10", "1: a hexadecimal integer cannot have a sign ('-0x10')"),
            ("when = 2024-01-15", "1: dates and times are not supported; write '2024-01-15' in quotes if it is meant as text"),
            ("x = [1, 2", "1: unclosed array for 'x': the closing ']' is missing"),
            ("record = [\n  \"incoming\"\n  \"outgoing\"\n]", "3: expected ',' or ']' after an element of the array 'record', found '\"outgoing\"'"),
            ("x = [,]", "1: expected a value for 'x', found ','"),
            ("ring = { chip = \"gpiochip0\",\n line = 17 }", "1: an inline table must be on one line: the closing '}' of 'ring' is missing"),
            ("ring = { chip = \"gpiochip0\", }", "1: no comma is allowed before the closing '}' of an inline table"),
            ("ring = { chip = \"gpiochip0\" line = 17 }", "1: expected ',' or '}' in the inline table 'ring', found 'line'"),
            ("a = 1\rb = 2", "1: a carriage return (CR) must be followed by a line feed (LF); save the file with LF or CRLF line endings"),
            ("# bell \u{07}", "1: control character U+0007 is not allowed in a comment"),
            ("x = \"a\u{01}\"", "1: control character U+0001 is not allowed in a string (write it as an escape such as \\t or \\u0007)"),
        ])
        func syntaxErrorsAreLocated(text: String, expected: String) {
            let result = TOMLParser.read(text)
            #expect(result.root == nil)
            #expect(result.diagnostics.map(\.description) == [expected])
            #expect(result.diagnostics.allSatisfy { $0.isSyntaxError })
        }

        @Test func syntaxErrorColumnsPointAtTheProblem() {
            let diagnostics = TOMLParser.read("[audio]\nrate = 8000 16000\n").diagnostics
            #expect(diagnostics.map(\.position) == [TOMLPosition(line: 2, column: 13)])
        }

        /// Structural problems are all collected; reading goes on.
        @Test func duplicateKeysAndRedefinedTablesAreAllReported() {
            let result = TOMLParser.read("""
                rate = 1
                rate = 2
                [audio]
                channels = 2
                channels = 3
                [audio]
                capture = "x"
                [gpio]
                backend = "gpiod"
                [gpio.pins]
                [[gpio]]
                [[lines]]
                id = 1
                a.b = 1
                a.b = 2
                a = 3
                ring = { chip = "a", chip = "b" }
                [lines.a]
                [lines]
                """)
            #expect(result.root != nil)
            #expect(result.diagnostics.map(\.description) == [
                "2: rate: duplicate key (first set on line 1)",
                "5: audio.channels: duplicate key (first set on line 4)",
                "6: audio: table defined twice (first on line 3)",
                "11: gpio: [[gpio]] cannot extend the table [gpio] defined on line 8",
                "15: lines[1].a.b: duplicate key (first set on line 14)",
                "16: lines[1].a: duplicate key (first set on line 14)",
                "17: lines[1].ring.chip: duplicate key (first set on line 17)",
                "18: lines[1].a: table already defined by dotted keys on line 14",
                "19: lines: is an array of tables ([[lines]] on line 12); write [[lines]] for each element",
            ])
            #expect(result.diagnostics.allSatisfy { !$0.isSyntaxError })
            #expect(throws: TOMLError.self) { try TOMLParser.parse("a = 1\na = 2", name: "x.toml") }
            do {
                _ = try TOMLParser.parse("a = 1\na = 2", name: "x.toml")
            } catch {
                #expect(error.description == "x.toml:2: a: duplicate key (first set on line 1)")
            }
        }

        @Test func valuesCannotBeExtendedByHeadersOrDottedKeys() {
            #expect(Self.messages("""
                ring = { chip = "a" }
                ring.line = 3
                audio = 5
                [audio.x]
                """) == [
                "2: ring: is already set to an inline table on line 1, so it cannot hold 'ring.line'",
                "4: audio: is already set to an integer on line 3, so it cannot hold the table [audio.x]",
            ])
            #expect(Self.messages("[a.b]\n[a]\nb.c = 1") == [
                "3: a.b: table [a.b] is defined on line 1; dotted keys cannot add to it from elsewhere",
            ])
        }
    }
}

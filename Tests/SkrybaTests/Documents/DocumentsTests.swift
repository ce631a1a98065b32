import Foundation
import SkrybaSystem
@testable import SkrybaDocuments
import Testing
@testable import SkrybaStore

/// The case-file documents (docs/documents.md), checked the way a person gets them: the PDF read
/// back by poppler (pdftotext, pdfinfo), the HTML by python3's parser. `swift test --filter Documents`.
@Suite struct DocumentsTests {
    static let fonts: DocumentFonts? = try? DocumentFonts.load()

    /// All nine Polish letters, small and capital.
    static let pangram = "Zażółć gęślą jaźń — ZAŻÓŁĆ GĘŚLĄ JAŹŃ"

    static let office = Office(name: "Urząd Miasta i Gminy Piaseczno", address: ["ul. Kościuszki 5", "05-500 Piaseczno"],
                               town: "Piaseczno", dataProtectionOfficer: "iod@piaseczno.eu")
    static let request = RequestSummary(reference: "WN/2026/0007", kind: .listening, received: utc("2026-11-30T09:15:00.000Z"),
                                        concerning: "rozmowa w sprawie: \(pangram)",
                                        callAsDescribed: "2026-11-27 ok. 10:30 z numeru 601 234 567")
    static let requester = Requester(name: "Zofia Łęcka-Źróbek", address: "ul. Świętokrzyska 12 m. 4, 00-916 Warszawa",
                                     phone: "+48 601 234 567", email: "zofia.lecka@example.pl")
    static let decision = Decision(
        granted: true, decidedBy: "Hanna Kułakowska", role: "Sekretarz Miasta i Gminy", decided: utc("2026-12-01T13:05:00.000Z"),
        reason: "Wnioskodawczyni jest stroną rozmowy; numer dzwoniącego ustalony.",
        opinions: [Opinion(role: "Inspektor ochrony danych", by: "Jan Żółkiewski", given: utc("2026-11-30T12:00:00.000Z"),
                           text: "Opinia pozytywna.")])
    static let recordings = [
        RecordingEntry(id: "R000123", start: utc("2026-11-27T09:31:12.000Z"), durationSeconds: 245, line: "Biuro Obsługi",
                       callerNumber: "+48601234567", calledNumber: "227017500", announcementVersion: "powitanie-v2",
                       announcementHeardToEnd: true, consent: .given),
        // Summer time: the zone shown is CEST.
        RecordingEntry(id: "R000124", start: utc("2026-07-01T07:31:12.000Z"), durationSeconds: 12, line: "Wydział Komunikacji",
                       callerNumber: nil, calledNumber: "227017501", announcementVersion: nil, announcementHeardToEnd: nil, consent: .hungUp),
    ]
    static let generated = utc("2026-12-02T13:05:00.000Z")

    /// The text of the PDF as `pdftotext -layout` extracts it, one string per page, and pdfinfo's report.
    struct Extracted {
        var pages: [String]
        var info: String
        var text: String { pages.joined(separator: "\n") }
    }

    static func extract(_ document: Document, _ name: String) throws -> Extracted {
        let fonts = try #require(Self.fonts, "DejaVu fonts missing: apt-get install fonts-dejavu-core")
        let directory = try makeTemporaryDirectory(prefix: "skryba-documents-\(name)")
        let pdf = "\(directory)/\(name).pdf"
        try Data(try document.rendered(as: .pdf, fonts: { fonts })).write(to: URL(fileURLWithPath: pdf))
        let text = try Tool.run("pdftotext", ["-layout", "-enc", "UTF-8", pdf, "-"])
        #expect(text.status == 0, "pdftotext (apt-get install poppler-utils): \(text.output)")
        let info = try Tool.run("pdfinfo", [pdf])
        #expect(info.status == 0, "pdfinfo: \(info.output)")
        var pages = text.output.components(separatedBy: "\u{0C}")
        if pages.last?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty == true { pages.removeLast() }
        return Extracted(pages: pages, info: info.output)
    }

    /// The HTML parsed by python3's html.parser: every element closed in order (void elements
    /// aside), no external resource; returns the text content.
    static func checkHTML(_ document: Document, _ name: String) throws -> String {
        let html = HTMLRenderer.render(document)
        let directory = try makeTemporaryDirectory(prefix: "skryba-documents-html-\(name)")
        let path = "\(directory)/\(name).html"
        try html.write(toFile: path, atomically: true, encoding: .utf8)
        let script = """
            import sys
            from html.parser import HTMLParser
            VOID = {"meta", "br", "col", "img", "hr", "link", "input"}
            class Check(HTMLParser):
                def __init__(self):
                    super().__init__(convert_charrefs=True); self.stack = []; self.text = []
                def handle_starttag(self, tag, attrs):
                    for name, value in attrs:
                        if name in ("src", "href") or "url(" in (value or ""): sys.exit("external resource: %s=%s" % (name, value))
                    if tag not in VOID: self.stack.append(tag)
                def handle_endtag(self, tag):
                    if not self.stack or self.stack.pop() != tag: sys.exit("unbalanced </%s> at line %d" % (tag, self.getpos()[0]))
                def handle_data(self, data): self.text.append(data)
            check = Check(); check.feed(open(sys.argv[1], encoding="utf-8").read()); check.close()
            if check.stack: sys.exit("unclosed: %s" % check.stack)
            print(" ".join(" ".join(check.text).split()))
            """
        let result = try Tool.run("python3", ["-c", script, path])
        #expect(result.status == 0, "HTML not well-formed: \(result.output)")
        #expect(html.contains("<meta charset=\"utf-8\">") && html.contains("@page { size: A4"))
        return result.output
    }

    /// `text` with runs of white space made one space (pdftotext pads columns).
    static func squeezed(_ text: String) -> String { text.split(whereSeparator: \.isWhitespace).joined(separator: " ") }

    @Test func theListeningProtocolCarriesTheRequestDecisionRecordingsAndPlacesToSign() throws {
        let document = ListeningProtocol(office: Self.office, request: Self.request, requester: Self.requester, decision: Self.decision,
                                         recordings: Self.recordings, generated: Self.generated).document
        let pdf = try Self.extract(document, "protocol")
        #expect(pdf.info.contains("Page size:       595.28 x 841.89 pts (A4)"))
        #expect(pdf.info.contains("Pages:           2"))
        let text = Self.squeezed(pdf.text)
        for expected in [
            "PROTOKÓŁ Z ODSŁUCHANIA NAGRANIA ROZMOWY", "§ 4 ust. 3", "Sygnatura wniosku WN/2026/0007",
            "Rodzaj wniosku wniosek o odsłuchanie nagrania rozmowy", "Data wpływu wniosku 2026-11-30 10:15 CET", Self.pangram,
            "1. Wnioskodawca", "Imię i nazwisko Zofia Łęcka-Źróbek", "ul. Świętokrzyska 12 m. 4, 00-916 Warszawa", "+48 601 234 567",
            "zofia.lecka@example.pl", "2. Opinie", "Inspektor ochrony danych:", "Jan Żółkiewski", "Opinia pozytywna.",
            "3. Decyzja", "Rozstrzygnięcie zgoda na odsłuchanie nagrania", "Hanna Kułakowska, Sekretarz Miasta i Gminy",
            "Data decyzji 2026-12-01 14:05 CET", "4. Odsłuchiwane nagrania", "1. R000123", "2026-11-27", "10:31:12 CET", "4 min 05 s",
            "Biuro Obsługi", "+48601234567", "227017500", "powitanie-v2", "do końca: tak", "kontynuowana po", "2. R000124",
            "09:31:12 CEST", "12 s", "nieustalony", "rozłączenie w", "5. Przebieg odsłuchania", "Data i godzina odsłuchania",
            "Osoby obecne przy odsłuchaniu (imię i nazwisko, funkcja):", "Ustalenia i uwagi:", "6. Podpisy", "Odsłuchujący(a)",
            "Osoba obecna", "Zatwierdził(a)", "podpis", "data", "strona 1 z 2", "strona 2 z 2",
        ] {
            #expect(text.contains(expected), "the protocol's PDF lacks \"\(expected)\"")
        }
        let html = try Self.checkHTML(document, "protocol")
        for expected in ["PROTOKÓŁ Z ODSŁUCHANIA NAGRANIA ROZMOWY TELEFONICZNEJ", "Zofia Łęcka-Źróbek", Self.pangram, "2026-11-30 10:15 CET",
                         "2026-07-01 09:31:12 CEST", "Osoby obecne przy odsłuchaniu", "podpis"] {
            #expect(html.contains(expected), "the protocol's HTML lacks \"\(expected)\"")
        }
    }

    @Test func theRefusalNoticeIsALetterWithTheReasonsAndTheRightToComplain() throws {
        var refusal = Self.decision
        refusal.granted = false
        refusal.reason = "Numer dzwoniącego nie został ustalony, więc nie można stwierdzić, że wnioskodawczyni jest stroną rozmowy."
        let document = RefusalNotice(office: Self.office, request: Self.request, requester: Self.requester, decision: refusal,
                                     dated: Self.generated).document
        let pdf = try Self.extract(document, "refusal")
        #expect(pdf.info.contains("(A4)") && pdf.info.contains("Pages:           1"))
        let text = Self.squeezed(pdf.text)
        for expected in [
            "Urząd Miasta i Gminy Piaseczno", "ul. Kościuszki 5", "Piaseczno, dnia 2026-12-02", "Znak sprawy: WN/2026/0007",
            "Zofia Łęcka-Źróbek", "ul. Świętokrzyska 12 m. 4", "00-916 Warszawa", "ZAWIADOMIENIE O ODMOWIE UDOSTĘPNIENIA NAGRANIA",
            "W odpowiedzi na wniosek z dnia 2026-11-30", "Uzasadnienie", "Numer dzwoniącego nie został ustalony",
            "Decyzję podjął(a) Hanna Kułakowska, Sekretarz Miasta i Gminy", "Data decyzji 2026-12-01 14:05 CET", "Pouczenie",
            "Prezesa Urzędu Ochrony Danych", "iod@piaseczno.eu", "Z upoważnienia", "podpis", "strona 1 z 1",
        ] {
            #expect(text.contains(expected), "the refusal notice lacks \"\(expected)\"")
        }
        let html = try Self.checkHTML(document, "refusal")
        #expect(html.contains("Numer dzwoniącego nie został ustalony") && html.contains("Znak sprawy: WN/2026/0007"))
    }

    /// The register from the store as it is: a real secured copy, then many more rows so the
    /// table spans pages, its Polish header row repeated on each.
    @Test func theSecuredCopiesRegisterHasThePolishHeadersOnEveryPage() throws {
        let fixture = try RetentionFixture("documents-register")
        let id = try fixture.record(start: utc("2026-01-05T09:15:00.000Z"), callerNumber: "+48601234567")
        try fixture.copies.secure(id, calledNumber: "+48748800100 (MOPS, linia 1)", madeBy: "Łukasz Ślązak, ASI",
                                  requestReceived: utc("2026-01-09T08:00:00.000Z"), at: utc("2026-01-09T09:00:00.000Z"))
        try fixture.copies.recordRelease(sequence: 1, note: "przekazano KPP Wałbrzych, protokół 12/2026", by: "Łukasz Ślązak, ASI",
                                         at: utc("2026-01-10T09:00:00.000Z"))
        // Read as the command reads it: the catalog opened read-only.
        let stored = try ReadOnlyCatalog(path: "\(fixture.directory)/\(DataLayout.catalog)").securedCopiesRegister()
        let register = try fixture.copies.register()
        #expect(stored == register)
        let real = try #require(stored.first.map(SecuredCopiesRegister.Entry.init))
        let more = (2...40).map { sequence in
            var entry = real
            entry.sequence = Int64(sequence)
            entry.released = nil
            entry.destroyed = sequence % 3 == 0 ? utc("2026-05-09T08:00:00.000Z") : nil
            entry.destructionNote = entry.destroyed == nil ? nil : "lapsed: kept 4 months without renewal (until 2026-05-09T08:00:00.000Z)"
            entry.callerNumber = entry.destroyed == nil ? real.callerNumber : nil
            return entry
        }
        let document = SecuredCopiesRegister(office: Office(name: "MOPS w Wałbrzychu", town: "Wałbrzych"), entries: [real] + more,
                                             generated: Self.generated).document
        let pdf = try Self.extract(document, "register")
        #expect(pdf.info.contains("Page size:       841.89 x 595.28 pts (A4)"))
        #expect(pdf.pages.count >= 3, "40 copies span pages")
        #expect(pdf.info.contains("Pages:           \(pdf.pages.count)"))
        for (index, page) in pdf.pages.enumerated() {
            let text = Self.squeezed(page)
            for header in ["a) Nr", "b) Okres, którego", "c) Numer", "d) Numer", "e) Data", "f) Dane osoby,", "g) Podpis",
                           "h) Udostępnienie lub", "porządkowy", "sporządziła"] {
                #expect(text.contains(header), "page \(index + 1) lacks the header \"\(header)\"")
            }
            #expect(text.contains("strona \(index + 1) z \(pdf.pages.count)"))
        }
        let text = Self.squeezed(pdf.text)
        for expected in ["REJESTR KOPII NAGRAŃ Z SYSTEMU REJESTRACJI ROZMÓW TELEFONICZNYCH", "§ 7 ust. 8", "MOPS w Wałbrzychu",
                         "2026-01-05 10:15 CET –", "+48601234567", "+48748800100", "2026-01-09",
                         "Łukasz Ślązak", "udostępniono", "przekazano KPP", "R000001", "usunięty wraz z",
                         "zniszczono", "Liczba pozycji w rejestrze 40"] {
            #expect(text.contains(expected), "the register lacks \"\(expected)\"")
        }
        let html = try Self.checkHTML(document, "register")
        for expected in ["a) Nr porządkowy kopii", "b) Okres, którego dotyczy nagranie (data i godzina)",
                         "c) Numer telefonu osoby wykonującej połączenie", "d) Numer telefonu, na który dokonano połączenia",
                         "e) Data wykonania kopii", "f) Dane osoby, która sporządziła kopię", "g) Podpis osoby, która sporządziła kopię",
                         "h) Udostępnienie lub zniszczenie kopii", "udostępniono 2026-01-10 10:00 CET: przekazano KPP Wałbrzych, protokół 12/2026",
                         "zniszczono 2026-05-09 10:00 CEST: kopia: upłynęły 4 miesiące bez odnowienia wniosku (§ 7 ust. 9 regulaminu)",
                         "2026-01-05 10:15 CET – 2026-01-05 10:15 CET", "Łukasz Ślązak, ASI"] {
            #expect(html.contains(expected), "the register's HTML lacks \"\(expected)\"")
        }
        #expect(HTMLRenderer.render(document).contains("<thead>"), "printed tables repeat their header (table-header-group)")
    }

    /// What real retention runs and an erasure deleted, from their signed receipts in the audit log.
    @Test func theDeletionReportListsWhatWentWhenAndUnderWhichRule() throws {
        let fixture = try RetentionFixture("documents-deletions")
        let first = try fixture.record(start: utc("2026-01-05T09:15:00.000Z"))
        let second = try fixture.record(start: utc("2026-01-06T09:15:00.000Z"))
        let third = try fixture.record(start: utc("2026-06-01T09:15:00.000Z"))
        _ = try fixture.engine(RetentionPolicy(default: .days(30))).run(at: utc("2026-02-05T12:00:00.000Z"))
        _ = try fixture.rights.erase(third, reason: "żądanie usunięcia z 2026-06-02", by: "console:iod", at: utc("2026-06-03T10:00:00.000Z"))
        let entries = try ReadOnlyCatalog(path: "\(fixture.directory)/\(DataLayout.catalog)").audit.entries()
        let report = DeletionReport(office: Self.office, from: utc("2026-01-31T23:00:00.000Z"), to: utc("2026-06-30T22:00:00.000Z"),
                                    auditEntries: entries, pinnedPublicKey: fixture.key.publicKey, generated: Self.generated)
        #expect(report.receipts.count == 2)
        #expect(report.receipts.allSatisfy { $0.signatureValid })
        #expect(report.receipts.flatMap(\.items).map(\.subject) == [first.description, second.description, third.description])
        let pdf = try Self.extract(report.document, "deletions")
        #expect(pdf.info.contains("(A4)") && pdf.info.contains("Pages:           \(pdf.pages.count)"))
        let text = Self.squeezed(pdf.text)
        for expected in [
            "RAPORT USUNIĘĆ NAGRAŃ", "Okres od 2026-02-01 00:00 CET do 2026-07-01 00:00 CEST", "Liczba usuniętych pozycji 3",
            "Liczba pokwitowań 2", "Podpisy pokwitowań wszystkie poprawne", fixture.key.fingerprint,
            "1. Podsumowanie według podstawy usunięcia", "upłynął okres przechowywania (30 dni) 2",
            "usunięcie na żądanie osoby (art. 17 RODO): żądanie usunięcia z 2026-06-02 1", "2. Usunięte nagrania i kopie",
            "R000001", "R000002", "R000003", "2026-02-05", "13:00:00 CET", "2026-06-03", "12:00:00 CEST",
            "[retention 30", "3. Pokwitowania", "poprawny", "Inspektor ochrony danych", "strona 1 z \(pdf.pages.count)",
        ] {
            #expect(text.contains(expected), "the deletion report lacks \"\(expected)\"")
        }
        // A key other than the pinned one: the signatures are reported as not valid.
        let other = DeletionReport(office: Self.office, from: utc("2026-01-01T00:00:00.000Z"), to: utc("2026-12-31T00:00:00.000Z"),
                                   auditEntries: entries, pinnedPublicKey: Data(repeating: 7, count: 32), generated: Self.generated)
        #expect(other.receipts.count == 2 && other.receipts.allSatisfy { !$0.signatureValid })
        #expect(Self.squeezed(HTMLRenderer.render(other.document)).contains("NIEPOPRAWNE: 2 z 2"))
        let html = try Self.checkHTML(report.document, "deletions")
        for expected in ["nagranie R000001", "nagranie R000002", "nagranie R000003", "2026-02-05 13:00:00 CET",
                         "upłynął okres przechowywania (30 dni) [retention 30 days]", "2026-06-03 12:00:00 CEST",
                         "usunięcie na żądanie osoby (art. 17 RODO): żądanie usunięcia z 2026-06-02 [erasure: żądanie usunięcia z 2026-06-02]"] {
            #expect(html.contains(expected), "the deletion report's HTML lacks \"\(expected)\"")
        }
    }

    @Test func theRulesReadInPolishWithTheSignedTextBeside() {
        #expect(RuleText.polish("retention 30 days") == "upłynął okres przechowywania (30 dni) [retention 30 days]")
        #expect(RuleText.polish("retention 1 month") == "upłynął okres przechowywania (1 miesiąc) [retention 1 month]")
        #expect(RuleText.translated("retention 3 months") == "upłynął okres przechowywania (3 miesiące)")
        #expect(RuleText.translated("retention 12 months") == "upłynął okres przechowywania (12 miesięcy)")
        #expect(RuleText.translated("retention 22 months") == "upłynął okres przechowywania (22 miesiące)")
        #expect(RuleText.translated("destroyed: proceedings ended") == "kopia zniszczona przed terminem: proceedings ended")
        #expect(RuleText.subject("secured copy 3 of R000012") == "kopia zabezpieczona nr 3 nagrania R000012")
        #expect(RuleText.subject("R000012") == "nagranie R000012")
    }

    @Test func warsawTimesShowTheirZone() {
        #expect(WarsawTime.minute(utc("2026-12-02T13:05:00.000Z")) == "2026-12-02 14:05 CET")
        #expect(WarsawTime.minute(utc("2026-07-01T12:05:00.000Z")) == "2026-07-01 14:05 CEST")
        // The last Sunday of March: 02:00 CET becomes 03:00 CEST.
        #expect(WarsawTime.second(utc("2026-03-29T00:59:59.000Z")) == "2026-03-29 01:59:59 CET")
        #expect(WarsawTime.second(utc("2026-03-29T01:00:00.000Z")) == "2026-03-29 03:00:00 CEST")
        #expect(WarsawTime.day(utc("2026-12-31T23:30:00.000Z")) == "2027-01-01")
        // What the CLI, skryba-tools and the console print from a stored UTC timestamp: winter and summer.
        #expect(WarsawTime.second(utc: "2026-01-15T12:00:00.000Z") == "2026-01-15 13:00:00 CET")
        #expect(WarsawTime.second(utc: "2026-07-15T12:00:00Z") == "2026-07-15 14:00:00 CEST")
        #expect(WarsawTime.second(utc: nil) == "-")
        #expect(WarsawTime.second(utc: "not a time") == "not a time")
    }

    /// The metrics come from the font's own tables: DejaVu Sans has 2048 units per em, its space
    /// advances 651 units (hmtx), and every Polish letter has a glyph (cmap format 4).
    @Test func fontMetricsAreReadFromTheTrueTypeTables() throws {
        let fonts = try #require(Self.fonts)
        #expect(fonts.regular.unitsPerEm == 2048)
        #expect(fonts.regular.width(of: " ") == 651.0 * 1000 / 2048)
        #expect(fonts.bold.width(of: "m") > fonts.bold.width(of: "i"))
        for scalar in "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ„”–".unicodeScalars { #expect(fonts.regular.glyph(for: scalar) != nil && fonts.bold.glyph(for: scalar) != nil) }
        #expect(fonts.regular.glyph(for: "\u{10FFFF}") == nil)
    }

    /// The fonts are embedded as subsets (the encoding's glyphs): a well-formed sfnt whose checksum
    /// adjustment holds, with the same metrics, and poppler sees them embedded with a ToUnicode map.
    @Test func theEmbeddedFontsAreValidSubsets() throws {
        let fonts = try #require(Self.fonts)
        let scalars = "AaŻżŁł".unicodeScalars.map { $0 }
        let subset = try TrueTypeSubset.subset(fonts.bold, keeping: scalars)
        #expect(subset.count < fonts.bold.bytes.count / 5)
        #expect(TrueTypeSubset.checksum(subset) == 0xB1B0_AFBA, "head.checkSumAdjustment makes the file sum to 0xB1B0AFBA")
        let reread = try TrueTypeFont(bytes: subset, path: "subset")
        for scalar in scalars { #expect(reread.width(of: scalar) == fonts.bold.width(of: scalar) && reread.glyph(for: scalar) != nil) }

        let directory = try makeTemporaryDirectory(prefix: "skryba-documents-subset")
        let document = Document(title: Self.pangram, footer: "test", blocks: [.paragraph(Self.pangram)])
        try Data(try PDFRenderer(fonts: fonts).render(document)).write(to: URL(fileURLWithPath: "\(directory)/x.pdf"))
        let listing = try Tool.run("pdffonts", ["\(directory)/x.pdf"])
        let lines: [Substring] = listing.output.split(separator: "\n").filter { $0.hasPrefix("SKRYBA+") }
        let rows: [[String]] = lines.map { line in line.split(separator: " ").map(String.init) }
        let names: [String] = rows.map { $0[0] }.sorted()
        #expect(names == ["SKRYBA+DejaVuSans", "SKRYBA+DejaVuSans-Bold"])
        #expect(rows.allSatisfy { $0[1] == "TrueType" && $0[3] == "yes" && $0[4] == "yes" && $0[5] == "yes" }, "\(listing.output)")
        let render = try Tool.run("pdftoppm", ["-png", "-r", "30", "\(directory)/x.pdf", "\(directory)/page"])
        #expect(render.status == 0 && render.output.isEmpty, "poppler draws the page without complaint: \(render.output)")
    }

    /// A character outside the encoding prints as "?" in the PDF, and the document says which.
    @Test func charactersOutsideTheEncodingAreNamed() throws {
        let document = Document(title: "Zażółć", footer: "", blocks: [.fields([Field("Imię i nazwisko", "Jürgen Müller, Олена")])])
        #expect(document.charactersMissingFromPDF == ["ü", "О", "л", "е", "н", "а"])
        let pdf = try Self.extract(document, "missing")
        #expect(pdf.text.contains("J?rgen M?ller, ?????") && pdf.text.contains("Zażółć"))
        #expect(HTMLRenderer.render(document).contains("Jürgen Müller, Олена"))
    }

    @Test func aMissingOrBrokenFontIsASentence() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-documents-fonts")
        #expect(throws: DocumentError.fontMissing(path: "\(directory)/DejaVuSans.ttf")) { try DocumentFonts.load(directory: directory) }
        #expect(DocumentError.fontMissing(path: "/x.ttf").description == "cannot read the font /x.ttf: install the package fonts-dejavu-core (docs/documents.md)")
        let truncated = try Data(contentsOf: URL(fileURLWithPath: "\(DocumentFonts.defaultDirectory)/DejaVuSans.ttf")).prefix(200)
        try truncated.write(to: URL(fileURLWithPath: "\(directory)/DejaVuSans.ttf"))
        #expect(throws: DocumentError.badFont(path: "\(directory)/DejaVuSans.ttf", "its 'FFTM' table runs past the end of the file")) {
            try TrueTypeFont(path: "\(directory)/DejaVuSans.ttf")
        }
        try Data("not a font at all".utf8).write(to: URL(fileURLWithPath: "\(directory)/DejaVuSans-Bold.ttf"))
        #expect(throws: DocumentError.badFont(path: "\(directory)/DejaVuSans-Bold.ttf", "it is not a TrueType font (sfnt version 0x6e6f7420)")) {
            try TrueTypeFont(path: "\(directory)/DejaVuSans-Bold.ttf")
        }
    }

    /// `skryba documents …` as IT runs it, on a data directory, reading the catalog read-only.
    @Test func theCommandsWriteBothFormatsFromTheCatalog() throws {
        let fixture = try RetentionFixture("documents-cli")
        let id = try fixture.record(start: utc("2026-01-05T09:15:00.000Z"))
        try fixture.copies.secure(id, calledNumber: "linia 1", madeBy: "Łukasz Ślązak", requestReceived: utc("2026-01-09T08:00:00.000Z"),
                                  at: utc("2026-01-09T09:00:00.000Z"))
        _ = try fixture.engine(RetentionPolicy(default: .days(30))).run(at: utc("2026-06-05T12:00:00.000Z"))
        let skryba = Tool.product("skryba")
        for format in ["pdf", "html"] {
            let output = "\(fixture.directory)/rejestr.\(format)"
            let register = try Tool.run(skryba, ["documents", "copies-register", "--data-dir", fixture.directory, "--format", format,
                                                 "--office", "MOPS w Wałbrzychu", "-o", output])
            #expect(register.status == 0, "\(register.output)")
            let deletions = "\(fixture.directory)/usuniecia.\(format)"
            let report = try Tool.run(skryba, ["documents", "deletions", "--data-dir", fixture.directory, "--from", "2026-06-05",
                                               "--to", "2026-06-05", "--public-key", fixture.key.publicKeyHex, "--format", format, "-o", deletions])
            #expect(report.status == 0, "\(report.output)")
            let text = format == "pdf" ? try Tool.run("pdftotext", ["-layout", deletions, "-"]).output
                : String(decoding: try Data(contentsOf: URL(fileURLWithPath: deletions)), as: UTF8.self)
            // The whole day of 5 June (Warsaw) holds the retention run: the recording and the lapsed copy.
            let expected = format == "pdf" ? ["R000001", "zabezpieczona", "Liczba usuniętych pozycji 2"]
                : ["nagranie R000001", "kopia zabezpieczona nr 1 nagrania R000001", "Liczba usuniętych pozycji</th><td>2"]
            for phrase in expected { #expect(Self.squeezed(text).contains(phrase), "\(format) lacks \"\(phrase)\"") }
            #expect(text.contains("poprawny"))
            let registerText = format == "pdf" ? try Tool.run("pdftotext", ["-layout", output, "-"]).output
                : String(decoding: try Data(contentsOf: URL(fileURLWithPath: output)), as: UTF8.self)
            #expect(registerText.contains("MOPS w Wałbrzychu") && registerText.contains("Łukasz Ślązak"))
        }
        let backwards = try Tool.run(skryba, ["documents", "deletions", "--data-dir", fixture.directory, "--from", "2026-06-05",
                                              "--to", "2026-06-01", "-o", "\(fixture.directory)/x.pdf"])
        #expect(backwards.status == 64 && backwards.output.contains("--from (2026-06-05) must come before --to (2026-06-01)"), "\(backwards.output)")
        let noCatalog = try Tool.run(skryba, ["documents", "copies-register", "--data-dir", "\(fixture.directory)/nothing", "-o", "\(fixture.directory)/x.pdf"])
        #expect(noCatalog.status == 2 && noCatalog.output.contains("nothing/catalog.sqlite: no such file"), "\(noCatalog.output)")
    }
}

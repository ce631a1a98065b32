import Foundation
import SkrybaConfig
import SkrybaPipeline
import SkrybaSystem
@testable import SkrybaDocuments
import Testing
@testable import SkrybaStore

/// The register of requests wired to the case-file documents (`skryba documents listening-protocol`,
/// `refusal-notice`), and the signed monthly report (`skryba report`, `skryba-tools verify-report`):
/// run as the binaries a DPO runs, the PDFs read back by pdftotext.
@Suite struct RegisterDocumentsTests {
    /// A configuration for the fixture's data directory: two lines with their record of processing, and the office.
    static func configuration(_ fixture: DisclosureFixture) throws -> String {
        let announcement = "\(fixture.directory)/zapowiedz.wav"
        try WAVFile(sampleRate: 8000, channels: 1, samples: [Int16](repeating: 100, count: 8000)).write(path: announcement)
        try Data().write(to: URL(fileURLWithPath: "\(fixture.directory)/events.tsv"))
        let path = "\(fixture.directory)/skryba.toml"
        try Data("""
            data_dir = "\(fixture.dataDirectory)"
            recipients = ["\(fixture.recipient)"]
            recorder_id = "ug-test-1"
            [audio]
            capture = "tap"
            channels = 2
            [gpio]
            backend = "replay"
            replay = "events.tsv"
            [office]
            name = "Urząd Gminy Halinów"
            address = ["ul. Spółdzielcza 1", "05-074 Halinów"]
            data_protection_officer = "iod@halinow.pl"
            [[lines]]
            id = 1
            name = "Biuro Obsługi Mieszkańców"
            capture_channel = 0
            record = ["incoming", "outgoing"]
            announcement = "zapowiedz.wav"
            purpose = "Obsługa zgłoszeń mieszkańców"
            legal_basis = "art. 6 ust. 1 lit. e RODO"
            information_clause = "Klauzula odczytywana w zapowiedzi; pełna treść: bip.halinow.pl/rodo"
            [[lines]]
            id = 2
            name = "Sekretariat Wójta"
            capture_channel = 1
            record = ["outgoing"]

            """.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The PDF's text as pdftotext reads it, every run of white space one space (fields and headings
    /// wrap; a table's cells wrap within their column, so they are checked piece by piece).
    static func pdfText(_ path: String) throws -> String {
        let text = try Tool.run("pdftotext", ["-layout", "-enc", "UTF-8", path, "-"])
        #expect(text.status == 0, "pdftotext (apt-get install poppler-utils): \(text.output)")
        return text.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    static func skryba(_ arguments: [String]) throws -> ToolResult { try Tool.run(Tool.product("skryba"), arguments) }

    /// `[office]` and `information_clause` (docs/configuration.md) are checked like every other key.
    @Test func theOfficeAndTheInformationClauseAreValidated() throws {
        let fixture = try ConfigFixture("office")
        try fixture.write("", to: "events.tsv")
        let problems = fixture.problems(ConfigKeys.minimalHead + """
            [office]
            adress = ["ul. Spółdzielcza 1"]
            [[lines]]
            id = 1
            name = "Sekretariat"
            capture_channel = 0
            record = ["outgoing"]
            information_clause = " "
            """)
        #expect(problems == [
            "DIR/skryba.toml:8: office.name: required key missing from [office] (the office's name, as on its letters)",
            "DIR/skryba.toml:9: office.adress: unknown key in [office] (did you mean 'address'?)",
            "DIR/skryba.toml:15: lines[1].information_clause: must not be empty",
        ], "\(problems)")
        let loaded = try fixture.load(ConfigKeys.minimalHead + """
            [office]
            name = "Urząd Gminy Halinów"
            address = ["ul. Spółdzielcza 1", "05-074 Halinów"]
            [[lines]]
            id = 1
            name = "Sekretariat"
            capture_channel = 0
            record = ["outgoing"]
            information_clause = "bip.halinow.pl/rodo"
            """)
        #expect(loaded.office == OfficeConfiguration(name: "Urząd Gminy Halinów", address: ["ul. Spółdzielcza 1", "05-074 Halinów"]))
        #expect(loaded.lines.first?.informationClause == "bip.halinow.pl/rodo")
    }

    @Test func theProtocolAndTheNoticeAreFilledFromTheRegister() throws {
        let fixture = try DisclosureFixture("documents")
        let config = try Self.configuration(fixture)
        let call = try fixture.record(start: DisclosureTime.call, callerNumber: "+48601234567")
        let granted = try fixture.callerRequest([call])
        _ = try fixture.register.decide(granted, grant: true, by: "Sekretarz Gminy Anna Wiśniewska", reason: "Wnioskodawca jest stroną rozmowy",
                                        at: utc("2026-03-04T08:00:00.000Z"))
        let refused = try fixture.callerRequest([call], number: "+48 601 234 567")
        _ = try fixture.register.decide(refused, grant: false, by: "Sekretarz Gminy Anna Wiśniewska", reason: "Wniosek złożono po terminie",
                                        at: utc("2026-03-05T08:00:00.000Z"))
        let pending = try fixture.callerRequest([call])
        let directory = fixture.directory

        let made = try Self.skryba(["documents", "listening-protocol", "--config", config, "--request", granted, "-o", "\(directory)/protocol.pdf"])
        #expect(made.status == 0, "\(made.output)")
        let text = try Self.pdfText("\(directory)/protocol.pdf")
        for expected in ["PROTOKÓŁ Z ODSŁUCHANIA NAGRANIA ROZMOWY TELEFONICZNEJ", "Urząd Gminy Halinów", granted, "Jan Kowalski",
                         "ul. Długa 1, 70-001 Szczecin", "wniosek o dowód osobisty", "2 marca 2026 ok. 10:15", "IOD Anna Nowak", "Brak przeciwwskazań",
                         "Kierownik WSO", "zgoda na odsłuchanie nagrania", "Sekretarz Gminy Anna Wiśniewska", "Wnioskodawca jest stroną rozmowy",
                         // The recording: Warsaw time, line by name, both numbers, the consent.
                         "1. \(call.description) 2026-03-02", "10:14:30 CET", "1. Biuro Obsługi", "dzwoniący:", "+48601234567", "wybrany:",
                         "+48914245000", "tak — rozmowa", "Osoby obecne przy odsłuchaniu"] {
            #expect(text.contains(expected), "the protocol shows \(expected):\n\(text)")
        }

        let notice = try Self.skryba(["documents", "refusal-notice", "--config", config, "--request", refused, "--format", "pdf", "-o", "\(directory)/notice.pdf"])
        #expect(notice.status == 0, "\(notice.output)")
        let letter = try Self.pdfText("\(directory)/notice.pdf")
        for expected in ["ZAWIADOMIENIE O ODMOWIE", "Halinów, dnia 2026-03-05", "Znak sprawy: \(refused)", "Jan Kowalski", "Wniosek złożono po terminie",
                         "iod@halinow.pl", "Prezesa Urzędu Ochrony Danych"] {
            #expect(letter.contains(expected), "the notice shows \(expected):\n\(letter)")
        }

        // Each document only for its decision, said in a sentence.
        let wrongProtocol = try Self.skryba(["documents", "listening-protocol", "--config", config, "--request", refused, "-o", "\(directory)/x.pdf"])
        #expect(wrongProtocol.status == 1)
        #expect(wrongProtocol.output == "skryba: request \(refused) was refused (its document is the refusal notice: skryba documents refusal-notice); a listening protocol is made only for a granted request\n")
        let wrongNotice = try Self.skryba(["documents", "refusal-notice", "--config", config, "--request", granted, "-o", "\(directory)/x.pdf"])
        #expect(wrongNotice.output == "skryba: request \(granted) was granted (its document is the listening protocol: skryba documents listening-protocol); a refusal notice is written only for a refused request\n")
        let undecided = try Self.skryba(["documents", "listening-protocol", "--config", config, "--request", pending, "-o", "\(directory)/x.pdf"])
        #expect(undecided.output == "skryba: request \(pending) has not been decided; a listening protocol is made only for a granted request\n")
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/x.pdf"))
    }

    /// March 2026 in Warsaw: from 2026-02-28 23:00 UTC (CET) to 2026-03-31 22:00 UTC (CEST since the 29th).
    @Test func theMonthlyReportCountsTheMonthAndIsSigned() throws {
        let fixture = try DisclosureFixture("report")
        let config = try Self.configuration(fixture)
        // Line 1 incoming: two recorded in March (just after its start and just before its end, Warsaw time), one
        // in February and one in April by Warsaw time though in March by UTC date or the other way round.
        let first = try fixture.record(start: utc("2026-02-28T23:30:00.000Z"), callerNumber: "+48601234567")
        try fixture.record(start: utc("2026-02-28T22:30:00.000Z"), callerNumber: "+48601234567")
        let last = try fixture.record(start: utc("2026-03-31T21:30:00.000Z"), callerNumber: nil)
        try fixture.record(start: utc("2026-03-31T22:30:00.000Z"), callerNumber: nil)
        let outgoingCall = try fixture.record(line: 2, direction: .outgoing, start: utc("2026-03-15T10:00:00.000Z"), callerNumber: nil, dialedDigits: "226001122")
        // Erased since (it still counts as a call of the month), and a legal hold.
        try DataSubjectRights(catalog: fixture.catalog, dataDirectory: fixture.dataDirectory, signer: fixture.key)
            .erase(outgoingCall, reason: "art. 17 wniosek 3/2026", by: "console:dpo", at: utc("2026-03-20T10:00:00.000Z"))
        try fixture.catalog.addHold(caseReference: "II K 12/26", reason: "dowód w sprawie", recordings: [last], at: utc("2026-03-25T10:00:00.000Z"))
        for (consent, day) in [(Consent.hungUp, "10"), (.objected, "11"), (.hungUp, "12")] {
            let start = utc("2026-03-\(day)T09:00:00.000Z")
            let announcement = Announcement(id: "zapowiedz.wav", sha256: String(repeating: "a", count: 64), completed: consent == .objected)
            _ = try fixture.catalog.recordDiscardedCall(NewRecording(line: 1, direction: .incoming, startUTC: start, startFrame: 0,
                                                                     recipients: [fixture.recipient.description], announcement: announcement, consent: consent),
                                                        endFrame: 16000, durationMs: 2000, reason: consent.rawValue, at: start.addingTimeInterval(2))
        }
        // A granted request, exported once to IT's key.
        let reference = try fixture.callerRequest([first])
        _ = try fixture.register.decide(reference, grant: true, by: "Sekretarz Gminy", reason: "strona rozmowy", at: utc("2026-03-04T08:00:00.000Z"))
        let plan = try fixture.register.exportPlan(request: reference)
        let client = ExportClient(keyFingerprint: "SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", keyComment: "it-jan", address: "192.168.10.21")
        let export = try fixture.register.beginExport(plan, client: client, signer: fixture.key, at: utc("2026-03-05T09:00:00.000Z"))
        try fixture.register.finishExport(export.id, plan: plan, client: client, completed: true, bytes: 4096, manifestSHA256: String(repeating: "b", count: 64),
                                          problem: nil, at: utc("2026-03-05T09:00:01.000Z"))
        let directory = fixture.directory

        let made = try Self.skryba(["report", "--config", config, "--month", "2026-03", "--format", "json", "-o", "\(directory)/2026-03.json"])
        #expect(made.status == 0, "\(made.output)")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/2026-03.json")))
        let report = try SignedMonthlyReport.verify(bytes, pinned: fixture.key.fingerprint).report
        #expect(report.month == "2026-03" && report.fromUTC == "2026-02-28T23:00:00.000Z" && report.toUTC == "2026-03-31T22:00:00.000Z")
        #expect(report.office == "Urząd Gminy Halinów" && report.recorderID == "ug-test-1")
        var incoming = MonthlyReport.Direction(direction: "incoming")
        (incoming.calls, incoming.recorded, incoming.hungUp, incoming.objected) = (5, 2, 2, 1)
        var outgoing = MonthlyReport.Direction(direction: "outgoing")
        #expect(report.lines == [
            MonthlyReport.Line(line: 1, name: "Biuro Obsługi Mieszkańców", purpose: "Obsługa zgłoszeń mieszkańców", legalBasis: "art. 6 ust. 1 lit. e RODO",
                               informationClause: "Klauzula odczytywana w zapowiedzi; pełna treść: bip.halinow.pl/rodo", directions: [incoming, outgoing]),
            MonthlyReport.Line(line: 2, name: "Sekretariat Wójta", purpose: nil, legalBasis: nil, informationClause: nil,
                               directions: [{ outgoing.calls = 1; outgoing.recorded = 1; return outgoing }()]),
        ])
        #expect(report.exports.count == 1)
        #expect(report.exports.first?.keyComment == "it-jan" && report.exports.first?.recordings == [first.description])
        #expect(report.exports.first?.basis == "\(reference): wniosek o odsłuchanie; zgoda: Sekretarz Gminy", "\(report.exports)")
        #expect(report.deleted == [MonthlyReport.Deleted(rule: "erasure: art. 17 wniosek 3/2026", count: 1)])
        #expect(report.holds == [MonthlyReport.Keeping(timeUTC: "2026-03-25T10:00:00.000Z", recording: last.description, event: "wstrzymanie usunięcia",
                                                       caseReference: "II K 12/26")])
        #expect(report.listenings.isEmpty && report.securedCopies.isEmpty && report.alarms.isEmpty && report.gaps.isEmpty && report.refusedExports == 0)

        // IT's check: the pinned key passes; a changed byte, or another key, fails with the reason.
        let tools = Tool.product("skryba-tools")
        let verified = try Tool.run(tools, ["verify-report", "\(directory)/2026-03.json", "--device-key", fixture.key.fingerprint])
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("OK: signed by the pinned device key \(fixture.key.fingerprint)"), "\(verified.output)")
        let text = String(decoding: bytes, as: UTF8.self)
        let forged = text.replacingOccurrences(of: "\"calls\" : 5", with: "\"calls\" : 4")
        #expect(forged != text)
        try Data(forged.utf8).write(to: URL(fileURLWithPath: "\(directory)/forged.json"))
        let caught = try Tool.run(tools, ["verify-report", "\(directory)/forged.json", "--device-key", fixture.key.fingerprint])
        #expect(caught.status == 1)
        #expect(caught.output == "skryba-tools: \(directory)/forged.json: FAILED: the signature does not verify with device key \(fixture.key.fingerprint): the report was changed after it was signed\n")
        let stranger = try Tool.run(tools, ["verify-report", "\(directory)/2026-03.json", "--device-key", "0123456789abcdef"])
        #expect(stranger.status == 1 && stranger.output.contains("not by the pinned 0123456789abcdef"), "\(stranger.output)")

        // The printout, in Polish, with the signature and the key's fingerprint; the signed JSON beside it.
        let pdf = try Self.skryba(["report", "--config", config, "--month", "2026-03", "-o", "\(directory)/raport.pdf"])
        #expect(pdf.status == 0, "\(pdf.output)")
        let signed = try SignedMonthlyReport.verify([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/raport.json"))), pinned: fixture.key.publicKeyHex)
        let printed = try Self.pdfText("\(directory)/raport.pdf")
        for expected in ["SPRAWOZDANIE MIESIĘCZNE Z PRZETWARZANIA NAGRAŃ ROZMÓW TELEFONICZNYCH", "1. Rozmowy zarejestrowane według linii i kierunku",
                         "2. Odsłuchania nagrań", "3. Udostępnienia nagrań (eksporty)", "4. Kopie zabezpieczone i wstrzymania usunięcia",
                         "5. Usunięcia według podstawy", "6. Alarmy i luki w nagraniach", "7. Podpis urządzenia", "Biuro Obsługi Mieszkańców",
                         "Obsługa zgłoszeń mieszkańców", "II K 12/26", "usunięcie na żądanie osoby (art. 17 RODO): art. 17 wniosek 3/2026", "2026-03-01 00:00 CET", "2026-04-01 00:00 CEST", "it-jan", reference,
                         fixture.key.fingerprint, String(signed.signature.map { String(format: "%02x", $0) }.joined().prefix(32))] {
            #expect(printed.contains(expected), "the printout shows \(expected):\n\(printed)")
        }
        #expect(try Self.skryba(["report", "--config", config, "--month", "2026-13", "-o", "\(directory)/x.json"]).output
            .contains("--month 2026-13 is not a month: give it as YYYY-MM, e.g. 2026-03"))
    }
}

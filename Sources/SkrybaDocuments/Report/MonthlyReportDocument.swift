import Foundation
import SkrybaStore

extension SignedMonthlyReport {
    /// The report for print, in Polish and Warsaw time, with the signature it carries.
    public var document: Document {
        let report = self.report
        func time(_ utc: String) -> String { UTCTimestamp.date(from: utc).map(WarsawTime.minute) ?? utc }
        let directionName = ["incoming": "przychodzące", "outgoing": "wychodzące", "line": "cała linia (bez rozpoznawania połączeń)"]
        var blocks: [Block] = [
            .fields([
                Field("Okres", "\(time(report.fromUTC)) – \(time(report.toUTC)) (miesiąc \(report.month), czas urzędowy w Polsce)"),
                Field("Rejestrator", report.recorderID),
                Field("Wpisy dziennika zdarzeń", "do nr \(report.auditLastSeq) włącznie"),
            ]),
            .heading("1. Rozmowy zarejestrowane według linii i kierunku"),
        ]
        for line in report.lines {
            blocks.append(.fields([Field("Linia \(line.line)", line.name), Field("Cel przetwarzania", line.purpose.or("nie określono w konfiguracji")),
                                   Field("Podstawa prawna", line.legalBasis.or("nie określono w konfiguracji")),
                                   Field("Klauzula informacyjna", line.informationClause.or("nie określono w konfiguracji"))]))
            blocks.append(.table(Table(columns: [
                .init("Kierunek", weight: 22), .init("Połączenia", weight: 12), .init("Nagrane (w tym przerwane)", weight: 17),
                .init("Rozłączenie w trakcie komunikatu", weight: 17), .init("Sprzeciw", weight: 10), .init("Odrzucone z innej przyczyny", weight: 12),
                .init("Niezapisane (błąd)", weight: 10),
            ], rows: line.directions.map { counts in
                [directionName[counts.direction] ?? counts.direction, String(counts.calls), "\(counts.recorded) (\(counts.interrupted))",
                 String(counts.hungUp), String(counts.objected), String(counts.discardedOther), String(counts.failed)]
            }, emptyText: "Linia nie rejestruje żadnego kierunku.")))
        }
        if report.lines.isEmpty { blocks.append(.paragraph("Brak linii w konfiguracji i brak połączeń w okresie.")) }
        blocks += [
            .heading("2. Odsłuchania nagrań"),
            .table(Table(columns: [.init("Wniosek", weight: 18), .init("Nagrania", weight: 40), .init("Początek odsłuchania", weight: 22),
                                   .init("Osoby obecne", weight: 10), .init("Klucz podpisu", weight: 20)],
                         rows: report.listenings.map { [$0.request, $0.recordings.joined(separator: ", "), time($0.startedUTC), String($0.present), $0.signer] },
                         emptyText: "W okresie nie odsłuchano żadnego nagrania.")),
            .heading("3. Udostępnienia nagrań (eksporty)"),
            .table(Table(columns: [.init("Data", weight: 15), .init("Komu (klucz SSH)", weight: 25), .init("Podstawa", weight: 35),
                                   .init("Nagrania", weight: 15), .init("Wynik", weight: 10)],
                         rows: report.exports.map { export in
                             [time(export.timeUTC), "\(export.keyComment)\n\(export.keyFingerprint)", export.basis,
                              export.recordings.isEmpty ? "—" : export.recordings.joined(separator: ", "), export.completed ? "zakończony" : "przerwany"]
                         },
                         emptyText: "W okresie nie udostępniono żadnego nagrania.")),
            .paragraph("Odmowy wydania (żądania eksportu odrzucone przez urządzenie): \(report.refusedExports)."),
            .heading("4. Kopie zabezpieczone i wstrzymania usunięcia"),
            .table(Table(columns: [.init("Data", weight: 20), .init("Nagranie", weight: 15), .init("Zdarzenie", weight: 35), .init("Sygnatura sprawy", weight: 30)],
                         rows: (report.securedCopies + report.holds).map { [time($0.timeUTC), $0.recording, $0.event, $0.caseReference.or("—")] },
                         emptyText: "W okresie nie zabezpieczono ani nie wstrzymano usunięcia żadnego nagrania.")),
            .heading("5. Usunięcia według podstawy"),
            .table(Table(columns: [.init("Podstawa usunięcia", weight: 80), .init("Liczba", weight: 20)],
                         rows: report.deleted.map { [RuleText.polish($0.rule), String($0.count)] },
                         emptyText: "W okresie nie usunięto żadnego nagrania.")),
            .heading("6. Alarmy i luki w nagraniach"),
            .table(Table(columns: [.init("Data", weight: 18), .init("Zdarzenie", weight: 22), .init("Dotyczy", weight: 12), .init("Opis", weight: 48)],
                         rows: report.alarms.map { [time($0.timeUTC), $0.kind, $0.subject.or("—"), $0.detail] }
                            + report.gaps.map { [time($0.timeUTC), "luka w nagraniu", $0.recording, $0.gaps] },
                         emptyText: "W okresie nie odnotowano alarmów ani luk w nagraniach.")),
            .heading("7. Podpis urządzenia"),
            .fields([
                Field("Odcisk klucza urządzenia", fingerprint),
                Field("Klucz publiczny (Ed25519)", Self.grouped(publicKey.hexDigits)),
                Field("Podpis Ed25519 pliku JSON", Self.grouped(signature.hexDigits)),
            ]),
            .paragraph("Podpis obejmuje plik JSON sprawozdania. Sprawdzenie: skryba-tools verify-report PLIK.json --device-key \(fingerprint)."),
            .signatures([Signature("Inspektor ochrony danych")]),
            .note(CaseFileText.provenance(UTCTimestamp.date(from: report.generatedUTC) ?? Date(timeIntervalSince1970: 0))),
        ]
        return Document(title: "SPRAWOZDANIE MIESIĘCZNE Z PRZETWARZANIA NAGRAŃ ROZMÓW TELEFONICZNYCH",
                        subtitle: "rejestr czynności przetwarzania — miesiąc \(report.month)\(report.office.isEmpty ? "" : " — \(report.office)")",
                        footer: "Sprawozdanie miesięczne \(report.month) — klucz \(fingerprint)", orientation: .landscape, blocks: blocks)
    }

    /// Hex in groups of 32 digits, so a long signature wraps on the printout.
    static func grouped(_ hex: String) -> String {
        stride(from: 0, to: hex.count, by: 32).map { start in
            let from = hex.index(hex.startIndex, offsetBy: start)
            return String(hex[from..<(hex.index(from, offsetBy: 32, limitedBy: hex.endIndex) ?? hex.endIndex)])
        }.joined(separator: " ")
    }
}

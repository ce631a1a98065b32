import Foundation
import SkrybaStore

/// The listening protocol (Piaseczno § 4 ust. 3: "Z wyżej wymienionych czynności sporządza się
/// protokół, który zostaje dołączony do akt sprawy"): pre-filled with the request, the decision and
/// the recordings; who was present, the findings and the signatures are written in by hand.
public struct ListeningProtocol: Equatable, Sendable {
    public var office: Office
    public var request: RequestSummary
    public var requester: Requester
    public var decision: Decision
    public var recordings: [RecordingEntry]
    /// The rule the protocol is made under, as the office's regulation words it.
    public var basis: String
    /// When and where the listening takes place, if already arranged; else blank lines.
    public var listeningTime: Date?
    public var place: String?
    public var generated: Date

    public init(office: Office, request: RequestSummary, requester: Requester, decision: Decision, recordings: [RecordingEntry],
                basis: String = "§ 4 ust. 3 regulaminu rejestracji rozmów telefonicznych", listeningTime: Date? = nil, place: String? = nil,
                generated: Date) {
        self.office = office
        self.request = request
        self.requester = requester
        self.decision = decision
        self.recordings = recordings
        self.basis = basis
        self.listeningTime = listeningTime
        self.place = place
        self.generated = generated
    }

    public var document: Document {
        var blocks: [Block] = [
            .fields([
                Field("Sygnatura wniosku", request.reference),
                Field("Rodzaj wniosku", request.kind.polishName),
                Field("Data wpływu wniosku", WarsawTime.minute(request.received)),
                Field("Przedmiot wniosku", request.concerning),
            ] + (request.callAsDescribed.map { [Field("Rozmowa wskazana we wniosku", $0)] } ?? [])),
            .heading("1. Wnioskodawca"),
            .fields(CaseFileText.requesterFields(requester)),
            .heading("2. Opinie"),
        ]
        blocks += decision.opinions.isEmpty ? [.paragraph("W rejestrze wniosków nie odnotowano opinii.")]
            : [.fields(decision.opinions.map(CaseFileText.opinionField))]
        blocks += [
            .heading("3. Decyzja"),
            .fields([
                Field("Rozstrzygnięcie", decision.granted ? "zgoda na odsłuchanie nagrania" : "odmowa"),
                Field("Decyzję podjął(a)", decision.decider),
                Field("Data decyzji", WarsawTime.minute(decision.decided)),
                Field("Uzasadnienie", decision.reason),
            ]),
            .heading("4. Odsłuchiwane nagrania"),
            // Six columns fit portrait A4 at 8 pt; related values share a cell, each on its own line.
            .table(Table(columns: [
                .init("Lp., nagranie", weight: 11), .init("Początek rozmowy, czas trwania", weight: 18), .init("Linia", weight: 17),
                .init("Numery: dzwoniący, wybrany", weight: 19), .init("Komunikat: wersja, wysłuchany do końca", weight: 19),
                .init("Zgoda", weight: 16),
            ], rows: recordings.enumerated().map { index, recording in
                ["\(index + 1). \(recording.id)",
                 WarsawTime.second(recording.start) + "\n" + (recording.durationSeconds.map(WarsawTime.duration(seconds:)) ?? "czas nieznany"),
                 recording.line,
                 "dzwoniący: \(recording.callerNumber.or("nieustalony"))\nwybrany: \(recording.calledNumber.or("—"))",
                 "wersja: \(recording.announcementVersion.or("nie odtworzono"))\ndo końca: "
                    + (recording.announcementHeardToEnd.map { $0 ? "tak" : "nie" } ?? "brak informacji"),
                 recording.consent.polishName]
            }, emptyText: "Wniosek nie obejmuje żadnego nagrania.")),
            .heading("5. Przebieg odsłuchania"),
            .fields([
                Field("Data i godzina odsłuchania", listeningTime.map(WarsawTime.minute) ?? ""),
                Field("Miejsce odsłuchania", place ?? ""),
                Field("Odsłuchania dokonał(a)", ""),
            ]),
            .blankLines(label: "Osoby obecne przy odsłuchaniu (imię i nazwisko, funkcja):", count: 4),
            .blankLines(label: "Ustalenia i uwagi:", count: 5),
            .heading("6. Podpisy"),
            .signatures([Signature("Odsłuchujący(a)"), Signature("Osoba obecna"), Signature("Osoba obecna")]),
            .signatures([Signature("Zatwierdził(a)", name: decision.decider)]),
            .note("Protokół dołącza się do akt sprawy \(request.reference) (\(basis)). "
                + CaseFileText.provenance(generated)),
        ]
        return Document(title: "PROTOKÓŁ Z ODSŁUCHANIA NAGRANIA ROZMOWY TELEFONICZNEJ",
                        subtitle: "sporządzony na podstawie \(basis)\(office.suffix)",
                        footer: "Protokół odsłuchania — wniosek \(request.reference)", blocks: blocks)
    }
}

/// Wording shared by the case-file documents.
enum CaseFileText {
    static func requesterFields(_ requester: Requester) -> [Field] {
        var fields: [Field] = []
        if let authority = requester.authority { fields.append(Field("Organ", authority)) }
        fields.append(Field(requester.authority == nil ? "Imię i nazwisko" : "W imieniu organu", requester.name))
        if requester.authority != nil || requester.legalBasis != nil { fields.append(Field("Podstawa prawna", requester.legalBasis.or("nie podano"))) }
        if let reference = requester.authorityCaseReference { fields.append(Field("Sygnatura sprawy organu", reference)) }
        fields += [Field("Adres", requester.address.or("nie podano")), Field("Telefon", requester.phone.or("nie podano")),
                   Field("Adres e-mail", requester.email.or("nie podano"))]
        return fields
    }

    static func opinionField(_ opinion: Opinion) -> Field {
        let heading = "\(opinion.role): \(opinion.by)" + (opinion.given.map { ", \(WarsawTime.minute($0))" } ?? "")
        return Field(heading, opinion.text)
    }

    static func provenance(_ generated: Date) -> String {
        "Dokument wygenerowany przez rejestrator rozmów Skryba \(WarsawTime.minute(generated)). "
            + "Godziny podano według czasu urzędowego w Polsce (strefa Europe/Warsaw: CET zimą, CEST latem)."
    }
}

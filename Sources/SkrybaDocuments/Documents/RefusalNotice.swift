import Foundation
import SkrybaStore

/// The written notice to a requester whose request was refused (a letter: the office, place and
/// date, the addressee, the decision and its reasons, the right to complain to the supervisory
/// authority, a signature).
public struct RefusalNotice: Equatable, Sendable {
    public var office: Office
    public var request: RequestSummary
    public var requester: Requester
    public var decision: Decision
    public var dated: Date

    public init(office: Office, request: RequestSummary, requester: Requester, decision: Decision, dated: Date) {
        self.office = office
        self.request = request
        self.requester = requester
        self.decision = decision
        self.dated = dated
    }

    public var document: Document {
        let addressee = [requester.authority, requester.name].compactMap { $0 }
            + (requester.address.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [])
            + (requester.address == nil ? requester.email.map { ["adres e-mail: \($0)"] } ?? [] : [])
        var blocks: [Block] = [
            .paragraph("W odpowiedzi na wniosek z dnia \(WarsawTime.day(request.received)) (\(request.kind.polishName)) "
                + "dotyczący: \(request.concerning) — zawiadamiam, że \(office.name) odmawia jego uwzględnienia."),
            .heading("Uzasadnienie"),
            .paragraph(decision.reason),
            .fields([
                Field("Sygnatura wniosku", request.reference),
                Field("Decyzję podjął(a)", decision.decider),
                Field("Data decyzji", WarsawTime.minute(decision.decided)),
            ]),
            .heading("Pouczenie"),
            .paragraph("Jeżeli uzna Pani/Pan, że przetwarzanie danych osobowych narusza przepisy rozporządzenia Parlamentu Europejskiego "
                + "i Rady (UE) 2016/679 (RODO), przysługuje Pani/Panu prawo wniesienia skargi do Prezesa Urzędu Ochrony Danych "
                + "Osobowych, ul. Stawki 2, 00-193 Warszawa (art. 77 RODO)."),
        ]
        if let officer = office.dataProtectionOfficer {
            blocks.append(.paragraph("W sprawach dotyczących przetwarzania danych osobowych można kontaktować się z inspektorem ochrony danych: \(officer)."))
        }
        blocks += [
            .signatures([Signature("Z upoważnienia", name: decision.decider)]),
            .note("Otrzymują: 1. Adresat. 2. Aa — akta sprawy \(request.reference). " + CaseFileText.provenance(dated)),
        ]
        return Document(title: "ZAWIADOMIENIE O ODMOWIE UDOSTĘPNIENIA NAGRANIA ROZMOWY TELEFONICZNEJ",
                        footer: "Zawiadomienie o odmowie — wniosek \(request.reference)",
                        preamble: [.columns(left: [office.name] + office.address, right: ["\(office.town), dnia \(WarsawTime.day(dated))"]),
                                   .columns(left: ["Znak sprawy: \(request.reference)"], right: addressee)],
                        blocks: blocks)
    }
}

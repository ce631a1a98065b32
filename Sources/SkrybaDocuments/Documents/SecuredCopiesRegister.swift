import Foundation
import SkrybaStore

/// The register of copies from the call-recording system (Wałbrzych § 7 ust. 8 a–h), landscape A4,
/// one row per copy with an empty column for the signature of who made it (g).
public struct SecuredCopiesRegister: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        /// a) The copy's sequence number.
        public var sequence: Int64
        public var recording: String
        /// b) The period the recording covers.
        public var periodFrom: Date
        public var periodTo: Date
        /// c) nil: not identified, or erased with the destroyed copy (`destroyed` set).
        public var callerNumber: String?
        /// d) The office's number (or line) that was called.
        public var calledNumber: String
        public var requestReceived: Date
        /// e) nil while the copying was interrupted.
        public var made: Date?
        /// f)
        public var madeBy: String
        public var expires: Date?
        public var renewed: Date?
        /// h) Handed over, or destroyed: when and the note.
        public var released: Date?
        public var releaseNote: String?
        public var destroyed: Date?
        public var destructionNote: String?
        /// Why a request after the 14 days was accepted.
        public var lateRequestOverride: String?

        public init(sequence: Int64, recording: String, periodFrom: Date, periodTo: Date, callerNumber: String?, calledNumber: String,
                    requestReceived: Date, made: Date?, madeBy: String, expires: Date? = nil, renewed: Date? = nil,
                    released: Date? = nil, releaseNote: String? = nil, destroyed: Date? = nil, destructionNote: String? = nil,
                    lateRequestOverride: String? = nil) {
            self.sequence = sequence
            self.recording = recording
            self.periodFrom = periodFrom
            self.periodTo = periodTo
            self.callerNumber = callerNumber
            self.calledNumber = calledNumber
            self.requestReceived = requestReceived
            self.made = made
            self.madeBy = madeBy
            self.expires = expires
            self.renewed = renewed
            self.released = released
            self.releaseNote = releaseNote
            self.destroyed = destroyed
            self.destructionNote = destructionNote
            self.lateRequestOverride = lateRequestOverride
        }
    }

    public var office: Office
    public var entries: [Entry]
    public var generated: Date

    public init(office: Office, entries: [Entry], generated: Date) {
        self.office = office
        self.entries = entries
        self.generated = generated
    }

    public var document: Document {
        let rows = entries.map { entry -> [String] in
            let caller = entry.callerNumber ?? (entry.destroyed != nil ? "usunięty wraz z kopią" : "nieustalony")
            var fate: [String] = []
            if let released = entry.released { fate.append("udostępniono \(WarsawTime.minute(released)): \(entry.releaseNote ?? "")") }
            if let destroyed = entry.destroyed {
                fate.append("zniszczono \(WarsawTime.minute(destroyed)): \(entry.destructionNote.map(RuleText.polish) ?? "")")
            } else if let expires = entry.expires {
                fate.append("przechowywana do \(WarsawTime.minute(expires))" + (entry.renewed.map { " (wniosek odnowiony \(WarsawTime.day($0)))" } ?? ""))
            }
            var request = "\(entry.recording)\nwniosek z \(WarsawTime.day(entry.requestReceived))"
            if let late = entry.lateRequestOverride { request += "\npo terminie 14 dni, przyjęty: \(late)" }
            return [String(entry.sequence), "\(WarsawTime.minute(entry.periodFrom)) –\n\(WarsawTime.minute(entry.periodTo))", caller,
                    entry.calledNumber, entry.made.map(WarsawTime.minute) ?? "kopii nie wykonano", entry.madeBy, "",
                    fate.joined(separator: "\n"), request]
        }
        return Document(
            title: "REJESTR KOPII NAGRAŃ Z SYSTEMU REJESTRACJI ROZMÓW TELEFONICZNYCH",
            subtitle: "prowadzony na podstawie § 7 ust. 8 regulaminu rejestrowania rozmów telefonicznych\(office.suffix)",
            footer: "Rejestr kopii nagrań — stan na \(WarsawTime.minute(generated))", orientation: .landscape,
            blocks: [
                .fields([Field("Stan na", WarsawTime.minute(generated)), Field("Liczba pozycji w rejestrze", String(entries.count))]),
                .table(Table(columns: [
                    .init("a) Nr porządkowy kopii", weight: 9), .init("b) Okres, którego dotyczy nagranie (data i godzina)", weight: 17),
                    .init("c) Numer telefonu osoby wykonującej połączenie", weight: 11), .init("d) Numer telefonu, na który dokonano połączenia", weight: 11),
                    .init("e) Data wykonania kopii", weight: 10), .init("f) Dane osoby, która sporządziła kopię", weight: 11),
                    .init("g) Podpis osoby, która sporządziła kopię", weight: 10), .init("h) Udostępnienie lub zniszczenie kopii", weight: 15),
                    .init("Nagranie i wniosek", weight: 9),
                ], rows: rows, emptyText: "Rejestr nie zawiera żadnej kopii.", minimumRowHeight: 34)),
                .note("Numer dzwoniącego usuwa się z rejestru wraz ze zniszczeniem kopii (dane osobowe). Kopia jest przechowywana "
                    + "nie dłużej niż 4 miesiące, chyba że wniosek zostanie odnowiony (§ 7 ust. 9). " + CaseFileText.provenance(generated)),
            ])
    }
}

import Foundation
import SkrybaStore

/// What was deleted in a period, when and under which rule: the signed deletion receipts of the
/// audit log, listed item by item, for the DPO's file.
public struct DeletionReport: Equatable, Sendable {
    /// One signed receipt (audit entry `deletion-receipt`).
    public struct Receipt: Equatable, Sendable {
        public var auditSequence: Int64
        public var time: Date
        public var deviceFingerprint: String
        /// Whether its Ed25519 signature checks against the key it names.
        public var signatureValid: Bool
        public var items: [Item]

        public init(auditSequence: Int64, time: Date, deviceFingerprint: String, signatureValid: Bool, items: [Item]) {
            self.auditSequence = auditSequence
            self.time = time
            self.deviceFingerprint = deviceFingerprint
            self.signatureValid = signatureValid
            self.items = items
        }
    }

    public struct Item: Equatable, Sendable {
        /// "R000012", "secured copy 3 of R000012".
        public var subject: String
        /// As stored: "retention 30 days", "capacity", "erasure: …", "lapsed: …", "destroyed: …".
        public var rule: String
        public var deadline: Date?
        public var deleted: Date
        public var fileSHA256: String?

        public init(subject: String, rule: String, deadline: Date?, deleted: Date, fileSHA256: String?) {
            self.subject = subject
            self.rule = rule
            self.deadline = deadline
            self.deleted = deleted
            self.fileSHA256 = fileSHA256
        }
    }

    public var office: Office
    public var from: Date
    public var to: Date
    public var receipts: [Receipt]
    public var generated: Date

    public init(office: Office, from: Date, to: Date, receipts: [Receipt], generated: Date) {
        self.office = office
        self.from = from
        self.to = to
        self.receipts = receipts
        self.generated = generated
    }

    public var document: Document {
        let items = receipts.flatMap { receipt in receipt.items.map { (receipt.auditSequence, $0) } }
        var counts: [String: Int] = [:], order: [String] = []
        for (_, item) in items {
            let rule = RuleText.translated(item.rule)
            if counts[rule] == nil { order.append(rule) }
            counts[rule, default: 0] += 1
        }
        let invalid = receipts.filter { !$0.signatureValid }.count
        let devices = Set(receipts.map(\.deviceFingerprint)).sorted()
        return Document(
            title: "RAPORT USUNIĘĆ NAGRAŃ",
            subtitle: "zestawienie podpisanych pokwitowań usunięcia\(office.suffix)",
            footer: "Raport usunięć \(WarsawTime.day(from)) – \(WarsawTime.day(to))",
            blocks: [
                .fields([
                    Field("Okres", "od \(WarsawTime.minute(from)) do \(WarsawTime.minute(to))"),
                    Field("Liczba usuniętych pozycji", String(items.count)),
                    Field("Liczba pokwitowań", String(receipts.count)),
                    Field("Podpisy pokwitowań", receipts.isEmpty ? "brak pokwitowań w okresie"
                        : invalid == 0 ? "wszystkie poprawne" : "NIEPOPRAWNE: \(invalid) z \(receipts.count)"),
                    Field("Klucz urządzenia (odcisk)", devices.isEmpty ? "—" : devices.joined(separator: "\n")),
                ]),
                .heading("1. Podsumowanie według podstawy usunięcia"),
                .table(Table(columns: [.init("Podstawa usunięcia", weight: 80), .init("Liczba", weight: 20)],
                             rows: order.map { [$0, String(counts[$0] ?? 0)] }, emptyText: "W tym okresie nic nie usunięto.")),
                .heading("2. Usunięte nagrania i kopie"),
                .table(Table(columns: [
                    .init("Lp.", weight: 4), .init("Co usunięto", weight: 14), .init("Kiedy usunięto", weight: 14),
                    .init("Podstawa usunięcia", weight: 24), .init("Przechowywać do", weight: 16),
                    .init("SHA-256 usuniętego pliku", weight: 20), .init("Wpis nr", weight: 8),
                ], rows: items.enumerated().map { index, entry in
                    let (sequence, item) = entry
                    return [String(index + 1) + ".", RuleText.subject(item.subject), WarsawTime.second(item.deleted), RuleText.polish(item.rule),
                            item.deadline.map(WarsawTime.minute) ?? "bez terminu", item.fileSHA256 ?? "—", String(sequence)]
                }, emptyText: "W tym okresie nic nie usunięto.")),
                .heading("3. Pokwitowania"),
                .table(Table(columns: [
                    .init("Wpis dziennika nr", weight: 14), .init("Czas", weight: 20), .init("Pozycji", weight: 10),
                    .init("Klucz urządzenia (odcisk)", weight: 40), .init("Podpis", weight: 18),
                ], rows: receipts.map { receipt in
                    [String(receipt.auditSequence), WarsawTime.second(receipt.time), String(receipt.items.count), receipt.deviceFingerprint,
                     receipt.signatureValid ? "poprawny" : "NIEPOPRAWNY"]
                }, emptyText: "Brak pokwitowań w okresie.")),
                .signatures([Signature("Sporządził(a)"), Signature("Inspektor ochrony danych")]),
                .note("Każde pokwitowanie jest wpisem dziennika zdarzeń podpisanym kluczem urządzenia (Ed25519); podpis można sprawdzić "
                    + "przypiętym kluczem publicznym (docs/retention.md). Podstawa usunięcia podana jest po polsku, a w nawiasie "
                    + "kwadratowym dosłownie tak, jak w podpisanym pokwitowaniu. " + CaseFileText.provenance(generated)),
            ])
    }
}

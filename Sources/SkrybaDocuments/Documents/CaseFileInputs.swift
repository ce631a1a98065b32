import Foundation

// Plain inputs of the case-file documents: independent of the catalog's request types, so any
// register (the appliance's, or a paper one typed in) can fill them.

/// The office (the data controller) that issues the document.
public struct Office: Equatable, Sendable {
    public var name: String
    /// Street, postcode and town: one line each.
    public var address: [String]
    /// The town a letter is dated in ("Piaseczno, dnia …").
    public var town: String
    /// How to reach the data-protection officer (an e-mail address), printed in the refusal notice.
    public var dataProtectionOfficer: String?

    public init(name: String, address: [String] = [], town: String, dataProtectionOfficer: String? = nil) {
        self.name = name
        self.address = address
        self.town = town
        self.dataProtectionOfficer = dataProtectionOfficer
    }

    /// " — <name>" after a subtitle; nothing when the office is not named.
    var suffix: String { name.isEmpty ? "" : " — \(name)" }
}

public enum RequestKind: String, Equatable, Sendable, CaseIterable {
    /// A caller asks to listen to their own call (Szczecin annex form).
    case listening
    /// The right of access, GDPR art. 15.
    case access
    /// Police, court or prosecutor.
    case authority
    /// A person asks for a recording to be secured against deletion.
    case securedCopy

    public var polishName: String {
        switch self {
        case .listening: "wniosek o odsłuchanie nagrania rozmowy"
        case .access: "żądanie dostępu do danych (art. 15 RODO)"
        case .authority: "wniosek uprawnionego organu (Policja, sąd, prokuratura)"
        case .securedCopy: "wniosek o zabezpieczenie nagrania"
        }
    }
}

/// The request as the register holds it.
public struct RequestSummary: Equatable, Sendable {
    /// The register's reference ("WN/2026/0007").
    public var reference: String
    public var kind: RequestKind
    public var received: Date
    /// What it concerned, in the requester's words.
    public var concerning: String
    /// The call as the requester described it: date, approximate time, numbers.
    public var callAsDescribed: String?

    public init(reference: String, kind: RequestKind, received: Date, concerning: String, callAsDescribed: String? = nil) {
        self.reference = reference
        self.kind = kind
        self.received = received
        self.concerning = concerning
        self.callAsDescribed = callAsDescribed
    }
}

/// Who asked: a person, or an authority with its legal basis and case reference.
public struct Requester: Equatable, Sendable {
    public var name: String
    public var address: String?
    public var phone: String?
    public var email: String?
    /// For a request of an authority: its name ("Komenda Powiatowa Policji w Piasecznie").
    public var authority: String?
    public var legalBasis: String?
    public var authorityCaseReference: String?

    public init(name: String, address: String? = nil, phone: String? = nil, email: String? = nil, authority: String? = nil,
                legalBasis: String? = nil, authorityCaseReference: String? = nil) {
        self.name = name
        self.address = address
        self.phone = phone
        self.email = email
        self.authority = authority
        self.legalBasis = legalBasis
        self.authorityCaseReference = authorityCaseReference
    }
}

/// An opinion the regulations ask for before the decision (the DPO's, the head of the department's).
public struct Opinion: Equatable, Sendable {
    /// "Inspektor ochrony danych", "Naczelnik Wydziału Komunikacji".
    public var role: String
    public var by: String
    public var given: Date?
    public var text: String

    public init(role: String, by: String, given: Date? = nil, text: String) {
        self.role = role
        self.by = by
        self.given = given
        self.text = text
    }
}

/// The decision on a request: who, when, why.
public struct Decision: Equatable, Sendable {
    public var granted: Bool
    public var decidedBy: String
    /// "Sekretarz Miasta i Gminy", "Zastępca Burmistrza".
    public var role: String?
    public var decided: Date
    public var reason: String
    public var opinions: [Opinion]

    public init(granted: Bool, decidedBy: String, role: String? = nil, decided: Date, reason: String, opinions: [Opinion] = []) {
        self.granted = granted
        self.decidedBy = decidedBy
        self.role = role
        self.decided = decided
        self.reason = reason
        self.opinions = opinions
    }

    var decider: String { [decidedBy, role].compactMap { $0 }.joined(separator: ", ") }
}

/// What the caller did about the recording announcement.
public enum ConsentState: String, Equatable, Sendable {
    case given, objected, hungUp, notAsked, unknown

    public var polishName: String {
        switch self {
        case .given: "tak — rozmowa kontynuowana po komunikacie"
        case .objected: "sprzeciw wobec nagrywania"
        case .hungUp: "rozłączenie w trakcie komunikatu"
        case .notAsked: "nie dotyczy (połączenie wychodzące)"
        case .unknown: "brak informacji"
        }
    }
}

/// One recording as the case file describes it.
public struct RecordingEntry: Equatable, Sendable {
    /// "R000123".
    public var id: String
    public var start: Date
    public var durationSeconds: Double?
    /// The line's name ("Biuro Obsługi Mieszkańców").
    public var line: String
    /// nil: not identified (no caller ID).
    public var callerNumber: String?
    public var calledNumber: String?
    /// The announcement version played (its id), nil when none applies.
    public var announcementVersion: String?
    /// Whether the caller heard the announcement to its end; nil when unknown or none was played.
    public var announcementHeardToEnd: Bool?
    public var consent: ConsentState

    public init(id: String, start: Date, durationSeconds: Double?, line: String, callerNumber: String?, calledNumber: String?,
                announcementVersion: String?, announcementHeardToEnd: Bool?, consent: ConsentState) {
        self.id = id
        self.start = start
        self.durationSeconds = durationSeconds
        self.line = line
        self.callerNumber = callerNumber
        self.calledNumber = calledNumber
        self.announcementVersion = announcementVersion
        self.announcementHeardToEnd = announcementHeardToEnd
        self.consent = consent
    }
}

/// The Polish reading of what the catalog stores as a deletion rule or a copy's destruction note,
/// followed by the stored text itself (what the signed receipt says, word for word).
public enum RuleText {
    public static func polish(_ rule: String) -> String {
        "\(translated(rule)) [\(rule)]"
    }

    static func translated(_ rule: String) -> String {
        let words = rule.split(separator: " ")
        if words.count == 3, words[0] == "retention", let count = Int(words[1]) {
            let unit = words[2].hasPrefix("day") ? (count == 1 ? "dzień" : "dni") : months(count)
            return "upłynął okres przechowywania (\(count) \(unit))"
        }
        if rule == "capacity" { return "zwolnienie miejsca na nośniku: najstarsze nagranie przechowywane do wyczerpania pojemności" }
        for (prefix, polish) in [("erasure: ", "usunięcie na żądanie osoby (art. 17 RODO): "),
                                 ("lapsed: ", "kopia: upłynęły 4 miesiące bez odnowienia wniosku (§ 7 ust. 9 regulaminu)"),
                                 ("destroyed: ", "kopia zniszczona przed terminem: "),
                                 ("copy failed: ", "kopii nie wykonano (błąd): ")] where rule.hasPrefix(prefix) {
            return prefix == "lapsed: " ? polish : polish + rule.dropFirst(prefix.count)
        }
        return rule
    }

    /// 1 miesiąc, 2–4 miesiące (but 12–14 miesięcy), otherwise miesięcy.
    static func months(_ count: Int) -> String {
        if count == 1 { return "miesiąc" }
        let (last, lastTwo) = (count % 10, count % 100)
        return (2...4).contains(last) && !(12...14).contains(lastTwo) ? "miesiące" : "miesięcy"
    }

    /// "nagranie R000012", "kopia zabezpieczona nr 3 nagrania R000012".
    public static func subject(_ subject: String) -> String {
        let words = subject.split(separator: " ")
        if words.count == 5, words[0] == "secured", words[1] == "copy", words[3] == "of" {
            return "kopia zabezpieczona nr \(words[2]) nagrania \(words[4])"
        }
        return words.count == 1 ? "nagranie \(subject)" : subject
    }
}

extension Optional where Wrapped == String {
    /// The value, or the words saying it is missing.
    func or(_ missing: String) -> String {
        guard let self, !self.trimmingCharacters(in: .whitespaces).isEmpty else { return missing }
        return self
    }
}

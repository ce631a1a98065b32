import Foundation
import SkrybaStore

// The listening protocol and the refusal notice filled from the appliance's register of requests
// (SkrybaStore/Requests): the request, its opinions and decision, and the recordings it covers.
// Inside this module `RequestKind`, `Opinion` and `RefusalNotice` are the documents' own types; the
// register's are spelt `SkrybaStore.…`.

/// Why a document cannot be made for a request, in a sentence.
public struct RegisterDocumentError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// One recording a request covers, as the register and the configuration know it.
public struct RegisterRecording: Sendable {
    public var candidate: Candidate
    /// The line's name from the configuration; nil when it is not known (printed as "linia N").
    public var lineName: String?

    public init(candidate: Candidate, lineName: String?) {
        self.candidate = candidate
        self.lineName = lineName
    }
}

extension RecordingEntry {
    public init(_ recording: RegisterRecording) {
        let row = recording.candidate.recording
        let consent: ConsentState = switch row.consent {
        case .given: .given
        case .objected: .objected
        case .hungUp: .hungUp
        case .notAsked: .notAsked
        case nil: row.direction == .outgoing ? .notAsked : .unknown
        }
        self.init(id: row.id.description, start: row.startUTC, durationSeconds: row.durationMs.map { Double($0) / 1000 },
                  line: "\(row.line). \(recording.lineName ?? "linia \(row.line)")",
                  callerNumber: recording.candidate.callingNumber, calledNumber: recording.candidate.calledNumber,
                  announcementVersion: row.announcement?.id, announcementHeardToEnd: row.announcement?.completed, consent: consent)
    }
}

extension RequestSummary {
    public init(_ request: DisclosureRequest) {
        let kind: RequestKind = switch request.kind {
        case .listening: .listening
        case .access: .access
        case .authority: .authority
        case .securedCopy: .securedCopy
        }
        let described = [request.callTime, request.callNumber.map { "z numeru \($0)" }].compactMap { $0 }.joined(separator: ", ")
        self.init(reference: request.reference, kind: kind, received: request.receivedUTC, concerning: request.concerning.or("nie podano"),
                  callAsDescribed: described.isEmpty ? nil : described)
    }
}

extension Requester {
    public init(_ request: DisclosureRequest) {
        self.init(name: request.requesterName.or(request.authority == nil ? "nie podano" : "nie wskazano osoby"),
                  address: request.requesterAddress, phone: request.requesterPhone, email: request.requesterEmail,
                  authority: request.authority.map(\.polishName), legalBasis: request.legalBasis, authorityCaseReference: request.caseReference)
    }
}

extension Authority {
    var polishName: String {
        switch self {
        case .police: "Policja"
        case .court: "sąd"
        case .prosecutor: "prokuratura"
        }
    }
}

extension Approver {
    var polishName: String {
        switch self {
        case .mayor: "Burmistrz"
        case .deputy: "Zastępca Burmistrza"
        case .secretary: "Sekretarz"
        }
    }
}

extension Decision {
    /// The register's decision; nil while the request is undecided.
    public init?(_ request: DisclosureRequest) {
        guard let decision = request.decision, let decided = request.decidedUTC else { return nil }
        // An authority's request is approved by the mayor, a deputy or the secretary (issue 11 item 1).
        let role = request.kind == .authority ? request.approver?.polishName : nil
        self.init(granted: decision == .granted, decidedBy: request.decidedBy.or("nie podano"), role: role, decided: decided,
                  reason: request.decisionReason.or("nie podano"),
                  opinions: request.opinions.map { opinion in
                      Opinion(role: opinion.role == .dpo ? "Inspektor ochrony danych" : "Kierownik komórki, której dotyczy rozmowa",
                              by: opinion.by, given: opinion.atUTC, text: opinion.text)
                  })
    }
}

extension ListeningProtocol {
    /// The protocol of a granted request. A request not (yet) granted has no listening, so no protocol.
    public init(register request: DisclosureRequest, recordings: [RegisterRecording], listenings: [Listening] = [], office: Office,
                generated: Date) throws(RegisterDocumentError) {
        guard request.decision == .granted, let decision = Decision(request) else {
            let state = request.decision == .refused ? "was refused (its document is the refusal notice: skryba documents refusal-notice)"
                                                      : "has not been decided"
            throw RegisterDocumentError("request \(request.reference) \(state); a listening protocol is made only for a granted request")
        }
        self.init(office: office, request: RequestSummary(request), requester: Requester(request), decision: decision,
                  recordings: recordings.map(RecordingEntry.init), listeningTime: listenings.first?.startedUTC, generated: generated)
    }
}

extension RefusalNotice {
    /// The notice of a refused request, dated when the refusal was decided.
    public init(register request: DisclosureRequest, office: Office) throws(RegisterDocumentError) {
        guard request.decision == .refused, let decision = Decision(request), let decided = request.decidedUTC else {
            let state = request.decision == .granted ? "was granted (its document is the listening protocol: skryba documents listening-protocol)"
                                                      : "has not been decided"
            throw RegisterDocumentError("request \(request.reference) \(state); a refusal notice is written only for a refused request")
        }
        self.init(office: office, request: RequestSummary(request), requester: Requester(request), decision: decision, dated: decided)
    }
}

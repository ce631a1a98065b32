import ArgumentParser
import Foundation
import SkrybaExport
import SkrybaPipeline
import SkrybaStore

/// `skryba requests …`: the register of requests for recordings (docs/disclosure.md).
struct RequestsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requests",
        abstract: "The register of requests for recordings: callers' listening and access requests, authorities', secured copies.",
        discussion: """
            A request is registered (add), its recordings found (search) and linked (link), the opinions recorded \
            (opinion: the data protection officer's and the head of department's), then decided (decide). A refusal \
            writes the notice to the requester (notice). A granted request is pulled by IT over SSH (docs/disclosure.md); \
            the listening record IT's tools sign comes back with `listened`. Times are given and shown in Warsaw time.
            """,
        subcommands: [RequestsAddCommand.self, RequestsListCommand.self, RequestsShowCommand.self, RequestsSearchCommand.self,
                      RequestsLinkCommand.self, RequestsOpinionCommand.self, RequestsDecideCommand.self, RequestsNoticeCommand.self,
                      RequestsListenedCommand.self])
}

extension DataDirectoryOption {
    func register(actor: String) throws -> RequestRegister {
        RequestRegister(catalog: try catalog(actor: actor, access: .transaction))
    }
}

extension RequestKind: ExpressibleByArgument {}
extension Authority: ExpressibleByArgument {}
extension Approver: ExpressibleByArgument {}
extension OpinionRole: ExpressibleByArgument {}

func warsaw(_ date: Date?) -> String {
    guard let date else { return "-" }
    return WarsawTime.minute(date)
}

struct RequestsAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Register a request; prints its reference.")

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var actor: RequiredActorOption
    @Option(help: "listening, access (GDPR art. 15), authority, or secured-copy.") var kind: RequestKind
    @Option(help: "When the written request arrived (Warsaw time, default: now).") var received: String?
    @Option(help: "Requester's name (callers' requests).") var name: String?
    @Option(help: "Requester's address.") var address: String?
    @Option(help: "Requester's phone.") var phone: String?
    @Option(help: "Requester's e-mail.") var email: String?
    @Option(help: "The date and time of the call as the requester gives it.") var callTime: String?
    @Option(help: "The number the call was made from.") var number: String?
    @Option(help: "What the call concerned.") var concerning: String?
    @Option(help: "police, court or prosecutor.") var authority: Authority?
    @Option(help: "The authority's legal basis (e.g. art. 20 ust. 1 ustawy o Policji).") var legalBasis: String?
    @Option(help: "Who approves: mayor, deputy or secretary.") var approver: Approver?
    @Option(help: "The approver's name.") var approverName: String?
    @Option(name: .customLong("case"), help: "The authority's case reference.") var caseReference: String?
    @Option(help: "The secured copy's sequence number (secured-copy requests).") var copy: Int64?

    func run() throws {
        for (value, option) in [(name, "--name"), (address, "--address"), (phone, "--phone"), (email, "--email"), (callTime, "--call-time"),
                                (number, "--number"), (concerning, "--concerning"), (legalBasis, "--legal-basis"),
                                (approverName, "--approver-name"), (caseReference, "--case")] { try checkText(value, option) }
        var new = NewRequest(kind: kind, receivedUTC: try received.map { try parseDate($0, "--received") } ?? Date())
        (new.requesterName, new.requesterAddress, new.requesterPhone, new.requesterEmail) = (name, address, phone, email)
        (new.callTime, new.callNumber, new.concerning) = (callTime, number, concerning)
        (new.authority, new.legalBasis, new.approver, new.approverName, new.caseReference) = (authority, legalBasis, approver, approverName, caseReference)
        new.securedCopy = copy
        let request = try data.register(actor: "skryba requests").register(new, by: actor.by, at: Date())
        print(request.reference)
    }
}

struct RequestsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Print the register of requests.")
    @OptionGroup var data: DataDirectoryOption

    func run() throws {
        let requests = try RequestRegister(catalog: try data.catalog(actor: "skryba requests", access: .read)).requests()
        printTable(["reference", "kind", "received (Warsaw)", "requester", "recordings", "opinions", "decision", "decided by"], requests.map { request in
            let requester = request.requesterName ?? request.authority.map { "\($0.rawValue) \(request.caseReference ?? "")" }
                ?? request.securedCopy.map { "secured copy \($0)" } ?? "-"
            let opinions = request.opinions.map(\.role.rawValue).joined(separator: ",")
            return [request.reference, request.kind.rawValue, warsaw(request.receivedUTC), requester,
                    request.recordings.map(\.description).joined(separator: ",").nonEmpty, opinions.nonEmpty,
                    request.decision.map { "\($0.rawValue) \(warsaw(request.decidedUTC))" } ?? "pending",
                    request.decidedBy ?? "-"].map(FreeText.printable)
        })
    }
}

extension String {
    var nonEmpty: String { isEmpty ? "-" : self }
}

struct RequestsShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Everything the register holds about one request.")
    @OptionGroup var data: DataDirectoryOption
    @Argument(help: "The request's reference (RQ-YYYY-NNNN).") var reference: String

    func run() throws {
        let register = RequestRegister(catalog: try data.catalog(actor: "skryba requests", access: .read))
        let request = try register.request(reference)
        var lines: [(String, String?)] = [
            ("reference", request.reference), ("kind", request.kind.rawValue), ("received", warsaw(request.receivedUTC)),
            ("registered", "\(warsaw(request.registeredUTC)) by \(request.registeredBy)"), ("requester", request.requesterName),
            ("address", request.requesterAddress), ("phone", request.requesterPhone), ("e-mail", request.requesterEmail),
            ("call time", request.callTime), ("number", request.callNumber), ("concerning", request.concerning),
            ("authority", request.authority?.rawValue), ("legal basis", request.legalBasis),
            ("approver", request.approver.map { "\($0.rawValue)\(request.approverName.map { " (\($0))" } ?? "")" }),
            ("case", request.caseReference), ("secured copy", request.securedCopy.map { String($0) }),
            ("recordings", request.recordings.map(\.description).joined(separator: ", ").nonEmpty),
        ]
        for opinion in request.opinions {
            lines.append(("\(opinion.role == .dpo ? "DPO" : "head of department") opinion", "\(opinion.text) — \(opinion.by), \(warsaw(opinion.atUTC))"))
        }
        lines.append(("decision", request.decision.map { "\($0.rawValue) by \(request.decidedBy ?? "-"), \(warsaw(request.decidedUTC)): \(request.decisionReason ?? "")" } ?? "pending"))
        if request.includesRestricted { lines.append(("restricted", "the decision allows restricted recordings")) }
        for listening in try register.listenings(of: reference) {
            lines.append(("listened", "\(listening.listenedBy), present: \(listening.present.joined(separator: ", ")), \(warsaw(listening.startedUTC))–\(warsaw(listening.endedUTC))"))
        }
        for (label, value) in lines { if let value { print("\(label): \(FreeText.printable(value))") } }
        if request.notice != nil { print("notice: written (skryba requests notice \(reference))") }
    }
}

struct RequestsSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Find the recordings a request concerns (Wałbrzych §7.5): candidates with their metadata.")
    @OptionGroup var data: DataDirectoryOption
    @Option(help: "The calling number (digits compared; a country prefix may be left out).") var caller: String?
    @Option(help: "The called number.") var called: String?
    @Option(help: "The line.") var line: Int?
    @Option(help: "The day of the call, YYYY-MM-DD (Warsaw).") var date: String?
    @Option(help: "The approximate time of the call, HH:MM (Warsaw), with --date.") var time: String?
    @Option(help: "With --time: how many minutes either side.") var windowMinutes: Int = 15

    func run() throws {
        var search = RecordingSearch()
        (search.callerNumber, search.calledNumber, search.line) = (caller, called, line)
        if let time {
            guard let date else { throw ValidationError("--time needs --date") }
            search.around = try parseDate("\(date) \(time)", "--date/--time")
            search.window = TimeInterval(max(0, windowMinutes) * 60)
        } else if let date {
            let start = try parseDate(date, "--date")
            search.day = start...LegalTime.adding(days: 1, to: start).addingTimeInterval(-0.001)
        }
        let candidates = try RequestRegister(catalog: try data.catalog(actor: "skryba requests", access: .read)).search(search)
        guard !candidates.isEmpty else {
            print("no recording matches")
            throw ExitCode.failure
        }
        printTable(["recording", "start (Warsaw)", "line", "direction", "caller", "called", "duration", "status"], candidates.map { candidate in
            let row = candidate.recording
            let status = row.status.rawValue + (row.isRestricted ? ", restricted" : "") + (row.holdRefs.isEmpty ? "" : ", held")
            return [row.id.description, warsaw(row.startUTC), String(row.line), row.direction.rawValue,
                    candidate.callingNumber ?? "unidentified", candidate.calledNumber ?? "-",
                    row.durationMs.map { String(format: "%.1f s", Double($0) / 1000) } ?? "-", status].map(FreeText.printable)
        })
    }
}

struct RequestsLinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "link", abstract: "Link the recordings a request concerns (before the decision).")
    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var actor: RequiredActorOption
    @Argument(help: "The request's reference.") var reference: String
    @Argument(help: "Recording ids (R000123 …).") var recordings: [String]

    func run() throws {
        let ids = try recordings.map(parseRecording)
        let request = try data.register(actor: "skryba requests").link(reference, recordings: ids, by: actor.by, at: Date())
        print("\(request.reference): \(request.recordings.map(\.description).joined(separator: ", "))")
    }
}

struct RequestsOpinionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "opinion", abstract: "Record the DPO's or the head of department's opinion.")
    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var actor: RequiredActorOption
    @Argument(help: "The request's reference.") var reference: String
    @Option(help: "dpo or head.") var role: OpinionRole
    @Option(help: "The opinion.") var text: String

    func run() throws {
        try checkText(text, "--text")
        _ = try data.register(actor: "skryba requests").addOpinion(reference, role: role, text: text, by: actor.by, at: Date())
        print("\(reference): \(role == .dpo ? "DPO" : "head of department") opinion recorded")
    }
}

struct RequestsDecideCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decide", abstract: "Grant or refuse a request; a refusal writes the notice to the requester.",
        discussion: "A caller's request is granted only for recordings whose caller number was identified (Szczecin §4.7, Halinów §2.7).")
    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var actor: RequiredActorOption
    @Argument(help: "The request's reference.") var reference: String
    @Flag(help: "Grant it.") var grant = false
    @Flag(help: "Refuse it.") var refuse = false
    @Option(help: "Why (goes into the refusal notice).") var reason: String
    @Flag(help: "The grant allows restricted recordings (R12) to be disclosed.") var includeRestricted = false

    func validate() throws {
        guard grant != refuse else { throw ValidationError("give exactly one of --grant and --refuse") }
        try checkText(reason, "--reason")
    }

    func run() throws {
        let request = try data.register(actor: "skryba requests").decide(reference, grant: grant, by: actor.by, reason: reason,
                                                                         includeRestricted: includeRestricted, at: Date())
        print("\(request.reference): \(request.decision?.rawValue ?? "-") by \(request.decidedBy ?? "-")")
        if request.notice != nil { print("the refusal notice: skryba requests notice \(request.reference)") }
    }
}

struct RequestsNoticeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "notice", abstract: "Print a refused request's written notice.")
    @OptionGroup var data: DataDirectoryOption
    @Argument(help: "The request's reference.") var reference: String

    func run() throws {
        let request = try RequestRegister(catalog: try data.catalog(actor: "skryba requests", access: .read)).request(reference)
        guard let notice = request.notice else {
            throw CommandFailure("request \(reference) \(request.decision == .granted ? "was granted" : "is not decided yet"): there is no refusal notice")
        }
        print(notice, terminator: "")
    }
}

struct RequestsListenedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listened", abstract: "Import a signed listening record made by `skryba-tools listen` into the register.")
    @OptionGroup var data: DataDirectoryOption
    @Option(help: "The listening record file.") var record: String

    func run() throws {
        guard let bytes = FileManager.default.contents(atPath: record) else { throw CommandFailure("\(record): cannot read the file") }
        let (body, signer) = try ListeningRecord.open([UInt8](bytes), path: record)
        guard let started = UTCTimestamp.date(from: body.started), let ended = UTCTimestamp.date(from: body.ended) else {
            throw CommandFailure("\(record): started_utc or ended_utc is not a time")
        }
        let listening = Listening(request: body.request, listenedBy: body.listenedBy, present: body.present, startedUTC: started,
                                  endedUTC: ended, recordings: body.recordings.compactMap(RecordingID.init),
                                  recordSHA256: sha256Hex([UInt8](bytes)), signer: signer, importedUTC: Date())
        try data.register(actor: "skryba requests").recordListening(listening, manifestSHA256: body.manifestSHA256, at: Date())
        print("\(body.request): listening by \(FreeText.printable(body.listenedBy)) recorded (signed by key \(signer))")
    }
}
